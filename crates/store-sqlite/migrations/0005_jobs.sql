-- The durable job queue (see broadsheet_domain::job): work that must happen once,
-- later, whichever process runs it, such as publishing a scheduled article or sending
-- an email. Workers claim due rows inside one `BEGIN IMMEDIATE` transaction, which
-- SQLite runs one at a time, so no job is ever claimed twice.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL,
    -- The job's arguments as JSON text.
    payload      TEXT    NOT NULL,
    -- Enqueueing a job with a key already used adds nothing (see the index below).
    key          TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    -- Milliseconds since the Unix epoch, UTC, like every timestamp here.
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    last_error   TEXT,
    -- While running: when the lease ends and another worker may take the job over.
    locked_until INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- Partial, so jobs without a key never clash with each other.
CREATE UNIQUE INDEX jobs_key ON jobs (key) WHERE key IS NOT NULL;

-- What a worker asks on every poll: queued jobs by due time, and running jobs whose
-- lease ran out. Done and dead jobs, the bulk of the table, stay out of it.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE state = 'running';

-- The admin's list (most recently changed first) and pruning old done jobs.
CREATE INDEX jobs_by_state ON jobs (state, updated_at);
