//! Posts (articles) and pages, as WordPress shapes them.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use broadsheet_domain::{
    Article, ArticleId, ArticleQuery, ContentKind, SearchQuery, SearchTerms, SlugLookup,
    StoreError, clock,
};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::terms::{Taxonomy, slugs_of, term_id, term_json, user_json};
use super::{Params, WpError, WpResult, api_base, collection, href, path_id, wp_dates};
use crate::app::AppState;

/// Largest store page read when a query must look at every match.
const BATCH: u32 = 100;

fn rest_base(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Article => "posts",
        ContentKind::Page => "pages",
    }
}

/// An article or page as WordPress shows it; `embed` adds `_embedded`.
pub async fn post_json(
    state: &AppState,
    article: &Article,
    tz: Tz,
    embed: bool,
) -> Result<Value, WpError> {
    let api = api_base(state);
    let base = rest_base(article.kind);
    let link = format!("{}{}", state.config.base_url, article.permalink(tz));
    let published = article.published_at.unwrap_or(article.created_at);
    let (date, date_gmt) = wp_dates(published, tz);
    let (modified, modified_gmt) = wp_dates(article.updated_at, tz);
    let term_ids: Vec<i64> = article.tags.iter().map(|t| term_id(&t.slug)).collect();
    let comments_open = state.chrome().await?.settings.comments.enabled;
    let mut post = json!({
        "id": article.id.0,
        "date": date,
        "date_gmt": date_gmt,
        "guid": {"rendered": format!("{}/?p={}", state.config.base_url, article.id)},
        "modified": modified,
        "modified_gmt": modified_gmt,
        "slug": article.slug,
        "status": "publish",
        "type": if article.kind == ContentKind::Article { "post" } else { "page" },
        "link": link,
        "title": {"rendered": crate::xml::escape(&article.title)},
        "content": {"rendered": article.body_html, "protected": false},
        "excerpt": {"rendered": format!("<p>{}</p>\n", crate::xml::escape(&article.excerpt)), "protected": false},
        "author": article.author.id.0,
        "featured_media": 0,
        "comment_status": if comments_open && article.kind == ContentKind::Article { "open" } else { "closed" },
        "ping_status": "closed",
        "template": "",
        "meta": [],
        "_links": {
            "self": href(format!("{api}/wp/v2/{base}/{}", article.id)),
            "collection": href(format!("{api}/wp/v2/{base}")),
            "about": href(format!("{api}/wp/v2/types/{}", if base == "posts" { "post" } else { "page" })),
            "author": [{"embeddable": true, "href": format!("{api}/wp/v2/users/{}", article.author.id.0)}],
            "replies": [{"embeddable": true, "href": format!("{api}/wp/v2/comments?post={}", article.id)}],
            "curies": [{"name": "wp", "href": "https://api.w.org/{rel}", "templated": true}],
        }
    });
    if article.kind == ContentKind::Article {
        post["sticky"] = json!(article.featured);
        post["format"] = json!("standard");
        post["categories"] = json!(term_ids);
        post["tags"] = json!(term_ids);
        post["_links"]["wp:term"] = json!([
            {"taxonomy": "category", "embeddable": true, "href": format!("{api}/wp/v2/categories?post={}", article.id)},
            {"taxonomy": "post_tag", "embeddable": true, "href": format!("{api}/wp/v2/tags?post={}", article.id)},
        ]);
    } else {
        post["parent"] = json!(0);
        post["menu_order"] = json!(0);
    }
    if embed {
        let author = match state.store.user_by_id(article.author.id).await {
            Ok(user) => user_json(state, &user),
            Err(StoreError::NotFound) => Value::Null,
            Err(other) => return Err(other.into()),
        };
        let mut embedded = json!({ "author": [author] });
        if article.kind == ContentKind::Article {
            let terms = |taxonomy| -> Vec<Value> {
                article
                    .tags
                    .iter()
                    .map(|t| {
                        let mut term = term_json(state, t, taxonomy, 0);
                        // Embedded terms in WordPress carry no count.
                        if let Some(o) = term.as_object_mut() {
                            o.remove("count");
                        }
                        term
                    })
                    .collect()
            };
            embedded["wp:term"] = json!([terms(Taxonomy::Category), terms(Taxonomy::Tag)]);
        }
        post["_embedded"] = embedded;
    }
    Ok(post)
}

