-- Browser push (the "notification bell", see broadsheet_domain::push): subscriptions,
-- what each follows, and per (article, subscription) deliveries.
--
-- One browser has one endpoint per site, so the endpoint identifies a subscription;
-- subscribing again replaces its keys. The keys are the browser's public P-256 key
-- and auth secret (RFC 8291), base64url as the browser gave them.
CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint   TEXT    NOT NULL UNIQUE,
    p256dh     TEXT    NOT NULL,
    auth       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

-- What a subscription follows: '' is the whole site, anything else a tag's slug, as
-- the tag page's bell names it (planning matches it against the article's tags).
CREATE TABLE push_topics (
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    topic           TEXT    NOT NULL,
    PRIMARY KEY (subscription_id, topic)
) STRICT, WITHOUT ROWID;

-- Planning an article's pushes looks subscriptions up by topic.
CREATE INDEX push_topics_by_topic ON push_topics (topic, subscription_id);

-- An article's pushes are planned once ever: a retried or resumed send works through
-- the deliveries planned then, and a later subscriber is not told about old news.
CREATE TABLE push_plans (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    planned_at INTEGER NOT NULL
) STRICT;

-- One row per push to send. `due_at` is when a pending row may be claimed: at once
-- when planned, the end of the lease while claimed (so a push whose sender died is
-- claimed again once the lease runs out), the retry time after a failure.
CREATE TABLE push_deliveries (
    article_id      INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    due_at          INTEGER NOT NULL,
    last_error      TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (article_id, subscription_id)
) STRICT, WITHOUT ROWID;

-- Deleting a subscription (a 410 from its push service) finds its deliveries.
CREATE INDEX push_deliveries_by_subscription ON push_deliveries (subscription_id);
