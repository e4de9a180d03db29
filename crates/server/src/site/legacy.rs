//! Old URLs of an imported site (`/?p=12`, `/category/news/`, an attachment page)
//! answer 301 to where the content lives now (see `broadsheet_domain::import`).
//!
//! WordPress's query forms (`/?p=`, `/?page_id=`, `/?attachment_id=`, `/?cat=`,
//! `/?tag=`) are looked up before the home page answers them; every other path only
//! when the site itself has nothing there (a 404), so an old path can never shadow a
//! page of the site. A path leading to an article follows it to its permalink of the
//! moment, and answers 404 like the article while readers may not see it.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::Response;
use broadsheet_domain::import::normalise_path;
use broadsheet_domain::{LegacyTarget, StoreError};

use super::redirect;
use crate::app::AppState;

/// The query keys WordPress answers on its home page.
const QUERY_KEYS: &[&str] = &["p", "page_id", "attachment_id", "cat", "tag"];

/// The middleware (see the module docs).
pub async fn redirects(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let uri = request.uri().clone();
    if uri.path() == "/"
        && let Some(key) = query_key(&uri)
        && let Some(moved) = lookup(&state, &key).await
    {
        return moved;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::NOT_FOUND {
        return response;
    }
    match normalise_path(uri.path()) {
        Some(path) => lookup(&state, &path).await.unwrap_or(response),
        None => response,
    }
}

/// `/?p=12` for a home page asked with one of WordPress's keys (other parameters,
/// such as tracking ones, are ignored).
fn query_key(uri: &Uri) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(uri.query()?).ok()?;
    QUERY_KEYS.iter().find_map(|key| {
        pairs
            .iter()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(k, v)| format!("/?{k}={v}"))
    })
}

async fn lookup(state: &AppState, path: &str) -> Option<Response> {
    let found = match state.store.legacy_redirect(path).await {
        Ok(target) => target,
        Err(StoreError::NotFound) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "looking up an old path failed");
            return None;
        }
    };
    match found {
        LegacyTarget::Location(location) => Some(redirect::moved(&location)),
        LegacyTarget::Article(id) => {
            let article = state.store.article_by_id(id).await.ok()?;
            if !article.is_public(broadsheet_domain::clock::now()) {
                return None;
            }
            let tz = state.chrome().await.ok()?.settings.tz();
            Some(redirect::moved(&article.permalink(tz)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordpress_query_forms_are_keys() {
        let key = |u: &str| query_key(&u.parse().unwrap());
        assert_eq!(key("/?p=12").as_deref(), Some("/?p=12"));
        assert_eq!(
            key("/?utm_source=x&page_id=3").as_deref(),
            Some("/?page_id=3")
        );
        assert_eq!(key("/?cat=7").as_deref(), Some("/?cat=7"));
        assert_eq!(key("/?s=search"), None);
        assert_eq!(key("/"), None);
    }
}
