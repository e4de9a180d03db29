//! The WordPress REST API, read side plus comment posting, so WordPress clients (apps,
//! the `wpapi` library, static-site builders) work against Broadsheet unchanged:
//!
//! | route | what |
//! |---|---|
//! | `GET /wp-json/` | the index with its `routes`, as clients bootstrap from it |
//! | `GET /wp-json/wp/v2/posts[/{id}]`, `pages[/{id}]` | articles and pages |
//! | `GET /wp-json/wp/v2/tags[/{id}]`, `categories[/{id}]` | terms |
//! | `GET /wp-json/wp/v2/users[/{id}]` | authors with public articles |
//! | `GET /wp-json/wp/v2/comments[/{id}]` | approved comments on public articles |
//! | `POST /wp-json/wp/v2/comments` | a reader's comment, screened like the form's |
//! | `GET /wp-json/wp/v2/media[/{id}]` | the media library |
//!
//! with the query parameters clients send (`page`, `per_page`, `offset`, `search`,
//! `slug`, `include`, `exclude`, `author`, `orderby`, `order`, `before`, `after`,
//! `categories[]`, `tags[]`, `post`, `parent`, `_embed`), WordPress's JSON shapes
//! (`title.rendered`, `_links`, `_embedded`), `X-WP-Total` / `X-WP-TotalPages` and
//! `Link: rel="next"` on collections, and WordPress's error shape
//! (`{"code", "message", "data": {"status"}}`). Every HTML page advertises the API
//! with `Link: <…/wp-json/>; rel="https://api.w.org/"` ([`advertise`]).
//!
//! Ids are Broadsheet's ids (an import from WordPress keeps the WordPress ids).
//! Broadsheet has one taxonomy, tags; WordPress clients see it both as `tags` and as
//! `categories`, so filtering by either works. A term's id is derived from its slug
//! ([`terms::term_id`]), stable for as long as the tag exists.

mod comments;
mod index;
mod posts;
mod terms;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::{AppError, ErrorReport};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/wp-json", get(index::index))
        .route("/wp-json/", get(index::index))
        .route("/wp-json/wp/v2", get(index::index))
        .route("/wp-json/wp/v2/", get(index::index))
        .route("/wp-json/wp/v2/posts", get(posts::list_posts))
        .route("/wp-json/wp/v2/posts/{id}", get(posts::get_post))
        .route("/wp-json/wp/v2/pages", get(posts::list_pages))
        .route("/wp-json/wp/v2/pages/{id}", get(posts::get_page))
        .route("/wp-json/wp/v2/tags", get(terms::list_tags))
        .route("/wp-json/wp/v2/tags/{id}", get(terms::get_tag))
        .route("/wp-json/wp/v2/categories", get(terms::list_categories))
        .route("/wp-json/wp/v2/categories/{id}", get(terms::get_category))
        .route("/wp-json/wp/v2/users", get(terms::list_users))
        .route("/wp-json/wp/v2/users/{id}", get(terms::get_user))
        .route(
            "/wp-json/wp/v2/comments",
            get(comments::list).post(comments::create),
        )
        .route("/wp-json/wp/v2/comments/{id}", get(comments::get))
        .route("/wp-json/wp/v2/media", get(comments::list_media))
        .route("/wp-json/wp/v2/media/{id}", get(comments::get_media))
}

/// WordPress's answer for a path it has no route for.
pub async fn no_route() -> WpError {
    WpError::new(
        StatusCode::NOT_FOUND,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}

/// Adds the API's discovery link to every HTML page (and its HEAD), as WordPress does.
pub async fn advertise(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if is_html
        && let Ok(value) = HeaderValue::from_str(&format!(
            "<{}/wp-json/>; rel=\"https://api.w.org/\"",
            state.config.base_url
        ))
    {
        response.headers_mut().append(header::LINK, value);
    }
    response
}

/// An error as WordPress answers it: `{"code", "message", "data": {"status"}}`.
#[derive(Debug)]
pub struct WpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub params: Option<Value>,
}

impl WpError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> WpError {
        WpError {
            status,
            code,
            message: message.into(),
            params: None,
        }
    }

    /// WordPress's 400 for bad query parameters, naming each.
    pub fn invalid_params(params: Value) -> WpError {
        let names: Vec<String> = params
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        WpError {
            status: StatusCode::BAD_REQUEST,
            code: "rest_invalid_param",
            message: format!("Invalid parameter(s): {}", names.join(", ")),
            params: Some(params),
        }
    }
}

impl IntoResponse for WpError {
    fn into_response(self) -> Response {
        let mut data = json!({ "status": self.status.as_u16() });
        if let Some(params) = self.params {
            data["params"] = params;
        }
        let mut response = (
            self.status,
            Json(json!({ "code": self.code, "message": self.message, "data": data })),
        )
            .into_response();
        // Marks the answer as an error already shaped, for the API's error layer.
        let mut report = ErrorReport::for_status(self.status);
        report.message = self.message;
        response.extensions_mut().insert(report);
        response
    }
}

impl From<AppError> for WpError {
    fn from(err: AppError) -> WpError {
        let status = err.status();
        match err {
            AppError::Internal(_) => {
                // Logged by AppError's own response.
                let _ = err.into_response();
                WpError::new(
                    status,
                    "rest_internal_error",
                    "Something went wrong on our side.",
                )
            }
            AppError::NotFound => WpError::new(status, "rest_not_found", "Not found."),
            AppError::TooManyRequests { message, .. } => {
                WpError::new(status, "rest_too_many_requests", message)
            }
            AppError::Validation(errors) => {
                let mut params = serde_json::Map::new();
                for e in &errors.0 {
                    params.insert(e.field.clone(), Value::String(e.message.clone()));
                }
                WpError::invalid_params(Value::Object(params))
            }
            other => WpError::new(status, "rest_forbidden", other.report().message),
        }
    }
}

