//! Public content for anyone, no token: articles (filtered, paginated, with totals),
//! one article or page by id or slug with its engagement, pages, tags and authors.
//! Only what readers may see now is ever listed or found; anything else is 404, as on
//! the site.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{
    Article, ArticleId, ArticleQuery, ContentKind, Paged, SearchQuery, SearchTerms, SlugLookup,
    StoreError, ValidationErrors, clock,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use utoipa::IntoParams;

use super::views::{ArticleFull, ArticleSummary, AuthorProfile, ErrorBody, Page, TagView};
use crate::app::AppState;
use crate::error::AppError;

/// Largest page size.
pub const MAX_PER_PAGE: u32 = 100;
const DEFAULT_PER_PAGE: u32 = 20;

/// Reads a query string as key/value pairs; one that does not decode is a 400.
pub fn query_pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| AppError::BadRequest("The query string could not be read.".into()))
}

/// The first value of `key`, trimmed; empty values count as absent.
pub fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// A positive whole number in `1..=max` from the query, or the problem with it.
pub fn number(
    pairs: &[(String, String)],
    key: &str,
    default: u32,
    max: u32,
    errors: &mut ValidationErrors,
) -> u32 {
    match first(pairs, key) {
        None => default,
        Some(text) => match text.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => n,
            _ => {
                errors.add(key, format!("must be a whole number from 1 to {max}"));
                default
            }
        },
    }
}

/// The start of a `YYYY-MM-DD` day (plus `days`) in the site's time zone.
fn day_start(
    pairs: &[(String, String)],
    key: &str,
    tz: Tz,
    days: i64,
    errors: &mut ValidationErrors,
) -> Option<DateTime<Utc>> {
    let text = first(pairs, key)?;
    let start = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_signed(TimeDelta::days(days)))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| t.with_timezone(&Utc));
    if start.is_none() {
        errors.add(key, "must be a date like 2026-03-01");
    }
    start
}

/// The listing's query string, for the OpenAPI document (the handler reads it by
/// hand, so that a bad value is a JSON error naming the parameter).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// A tag slug.
    tag: Option<String>,
    /// An author's slug.
    author: Option<String>,
    /// Words to search for (full text); results are then ordered by relevance.
    q: Option<String>,
    /// Published on or after this day (`YYYY-MM-DD`, the site's time zone).
    #[param(format = Date)]
    from: Option<String>,
    /// Published on or before this day (`YYYY-MM-DD`, the site's time zone).
    #[param(format = Date)]
    to: Option<String>,
    /// 1-based page number.
    #[param(minimum = 1)]
    page: Option<u32>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// What a listing asks for, checked.
pub struct Listing {
    pub tag: Option<String>,
    pub author: Option<String>,
    pub q: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub page: u32,
    pub per_page: u32,
}

impl Listing {
    pub fn read(raw: Option<&str>, tz: Tz) -> Result<Listing, AppError> {
        let pairs = query_pairs(raw)?;
        let mut errors = ValidationErrors::default();
        let page = number(&pairs, "page", 1, 100_000, &mut errors);
        let per_page = number(
            &pairs,
            "per_page",
            DEFAULT_PER_PAGE,
            MAX_PER_PAGE,
            &mut errors,
        );
        let from = day_start(&pairs, "from", tz, 0, &mut errors);
        let until = day_start(&pairs, "to", tz, 1, &mut errors);
        errors.into_result()?;
        let text = |key| first(&pairs, key).map(str::to_owned);
        Ok(Listing {
            tag: text("tag"),
            author: text("author"),
            q: text("q"),
            from,
            until,
            page,
            per_page,
        })
    }

    /// The public articles this listing names, newest first (or by relevance for a
    /// search). An unknown author or tag lists nothing.
    pub async fn run(
        &self,
        state: &AppState,
        now: DateTime<Utc>,
    ) -> Result<Paged<Article>, AppError> {
        let empty = Paged {
            items: Vec::new(),
            total: 0,
            page: self.page,
            per_page: self.per_page,
        };
        let author = match &self.author {
            None => None,
            Some(slug) => match state.store.user_by_slug(slug).await {
                Ok(user) => Some(user.id),
                Err(StoreError::NotFound) => return Ok(empty),
                Err(other) => return Err(other.into()),
            },
        };
        if let Some(words) = &self.q {
            let mut query =
                SearchQuery::new(SearchTerms::parse(words), now, self.page, self.per_page);
            query.tag = self.tag.clone();
            query.author = author;
            query.from = self.from;
            query.until = self.until;
            let hits = state.store.search(&query).await?.hits;
            return Ok(Paged {
                items: hits.items.into_iter().map(|hit| hit.article).collect(),
                total: hits.total,
                page: hits.page,
                per_page: hits.per_page,
            });
        }
        let query = ArticleQuery {
            tag: self.tag.clone(),
            author,
            published_from: self.from,
            published_before: self.until,
            ..ArticleQuery::public(now, self.page, self.per_page)
        };
        Ok(state.store.list_articles(&query).await?)
    }
}

pub fn page_of<T, U>(paged: Paged<T>, f: impl Fn(&T) -> U) -> Page<U> {
    let pages = paged.pages();
    Page {
        items: paged.items.iter().map(f).collect(),
        total: paged.total,
        page: paged.page,
        per_page: paged.per_page,
        pages,
    }
}

