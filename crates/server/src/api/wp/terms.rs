//! Terms (`tags`, and the same tags as `categories`) and users.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use broadsheet_domain::{ArticleId, ArticleQuery, Tag, User, clock};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{Params, WpError, WpResult, api_base, collection, href, path_id};
use crate::api::content::public_authors;
use crate::app::AppState;

/// The two names WordPress gives Broadsheet's tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taxonomy {
    Tag,
    Category,
}

impl Taxonomy {
    fn rest_base(self) -> &'static str {
        match self {
            Taxonomy::Tag => "tags",
            Taxonomy::Category => "categories",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Taxonomy::Tag => "post_tag",
            Taxonomy::Category => "category",
        }
    }
}

/// A tag's id for WordPress clients: the first 31 bits of its slug's SHA-256 (never
/// 0), so it is the same on every node and for as long as the tag exists, without a
/// table of its own.
pub fn term_id(slug: &str) -> i64 {
    let digest = Sha256::digest(slug.as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) & 0x7fff_ffff;
    i64::from(n.max(1))
}

/// The tags readers can see now, by slug.
pub async fn public_tags(state: &AppState) -> Result<Vec<Tag>, WpError> {
    Ok(state
        .store
        .public_tags(clock::now())
        .await?
        .into_iter()
        .map(|(tag, _)| tag)
        .collect())
}

/// The slugs of the public tags with these ids (unknown ids match nothing).
pub async fn slugs_of(state: &AppState, ids: &[i64]) -> Result<Vec<String>, WpError> {
    Ok(public_tags(state)
        .await?
        .into_iter()
        .filter(|t| ids.contains(&term_id(&t.slug)))
        .map(|t| t.slug)
        .collect())
}

/// A term as WordPress shows it.
pub fn term_json(state: &AppState, tag: &Tag, taxonomy: Taxonomy, count: u64) -> Value {
    let id = term_id(&tag.slug);
    let api = api_base(state);
    let base = taxonomy.rest_base();
    json!({
        "id": id,
        "count": count,
        "description": "",
        "link": format!("{}{}", state.config.base_url, tag.url()),
        "name": tag.name,
        "slug": tag.slug,
        "taxonomy": taxonomy.name(),
        "parent": 0,
        "meta": [],
        "_links": {
            "self": href(format!("{api}/wp/v2/{base}/{id}")),
            "collection": href(format!("{api}/wp/v2/{base}")),
            "about": href(format!("{api}/wp/v2/taxonomies/{}", taxonomy.name())),
            "wp:post_type": href(format!("{api}/wp/v2/posts?{base}={id}")),
            "curies": [{"name": "wp", "href": "https://api.w.org/{rel}", "templated": true}],
        }
    })
}

async fn count(state: &AppState, slug: &str) -> Result<u64, WpError> {
    Ok(state
        .store
        .list_articles(&ArticleQuery {
            tag: Some(slug.to_owned()),
            ..ArticleQuery::public(clock::now(), 1, 1)
        })
        .await?
        .total)
}

async fn list_terms(state: &AppState, raw: Option<&str>, taxonomy: Taxonomy) -> WpResult {
    let params = Params::parse(raw)?;
    let mut bad = Map::new();
    let page = params.number("page", 1, 1, u32::MAX, &mut bad);
    let per_page = params.number("per_page", 10, 1, 100, &mut bad);
    let include = params.ids("include", &mut bad);
    let exclude = params.ids("exclude", &mut bad);
    let post = params.one("post").map(|p| p.parse::<i64>());
    if matches!(post, Some(Err(_))) {
        bad.insert("post".into(), json!("post is not an id."));
    }
    let order = params.one("order").unwrap_or("asc");
    if !matches!(order, "asc" | "desc") {
        bad.insert("order".into(), json!("order is not one of asc, desc."));
    }
    let orderby = params.one("orderby").unwrap_or("name");
    if !matches!(
        orderby,
        "id" | "include" | "name" | "slug" | "count" | "term_group" | "description"
    ) {
        bad.insert(
            "orderby".into(),
            json!("orderby is not one of id, include, name, slug, count."),
        );
    }
    if !bad.is_empty() {
        return Err(WpError::invalid_params(Value::Object(bad)));
    }
    let mut tags = match post {
        Some(Ok(id)) => match state.store.article_by_id(ArticleId(id)).await {
            Ok(article) if article.is_public(clock::now()) => article.tags,
            Ok(_) | Err(broadsheet_domain::StoreError::NotFound) => Vec::new(),
            Err(other) => return Err(other.into()),
        },
        _ => public_tags(state).await?,
    };
    let slugs = params.list("slug");
    let search = params.one("search").map(str::to_lowercase);
    tags.retain(|t| {
        let id = term_id(&t.slug);
        (include.is_empty() || include.contains(&id))
            && !exclude.contains(&id)
            && (slugs.is_empty() || slugs.contains(&t.slug))
            && search
                .as_deref()
                .is_none_or(|s| t.name.to_lowercase().contains(s) || t.slug.contains(s))
    });
    let mut counted = Vec::with_capacity(tags.len());
    let needs_counts = orderby == "count";
    for tag in tags {
        let n = if needs_counts {
            count(state, &tag.slug).await?
        } else {
            0
        };
        counted.push((tag, n));
    }
    match orderby {
        "id" => counted.sort_by_key(|(t, _)| term_id(&t.slug)),
        "slug" => counted.sort_by(|a, b| a.0.slug.cmp(&b.0.slug)),
        "count" => counted.sort_by_key(|(_, n)| *n),
        "include" => {
            counted.sort_by_key(|(t, _)| include.iter().position(|i| *i == term_id(&t.slug)))
        }
        _ => counted.sort_by_key(|(t, _)| t.name.to_lowercase()),
    }
    if order == "desc" {
        counted.reverse();
    }
    let total = counted.len() as u64;
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    let mut items = Vec::new();
    for (tag, n) in counted.into_iter().skip(start).take(per_page as usize) {
        let n = if needs_counts {
            n
        } else {
            count(state, &tag.slug).await?
        };
        items.push(term_json(state, &tag, taxonomy, n));
    }
    let url = format!("{}/wp/v2/{}", api_base(state), taxonomy.rest_base());
    Ok(collection(items, total, page, per_page, &url, &params))
}

