-- Newsroom users who stopped the "a comment awaits moderation" emails (issue 6),
-- through the one-click link every such email carries. A row means "no emails";
-- everyone else with the right to moderate, and each article's author, gets them.
-- (Commenters' own choice, replies to their comments, lives on their comments.)
CREATE TABLE comment_notice_optouts (
    user_id    BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    stopped_at TIMESTAMPTZ NOT NULL
);
