-- Full-text search over articles and pages: title, excerpt, plain body and tag names,
-- in an FTS5 table whose rowid is the article's id.
--
-- The index holds its own copy of the text rather than being an external-content table
-- over `articles`: the tags live in another table, and an external-content index must
-- be told the exact old text on every change, which a tag row's trigger can no longer
-- compute once the tag is gone. Triggers keep it, so every write that changes an
-- article or its tags (the editor, the publisher, an import) changes the index in the
-- same transaction, and the index can never disagree with the content.
--
-- unicode61 folds case and, with remove_diacritics 2, accents, so "cafe" finds "café".
-- Who may see what is decided at query time, against `articles`.
CREATE VIRTUAL TABLE article_search USING fts5 (
    title, excerpt, body, tags,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Relevance weighs a word in the title most, then tags, then the excerpt, then the body.
INSERT INTO article_search (article_search, rank) VALUES ('rank', 'bm25(10.0, 3.0, 1.0, 5.0)');

INSERT INTO article_search (rowid, title, excerpt, body, tags)
SELECT a.id, a.title, a.excerpt, a.body_text,
       coalesce((SELECT group_concat(t.name, ' ') FROM article_tags at
                 JOIN tags t ON t.id = at.tag_id WHERE at.article_id = a.id), '')
FROM articles a;

CREATE TRIGGER article_search_insert AFTER INSERT ON articles BEGIN
    INSERT INTO article_search (rowid, title, excerpt, body, tags)
    VALUES (new.id, new.title, new.excerpt, new.body_text, '');
END;

CREATE TRIGGER article_search_update AFTER UPDATE OF title, excerpt, body_text ON articles BEGIN
    UPDATE article_search SET title = new.title, excerpt = new.excerpt, body = new.body_text
    WHERE rowid = new.id;
END;

CREATE TRIGGER article_search_delete AFTER DELETE ON articles BEGIN
    DELETE FROM article_search WHERE rowid = old.id;
END;

CREATE TRIGGER article_search_tag_insert AFTER INSERT ON article_tags BEGIN
    UPDATE article_search SET tags = coalesce((SELECT group_concat(t.name, ' ') FROM article_tags at
        JOIN tags t ON t.id = at.tag_id WHERE at.article_id = new.article_id), '')
    WHERE rowid = new.article_id;
END;

CREATE TRIGGER article_search_tag_delete AFTER DELETE ON article_tags BEGIN
    UPDATE article_search SET tags = coalesce((SELECT group_concat(t.name, ' ') FROM article_tags at
        JOIN tags t ON t.id = at.tag_id WHERE at.article_id = old.article_id), '')
    WHERE rowid = old.article_id;
END;