/// A posts (or pages) query, read from WordPress's parameters.
struct PostQuery {
    kind: ContentKind,
    page: u32,
    per_page: u32,
    offset: Option<u32>,
    search: Option<String>,
    slugs: Vec<String>,
    /// Tag slugs an article must have one of; `Some(empty)` matches nothing.
    terms: Option<Vec<String>>,
    exclude_terms: Vec<String>,
    authors: Vec<i64>,
    include: Vec<i64>,
    exclude: Vec<i64>,
    before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    orderby: String,
    ascending: bool,
}

impl PostQuery {
    async fn read(
        state: &AppState,
        params: &Params,
        kind: ContentKind,
        tz: Tz,
    ) -> Result<PostQuery, WpError> {
        let mut bad = Map::new();
        let page = params.number("page", 1, 1, u32::MAX, &mut bad);
        let per_page = params.number("per_page", 10, 1, 100, &mut bad);
        let offset = params
            .one("offset")
            .map(|_| params.number("offset", 0, 0, u32::MAX, &mut bad));
        let mut term_ids = params.ids("categories", &mut bad);
        term_ids.extend(params.ids("tags", &mut bad));
        let mut exclude_ids = params.ids("categories_exclude", &mut bad);
        exclude_ids.extend(params.ids("tags_exclude", &mut bad));
        let authors = params.ids("author", &mut bad);
        let include = params.ids("include", &mut bad);
        let exclude = params.ids("exclude", &mut bad);
        let before = params.time("before", tz, &mut bad);
        let after = params.time("after", tz, &mut bad);
        let order = params.one("order").unwrap_or("desc");
        if !matches!(order, "asc" | "desc") {
            bad.insert("order".into(), json!("order is not one of asc, desc."));
        }
        let search = params.one("search").map(str::to_owned);
        let default_order = if search.is_some() {
            "relevance"
        } else {
            "date"
        };
        let orderby = params.one("orderby").unwrap_or(default_order).to_owned();
        if !matches!(
            orderby.as_str(),
            "date" | "id" | "title" | "slug" | "modified" | "relevance" | "include" | "author"
        ) {
            bad.insert("orderby".into(), json!("orderby is not one of author, date, id, include, modified, relevance, slug, title."));
        }
        if orderby == "relevance" && search.is_none() {
            bad.insert(
                "search".into(),
                json!("You need to define a search term to order by relevance."),
            );
        }
        if let Some(status) = params.one("status")
            && status != "publish"
        {
            bad.insert("status".into(), json!("Status is forbidden."));
        }
        if !bad.is_empty() {
            return Err(WpError::invalid_params(Value::Object(bad)));
        }
        let terms = if term_ids.is_empty() {
            None
        } else {
            Some(slugs_of(state, &term_ids).await?)
        };
        let exclude_terms = if exclude_ids.is_empty() {
            Vec::new()
        } else {
            slugs_of(state, &exclude_ids).await?
        };
        Ok(PostQuery {
            kind,
            page,
            per_page,
            offset,
            search,
            slugs: params.list("slug"),
            terms,
            exclude_terms,
            authors,
            include,
            exclude,
            before,
            after,
            orderby,
            ascending: order == "asc",
        })
    }

    /// Whether the store's own page answers this query: newest first, at most one
    /// tag and one author, nothing else.
    fn is_plain(&self) -> bool {
        self.slugs.is_empty()
            && self.include.is_empty()
            && self.exclude.is_empty()
            && self.exclude_terms.is_empty()
            && self.offset.is_none()
            && self.authors.len() <= 1
            && self.terms.as_ref().is_none_or(|t| t.len() <= 1)
            && (self.orderby == "date" || self.orderby == "relevance")
            && !self.ascending
    }

