-- Every write prunes the change log of rows older than its retention (see
-- `changes.rs`), asking for the newest id among them. Without an index that question
-- reads the whole log, ten minutes of notices, on every write: at a thousand votes a
-- second that scan was over half the cost of a vote. On this index it reads only the
-- old rows, which are few because every write prunes them.
CREATE INDEX change_log_by_time ON change_log (at_ms);