impl From<broadsheet_domain::StoreError> for WpError {
    fn from(err: broadsheet_domain::StoreError) -> WpError {
        AppError::from(err).into()
    }
}

pub type WpResult = Result<Response, WpError>;

/// The query string's values: `key`, `key[]` (repeated) and comma lists alike.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Result<Params, WpError> {
        serde_urlencoded::from_str(raw.unwrap_or_default())
            .map(Params)
            .map_err(|_| {
                WpError::new(
                    StatusCode::BAD_REQUEST,
                    "rest_invalid_param",
                    "The query string could not be read.",
                )
            })
    }

    /// The single value of `key`, trimmed, if given and not empty.
    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.iter().any(|(k, _)| k == key)
    }

    /// Every value of `key` and `key[]` (and `key[0]`...), comma lists split.
    pub fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| {
                k == key
                    || k.strip_prefix(key)
                        .is_some_and(|rest| rest.starts_with('[') && rest.ends_with(']'))
            })
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Every value of `key` as a positive id; a problem is recorded under `key`.
    pub fn ids(&self, key: &str, bad: &mut serde_json::Map<String, Value>) -> Vec<i64> {
        let mut ids = Vec::new();
        for value in self.list(key) {
            match value.parse::<i64>() {
                Ok(id) if id > 0 => ids.push(id),
                _ => {
                    bad.insert(
                        key.to_owned(),
                        json!(format!("{key} is not a list of ids.")),
                    );
                }
            }
        }
        ids
    }

    /// A whole number in `min..=max`, or the default; a problem is recorded.
    pub fn number(
        &self,
        key: &str,
        default: u32,
        min: u32,
        max: u32,
        bad: &mut serde_json::Map<String, Value>,
    ) -> u32 {
        match self.one(key) {
            None => default,
            Some(text) => match text.parse::<u32>() {
                Ok(n) if (min..=max).contains(&n) => n,
                _ => {
                    bad.insert(
                        key.to_owned(),
                        json!(format!("{key} must be between {min} ({min} included) and {max} ({max} included).")),
                    );
                    default
                }
            },
        }
    }

    /// An ISO 8601 time (with or without an offset; without, in the site's zone).
    pub fn time(
        &self,
        key: &str,
        tz: Tz,
        bad: &mut serde_json::Map<String, Value>,
    ) -> Option<DateTime<Utc>> {
        let text = self.one(key)?;
        let parsed = DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                    .ok()
                    .and_then(|t| t.and_local_timezone(tz).earliest())
                    .map(|t| t.with_timezone(&Utc))
            });
        if parsed.is_none() {
            bad.insert(key.to_owned(), json!(format!("Invalid date.")));
        }
        parsed
    }
}

/// WordPress's two clocks: the site's local time and UTC, both without an offset.
pub fn wp_dates(at: DateTime<Utc>, tz: Tz) -> (String, String) {
    const FORMAT: &str = "%Y-%m-%dT%H:%M:%S";
    (
        at.with_timezone(&tz).format(FORMAT).to_string(),
        at.format(FORMAT).to_string(),
    )
}

/// A collection's answer: the items with `X-WP-Total`, `X-WP-TotalPages` and `Link`
/// headers to the previous and next pages (absolute, keeping the query).
pub fn collection(
    items: Vec<Value>,
    total: u64,
    page: u32,
    per_page: u32,
    url: &str,
    params: &Params,
) -> Response {
    let pages = if per_page == 0 {
        0
    } else {
        total.div_ceil(u64::from(per_page))
    };
    let mut response = Json(Value::Array(items)).into_response();
    let headers: &mut HeaderMap = response.headers_mut();
    headers.insert("x-wp-total", HeaderValue::from(total));
    headers.insert("x-wp-totalpages", HeaderValue::from(pages));
    let link_to = |n: u32| {
        let mut pairs: Vec<(String, String)> = params
            .0
            .iter()
            .filter(|(k, _)| k != "page")
            .cloned()
            .collect();
        pairs.push(("page".into(), n.to_string()));
        format!(
            "{url}?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let mut links = Vec::new();
    if page > 1 && u64::from(page) <= pages + 1 {
        links.push(format!("<{}>; rel=\"prev\"", link_to(page - 1)));
    }
    if u64::from(page) < pages {
        links.push(format!("<{}>; rel=\"next\"", link_to(page + 1)));
    }
    if !links.is_empty()
        && let Ok(value) = HeaderValue::from_str(&links.join(", "))
    {
        headers.insert(header::LINK, value);
    }
    response
}

/// A `{"href": …}` link list, as `_links` holds them.
pub fn href(url: impl Into<String>) -> Value {
    json!([{ "href": url.into() }])
}

/// A path id: a positive integer, else WordPress's 404 for the resource.
pub fn path_id(text: &str, code: &'static str, what: &str) -> Result<i64, WpError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| WpError::new(StatusCode::NOT_FOUND, code, format!("Invalid {what} ID.")))
}

/// The API's base for links: `https://site/wp-json`.
pub fn api_base(state: &AppState) -> String {
    format!("{}/wp-json", state.config.base_url)
}
