-- The dashboard's history: what readers did to each article on each day (the day in
-- the site's time zone, as the engagement code computes it). The same table as the
-- SQLite store's, in PostgreSQL's types. `article_counters` says where an article
-- stands now, and the rows behind it cannot say when: view rows are pruned after a few
-- days and a reader's row keeps only their latest choice. So every cast and every new
-- view also adds to its article's row for its day, in the same transaction that moves
-- the article's counters (see `stats.rs`).
--
-- These count activity and never shrink: a vote, reaction or rating given or changed
-- counts one, a take-back nothing. `comments` stays 0 until the site has comments.
--
-- No foreign key to `articles`: deleting an article must not rewrite the site's past
-- days. Readers of this table join `articles` where they need the article.
-- The day leads the key: the dashboard reads ranges of days.
CREATE TABLE daily_counters (
    day        DATE   NOT NULL,
    article_id BIGINT NOT NULL,
    views      BIGINT NOT NULL DEFAULT 0,
    votes      BIGINT NOT NULL DEFAULT 0,
    reactions  BIGINT NOT NULL DEFAULT 0,
    ratings    BIGINT NOT NULL DEFAULT 0,
    comments   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (day, article_id)
);

-- The days still in `article_views` (the last few) are known exactly: start with them.
-- Older days and the casts of any day left no trace to count from.
INSERT INTO daily_counters (day, article_id, views)
SELECT day, article_id, COUNT(*) FROM article_views GROUP BY day, article_id;
