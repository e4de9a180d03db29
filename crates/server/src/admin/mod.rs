//! The newsroom's admin at `/admin`: server-rendered pages that work without
//! JavaScript (admin.js only adds conveniences).
//!
//! Every signed-in page is an [`AdminRoute`] in [`route_table`], and the router is
//! built from that table alone, so a test can walk every route and prove that each
//! one refuses requests without a session or without a CSRF token. The table's routes
//! sit behind [`crate::auth::csrf::guard`]; handlers take a
//! [`SignedIn`](crate::auth::SignedIn) and call `require` before doing anything.
//! The pages for signing in (login, setup, password reset) are outside the table: they
//! are for people without a session, and check only that forms come from this site.
//!
//! Pages render with [`render`]: admin templates extend `admin/layout.html` (blocks
//! `title` and `main`) and get `user`, `csrf`, `site` and `nav` besides their own
//! context. Errors on admin routes become pages in the admin's look.

pub mod articles;
pub mod audit;
pub mod charts;
pub mod comments;
pub mod dashboard;
pub mod jobs;
pub mod media;
pub mod settings;
pub mod users;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use broadsheet_domain::{Action, Role, SiteSettings, Target, ValidationErrors, permits};
use minijinja::{Value, context};
use serde::Serialize;

use crate::app::AppState;
use crate::auth::{self, SignedIn};
use crate::engagement::origin;
use crate::error::{AppError, ErrorReport};

/// One signed-in admin route.
pub struct AdminRoute {
    pub method: Method,
    /// The full path, e.g. `/admin/users/{id}/role`.
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
}

impl AdminRoute {
    pub fn get<H, T>(path: &'static str, handler: H) -> AdminRoute
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        AdminRoute {
            method: Method::GET,
            path,
            handler: get(handler),
        }
    }

