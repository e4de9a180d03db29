-- Change notices between the processes that share this file (the server, the CLI):
-- every write appends the change it made, in its own transaction, so a notice exists
-- exactly when its write committed; every subscriber polls for rows past the last id
-- it read. SQLite has no NOTIFY, and this is what stands in for it.
--
-- Append-only, and pruned from the oldest end a few minutes after the fact (by the
-- writes themselves; the newest row always stays). AUTOINCREMENT ids are never handed
-- out twice and writers commit one at a time, so ids leave no gaps except where rows
-- were pruned: a subscriber that finds its next id gone knows it missed notices.
-- `change` is the wire form of the domain's `Change` ("article:42", "settings", ...);
-- `at_ms` is milliseconds since the Unix epoch, UTC, and only decides what to prune.
CREATE TABLE change_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    change TEXT    NOT NULL,
    at_ms  INTEGER NOT NULL
) STRICT;
