//! `/preview/{id}?expires=…&sig=…`: an article as readers will see it, before it is
//! published, for anyone holding a link the newsroom signed (see
//! [`crate::editorial::preview_link`]). The page asks search engines not to index it
//! and caches nowhere; a changed or expired link is refused with 403.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use broadsheet_domain::ArticleId;
use minijinja::context;
use serde::Deserialize;

use super::article::template_of;
use super::meta::{self, MetaView};
use super::views::ArticleView;
use super::{SiteContext, render};
use crate::app::AppState;
use crate::editorial::preview_link::{LinkProblem, PreviewLinks};
use crate::error::AppError;

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    /// Kept as text: a link with a mangled expiry is refused like any bad link.
    expires: Option<String>,
    sig: Option<String>,
}

/// GET /preview/{id}
pub async fn preview(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(link): Query<LinkQuery>,
) -> Result<Response, AppError> {
    let site = SiteContext::load(&state).await?;
    let expires = link.expires.as_deref().and_then(|e| e.parse().ok());
    let (Some(expires), Some(sig)) = (expires, link.sig.as_deref()) else {
        return Err(refused(LinkProblem::BadSignature));
    };
    let id = ArticleId(id);
    PreviewLinks::load(state.store.as_ref())
        .await?
        .verify(id, expires, sig, site.now)
        .map_err(refused)?;
    let article = state.store.article_by_id(id).await?;
    let view = ArticleView::full(&article, site.tz, &site.base_url);
    let meta = MetaView {
        noindex: true,
        // The article has no public address yet; it must not claim one.
        canonical: String::new(),
        // Nor structured data naming that address.
        json_ld: Vec::new(),
        ..meta::for_article(&view, &site.view, None)
    };
    let mut response = render(
        &state,
        template_of(&article),
        context! { site => site.view, meta => meta, article => view, preview => true },
    )?;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    Ok(response)
}

fn refused(problem: LinkProblem) -> AppError {
    AppError::Forbidden(
        match problem {
            LinkProblem::BadSignature => {
                "This preview link is not valid. Ask the newsroom for the link again."
            }
            LinkProblem::Expired => {
                "This preview link has expired. Ask the newsroom for a new one."
            }
        }
        .into(),
    )
}
