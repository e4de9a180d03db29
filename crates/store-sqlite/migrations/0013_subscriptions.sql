-- The email newsletter (see broadsheet_domain::subscription): subscribers with double
-- opt-in, the tags each wants (none: every article), and one delivery row per
-- (article, subscriber) so a resumed send mails only those not yet sent.
CREATE TABLE subscribers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Lowercase and trimmed by the domain, so one address is one subscriber.
    email        TEXT    NOT NULL UNIQUE,
    status       TEXT    NOT NULL
                 CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced')),
    -- Refusals in a row by the subscriber's mail server; bounced at a limit.
    failures     INTEGER NOT NULL DEFAULT 0 CHECK (failures >= 0),
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    updated_at   INTEGER NOT NULL
) STRICT;

-- The admin's list by status, and the fan-out's scan of confirmed subscribers.
CREATE INDEX subscribers_by_status ON subscribers (status, id);

-- By slug, not tag id: a subscriber may choose a tag before its first public article
-- keeps it alive, and a tag renamed keeps its slug.
CREATE TABLE subscriber_tags (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    tag_slug      TEXT    NOT NULL,
    PRIMARY KEY (subscriber_id, tag_slug)
) STRICT, WITHOUT ROWID;

-- pending -> sending (claimed, until locked_until) -> sent | failed (refused for good).
CREATE TABLE newsletter_deliveries (
    article_id    INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    locked_until  INTEGER,
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    PRIMARY KEY (article_id, subscriber_id)
) STRICT, WITHOUT ROWID;

-- What a sender claims next: one article's unsent rows in subscriber order.
CREATE INDEX newsletter_deliveries_by_state
    ON newsletter_deliveries (article_id, state, subscriber_id);
CREATE INDEX newsletter_deliveries_by_subscriber ON newsletter_deliveries (subscriber_id);
