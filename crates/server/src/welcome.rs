//! First start: a site with no content gets a welcome article and an About page, so a
//! newcomer's first look is a working news site rather than an empty page.

use broadsheet_domain::{
    ArticleInput, ContentKind, NewUser, Role, SourceFormat, Status, Store, StoreError, UserId,
    Visibility, article::ArticleQuery, clock,
};

const AUTHOR_NAME: &str = "The Broadsheet Desk";
const AUTHOR_EMAIL: &str = "desk@broadsheet.invalid";

const WELCOME_TITLE: &str = "Welcome to your new newsroom";
const WELCOME_BODY: &str = r#"Your Broadsheet site is running. This article was written for you on the first
start, so the front page is never blank; edit it, unpublish it or keep it as a note.

## What you are looking at

Every article is written in **Markdown** and rendered once, when it is saved. The
reading time above was counted then too: words by Unicode word segmentation, Chinese
and Japanese per character, plus a few seconds for each image. Nothing is recounted
when a reader opens the page.

The tags at the end of this article appear as hashtags. Each one links to a page that
lists every article carrying it.

## Publish your first story

Open the newsroom at `/admin`: the first visit sets up your admin account, and
**New article** opens the editor, with a live preview beside the text. Or write a
Markdown file with a little front matter:

```markdown
---
title: Council approves the new harbour bridge
tags: [City Hall, Transport]
---

The vote came late on Tuesday...
```

and run `broadsheet article publish story.md`. The story appears on the front page,
under its tags and at a permalink with its date, like `/2026/03/01/council-approves-the-new-harbour-bridge/`.
Publishing the same file again updates the article in place; change its slug and the
old address keeps working with a permanent redirect.

## Where to go next

- Add the people of your newsroom at `/admin/users` (or with `broadsheet user add`).
- Read the README for configuration, PostgreSQL and running several nodes.
- Replace this text, or this whole theme: any template can be overridden from a theme
  directory.

Good luck with the first edition.
"#;

const ABOUT_TITLE: &str = "About";
const ABOUT_BODY: &str = r#"This site is published with Broadsheet, a self-hosted news server in one binary.

Tell your readers who you are, what you cover and how to reach the newsroom. Edit this
page like any article: it is a Markdown file with `type: page` in its front matter.
"#;

/// Creates the welcome content when the site has no articles and no pages.
/// Returns whether it did.
pub async fn ensure_welcome(store: &dyn Store) -> Result<bool, StoreError> {
    for kind in [ContentKind::Article, ContentKind::Page] {
        let existing = store
            .list_articles(&ArticleQuery {
                kind,
                visibility: Visibility::Any,
                ..ArticleQuery::public(clock::now(), 1, 1)
            })
            .await?;
        if existing.total > 0 {
            return Ok(false);
        }
    }
    let author = desk_author(store).await?;
    let settings = store.settings().await?;
    let now = clock::now();
    for (kind, title, body, tags) in [
        (
            ContentKind::Article,
            WELCOME_TITLE,
            WELCOME_BODY,
            vec!["Broadsheet".to_owned(), "Getting Started".to_owned()],
        ),
        (ContentKind::Page, ABOUT_TITLE, ABOUT_BODY, vec![]),
    ] {
        let write = ArticleInput {
            kind,
            title: title.into(),
            slug: None,
            excerpt: None,
            source: body.into(),
            format: SourceFormat::Markdown,
            tags,
            author_id: author,
            status: Status::Published,
            published_at: Some(now),
            cover_image: None,
            featured: false,
        }
        .prepare(settings.reading_speed, now)
        .expect("the built-in welcome content is valid");
        match store.insert_article(&write).await {
            // Another node starting at the same moment wrote it first.
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The built-in author of the welcome content: a user who cannot log in.
pub async fn desk_author(store: &dyn Store) -> Result<UserId, StoreError> {
    match store.user_by_email(AUTHOR_EMAIL).await {
        Ok(user) => Ok(user.id),
        Err(StoreError::NotFound) => {
            let new = NewUser::validate(AUTHOR_NAME, AUTHOR_EMAIL, Role::Editor, None)
                .expect("the built-in author is valid");
            match store.create_user(&new).await {
                Ok(user) => Ok(user.id),
                // Another node starting at the same moment created it first.
                Err(StoreError::Conflict { .. }) => Ok(store.user_by_email(AUTHOR_EMAIL).await?.id),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}
