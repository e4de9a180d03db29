//! The developer API: `/api/v1` (JSON, described by the OpenAPI 3.1 document at
//! `/api/v1/openapi.json`) and the WordPress REST API's read side and comment posting
//! at `/wp-json/` ([`wp`]), so existing WordPress clients keep working.
//!
//! - [`content`]: public reads (articles, pages, tags, authors), no token.
//! - [`reader`]: readers' actions (engagement, comments) through the same handlers,
//!   limits and moderation as the site's forms.
//! - [`manage`]: the newsroom's writes and reads with an API token ([`auth`]).
//! - [`subscriptions`]: subscribing to the newsletter (the form's rules) and, with a
//!   token, the list of subscribers.
//! - [`http`]: ETag / If-None-Match / If-Match and CORS.
//! - [`openapi`]: the document, generated from the handlers' `#[utoipa::path]`.
//!
//! Every `/api/v1` route is an [`ApiRoute`] in [`route_table`], and the router is
//! built from that table only (as the admin's is), so tests walk it: every route is in
//! the OpenAPI document, and every route that takes a token refuses a missing, revoked
//! or under-scoped one. Errors are always JSON (`{"error": {"code", "message",
//! "field"?}}`), including axum's own 404/405 and unreadable bodies.

pub mod auth;
pub mod content;
pub mod http;
pub mod manage;
pub mod openapi;
pub mod reader;
pub mod subscriptions;
pub mod tokens;
pub mod views;
pub mod wp;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any, delete, get, patch, post};
use broadsheet_domain::Scope;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::{AppError, ErrorReport};

/// This node's API state: its rate limits.
pub struct ApiState {
    pub limits: auth::ApiLimits,
}

impl ApiState {
    pub fn new(config: &crate::config::ApiConfig) -> ApiState {
        ApiState {
            limits: auth::ApiLimits::new(
                config.requests_per_minute_per_token,
                config.requests_per_minute_per_address,
            ),
        }
    }
}

/// One `/api/v1` route.
pub struct ApiRoute {
    pub method: Method,
    /// The path as axum and OpenAPI both write it, e.g. `/api/v1/articles/{key}`.
    pub path: &'static str,
    /// The token scope the route needs, `None` for a public one.
    pub scope: Option<Scope>,
    pub handler: MethodRouter<AppState>,
}

fn route(
    method: Method,
    path: &'static str,
    scope: Option<Scope>,
    handler: MethodRouter<AppState>,
) -> ApiRoute {
    ApiRoute {
        method,
        path,
        scope,
        handler,
    }
}