/// The public articles, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "content",
    params(ListParams),
    responses(
        (status = 200, description = "A page of articles", body = Page<ArticleSummary>),
        (status = 400, description = "An unreadable query string", body = ErrorBody),
        (status = 422, description = "A bad parameter, named in `field`", body = ErrorBody),
    )
)]
pub async fn list_articles(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let chrome = state.chrome().await?;
    let tz = chrome.settings.tz();
    let listing = Listing::read(raw.as_deref(), tz)?;
    let found = listing.run(&state, clock::now()).await?;
    let base = &state.config.base_url;
    Ok(Json(page_of(found, |a| ArticleSummary::new(a, tz, base))).into_response())
}

/// Finds public content of `kind` by id (digits) or by a current or old slug.
pub async fn find_public(
    state: &AppState,
    key: &str,
    kind: ContentKind,
) -> Result<Article, AppError> {
    let now = clock::now();
    let article = match key.parse::<i64>() {
        Ok(id) if id > 0 => state.store.article_by_id(ArticleId(id)).await?,
        Ok(_) => return Err(AppError::NotFound),
        Err(_) => match state.store.find_by_slug(key).await? {
            SlugLookup::Current(article) | SlugLookup::Moved(article) => article,
        },
    };
    if article.kind != kind || !article.is_public(now) {
        return Err(AppError::NotFound);
    }
    Ok(article)
}

async fn full(state: &AppState, article: &Article) -> Result<ArticleFull, AppError> {
    let tz = state.chrome().await?.settings.tz();
    let engagement = if article.kind == ContentKind::Article {
        Some(
            serde_json::to_value(state.engagement.view(article.id).await?)
                .map_err(AppError::internal)?,
        )
    } else {
        None
    };
    Ok(ArticleFull {
        summary: ArticleSummary::new(article, tz, &state.config.base_url),
        body_html: article.body_html.clone(),
        engagement,
    })
}

/// One public article, by id or slug (an old slug finds it too), with its body and
/// engagement.
#[utoipa::path(
    get,
    path = "/api/v1/articles/{key}",
    tag = "content",
    params(("key" = String, Path, description = "The article's id or slug", example = "1")),
    responses(
        (status = 200, description = "The article", body = ArticleFull),
        (status = 404, description = "No public article has this id or slug", body = ErrorBody),
    )
)]
pub async fn get_article(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    let article = find_public(&state, &key, ContentKind::Article).await?;
    Ok(Json(full(&state, &article).await?).into_response())
}

/// The public pages (About, Contact...), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/pages",
    tag = "content",
    params(
        ("page" = Option<u32>, Query, minimum = 1, description = "1-based page number"),
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Items per page"),
    ),
    responses(
        (status = 200, description = "A page of pages", body = Page<ArticleSummary>),
        (status = 422, description = "A bad parameter", body = ErrorBody),
    )
)]
pub async fn list_pages(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let pairs = query_pairs(raw.as_deref())?;
    let mut errors = ValidationErrors::default();
    let page = number(&pairs, "page", 1, 100_000, &mut errors);
    let per_page = number(
        &pairs,
        "per_page",
        DEFAULT_PER_PAGE,
        MAX_PER_PAGE,
        &mut errors,
    );
    errors.into_result()?;
    let chrome = state.chrome().await?;
    let tz = chrome.settings.tz();
    let found = state
        .store
        .list_articles(&ArticleQuery {
            kind: ContentKind::Page,
            ..ArticleQuery::public(clock::now(), page, per_page)
        })
        .await?;
    let base = &state.config.base_url;
    Ok(Json(page_of(found, |a| ArticleSummary::new(a, tz, base))).into_response())
}

/// One public page by id or slug.
#[utoipa::path(
    get,
    path = "/api/v1/pages/{key}",
    tag = "content",
    params(("key" = String, Path, description = "The page's id or slug", example = "about")),
    responses(
        (status = 200, description = "The page", body = ArticleFull),
        (status = 404, description = "No public page has this id or slug", body = ErrorBody),
    )
)]
pub async fn get_page(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    let page = find_public(&state, &key, ContentKind::Page).await?;
    Ok(Json(full(&state, &page).await?).into_response())
}

/// Every tag with at least one public article, by slug.
#[utoipa::path(
    get,
    path = "/api/v1/tags",
    tag = "content",
    responses((status = 200, description = "The tags", body = Vec<TagView>))
)]
pub async fn list_tags(State(state): State<AppState>) -> Result<Response, AppError> {
    let tags = state.store.public_tags(clock::now()).await?;
    let base = &state.config.base_url;
    let views: Vec<TagView> = tags.iter().map(|(t, _)| TagView::new(t, base)).collect();
    Ok(Json(views).into_response())
}

/// The newsroom's users who have public articles.
#[utoipa::path(
    get,
    path = "/api/v1/authors",
    tag = "content",
    responses((status = 200, description = "The authors", body = Vec<AuthorProfile>))
)]
pub async fn list_authors(State(state): State<AppState>) -> Result<Response, AppError> {
    let base = &state.config.base_url;
    Ok(Json(
        public_authors(&state)
            .await?
            .iter()
            .map(|u| AuthorProfile::new(u, base))
            .collect::<Vec<_>>(),
    )
    .into_response())
}

/// Users with at least one public article, oldest first: authors' pages exist only
/// for them, so only they are named to the world.
pub async fn public_authors(state: &AppState) -> Result<Vec<broadsheet_domain::User>, AppError> {
    let now = clock::now();
    let mut authors = Vec::new();
    for user in state.store.list_users().await? {
        let any = state
            .store
            .list_articles(&ArticleQuery {
                author: Some(user.id),
                ..ArticleQuery::public(now, 1, 1)
            })
            .await?;
        if any.total > 0 {
            authors.push(user);
        }
    }
    Ok(authors)
}
