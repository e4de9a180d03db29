-- The dashboard's history: what readers did to each article on each day (the day in
-- the site's time zone, as the engagement code computes it). `article_counters` says
-- where an article stands now, and the rows behind it cannot say when: view rows are
-- pruned after a few days and a reader's row keeps only their latest choice. So every
-- cast and every new view also adds to its article's row for its day, in the same
-- transaction that moves the article's counters (see `stats.rs`).
--
-- These count activity and never shrink: a vote, reaction or rating given or changed
-- counts one, a take-back nothing. `comments` stays 0 until the site has comments.
--
-- No foreign key to `articles`: deleting an article must not rewrite the site's past
-- days. Readers of this table join `articles` where they need the article.
-- The day leads the key: the dashboard reads ranges of days.
CREATE TABLE daily_counters (
    day        TEXT    NOT NULL,
    article_id INTEGER NOT NULL,
    views      INTEGER NOT NULL DEFAULT 0,
    votes      INTEGER NOT NULL DEFAULT 0,
    reactions  INTEGER NOT NULL DEFAULT 0,
    ratings    INTEGER NOT NULL DEFAULT 0,
    comments   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, article_id)
) STRICT, WITHOUT ROWID;

-- The days still in `article_views` (the last few) are known exactly: start with them.
-- Older days and the casts of any day left no trace to count from.
INSERT INTO daily_counters (day, article_id, views)
SELECT day, article_id, COUNT(*) FROM article_views GROUP BY day, article_id;
