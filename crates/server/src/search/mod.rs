//! Full-text search for readers: the `/search` page (see [`page`]) and
//! `GET /api/v1/search`, both taking the same query string:
//!
//! | key | meaning |
//! |---|---|
//! | `q` | the words; anything typed is searched as plain words |
//! | `tag` | a tag slug |
//! | `author` | an author slug |
//! | `from`, `to` | publication dates `YYYY-MM-DD`, both inclusive, in the site's time zone |
//! | `page` | 1-based; anything else is page 1 |
//!
//! A query string that does not even decode is treated as empty rather than refused:
//! a search box must not answer errors for what people paste into it. Only a date
//! that is not a date is a validation error (422), named next to its field.

pub(crate) mod page;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{SearchQuery, SearchResults, SearchTerms, StoreError, ValidationErrors};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::app::AppState;
use crate::error::AppError;
use crate::site::SiteContext;

/// Results per page, on the page and in the API.
const PER_PAGE: u32 = 10;

/// The query string as typed, for re-showing the form and for page links.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct SearchForm {
    pub q: String,
    pub tag: String,
    pub author: String,
    pub from: String,
    pub to: String,
    pub page: u32,
}

impl SearchForm {
    pub fn parse(raw: Option<&str>) -> SearchForm {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw.unwrap_or_default()).unwrap_or_default();
        let first = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        SearchForm {
            q: first("q"),
            tag: first("tag"),
            author: first("author"),
            from: first("from"),
            to: first("to"),
            page: first("page").parse().ok().filter(|p| *p >= 1).unwrap_or(1),
        }
    }

    /// The query string of this search on another page.
    pub fn url_of_page(&self, page: u32) -> String {
        let mut pairs = vec![("q", self.q.clone())];
        for (key, value) in [
            ("tag", &self.tag),
            ("author", &self.author),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            if !value.is_empty() {
                pairs.push((key, value.clone()));
            }
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        format!(
            "/search?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }

    /// The store query (`None` when an unknown author means nothing can match), or
    /// `AppError::Validation` with the form's problems.
    pub async fn to_query(
        &self,
        state: &AppState,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<Option<SearchQuery>, AppError> {
        let mut errors = ValidationErrors::default();
        let from = day_start(&self.from, tz, 0, "from", &mut errors);
        // `to` is inclusive: results run until the start of the next day.
        let until = day_start(&self.to, tz, 1, "to", &mut errors);
        errors.into_result()?;
        let mut query = SearchQuery::new(SearchTerms::parse(&self.q), now, self.page, PER_PAGE);
        query.from = from;
        query.until = until;
        if !self.tag.is_empty() {
            query.tag = Some(self.tag.clone());
        }
        if !self.author.is_empty() {
            match state.store.user_by_slug(&self.author).await {
                Ok(user) => query.author = Some(user.id),
                Err(StoreError::NotFound) => return Ok(None),
                Err(other) => return Err(other.into()),
            }
        }
        Ok(Some(query))
    }
}

/// The instant `date + days` starts in `tz`; records a problem for a non-date.
fn day_start(
    raw: &str,
    tz: Tz,
    days: i64,
    field: &str,
    errors: &mut ValidationErrors,
) -> Option<DateTime<Utc>> {
    if raw.is_empty() {
        return None;
    }
    let start = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_signed(TimeDelta::days(days)))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest());
    if start.is_none() {
        errors.add(field, "must be a date like 2026-03-01");
    }
    start.map(|t| t.with_timezone(&Utc))
}

/// Runs the form's search.
pub(crate) async fn run(
    state: &AppState,
    form: &SearchForm,
    site: &SiteContext,
) -> Result<SearchResults, AppError> {
    match form.to_query(state, site.tz, site.now).await? {
        Some(query) => Ok(state.store.search(&query).await?),
        None => Ok(SearchResults::empty(&SearchQuery::new(
            SearchTerms::default(),
            site.now,
            form.page,
            PER_PAGE,
        ))),
    }
}

#[derive(Serialize)]
struct ApiPage {
    query: String,
    total: u64,
    /// More articles match than were ranked: `results` come from the most recent `total`.
    more: bool,
    page: u32,
    per_page: u32,
    pages: u32,
    results: Vec<ApiHit>,
}

#[derive(Serialize)]
struct ApiHit {
    id: i64,
    title: String,
    /// The title, HTML-escaped, with matches in `<mark>`.
    title_html: String,
    url: String,
    excerpt: String,
    /// A passage of the body, HTML-escaped, with matches in `<mark>`.
    snippet_html: String,
    published_at: Option<DateTime<Utc>>,
    author: String,
    tags: Vec<String>,
}

/// `GET /api/v1/search`: registered in the API's route table (`crate::api`).
#[utoipa::path(
    get,
    path = "/api/v1/search",
    operation_id = "search",
    tag = "content",
    params(
        ("q" = Option<String>, Query, description = "The words; anything typed is searched as plain words"),
        ("tag" = Option<String>, Query, description = "A tag slug"),
        ("author" = Option<String>, Query, description = "An author slug"),
        ("from" = Option<String>, Query, format = Date, description = "Published on or after (YYYY-MM-DD)"),
        ("to" = Option<String>, Query, format = Date, description = "Published on or before (YYYY-MM-DD)"),
        ("page" = Option<u32>, Query, minimum = 1, description = "1-based; anything else is page 1"),
    ),
    responses(
        (status = 200, description = "Results with highlighted snippets", body = crate::api::views::JsonObject),
        (status = 422, description = "A date that is not a date", body = crate::api::views::ErrorBody),
    )
)]
pub(crate) async fn api(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let site = SiteContext::load(&state).await?;
    let form = SearchForm::parse(raw.as_deref());
    let SearchResults { hits: found, more } = run(&state, &form, &site).await?;
    let pages = found.pages();
    let results = found
        .items
        .into_iter()
        .map(|hit| ApiHit {
            id: hit.article.id.0,
            title: hit.title.plain(),
            title_html: hit.title.to_html(),
            url: site.absolute(&hit.article.permalink(site.tz)),
            excerpt: hit.article.excerpt.clone(),
            snippet_html: hit.snippet.to_html(),
            published_at: hit.article.published_at,
            author: hit.article.author.display_name.clone(),
            tags: hit.article.tags.iter().map(|t| t.slug.clone()).collect(),
        })
        .collect();
    Ok(Json(ApiPage {
        query: form.q,
        total: found.total,
        more,
        page: found.page,
        per_page: found.per_page,
        pages,
        results,
    })
    .into_response())
}