/// Every `/api/v1` route.
pub fn route_table() -> Vec<ApiRoute> {
    use Method as M;
    use Scope::*;
    let public = None;
    vec![
        route(
            M::GET,
            "/api/v1/openapi.json",
            public,
            get(openapi::document),
        ),
        // Public content.
        route(
            M::GET,
            "/api/v1/articles",
            public,
            get(content::list_articles),
        ),
        route(
            M::GET,
            "/api/v1/articles/{key}",
            public,
            get(content::get_article),
        ),
        route(M::GET, "/api/v1/pages", public, get(content::list_pages)),
        route(
            M::GET,
            "/api/v1/pages/{key}",
            public,
            get(content::get_page),
        ),
        route(M::GET, "/api/v1/tags", public, get(content::list_tags)),
        route(
            M::GET,
            "/api/v1/authors",
            public,
            get(content::list_authors),
        ),
        route(M::GET, "/api/v1/search", public, get(crate::search::api)),
        // Readers.
        route(
            M::GET,
            "/api/v1/articles/{id}/engagement",
            public,
            get(crate::engagement::routes::engagement),
        ),
        route(
            M::POST,
            "/api/v1/articles/{id}/engagement",
            public,
            post(reader::engage),
        ),
        route(
            M::GET,
            "/api/v1/articles/{id}/engagement/me",
            public,
            get(crate::engagement::routes::my_choices),
        ),
        route(
            M::GET,
            "/api/v1/articles/{id}/live",
            public,
            get(crate::engagement::routes::live),
        ),
        route(
            M::GET,
            "/api/v1/articles/{id}/comments",
            public,
            get(crate::comments::routes::list),
        ),
        route(
            M::POST,
            "/api/v1/articles/{id}/comments",
            public,
            post(reader::comment),
        ),
        route(
            M::POST,
            "/api/v1/subscriptions",
            public,
            post(subscriptions::subscribe),
        ),
        // The newsroom, with a token.
        route(
            M::GET,
            "/api/v1/manage/articles",
            Some(Read),
            get(manage::list),
        ),
        route(
            M::POST,
            "/api/v1/manage/articles",
            Some(Write),
            post(manage::create),
        ),
        route(
            M::GET,
            "/api/v1/manage/articles/{id}",
            Some(Read),
            get(manage::get),
        ),
        route(
            M::PATCH,
            "/api/v1/manage/articles/{id}",
            Some(Write),
            patch(manage::update),
        ),
        route(
            M::DELETE,
            "/api/v1/manage/articles/{id}",
            Some(Write),
            delete(manage::delete),
        ),
        route(
            M::POST,
            "/api/v1/manage/articles/{id}/publish",
            Some(Write),
            post(manage::publish),
        ),
        route(
            M::POST,
            "/api/v1/manage/articles/{id}/unpublish",
            Some(Write),
            post(manage::unpublish),
        ),
        route(
            M::POST,
            "/api/v1/manage/articles/{id}/schedule",
            Some(Write),
            post(manage::schedule),
        ),
        route(
            M::POST,
            "/api/v1/manage/media",
            Some(Write),
            post(manage::upload).layer(crate::media::upload::route_body_limit()),
        ),
        route(
            M::GET,
            "/api/v1/manage/comments",
            Some(Admin),
            get(manage::comments),
        ),
        route(
            M::POST,
            "/api/v1/manage/comments/{id}/status",
            Some(Admin),
            post(manage::moderate),
        ),
        route(
            M::GET,
            "/api/v1/manage/subscribers",
            Some(Admin),
            get(subscriptions::list),
        ),
    ]
}

/// The `/api/v1` and `/wp-json/` router, with JSON errors, CORS, ETags and the
/// anonymous rate limit.
pub fn router(state: AppState) -> Router<AppState> {
    let mut router = Router::new();
    // Several methods share a path: merge their method routers first.
    let mut by_path: Vec<(&'static str, MethodRouter<AppState>)> = Vec::new();
    for api_route in route_table() {
        match by_path.iter_mut().find(|(path, _)| *path == api_route.path) {
            Some((_, handler)) => {
                let merged = std::mem::take(handler).merge(api_route.handler);
                *handler = merged;
            }
            None => by_path.push((api_route.path, api_route.handler)),
        }
    }
    for (path, handler) in by_path {
        router = router.route(path, handler);
    }
    router
        .merge(wp::routes())
        .route("/api/{*rest}", any(not_found))
        .route("/wp-json/{*rest}", any(wp::no_route))
        .layer(from_fn_with_state(state.clone(), auth::limit))
        .layer(from_fn(http::etags))
        .layer(from_fn_with_state(state, http::cors))
        .layer(from_fn(json_errors))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// Gives error answers that did not come from an [`AppError`] (axum's 405, an
/// extractor's rejection) the API's JSON error body.
async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<ErrorReport>().is_some()
    {
        return response;
    }
    let report = ErrorReport::for_status(status);
    let mut answer = (status, axum::Json(serde_json::json!({ "error": &report }))).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(value) = response.headers().get(&name) {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer.extensions_mut().insert(report);
    answer
}

/// Reads a JSON request body: 415 unless it says `application/json`, 400 for bytes
/// that are not JSON, 422 for JSON of the wrong shape (the message names the field).
pub fn read_json<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, AppError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            let t = t.trim_start().to_ascii_lowercase();
            t.starts_with("application/json") || t.starts_with("application/merge-patch+json")
        });
    if !is_json {
        return Err(AppError::UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json.".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|err| {
        if err.is_data() {
            AppError::Validation(broadsheet_domain::ValidationErrors::single(
                "body",
                err.to_string(),
            ))
        } else {
            AppError::BadRequest(format!("The request body is not valid JSON: {err}"))
        }
    })
}
