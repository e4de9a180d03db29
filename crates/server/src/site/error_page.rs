//! Themed error pages for the site's routes.
//!
//! Handlers return [`AppError`](crate::error::AppError), whose response carries an
//! [`ErrorReport`] extension (and a JSON body, which API routes keep). This middleware
//! wraps only the site's routes: it replaces the body of any error response with the
//! theme's `error.html`, keeping the status. Error responses that did not come from an
//! `AppError` (axum's 405, a path that is not valid UTF-8) get a page too, built from
//! their status alone.
//!
//! A 404 page links home and lists the latest articles, so a reader who followed a
//! dead link still finds something to read. Rendering an error page must never fail
//! in a way the reader sees: if the store or the theme fails here, a plain built-in
//! page is answered with the original status.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use broadsheet_domain::{ArticleQuery, SiteSettings};
use minijinja::{Value, context};

use super::SiteContext;
use super::meta::MetaView;
use super::views::{ArticleView, SiteView};
use crate::app::AppState;
use crate::error::ErrorReport;

/// How many recent articles a 404 page suggests.
const LATEST_ON_404: u32 = 5;

pub async fn themed_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_head = request.method() == Method::HEAD;
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let report = match response.extensions().get::<ErrorReport>() {
        Some(report) => report.clone(),
        // Someone already rendered HTML for this error; leave it.
        None if is_html(&response) => return response,
        None => ErrorReport::for_status(status),
    };
    let allow = response.headers().get(header::ALLOW).cloned();
    let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
    let html = if is_head {
        String::new()
    } else {
        error_page(&state, &report).await
    };
    let mut page = (status, Html(html)).into_response();
    if let Some(allow) = allow {
        page.headers_mut().insert(header::ALLOW, allow);
    }
    // A 429 page still tells the client when to come back.
    if let Some(retry_after) = retry_after {
        page.headers_mut().insert(header::RETRY_AFTER, retry_after);
    }
    page.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    page.extensions_mut().insert(report);
    page
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

async fn error_page(state: &AppState, report: &ErrorReport) -> String {
    // A failing store is a common reason for a 500; the page must still render, so
    // fall back to default settings and no suggestions.
    let site = SiteContext::load(state).await.ok();
    let latest = match &site {
        Some(site) if report.status == StatusCode::NOT_FOUND.as_u16() => state
            .store
            .list_articles(&ArticleQuery::public(site.now, 1, LATEST_ON_404))
            .await
            .map(|found| {
                found
                    .items
                    .iter()
                    .map(|a| ArticleView::card(a, site.tz, &site.base_url))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let site_view = match site {
        Some(site) => site.view,
        None => SiteView::new(
            &SiteSettings::default(),
            &state.config.base_url,
            Vec::new(),
            broadsheet_domain::clock::now(),
        ),
    };
    let meta = MetaView {
        title: Some(title_for(report.status_code()).to_owned()),
        description: report.message.clone(),
        kind: "website",
        noindex: true,
        ..MetaView::default()
    };
    let rendered = state.theme.render(
        "error.html",
        context! {
            site => site_view,
            meta => meta,
            // The status is left out of the JSON body (HTTP already says it) but a
            // page shows it.
            error => context! { status => report.status, ..Value::from_serialize(report) },
            latest => latest,
        },
    );
    match rendered {
        Ok(html) => html,
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "the theme's error page failed to render");
            fallback_page(report)
        }
    }
}

fn title_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::METHOD_NOT_ALLOWED => "Not allowed",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::TOO_MANY_REQUESTS => "Too many requests",
        StatusCode::UNPROCESSABLE_ENTITY => "Please check your input",
        s if s.is_server_error() => "Something went wrong",
        _ => "Bad request",
    }
}

/// The page of last resort, when the theme itself is broken.
fn fallback_page(report: &ErrorReport) -> String {
    let title = title_for(report.status_code());
    let message = html_escape(&report.message);
    format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{title}</title>\
         <h1>{title}</h1><p>{message}</p><p><a href=\"/\">Go to the home page</a></p></html>"
    )
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_resort_page_escapes() {
        let mut report = ErrorReport::for_status(StatusCode::BAD_REQUEST);
        report.message = "<script>&".into();
        let page = fallback_page(&report);
        assert!(page.contains("&lt;script&gt;&amp;"));
        assert!(!page.contains("<script>"));
    }
}
