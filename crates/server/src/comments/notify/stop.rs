//! One-click stop links for comment notifications: `/comments/stop?token=…`.
//!
//! A token names what it stops and is signed with the site's key
//! ([`crate::signing`]), so it needs no session and works on every node:
//! `r<comment id>.<signature>` stops the reply emails of that comment's author (all
//! their comments, by email address), `m<user id>.<signature>` a newsroom user's
//! "awaits moderation" emails, `n<subscriber id>.<signature>` a newsletter
//! subscription (served at `/newsletter/unsubscribe`, the same handlers). The address
//! itself is never in the link, so it stays out of access logs.
//!
//! Opening the link shows a page with one button; the stop itself is a POST, which
//! is also what a mail program sends for RFC 8058's `List-Unsubscribe-Post`. A GET
//! must not stop anything: mail scanners open every link in a message.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use axum::routing::get;
use broadsheet_domain::{CommentId, Store, StoreError, SubscriberId, UserId, clock};
use minijinja::context;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::AppError;
use crate::signing::SigningKey;
use crate::site::meta::MetaView;
use crate::site::{SiteContext, render};

/// The path of the stop page.
pub const PATH: &str = "/comments/stop";

/// The same page for the newsletter, under a path that says so.
pub const NEWSLETTER_PATH: &str = "/newsletter/unsubscribe";

/// What a stop link stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopToken {
    /// Reply emails to the author of this comment.
    Replies(CommentId),
    /// A newsroom user's "a comment awaits moderation" emails.
    Moderation(UserId),
    /// A reader's newsletter subscription.
    Newsletter(SubscriberId),
}

impl StopToken {
    /// The token as the link carries it.
    pub fn sign(self, key: &SigningKey) -> String {
        let (kind, id) = self.parts();
        format!("{kind}{id}.{}", key.sign(&self.message()))
    }

    /// The absolute link.
    pub fn link(self, key: &SigningKey, base_url: &str) -> String {
        format!("{base_url}{}?token={}", self.path(), self.sign(key))
    }

    /// The path of its page.
    pub fn path(self) -> &'static str {
        match self {
            StopToken::Newsletter(_) => NEWSLETTER_PATH,
            _ => PATH,
        }
    }

    /// The token `text` names, if `key` signed it.
    pub fn verify(text: &str, key: &SigningKey) -> Option<StopToken> {
        let (head, signature) = text.trim().split_once('.')?;
        let id: i64 = head.get(1..)?.parse().ok()?;
        let token = match head.as_bytes().first()? {
            b'r' => StopToken::Replies(CommentId(id)),
            b'm' => StopToken::Moderation(UserId(id)),
            b'n' => StopToken::Newsletter(SubscriberId(id)),
            _ => return None,
        };
        key.verify(&token.message(), signature).then_some(token)
    }

    fn parts(self) -> (char, i64) {
        match self {
            StopToken::Replies(id) => ('r', id.0),
            StopToken::Moderation(id) => ('m', id.0),
            StopToken::Newsletter(id) => ('n', id.0),
        }
    }

    fn message(self) -> String {
        let (kind, id) = self.parts();
        format!("stop:{kind}:{id}")
    }

    /// The emails it stops, in words.
    fn what(self) -> &'static str {
        match self {
            StopToken::Replies(_) => "replies to your comments",
            StopToken::Moderation(_) => "comments that wait for moderation",
            StopToken::Newsletter(_) => "new articles (the newsletter)",
        }
    }

    /// Stops them.
    async fn apply(self, store: &dyn Store) -> Result<(), StoreError> {
        match self {
            StopToken::Replies(id) => {
                let comment = store.comment_by_id(id).await?;
                store
                    .stop_reply_notifications(&comment.author_email)
                    .await?;
            }
            StopToken::Moderation(user) => {
                store.set_comment_notices(user, false, clock::now()).await?;
            }
            StopToken::Newsletter(subscriber) => {
                store.unsubscribe(subscriber, clock::now()).await?;
            }
        }
        Ok(())
    }
}

/// The stop page's routes, with the site's error pages.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(PATH, get(show).post(stop))
        .route(NEWSLETTER_PATH, get(show).post(stop))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::site::error_page::themed_errors,
        ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenField {
    token: String,
}

/// GET /comments/stop?token=…
async fn show(
    State(state): State<AppState>,
    Query(query): Query<TokenField>,
) -> Result<Response, AppError> {
    let token = checked(&state, &query.token).await?;
    page(&state, token, &query.token, false).await
}

/// POST /comments/stop: from the page's button (`token` in the form) or from a mail
/// program (`token` in the link's query; the body, `List-Unsubscribe=One-Click`, is
/// multipart or urlencoded as RFC 8058 allows, and says nothing more, so only an
/// urlencoded body is read for a token).
async fn stop(
    State(state): State<AppState>,
    Query(query): Query<TokenField>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let urlencoded = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let from_form = urlencoded
        .then(|| serde_urlencoded::from_bytes::<TokenField>(&body).ok())
        .flatten()
        .map(|form| form.token)
        .filter(|token| !token.is_empty());
    let text = from_form.unwrap_or(query.token);
    let token = checked(&state, &text).await?;
    match token.apply(state.store.as_ref()).await {
        // A comment erased since: there is nothing left to email.
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(err) => return Err(err.into()),
    }
    page(&state, token, &text, true).await
}

async fn checked(state: &AppState, text: &str) -> Result<StopToken, AppError> {
    let key = SigningKey::load(state.store.as_ref()).await?;
    StopToken::verify(text, &key).ok_or_else(|| {
        AppError::Forbidden(
            "This link is not valid. Use the link in the latest email you received.".into(),
        )
    })
}

async fn page(
    state: &AppState,
    token: StopToken,
    text: &str,
    stopped: bool,
) -> Result<Response, AppError> {
    let site = SiteContext::load(state).await?;
    let meta = MetaView {
        title: Some("Stop these emails".into()),
        path: token.path().into(),
        kind: "website",
        noindex: true,
        ..MetaView::default()
    };
    render(
        state,
        "comments/stop.html",
        context! {
            site => site.view, meta, what => token.what(), token => text, stopped,
            action => token.path(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_target_only_under_its_key() {
        let key = SigningKey::from_bytes([3; 32]);
        for token in [
            StopToken::Replies(CommentId(42)),
            StopToken::Moderation(UserId(7)),
            StopToken::Newsletter(SubscriberId(9)),
        ] {
            let text = token.sign(&key);
            assert_eq!(StopToken::verify(&text, &key), Some(token));
            assert_eq!(
                StopToken::verify(&text, &SigningKey::from_bytes([4; 32])),
                None
            );
        }
        let replies = StopToken::Replies(CommentId(42)).sign(&key);
        // The same number under the other kind, another number, or junk: refused.
        let swapped = format!("m{}", &replies[1..]);
        let other = replies.replacen("42", "43", 1);
        for bad in [
            swapped.as_str(),
            &other,
            "r42",
            "r.abc",
            "x42.00",
            "",
            "é.é",
        ] {
            assert_eq!(StopToken::verify(bad, &key), None, "{bad}");
        }
        assert!(
            StopToken::Moderation(UserId(7))
                .link(&key, "https://news.example.com")
                .starts_with("https://news.example.com/comments/stop?token=m7.")
        );
    }
}