async fn get_term(state: &AppState, id: &str, taxonomy: Taxonomy) -> WpResult {
    let id = path_id(id, "rest_term_invalid", "term")?;
    let tag = public_tags(state)
        .await?
        .into_iter()
        .find(|t| term_id(&t.slug) == id)
        .ok_or_else(|| {
            WpError::new(
                StatusCode::NOT_FOUND,
                "rest_term_invalid",
                "Term does not exist.",
            )
        })?;
    let n = count(state, &tag.slug).await?;
    Ok(Json(term_json(state, &tag, taxonomy, n)).into_response())
}

pub async fn list_tags(State(state): State<AppState>, RawQuery(raw): RawQuery) -> WpResult {
    list_terms(&state, raw.as_deref(), Taxonomy::Tag).await
}

pub async fn list_categories(State(state): State<AppState>, RawQuery(raw): RawQuery) -> WpResult {
    list_terms(&state, raw.as_deref(), Taxonomy::Category).await
}

pub async fn get_tag(State(state): State<AppState>, Path(id): Path<String>) -> WpResult {
    get_term(&state, &id, Taxonomy::Tag).await
}

pub async fn get_category(State(state): State<AppState>, Path(id): Path<String>) -> WpResult {
    get_term(&state, &id, Taxonomy::Category).await
}

/// A user as WordPress shows them to everyone (never their email).
pub fn user_json(state: &AppState, user: &User) -> Value {
    let api = api_base(state);
    json!({
        "id": user.id.0,
        "name": user.display_name,
        "url": "",
        "description": user.bio,
        "link": format!("{}/author/{}/", state.config.base_url, user.slug),
        "slug": user.slug,
        "avatar_urls": {},
        "meta": [],
        "_links": {
            "self": href(format!("{api}/wp/v2/users/{}", user.id.0)),
            "collection": href(format!("{api}/wp/v2/users")),
        }
    })
}

pub async fn list_users(State(state): State<AppState>, RawQuery(raw): RawQuery) -> WpResult {
    let params = Params::parse(raw.as_deref())?;
    let mut bad = Map::new();
    let page = params.number("page", 1, 1, u32::MAX, &mut bad);
    let per_page = params.number("per_page", 10, 1, 100, &mut bad);
    let include = params.ids("include", &mut bad);
    if !bad.is_empty() {
        return Err(WpError::invalid_params(Value::Object(bad)));
    }
    let slugs = params.list("slug");
    let search = params.one("search").map(str::to_lowercase);
    let mut users = public_authors(&state).await?;
    users.retain(|u| {
        (include.is_empty() || include.contains(&u.id.0))
            && (slugs.is_empty() || slugs.contains(&u.slug))
            && search
                .as_deref()
                .is_none_or(|s| u.display_name.to_lowercase().contains(s) || u.slug.contains(s))
    });
    users.sort_by_key(|u| u.display_name.to_lowercase());
    let total = users.len() as u64;
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    let items = users
        .iter()
        .skip(start)
        .take(per_page as usize)
        .map(|u| user_json(&state, u))
        .collect();
    let url = format!("{}/wp/v2/users", api_base(&state));
    Ok(collection(items, total, page, per_page, &url, &params))
}

pub async fn get_user(State(state): State<AppState>, Path(id): Path<String>) -> WpResult {
    let id = path_id(&id, "rest_user_invalid_id", "user")?;
    let user = public_authors(&state)
        .await?
        .into_iter()
        .find(|u| u.id.0 == id)
        .ok_or_else(|| {
            WpError::new(
                StatusCode::NOT_FOUND,
                "rest_user_invalid_id",
                "Invalid user ID.",
            )
        })?;
    Ok(Json(user_json(&state, &user)).into_response())
}
