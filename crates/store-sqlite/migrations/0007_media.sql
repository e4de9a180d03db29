-- The media library (issue 5): uploaded images, kept in the database rather than on a
-- disk so that every process and every node of a site serves them. The server has
-- already decoded each upload, dropped its metadata (EXIF, GPS) and re-encoded it.
--
-- Media URLs (`/media/{id}/...`) are cached by browsers and CDNs for a year, so an id
-- must never point at another image: AUTOINCREMENT never hands an id out twice, even
-- after its row is deleted, and stored bytes are never rewritten.
--
-- `bytes` is the last column of each table: SQLite keeps a large value in overflow
-- pages, which a query that does not ask for that column (the library listing) never
-- reads.

CREATE TABLE media (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- A slug plus the extension of the detected type; unique only together with id.
    filename     TEXT    NOT NULL,
    alt          TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    width        INTEGER NOT NULL CHECK (width > 0),
    height       INTEGER NOT NULL CHECK (height > 0),
    size         INTEGER NOT NULL,
    uploaded_by  INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    bytes        BLOB    NOT NULL
) STRICT;

-- The library lists newest first.
CREATE INDEX media_by_time ON media (created_at DESC, id DESC);

-- Resized copies of an original, one per width (see the domain's `media.rs`).
-- A rowid table on purpose: WITHOUT ROWID suits small rows, not images.
CREATE TABLE media_variants (
    media_id     INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,
    width        INTEGER NOT NULL CHECK (width > 0),
    height       INTEGER NOT NULL CHECK (height > 0),
    content_type TEXT    NOT NULL,
    bytes        BLOB    NOT NULL,
    UNIQUE (media_id, width)
) STRICT;
