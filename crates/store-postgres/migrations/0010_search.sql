-- Full-text search over articles and pages: a weighted tsvector of title (A), tag names
-- (B), excerpt (C) and plain body (D) per article, with a GIN index, plus the title's
-- own vector so that title matches can be ranked first.
--
-- The vectors live beside `articles` rather than in a generated column because the tags
-- are in another table. Triggers on both tables rebuild an article's row, so every write
-- that changes an article or its tags changes the index in the same transaction.
--
-- The 'simple' configuration folds case without stemming or stop words, as SQLite's
-- unicode61 tokenizer does, so both backends find the same articles. A body is indexed
-- up to its first 200,000 characters: a tsvector is limited to 1 MB.
CREATE TABLE article_search (
    article_id BIGINT   PRIMARY KEY REFERENCES articles (id) ON DELETE CASCADE,
    title      tsvector NOT NULL,
    document   tsvector NOT NULL
);

CREATE INDEX article_search_document ON article_search USING GIN (document);

CREATE FUNCTION article_search_refresh(target BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO article_search (article_id, title, document)
    SELECT a.id,
           to_tsvector('simple', a.title),
           setweight(to_tsvector('simple', a.title), 'A')
           || setweight(to_tsvector('simple', coalesce(
                  (SELECT string_agg(t.name, ' ') FROM article_tags at
                   JOIN tags t ON t.id = at.tag_id WHERE at.article_id = a.id), '')), 'B')
           || setweight(to_tsvector('simple', a.excerpt), 'C')
           || setweight(to_tsvector('simple', left(a.body_text, 200000)), 'D')
    FROM articles a WHERE a.id = target
    ON CONFLICT (article_id) DO UPDATE SET title = EXCLUDED.title, document = EXCLUDED.document
$$;

CREATE FUNCTION article_search_on_article() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM article_search_refresh(NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER article_search_article AFTER INSERT OR UPDATE OF title, excerpt, body_text
    ON articles FOR EACH ROW EXECUTE FUNCTION article_search_on_article();

-- A deleted article's tag rows refresh nothing: the article is gone, and its index row
-- with it (ON DELETE CASCADE).
CREATE FUNCTION article_search_on_tag() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM article_search_refresh(OLD.article_id);
    ELSE
        PERFORM article_search_refresh(NEW.article_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER article_search_tags AFTER INSERT OR DELETE ON article_tags
    FOR EACH ROW EXECUTE FUNCTION article_search_on_tag();

SELECT article_search_refresh(id) FROM articles;
