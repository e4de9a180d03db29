//! `GET /admin/articles`: every article the user may see (editors: everyone's;
//! contributors and authors: their own), drafts included, with filters by status,
//! author and tag and a title search, all in the query string so a filtered list can
//! be bookmarked and works without JavaScript.

use axum::extract::{Query, State};
use axum::response::Response;
use broadsheet_domain::{
    Action, ArticleQuery, ContentKind, Status, Target, UserId, Visibility, clock, user_permits,
};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::local_time;
use crate::admin::render;
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

const PER_PAGE: u32 = 20;

/// The filters as typed: anything unreadable is no filter rather than an error.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListQuery {
    kind: String,
    status: String,
    /// A user id.
    author: String,
    /// A tag slug.
    tag: String,
    /// Title search.
    q: String,
    page: String,
}

impl ListQuery {
    /// This query's URL on page `page`.
    fn url(&self, page: u32) -> String {
        let query = ListQuery {
            page: page.to_string(),
            ..self.clone()
        };
        let pairs: Vec<(&str, &str)> = [
            ("kind", query.kind.as_str()),
            ("status", &query.status),
            ("author", &query.author),
            ("tag", &query.tag),
            ("q", &query.q),
            ("page", &query.page),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        let encoded = serde_urlencoded::to_string(pairs).unwrap_or_default();
        format!("/admin/articles?{encoded}")
    }
}

fn filled(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// GET /admin/articles
pub async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(filters): Query<ListQuery>,
) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    let others = Target::Article {
        own: false,
        live: false,
    };
    let sees_everyone = user_permits(&who.user, Action::ViewArticle, others);
    let author = if sees_everyone {
        filters.author.trim().parse().ok().map(UserId)
    } else {
        Some(who.user.id)
    };
    let query = ArticleQuery {
        kind: filters.kind.parse().unwrap_or(ContentKind::Article),
        visibility: Visibility::Any,
        tag: filled(&filters.tag),
        author,
        status: filters.status.parse::<Status>().ok(),
        title_search: filled(&filters.q),
        ..ArticleQuery::public(
            clock::now(),
            filters.page.trim().parse().unwrap_or(1),
            PER_PAGE,
        )
    };
    let listed = state.store.list_articles(&query).await?;
    let tz = who.site.settings.tz();
    let mut rows = Vec::with_capacity(listed.items.len());
    for article in &listed.items {
        // The node's counts cache: one lookup per row, no query when warm. A list
        // without numbers is better than no list.
        let counts = state.engagement.counts(article.id).await.ok();
        rows.push(context! {
            id => article.id.0,
            title => article.title,
            author => article.author.display_name,
            status => article.status.as_str(),
            date => article.published_at.map(|at| local_time(at, tz)),
            updated => local_time(article.updated_at, tz),
            tags => article.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
            views => counts.as_ref().map(|c| c.views),
            likes => counts.as_ref().map(|c| c.likes),
        });
    }
    let authors: Vec<_> = if sees_everyone {
        state
            .store
            .list_users()
            .await?
            .into_iter()
            .map(|u| context! { id => u.id.0.to_string(), name => u.display_name })
            .collect()
    } else {
        Vec::new()
    };
    let tags = state.store.list_tags().await?;
    let page = listed.page;
    render(
        &state,
        &who,
        "admin/articles.html",
        context! {
            section => "articles",
            articles => rows,
            total => listed.total,
            filters => filters,
            authors => authors,
            tags => tags,
            sees_everyone => sees_everyone,
            page => page,
            pages => listed.pages(),
            prev => (page > 1).then(|| filters.url(page - 1)),
            next => (page < listed.pages()).then(|| filters.url(page + 1)),
        },
    )
}