    pub fn post<H, T>(path: &'static str, handler: H) -> AdminRoute
    where
        H: axum::handler::Handler<T, AppState>,
        T: 'static,
    {
        AdminRoute {
            method: Method::POST,
            path,
            handler: post(handler),
        }
    }
}

/// Every signed-in admin route.
pub fn route_table() -> Vec<AdminRoute> {
    [
        routes(),
        dashboard::routes(),
        articles::routes(),
        comments::routes(),
        media::routes(),
        users::routes(),
        settings::routes(),
        audit::routes(),
        jobs::routes(),
        crate::newsletter::admin::routes(),
        crate::webhooks::admin::routes(),
        crate::api::tokens::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The admin's own routes: signing out. (The home page is the dashboard's.)
fn routes() -> Vec<AdminRoute> {
    vec![AdminRoute::post("/admin/logout", auth::login::logout)]
}

/// The `/admin` router: the route table behind the session and CSRF guard, the
/// sign-in pages behind the same-site check, and admin-looking error pages for all.
pub fn router(state: AppState) -> Router<AppState> {
    let mut signed_in = Router::new();
    for route in route_table() {
        signed_in = signed_in.route(route.path, route.handler);
    }
    let signed_in = signed_in.layer(from_fn_with_state(state.clone(), auth::csrf::guard));
    let public = Router::new()
        // Typed with a slash, as the site's own paths are.
        .route("/admin/", get(|| async { Redirect::permanent("/admin") }))
        .route(
            "/admin/login",
            get(auth::login::page).post(auth::login::submit),
        )
        .route(
            "/admin/setup",
            get(auth::setup::page).post(auth::setup::submit),
        )
        .route(
            "/admin/forgot",
            get(auth::reset::forgot_page).post(auth::reset::forgot),
        )
        .route(
            "/admin/reset/{token}",
            get(auth::reset::reset_page).post(auth::reset::reset),
        )
        .layer(from_fn_with_state(state.clone(), same_site_posts));
    signed_in
        .merge(public)
        .layer(from_fn_with_state(state, admin_errors))
}

/// What a role may do, as the home page says it.
const ABILITIES: &[(Action, Target, &str)] = &[
    (Action::CreateArticle, Target::Site, "write drafts"),
    (
        Action::PublishArticle,
        Target::Article {
            own: true,
            live: false,
        },
        "publish your own articles",
    ),
    (
        Action::EditArticle,
        Target::Article {
            own: false,
            live: true,
        },
        "edit and publish everyone's articles",
    ),
    (Action::UploadMedia, Target::Site, "upload images"),
    (Action::ModerateComments, Target::Site, "moderate comments"),
    (Action::ViewDashboard, Target::Site, "see the dashboard"),
    (
        Action::ManageUsers,
        Target::Site,
        "add users and change their roles",
    ),
    (
        Action::ManageSettings,
        Target::Site,
        "change the site settings",
    ),
    (
        Action::Operate,
        Target::Site,
        "read the audit log and the job queue",
    ),
    (
        Action::ManagePersonalData,
        Target::Site,
        "export or erase a commenter's data",
    ),
];

/// The abilities of `role`, in words.
fn abilities(role: Role) -> Vec<&'static str> {
    ABILITIES
        .iter()
        .filter(|(action, target, _)| permits(role, *action, *target))
        .map(|(_, _, words)| *words)
        .collect()
}

/// A page of the newsroom's home (`admin/home.html` or a template extending it): the
/// greeting and what the user may do, with whatever `ctx` adds (the user's drafts, or
/// the dashboard's numbers).
pub(crate) fn home_page(
    state: &AppState,
    who: &SignedIn,
    template: &str,
    ctx: Value,
) -> Result<Response, AppError> {
    render(
        state,
        who,
        template,
        context! { section => "home", abilities => abilities(who.user.role), ..ctx },
    )
}

/// One link of the admin's navigation, shown to users whose role permits `action`.
struct NavItem {
    key: &'static str,
    label: &'static str,
    path: &'static str,
    action: Action,
}

const NAV: &[NavItem] = &[
    NavItem {
        key: "home",
        label: "Home",
        path: "/admin",
        action: Action::CreateArticle,
    },
    NavItem {
        key: "articles",
        label: "Articles",
        path: "/admin/articles",
        action: Action::CreateArticle,
    },
    NavItem {
        key: "comments",
        label: "Comments",
        path: "/admin/comments",
        action: Action::ModerateComments,
    },
    NavItem {
        key: "media",
        label: "Media",
        path: "/admin/media",
        action: Action::CreateArticle,
    },
    NavItem {
        key: "tokens",
        label: "API tokens",
        path: "/admin/tokens",
        action: Action::CreateArticle,
    },
    NavItem {
        key: "users",
        label: "Users",
        path: "/admin/users",
        action: Action::ManageUsers,
    },
    NavItem {
        key: "subscribers",
        label: "Subscribers",
        path: "/admin/subscribers",
        action: Action::ManagePersonalData,
    },
    NavItem {
        key: "webhooks",
        label: "Webhooks",
        path: "/admin/webhooks",
        action: Action::ManageSettings,
    },
    NavItem {
        key: "settings",
        label: "Settings",
        path: "/admin/settings",
        action: Action::ManageSettings,
    },
    NavItem {
        key: "audit",
        label: "Audit log",
        path: "/admin/audit",
        action: Action::Operate,
    },
    NavItem {
        key: "jobs",
        label: "Jobs",
        path: "/admin/jobs",
        action: Action::Operate,
    },
];

#[derive(Serialize)]
struct NavLink {
    key: &'static str,
    label: &'static str,
    path: &'static str,
}

#[derive(Serialize)]
struct UserView<'a> {
    id: i64,
    name: &'a str,
    email: &'a str,
    role: &'static str,
}

#[derive(Serialize)]
struct SiteView<'a> {
    title: &'a str,
    language: &'a str,
}

/// Renders an admin page for a signed-in user.
pub fn render(
    state: &AppState,
    who: &SignedIn,
    template: &str,
    ctx: Value,
) -> Result<Response, AppError> {
    render_status(state, who, StatusCode::OK, template, ctx)
}

