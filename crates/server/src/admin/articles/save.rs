//! The one write path of the articles admin: the editor's saves, autosaves and
//! restoring a revision all go through [`store_input`], so each of them checks the
//! same permissions, validates and renders the same way as the CLI
//! ([`crate::publish::prepare`]), keeps a revision, enqueues a scheduled article's
//! publish job and writes the audit log. The API's article writes (`crate::api::manage`)
//! come through here too, as the token's user.

use broadsheet_domain::{
    Action, Article, ArticleInput, RevisionId, Role, StoreError, Target, User, ValidationErrors,
    user_permits,
};

use super::is_live;
use crate::admin::audit;
use crate::app::AppState;
use crate::error::AppError;
use crate::publish;

/// What kind of write this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The Save (or Submit for review) button.
    Save,
    /// admin.js saving a draft while the writer types: replaces a latest autosave and
    /// is not audit-logged (one line every few seconds would drown the log), except
    /// when it creates the article.
    Autosave,
    /// Restoring a revision: a save, logged as a restore.
    Restore(RevisionId),
}

/// An article input read from a form, with the problems found reading it.
pub(crate) type Input = (ArticleInput, ValidationErrors);

/// Saves `input` as a new article (`existing` is `None`) or over `existing`. `errors`
/// are problems already found reading the form, reported together with the domain's.
/// Gives back the stored article, or every problem to show on the form.
pub(crate) async fn store_input(
    state: &AppState,
    who: &User,
    existing: Option<&Article>,
    (input, mut errors): Input,
    mode: Mode,
) -> Result<Result<Article, ValidationErrors>, AppError> {
    if needs_publish(existing, &input) {
        let target = match existing {
            Some(article) => Target::article(who, article.author.id, is_live(article.status)),
            None => Target::article(who, who.id, false),
        };
        if !user_permits(who, Action::PublishArticle, target) {
            return Err(AppError::Forbidden(publish_refusal(who.role).into()));
        }
    }
    let settings = state.chrome().await?.settings.clone();
    let mut write = match publish::prepare(input, &settings) {
        Ok(write) if errors.is_empty() => write,
        Ok(_) => return Ok(Err(errors)),
        Err(found) => {
            errors.0.extend(found.0);
            return Ok(Err(errors));
        }
    };
    write.saved_by = Some(who.id);
    let store = state.store.as_ref();
    let stored = match (existing, mode) {
        (Some(article), Mode::Autosave) => store.autosave_article(article.id, &write).await,
        (existing, _) => publish::save(store, existing.map(|a| a.id), &write).await,
    };
    let article = match stored {
        Ok(article) => article,
        Err(StoreError::Conflict { field: "slug" }) => {
            return Ok(Err(ValidationErrors::single(
                "slug",
                "is already used by another article or page; choose another",
            )));
        }
        // An autosave that arrived after a save published the article.
        Err(StoreError::Conflict { field: "status" }) => {
            return Ok(Err(ValidationErrors::single(
                "status",
                "is no longer draft (it was published meanwhile), so it was not autosaved",
            )));
        }
        Err(err) => return Err(err.into()),
    };
    if let Some(action) = audit_action(existing, &article, mode) {
        let detail = match mode {
            Mode::Restore(revision) => format!("revision {revision}: {}", article.title),
            Mode::Save | Mode::Autosave => article.title.clone(),
        };
        audit::record(
            state,
            who,
            action,
            &format!("article:{}", article.id),
            &detail,
        )
        .await?;
    }
    Ok(Ok(article))
}

/// Whether saving `input` over `existing` publishes, schedules or unpublishes, or
/// moves the date of a live article: what takes `PublishArticle`, not just
/// `EditArticle`. A new article needs it when it is not a draft.
pub(crate) fn needs_publish(existing: Option<&Article>, input: &ArticleInput) -> bool {
    match existing {
        None => is_live(input.status),
        Some(before) => {
            let changes_state =
                before.status != input.status && (is_live(before.status) || is_live(input.status));
            let moves_live_date =
                is_live(before.status) && before.published_at != input.published_at;
            changes_state || moves_live_date
        }
    }
}

fn publish_refusal(role: Role) -> &'static str {
    if role == Role::Contributor {
        "Contributors cannot publish or schedule articles. Use “Submit for review” to \
         save it as a draft, and an editor will publish it."
    } else {
        "Only editors may publish, schedule or unpublish other people's articles."
    }
}

/// The audit log's name for a write, `None` for the autosaves it leaves out.
fn audit_action(existing: Option<&Article>, stored: &Article, mode: Mode) -> Option<&'static str> {
    use broadsheet_domain::Status::*;
    Some(match (mode, existing) {
        (_, None) => "article.create",
        (Mode::Autosave, Some(_)) => return None,
        (Mode::Restore(_), Some(_)) => "article.restore",
        (Mode::Save, Some(before)) if before.status != stored.status => match stored.status {
            Published => "article.publish",
            Scheduled => "article.schedule",
            Draft => "article.unpublish",
        },
        (Mode::Save, Some(_)) => "article.update",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use broadsheet_domain::read_time::ReadingSpeed;
    use broadsheet_domain::{
        ArticleId, AuthorRef, ContentKind, SourceFormat, Status, UserId, clock,
    };

    fn input(status: Status, at: Option<chrono::DateTime<chrono::Utc>>) -> ArticleInput {
        ArticleInput {
            kind: ContentKind::Article,
            title: "T".into(),
            slug: None,
            excerpt: None,
            source: "S".into(),
            format: SourceFormat::Markdown,
            tags: vec![],
            author_id: UserId(1),
            status,
            published_at: at,
            cover_image: None,
            featured: false,
        }
    }

    fn stored(status: Status, at: Option<chrono::DateTime<chrono::Utc>>) -> Article {
        let w = input(status, at)
            .prepare(ReadingSpeed::default(), clock::now())
            .unwrap();
        Article {
            id: ArticleId(1),
            kind: w.kind,
            slug: w.slug,
            title: w.title,
            excerpt: w.excerpt,
            source: w.source,
            format: w.format,
            body_html: w.body_html,
            body_text: w.body_text,
            tags: w.tags,
            author: AuthorRef {
                id: UserId(1),
                slug: "a".into(),
                display_name: "A".into(),
            },
            status: w.status,
            published_at: at,
            created_at: clock::now(),
            updated_at: clock::now(),
            read_time: w.read_time,
            word_count: w.word_count,
            cover_image: None,
            featured: false,
        }
    }

    #[test]
    fn publishing_scheduling_unpublishing_and_redating_live_articles_need_publish() {
        use Status::*;
        let then = Some(clock::now() - chrono::TimeDelta::days(1));
        let later = Some(clock::now() + chrono::TimeDelta::days(1));
        assert!(!needs_publish(None, &input(Draft, later)));
        assert!(needs_publish(None, &input(Published, None)));
        assert!(needs_publish(None, &input(Scheduled, later)));

        let draft = stored(Draft, None);
        assert!(
            !needs_publish(Some(&draft), &input(Draft, later)),
            "a draft's date is free"
        );
        assert!(needs_publish(Some(&draft), &input(Published, None)));
        assert!(needs_publish(Some(&draft), &input(Scheduled, later)));

        let live = stored(Published, then);
        assert!(
            !needs_publish(Some(&live), &input(Published, then)),
            "a plain edit"
        );
        assert!(
            needs_publish(Some(&live), &input(Published, later)),
            "a new date"
        );
        assert!(
            needs_publish(Some(&live), &input(Draft, then)),
            "unpublishing"
        );
    }
}
