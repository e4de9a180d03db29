-- The durable job queue (see broadsheet_domain::job): work that must happen once,
-- later, on whichever node gets to it, such as publishing a scheduled article or
-- sending an email. Workers on every node claim due rows with
-- `FOR UPDATE SKIP LOCKED`, so each job is claimed by one of them, and none waits for
-- another's claim.
CREATE TABLE jobs (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT        NOT NULL,
    payload      JSONB       NOT NULL,
    -- Enqueueing a job with a key already used adds nothing (see the index below).
    key          TEXT,
    state        TEXT        NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    run_at       TIMESTAMPTZ NOT NULL,
    -- BIGINT: the domain counts in u32, which INTEGER cannot hold whole.
    attempts     BIGINT      NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts BIGINT      NOT NULL CHECK (max_attempts >= 1),
    last_error   TEXT,
    -- While running: when the lease ends and another worker may take the job over.
    locked_until TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- Partial, so jobs without a key never clash with each other; `ON CONFLICT` names it
-- by its predicate.
CREATE UNIQUE INDEX jobs_key ON jobs (key) WHERE key IS NOT NULL;

-- What a worker asks on every poll: queued jobs by due time, and running jobs whose
-- lease ran out. Done and dead jobs, the bulk of the table, stay out of it.
CREATE INDEX jobs_due ON jobs (run_at) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until) WHERE state = 'running';

-- The admin's list (most recently changed first) and pruning old done jobs.
CREATE INDEX jobs_by_state ON jobs (state, updated_at);
