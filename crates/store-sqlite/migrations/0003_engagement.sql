-- Reader engagement (SPEC.md sections 1 and 4): votes, reactions, ratings and views.
--
-- Pages show counters, never counts of rows: every write to `reader_choices` moves the
-- article's counters in the same transaction, by the difference it made
-- (`likes = likes + 1`), so the counters always equal the rows and a page view costs
-- one primary-key read whatever the number of readers.

-- One row per article anyone engaged with, created by the first write that moves a
-- counter. `comments` is kept here so that every number a page shows has one home.
CREATE TABLE article_counters (
    article_id INTEGER PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    views      INTEGER NOT NULL DEFAULT 0,
    likes      INTEGER NOT NULL DEFAULT 0,
    dislikes   INTEGER NOT NULL DEFAULT 0,
    rating_1   INTEGER NOT NULL DEFAULT 0,
    rating_2   INTEGER NOT NULL DEFAULT 0,
    rating_3   INTEGER NOT NULL DEFAULT 0,
    rating_4   INTEGER NOT NULL DEFAULT 0,
    rating_5   INTEGER NOT NULL DEFAULT 0,
    comments   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Reactions by key rather than a column each: a site chooses its own set (and may
-- change it), so the keys are data. A key whose count went back to 0 keeps its row,
-- to be updated in place by the next reaction; reads leave it out.
CREATE TABLE article_reaction_counts (
    article_id   INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    reaction_key TEXT    NOT NULL,
    count        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, reaction_key)
) STRICT, WITHOUT ROWID;

-- What each reader chose on each article: one vote, one reaction and one rating at
-- most, each NULL when not given. `network` (a daily-salted hash, never an address)
-- and `day` ('YYYY-MM-DD' in the site's time zone) are those of the reader's first
-- cast on the article and never change: the per-network cap counts the readers a
-- network added to an article on a day. A row whose choices were all taken back stays,
-- so the reader still counts against that day's cap (and is not new when they return).
CREATE TABLE reader_choices (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    reader_id  TEXT    NOT NULL,
    network    TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    vote       TEXT    CHECK (vote IN ('like', 'dislike')),
    reaction   TEXT,
    rating     INTEGER CHECK (rating BETWEEN 1 AND 5),
    -- Milliseconds since the Unix epoch, UTC: when the reader last changed anything.
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, reader_id)
) STRICT, WITHOUT ROWID;

-- The per-network cap: how many readers this network added to this article today.
CREATE INDEX reader_choices_by_network ON reader_choices (article_id, network, day);

-- Views already counted: one row per day, article and viewer (a reader id, or a
-- network hash for a viewer without the cookie), so a reload or a second node counts
-- nothing twice. Only the last few days are needed; older rows are pruned as new
-- views are recorded. The day leads the key so that pruning is a range of the key
-- itself, with no second index to keep up on every view.
CREATE TABLE article_views (
    day        TEXT    NOT NULL,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    viewer     TEXT    NOT NULL,
    PRIMARY KEY (day, article_id, viewer)
) STRICT, WITHOUT ROWID;

-- The salt of each day's network hashes, shared by every process on this database so
-- they all hash a network alike. Only today's and yesterday's are kept: once a salt is
-- gone, nobody can tell which network a hash stood for by trying addresses.
CREATE TABLE network_salts (
    day  TEXT PRIMARY KEY,
    salt BLOB NOT NULL CHECK (length(salt) = 32)
) STRICT, WITHOUT ROWID;