    fn keeps(&self, article: &Article) -> bool {
        let at = article.published_at.unwrap_or(article.created_at);
        (self.slugs.is_empty() || self.slugs.contains(&article.slug))
            && (self.include.is_empty() || self.include.contains(&article.id.0))
            && !self.exclude.contains(&article.id.0)
            && (self.authors.is_empty() || self.authors.contains(&article.author.id.0))
            && self
                .terms
                .as_ref()
                .is_none_or(|terms| article.tags.iter().any(|t| terms.contains(&t.slug)))
            && !article
                .tags
                .iter()
                .any(|t| self.exclude_terms.contains(&t.slug))
            && self.before.is_none_or(|b| at < b)
            && self.after.is_none_or(|a| at > a)
    }

    /// WordPress's `after` is exclusive; stores take an inclusive start, to the
    /// millisecond they keep.
    fn published_from(&self) -> Option<DateTime<Utc>> {
        self.after
            .map(|after| after + chrono::TimeDelta::milliseconds(1))
    }

    fn single_term(&self) -> Option<String> {
        match self.terms.as_deref() {
            Some([one]) => Some(one.clone()),
            _ => None,
        }
    }

    fn single_author(&self) -> Option<broadsheet_domain::UserId> {
        match self.authors.as_slice() {
            [one] => Some(broadsheet_domain::UserId(*one)),
            _ => None,
        }
    }

    /// The page of matching articles and how many match in all.
    async fn run(&self, state: &AppState) -> Result<(Vec<Article>, u64), WpError> {
        let now = clock::now();
        if self.terms.as_ref().is_some_and(Vec::is_empty) {
            return Ok((Vec::new(), 0));
        }
        if self.is_plain() {
            return match (&self.search, self.kind) {
                (Some(words), ContentKind::Article) => {
                    let mut query =
                        SearchQuery::new(SearchTerms::parse(words), now, self.page, self.per_page);
                    query.tag = self.single_term();
                    query.author = self.single_author();
                    query.from = self.published_from();
                    query.until = self.before;
                    let hits = state.store.search(&query).await?.hits;
                    Ok((
                        hits.items.into_iter().map(|h| h.article).collect(),
                        hits.total,
                    ))
                }
                (search, kind) => {
                    let found = state
                        .store
                        .list_articles(&ArticleQuery {
                            kind,
                            tag: self.single_term(),
                            author: self.single_author(),
                            title_search: search.clone(),
                            published_from: self.published_from(),
                            published_before: self.before,
                            ..ArticleQuery::public(now, self.page, self.per_page)
                        })
                        .await?;
                    Ok((found.items, found.total))
                }
            };
        }
        // Everything else: every candidate, filtered, sorted and cut here.
        let mut matching = Vec::new();
        if !self.slugs.is_empty() || !self.include.is_empty() {
            for slug in &self.slugs {
                match state.store.find_by_slug(slug).await {
                    Ok(SlugLookup::Current(a)) => matching.push(a),
                    Ok(SlugLookup::Moved(_)) | Err(StoreError::NotFound) => {}
                    Err(other) => return Err(other.into()),
                }
            }
            for id in &self.include {
                match state.store.article_by_id(ArticleId(*id)).await {
                    Ok(a) => matching.push(a),
                    Err(StoreError::NotFound) => {}
                    Err(other) => return Err(other.into()),
                }
            }
            matching.sort_by_key(|a| a.id);
            matching.dedup_by_key(|a| a.id);
            matching.retain(|a| a.kind == self.kind && a.is_public(now));
        } else if let (Some(words), ContentKind::Article) = (&self.search, self.kind) {
            let mut page = 1;
            loop {
                let mut query = SearchQuery::new(SearchTerms::parse(words), now, page, BATCH);
                query.tag = self.single_term();
                query.author = self.single_author();
                let hits = state.store.search(&query).await?.hits;
                let last = hits.items.len() < BATCH as usize;
                matching.extend(hits.items.into_iter().map(|h| h.article));
                if last {
                    break;
                }
                page += 1;
            }
        } else {
            let mut page = 1;
            loop {
                let found = state
                    .store
                    .list_articles(&ArticleQuery {
                        kind: self.kind,
                        tag: self.single_term(),
                        author: self.single_author(),
                        title_search: self.search.clone(),
                        ..ArticleQuery::public(now, page, BATCH)
                    })
                    .await?;
                let last = found.items.len() < BATCH as usize;
                matching.extend(found.items);
                if last {
                    break;
                }
                page += 1;
            }
        }
        matching.retain(|a| self.keeps(a));
        let date = |a: &Article| a.published_at.unwrap_or(a.created_at);
        match self.orderby.as_str() {
            "relevance" => {}
            "id" => matching.sort_by_key(|a| a.id),
            "title" => matching.sort_by_cached_key(|a| a.title.to_lowercase()),
            "slug" => matching.sort_by(|a, b| a.slug.cmp(&b.slug)),
            "modified" => matching.sort_by_key(|a| a.updated_at),
            "author" => matching.sort_by_key(|a| a.author.id),
            "include" => matching.sort_by_key(|a| self.include.iter().position(|i| *i == a.id.0)),
            _ => matching.sort_by_key(|a| (date(a), a.id)),
        }
        // Sorted ascending above (relevance and include keep their own order).
        let natural = matches!(self.orderby.as_str(), "relevance" | "include");
        if !natural && !self.ascending {
            matching.reverse();
        }
        let total = matching.len() as u64;
        let skip = match self.offset {
            Some(offset) => offset as usize,
            None => (self.page as usize - 1).saturating_mul(self.per_page as usize),
        };
        let items = matching
            .into_iter()
            .skip(skip)
            .take(self.per_page as usize)
            .collect();
        Ok((items, total))
    }
}

