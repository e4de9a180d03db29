//! The `/search` page: the form, the results as cards with the matched words marked,
//! and newer/older links that keep the query. Results pages are `noindex`: they are
//! copies of articles that search engines should find at their permalinks.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{Paged, SearchHit, SearchResults, ValidationErrors};
use minijinja::{Value, context};
use serde::Serialize;

use super::{SearchForm, run};
use crate::admin::field_errors;
use crate::app::AppState;
use crate::error::AppError;
use crate::site::SiteContext;
use crate::site::meta::MetaView;
use crate::site::views::ArticleView;

#[derive(Serialize)]
struct HitView {
    article: ArticleView,
    /// Escaped, then marked: safe to show as HTML.
    title: Value,
    snippet: Value,
}

#[derive(Serialize)]
struct PagesView {
    page: u32,
    pages: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
}

/// `GET /search`
pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let site = SiteContext::load(&state).await?;
    let form = SearchForm::parse(raw.as_deref());
    let (found, errors) = match run(&state, &form, &site).await {
        Ok(found) => (Some(found), ValidationErrors::default()),
        Err(AppError::Validation(errors)) => (None, errors),
        Err(other) => return Err(other),
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let hits: Vec<HitView> = found
        .iter()
        .flat_map(|f| f.hits.items.iter())
        .map(|hit| hit_view(hit, &site))
        .collect();
    let pages = found.as_ref().map(|f| pages_view(&f.hits, &form));
    let title = if form.q.is_empty() {
        "Search".to_owned()
    } else {
        format!("Search: {}", form.q)
    };
    let meta = MetaView {
        title: Some(title),
        description: format!("Search {}", site.settings.title),
        canonical: site.absolute("/search"),
        path: "/search".to_owned(),
        prev: None,
        next: None,
        kind: "website",
        noindex: true,
        image: None,
        json_ld: Vec::new(),
    };
    let html = state.theme.render(
        "search.html",
        context! {
            site => site.view,
            meta => meta,
            form => form,
            errors => field_errors(&errors),
            searched => found.is_some() && !form.q.is_empty(),
            total => found.as_ref().map_or(0, |f| f.hits.total),
            more => found.as_ref().is_some_and(|f: &SearchResults| f.more),
            hits => hits,
            pages => pages,
        },
    )?;
    Ok((status, axum::response::Html(html)).into_response())
}

fn hit_view(hit: &SearchHit, site: &SiteContext) -> HitView {
    HitView {
        article: ArticleView::card(&hit.article, site.tz, &site.base_url),
        title: Value::from_safe_string(hit.title.to_html()),
        snippet: Value::from_safe_string(hit.snippet.to_html()),
    }
}

fn pages_view(found: &Paged<SearchHit>, form: &SearchForm) -> PagesView {
    let pages = found.pages();
    let page = found.page;
    PagesView {
        page,
        pages,
        prev_url: (page > 1).then(|| form.url_of_page(page - 1)),
        next_url: (page < pages).then(|| form.url_of_page(page + 1)),
    }
}