/// [`render`] with a status, e.g. 422 for a form shown again with its problems.
pub fn render_status(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    template: &str,
    ctx: Value,
) -> Result<Response, AppError> {
    let nav: Vec<NavLink> = NAV
        .iter()
        .filter(|item| who.may(item.action))
        .map(|item| NavLink {
            key: item.key,
            label: item.label,
            path: item.path,
        })
        .collect();
    let settings = &who.site.settings;
    let full = context! {
        user => UserView {
            id: who.user.id.0,
            name: &who.user.display_name,
            email: &who.user.email,
            role: who.user.role.as_str(),
        },
        csrf => &who.csrf,
        site => SiteView { title: &settings.title, language: &settings.language },
        nav => nav,
        ..ctx
    };
    page(state, status, template, full)
}

/// Renders an admin page for someone not signed in (login, setup, reset).
pub async fn render_public(
    state: &AppState,
    status: StatusCode,
    template: &str,
    ctx: Value,
) -> Result<Response, AppError> {
    let chrome = state.chrome().await?;
    page(state, status, template, with_site(&chrome.settings, ctx))
}

fn with_site(settings: &SiteSettings, ctx: Value) -> Value {
    context! {
        site => SiteView { title: &settings.title, language: &settings.language },
        ..ctx
    }
}

fn page(
    state: &AppState,
    status: StatusCode,
    template: &str,
    ctx: Value,
) -> Result<Response, AppError> {
    let html = state.theme.render(template, ctx)?;
    let mut response = (status, Html(html)).into_response();
    // Admin pages show private drafts and forms with tokens: never cache them.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Validation problems by field, for templates (`errors.email`).
pub fn field_errors(errors: &ValidationErrors) -> BTreeMap<String, String> {
    let mut by_field = BTreeMap::new();
    for e in &errors.0 {
        by_field
            .entry(e.field.clone())
            .or_insert_with(|| e.message.clone());
    }
    by_field
}

/// Sign-in forms are posted without a session, so they have no CSRF token to check;
/// they must at least come from this site, or another site could sign a visitor in to
/// an account of its choosing.
async fn same_site_posts(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    if !is_read && !origin::same_site(request.headers(), request.uri(), &state.config.base_url) {
        return AppError::Forbidden(
            "This form was sent from another site, so it was not accepted.".into(),
        )
        .into_response();
    }
    next.run(request).await
}

/// Error responses on admin routes become pages in the admin's look. Pages that are
/// already HTML (a form shown again with its problems), and errors for a client that
/// asked for JSON, are left as they are.
async fn admin_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // A script that asked for JSON (admin.js's upload) reads the JSON error itself.
    let wants_json = wants_json(request.headers());
    let response = next.run(request).await;
    if wants_json {
        return response;
    }
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_html {
        return response;
    }
    let report = response
        .extensions()
        .get::<ErrorReport>()
        .cloned()
        .unwrap_or_else(|| ErrorReport::for_status(status));
    let kept: Vec<_> = [header::RETRY_AFTER, header::ALLOW]
        .into_iter()
        .filter_map(|name| response.headers().get(&name).cloned().map(|v| (name, v)))
        .collect();
    // A failing store is a common reason for an error: the page still renders, with
    // the default settings.
    let settings = match state.chrome().await {
        Ok(chrome) => chrome.settings.clone(),
        Err(_) => SiteSettings::default(),
    };
    let ctx = context! {
        title => error_title(status),
        error => context! { status => report.status, ..Value::from_serialize(&report) },
    };
    let mut page = match page(
        &state,
        status,
        "admin/error.html",
        with_site(&settings, ctx),
    ) {
        Ok(page) => page,
        // The JSON body is still a fine answer when even the page fails.
        Err(_) => return response,
    };
    for (name, value) in kept {
        page.headers_mut().insert(name, value);
    }
    page.extensions_mut().insert(report);
    page
}

/// Whether the client asked for JSON (a script), rather than a page.
pub(crate) fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn error_title(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "Please sign in",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_can_at_least_write_drafts_and_admins_can_do_everything() {
        for role in Role::ALL {
            assert!(abilities(role).contains(&"write drafts"));
        }
        assert_eq!(abilities(Role::Admin).len(), ABILITIES.len());
        assert!(!abilities(Role::Contributor).contains(&"publish your own articles"));
    }
}
