//! Comment notifications (issue 6, item 7), always through the job queue
//! ([`crate::mail::enqueue_email`]), never sent inline:
//!
//! - a comment that waits for moderation: its article's author and every active user
//!   who may moderate, unless they stopped these emails. Moderators see the
//!   commenter's email (they moderate); an author who cannot moderate does not.
//! - an approved reply: the commenter it answers, if they asked to be told. The
//!   replier's email is never in it.
//!
//! Each email carries a one-click stop link ([`stop`]), in its text and as RFC 8058
//! `List-Unsubscribe` headers. Each is queued under a key (the comment, the
//! recipient), so approving a comment twice, or a retried request, sends nothing twice.
//!
//! Both also report to webhooks (`comment.posted`, `comment.approved`;
//! [`crate::webhooks::events`]).
//!
//! [`comment_added`] and [`comment_approved`] are what the site and the admin call;
//! [`added`] and [`approved`] do the work on a bare store, for the CLI, whose emails a
//! running server's worker sends.

pub mod stop;

use broadsheet_domain::{
    Action, Article, Comment, CommentStatus, SiteSettings, Store, StoreError, Target, User,
    user_permits,
};

use crate::app::AppState;
use crate::error::AppError;
use crate::mail::{Email, enqueue_email};
use crate::signing::SigningKey;
use stop::StopToken;

/// After a comment is stored: tells the moderators of one that waits for them, or
/// the parent commenter of an approved reply.
pub async fn comment_added(state: &AppState, comment: &Comment) -> Result<(), AppError> {
    added(state.store.as_ref(), &state.config.base_url, comment).await?;
    state.jobs.wake();
    Ok(())
}

/// After a moderator approves a comment: the reply notification, if it is one.
pub async fn comment_approved(state: &AppState, comment: &Comment) -> Result<(), AppError> {
    approved(state.store.as_ref(), &state.config.base_url, comment).await?;
    state.jobs.wake();
    Ok(())
}

/// [`comment_added`] on a bare store; `base_url` starts every link.
pub async fn added(store: &dyn Store, base_url: &str, comment: &Comment) -> Result<(), StoreError> {
    crate::webhooks::events::comment_posted(store, base_url, comment).await?;
    match comment.status {
        CommentStatus::Pending => held(store, base_url, comment).await,
        CommentStatus::Approved => approved(store, base_url, comment).await,
        // Spam waits in its own tab: telling anyone of each one would turn a spam wave
        // into an email wave.
        CommentStatus::Spam | CommentStatus::Trash => Ok(()),
    }
}

/// [`comment_approved`] on a bare store.
pub async fn approved(
    store: &dyn Store,
    base_url: &str,
    comment: &Comment,
) -> Result<(), StoreError> {
    crate::webhooks::events::comment_approved(store, base_url, comment).await?;
    let Some(parent_id) = comment.parent_id else {
        return Ok(());
    };
    let parent = store.comment_by_id(parent_id).await?;
    let to_self = parent
        .author_email
        .eq_ignore_ascii_case(&comment.author_email);
    // An erased commenter has no address left to write to.
    if !parent.notify_replies || parent.author_email.is_empty() || to_self {
        return Ok(());
    }
    let settings = store.settings().await?;
    let article = store.article_by_id(comment.article_id).await?;
    let key = SigningKey::load(store).await?;
    let stop = StopToken::Replies(parent.id).link(&key, base_url);
    let link = format!(
        "{base_url}{}#comment-{}",
        article.permalink(settings.tz()),
        comment.id
    );
    let text = format!(
        "Hello {parent_name},\n\n{replier} replied to your comment on \u{201c}{title}\u{201d}:\n\n\
         {body}\n\nRead the conversation: {link}\n\n\
         You get this email because you asked to hear of replies when you commented on \
         {site}. To stop these emails, open: {stop}\n",
        parent_name = parent.author_name,
        replier = comment.author_name,
        title = article.title,
        body = quoted(&comment.body),
        site = settings.title,
    );
    let email = Email {
        to: parent.author_email.clone(),
        subject: format!(
            "{} replied to your comment on \u{201c}{}\u{201d}",
            comment.author_name, article.title
        ),
        text,
        html: None,
        list_unsubscribe: Some(stop),
    };
    enqueue_email(store, &email, Some(format!("comment-reply:{}", comment.id))).await?;
    Ok(())
}

/// The "awaits moderation" emails of a held comment.
async fn held(store: &dyn Store, base_url: &str, comment: &Comment) -> Result<(), StoreError> {
    let article = store.article_by_id(comment.article_id).await?;
    let settings = store.settings().await?;
    let off = store.comment_notices_off().await?;
    let recipients: Vec<User> = store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u.active && !off.contains(&u.id))
        .filter(|u| u.id == article.author.id || may_moderate(u))
        .collect();
    if recipients.is_empty() {
        return Ok(());
    }
    let key = SigningKey::load(store).await?;
    for user in recipients {
        let stop = StopToken::Moderation(user.id).link(&key, base_url);
        let email = held_email(&settings, &article, comment, &user, base_url, stop);
        let job_key = format!("comment-held:{}:{}", comment.id, user.id.0);
        enqueue_email(store, &email, Some(job_key)).await?;
    }
    Ok(())
}

fn may_moderate(user: &User) -> bool {
    user_permits(user, Action::ModerateComments, Target::Site)
}

fn held_email(
    settings: &SiteSettings,
    article: &Article,
    comment: &Comment,
    to: &User,
    base_url: &str,
    stop: String,
) -> Email {
    let moderator = may_moderate(to);
    // Moderators need the address to judge the comment; others only the name.
    let commenter = match (&comment.author_url, moderator) {
        (Some(url), true) => format!("{} <{}>, {url}", comment.author_name, comment.author_email),
        (None, true) => format!("{} <{}>", comment.author_name, comment.author_email),
        (_, false) => comment.author_name.clone(),
    };
    let reason = comment
        .reason
        .as_deref()
        .map(|r| format!(" (held because it {r})"))
        .unwrap_or_default();
    let next = if moderator {
        format!(
            "Approve it, mark it as spam or trash it: {base_url}/admin/comments/{}",
            comment.id
        )
    } else {
        "An editor will approve it or not; you need do nothing.".to_owned()
    };
    let why = if moderator {
        "you moderate comments on"
    } else {
        "you write for"
    };
    let text = format!(
        "Hello {name},\n\nA comment on \u{201c}{title}\u{201d} waits for moderation{reason}.\n\n\
         From: {commenter}\n\n{body}\n\n{next}\n\n\
         You get this email because {why} {site}. To stop these emails, open: {stop}\n",
        name = to.display_name,
        title = article.title,
        body = quoted(&comment.body),
        site = settings.title,
    );
    Email {
        to: to.email.clone(),
        subject: format!(
            "A comment on \u{201c}{}\u{201d} waits for moderation",
            article.title
        ),
        text,
        html: None,
        list_unsubscribe: Some(stop),
    }
}

/// A comment's text as an email quotes it: each line behind "> ".
fn quoted(body: &str) -> String {
    body.lines()
        .map(|line| format!("> {line}").trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_line() {
        assert_eq!(quoted("one\n\ntwo"), "> one\n>\n> two");
    }
}
