-- Webhooks (see broadsheet_domain::webhook): URLs an admin registers for events, and
-- the log of deliveries, each stored with the exact body before it is posted.
CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    url        TEXT    NOT NULL,
    -- The HMAC-SHA256 key shared with the receiver.
    secret     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE webhook_events (
    webhook_id INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event      TEXT    NOT NULL,
    PRIMARY KEY (webhook_id, event)
) STRICT, WITHOUT ROWID;

CREATE INDEX webhook_events_by_event ON webhook_events (event, webhook_id);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event       TEXT    NOT NULL,
    -- The event's identity (e.g. article.published:42): one delivery per webhook and
    -- key, however often the event is reported.
    event_key   TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (webhook_id, event_key)
) STRICT;

CREATE INDEX webhook_deliveries_by_key ON webhook_deliveries (event_key);
CREATE INDEX webhook_deliveries_by_webhook ON webhook_deliveries (webhook_id, id);