async fn list(state: &AppState, raw: Option<&str>, kind: ContentKind) -> WpResult {
    let params = Params::parse(raw)?;
    let tz = state.chrome().await?.settings.tz();
    let query = PostQuery::read(state, &params, kind, tz).await?;
    let (articles, total) = query.run(state).await?;
    let embed = params.has("_embed");
    let mut items = Vec::with_capacity(articles.len());
    for article in &articles {
        items.push(post_json(state, article, tz, embed).await?);
    }
    let url = format!("{}/wp/v2/{}", api_base(state), rest_base(kind));
    Ok(collection(
        items,
        total,
        query.page,
        query.per_page,
        &url,
        &params,
    ))
}

async fn one(state: &AppState, id: &str, raw: Option<&str>, kind: ContentKind) -> WpResult {
    let id = path_id(id, "rest_post_invalid_id", "post")?;
    let invalid = || {
        WpError::new(
            StatusCode::NOT_FOUND,
            "rest_post_invalid_id",
            "Invalid post ID.",
        )
    };
    let article = match state.store.article_by_id(ArticleId(id)).await {
        Ok(a) if a.kind == kind && a.is_public(clock::now()) => a,
        Ok(_) | Err(StoreError::NotFound) => return Err(invalid()),
        Err(other) => return Err(other.into()),
    };
    let params = Params::parse(raw)?;
    let tz = state.chrome().await?.settings.tz();
    Ok(Json(post_json(state, &article, tz, params.has("_embed")).await?).into_response())
}

pub async fn list_posts(State(state): State<AppState>, RawQuery(raw): RawQuery) -> WpResult {
    list(&state, raw.as_deref(), ContentKind::Article).await
}

pub async fn list_pages(State(state): State<AppState>, RawQuery(raw): RawQuery) -> WpResult {
    list(&state, raw.as_deref(), ContentKind::Page).await
}

pub async fn get_post(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> WpResult {
    one(&state, &id, raw.as_deref(), ContentKind::Article).await
}

pub async fn get_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> WpResult {
    one(&state, &id, raw.as_deref(), ContentKind::Page).await
}
