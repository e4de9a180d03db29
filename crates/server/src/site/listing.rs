//! Listings: the home page, tag pages and author pages, each paginated at
//! `BASE/page/N/`.
//!
//! Page numbers are strict: `/page/1/` is the listing itself (301 there, so one page
//! has one URL), and `0`, `01`, `+2`, words and pages past the last are 404, never a
//! 500 and never an empty page that search engines would index.

use axum::extract::{Path, State};
use axum::response::Response;
use broadsheet_domain::ArticleQuery;
use minijinja::context;

use super::meta::{self, MetaView};
use super::views::{ArticleView, AuthorView, PaginationView, TagView, page_url};
use super::{SiteContext, redirect, render};
use crate::app::AppState;
use crate::error::AppError;

/// Which listing, with what it is filtered by.
enum Listing {
    Home,
    Tag(String),
    Author(String),
}

pub async fn home(State(state): State<AppState>) -> Result<Response, AppError> {
    show(&state, Listing::Home, None).await
}

pub async fn home_page(
    State(state): State<AppState>,
    Path(n): Path<String>,
) -> Result<Response, AppError> {
    show(&state, Listing::Home, Some(&n)).await
}

pub async fn tag(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    show(&state, Listing::Tag(slug), None).await
}

pub async fn tag_page(
    State(state): State<AppState>,
    Path((slug, n)): Path<(String, String)>,
) -> Result<Response, AppError> {
    show(&state, Listing::Tag(slug), Some(&n)).await
}

pub async fn author(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    show(&state, Listing::Author(slug), None).await
}

pub async fn author_page(
    State(state): State<AppState>,
    Path((slug, n)): Path<(String, String)>,
) -> Result<Response, AppError> {
    show(&state, Listing::Author(slug), Some(&n)).await
}

/// A page number from the URL: `Ok(None)` for 1 (redirect to the listing itself).
fn parse_page(raw: &str) -> Result<Option<u32>, AppError> {
    let canonical_digits =
        !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
    match raw.parse::<u32>() {
        Ok(1) if canonical_digits => Ok(None),
        Ok(n) if canonical_digits => Ok(Some(n)),
        _ => Err(AppError::NotFound),
    }
}

async fn show(
    state: &AppState,
    listing: Listing,
    raw_page: Option<&str>,
) -> Result<Response, AppError> {
    let base = match &listing {
        Listing::Home => "/".to_owned(),
        Listing::Tag(slug) => format!("/tag/{slug}/"),
        Listing::Author(slug) => format!("/author/{slug}/"),
    };
    let page = match raw_page.map(parse_page).transpose()? {
        Some(None) => return Ok(redirect::moved(&base)),
        Some(Some(n)) => n,
        None => 1,
    };

    let site = SiteContext::load(state).await?;
    let mut query = ArticleQuery::public(site.now, page, site.settings.per_page);
    let mut tag = None;
    let mut author = None;
    match &listing {
        Listing::Home => {}
        Listing::Tag(slug) => {
            tag = Some(TagView::from(&state.store.tag_by_slug(slug).await?));
            query.tag = Some(slug.clone());
        }
        Listing::Author(slug) => {
            let user = state.store.user_by_slug(slug).await?;
            query.author = Some(user.id);
            author = Some(AuthorView::from(&user));
        }
    }
    let found = state.store.list_articles(&query).await?;
    let pages = found.pages();
    // A tag or author with nothing public is not shown at all: its name alone could
    // announce a story that is still a draft. The home page exists even when empty.
    let empty_filtered = found.total == 0 && !matches!(listing, Listing::Home);
    if page > pages || empty_filtered {
        return Err(AppError::NotFound);
    }

    let articles: Vec<ArticleView> = found
        .items
        .iter()
        .map(|a| ArticleView::card(a, site.tz, &site.base_url))
        .collect();
    let pagination = PaginationView::new(&base, page, pages, found.total);
    let (heading, description) = match (&tag, &author) {
        (Some(tag), _) => (
            Some(tag.hashtag.clone()),
            format!("Articles tagged {} on {}", tag.hashtag, site.settings.title),
        ),
        (_, Some(author)) => (
            Some(author.name.clone()),
            if author.bio.trim().is_empty() {
                format!("Articles by {} on {}", author.name, site.settings.title)
            } else {
                author.bio.clone()
            },
        ),
        _ => (None, site.settings.description.clone()),
    };
    let title = match (heading, page) {
        (Some(h), 1) => Some(h),
        (Some(h), n) => Some(format!("{h}, page {n}")),
        (None, 1) => None,
        (None, n) => Some(format!("Page {n}")),
    };
    let meta = MetaView {
        title,
        description,
        canonical: site.absolute(&page_url(&base, page)),
        path: page_url(&base, page),
        prev: pagination.prev_url.as_deref().map(|u| site.absolute(u)),
        next: pagination.next_url.as_deref().map(|u| site.absolute(u)),
        kind: "website",
        // The site itself is described once, on the page search engines treat as it.
        json_ld: match (&listing, page) {
            (Listing::Home, 1) => vec![meta::website_json_ld(&site.view)],
            _ => Vec::new(),
        },
        ..MetaView::default()
    };
    let template = match listing {
        Listing::Home => "index.html",
        Listing::Tag(_) => "tag.html",
        Listing::Author(_) => "author.html",
    };
    render(
        state,
        template,
        context! {
            site => site.view,
            meta => meta,
            articles => articles,
            pagination => pagination,
            tag => tag,
            author => author,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_strict() {
        assert!(matches!(parse_page("1"), Ok(None)));
        assert!(matches!(parse_page("2"), Ok(Some(2))));
        assert!(matches!(parse_page("120"), Ok(Some(120))));
        for bad in ["0", "01", "+2", "-1", "", "two", "99999999999", "2.0"] {
            assert!(matches!(parse_page(bad), Err(AppError::NotFound)), "{bad}");
        }
    }
}
