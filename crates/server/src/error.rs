//! The one HTTP error type.
//!
//! Policy, in the manner of crates.io's `util/errors.rs`:
//!
//! - Handlers return `Result<_, AppError>` and use `?` on store, validation and
//!   template errors; the `From` impls below decide the status.
//! - A reader's or client's mistake is a 4xx with a message meant for them; it is never
//!   logged as an error and never a 500.
//! - `Internal` is logged with `tracing` where it turns into a response, with its
//!   cause; the client only learns that something went wrong on our side.
//!
//! One error, two faces: [`AppError::into_response`] answers JSON
//! `{"error": {"code", "message", "field"?}}`, which is what API routes want, and puts
//! the same facts in an [`ErrorReport`] response extension. The site's error-page
//! middleware (`site::error_page`) finds that extension and renders the themed HTML
//! page instead, so site handlers and API handlers share this type and neither needs to
//! know how errors look.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{FieldError, StoreError, ValidationErrors};
use serde::Serialize;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Nothing here, or nothing the requester may see (drafts are "not found" too).
    #[error("not found")]
    NotFound,
    /// The request is malformed; the message says how, in words for the requester.
    #[error("{0}")]
    BadRequest(String),
    /// A unique value is taken (a slug, an email).
    #[error("{field} is already taken")]
    Conflict { field: String },
    /// Input failed validation; every problem is named by field.
    #[error("{0}")]
    Validation(ValidationErrors),
    /// The request needs a signed-in user and has no (live) session.
    #[error("please sign in")]
    Unauthorized,
    /// An API request without a usable token; the message says what to send.
    #[error("{0}")]
    Unauthenticated(String),
    /// An `If-Match` that no longer matches: someone changed the resource since the
    /// client read it (a lost update refused).
    #[error("{0}")]
    PreconditionFailed(String),
    /// The request is understood and refused (a cross-site form post).
    #[error("{0}")]
    Forbidden(String),
    /// A link that worked once and no longer does (an expired confirmation link);
    /// the message says what to do instead.
    #[error("{0}")]
    Gone(String),
    /// An upload over the configured size (or an image over the pixel limits); the
    /// message names the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// An upload of a type we do not take; the message names the accepted types.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many requests from this reader or network: answered with `Retry-After`.
    /// `code` says which limit (`rate_limited`, `network_cap_reached`).
    #[error("{message}")]
    TooManyRequests {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// Our fault: a database or template failure. Logged, never shown.
    #[error("internal error: {0}")]
    Internal(BoxError),
}

impl AppError {
    /// Wraps any error as an internal one.
    pub fn internal(err: impl Into<BoxError>) -> AppError {
        AppError::Internal(err.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthorized | AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Gone(_) => StatusCode::GONE,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What may be shown to the client about this error.
    pub fn report(&self) -> ErrorReport {
        let status = self.status();
        let (code, message, field, fields) = match self {
            AppError::NotFound => (
                "not_found",
                "The page you asked for is not here.".to_owned(),
                None,
                Vec::new(),
            ),
            AppError::BadRequest(message) => ("bad_request", message.clone(), None, Vec::new()),
            AppError::Conflict { field } => (
                "conflict",
                format!("{field} is already taken"),
                Some(field.clone()),
                Vec::new(),
            ),
            AppError::Validation(errors) => (
                "validation_failed",
                errors.to_string(),
                errors.0.first().map(|e| e.field.clone()),
                errors.0.clone(),
            ),
            AppError::Unauthorized => (
                "unauthorized",
                "Please sign in first; your session may have ended.".to_owned(),
                None,
                Vec::new(),
            ),
            AppError::Unauthenticated(message) => {
                ("unauthorized", message.clone(), None, Vec::new())
            }
            AppError::PreconditionFailed(message) => {
                ("precondition_failed", message.clone(), None, Vec::new())
            }
            AppError::Forbidden(message) => ("forbidden", message.clone(), None, Vec::new()),
            AppError::Gone(message) => ("gone", message.clone(), None, Vec::new()),
            AppError::PayloadTooLarge(message) => {
                ("payload_too_large", message.clone(), None, Vec::new())
            }
            AppError::UnsupportedMediaType(message) => {
                ("unsupported_media_type", message.clone(), None, Vec::new())
            }
            AppError::TooManyRequests { code, message, .. } => {
                (*code, message.clone(), None, Vec::new())
            }
            AppError::Internal(_) => (
                "internal",
                "Something went wrong on our side. Please try again in a moment.".to_owned(),
                None,
                Vec::new(),
            ),
        };
        ErrorReport {
            status: status.as_u16(),
            code,
            message,
            field,
            fields,
        }
    }
}

/// The client-safe facts of an error: the JSON body's `error` object, and the
/// extension the site's error pages are rendered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorReport {
    #[serde(skip)]
    pub status: u16,
    /// Machine-readable: `not_found`, `bad_request`, `conflict`, `validation_failed`,
    /// `unauthorized`, `forbidden`, `gone`, `precondition_failed`, `payload_too_large`,
    /// `unsupported_media_type`,
    /// `rate_limited`, `network_cap_reached`, `internal`.
    pub code: &'static str,
    pub message: String,
    /// The (first) input field at fault, for conflicts and validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every field problem of a validation error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl ErrorReport {
    /// A report for an error response that did not come from an [`AppError`] (axum's
    /// own 405, a rejected extractor), so it can still get a proper page.
    pub fn for_status(status: StatusCode) -> ErrorReport {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "The page you asked for is not here."),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "This address does not accept that kind of request.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => {
                ("payload_too_large", "The request is larger than allowed.")
            }
            s if s.is_server_error() => (
                "internal",
                "Something went wrong on our side. Please try again in a moment.",
            ),
            _ => ("bad_request", "The request could not be understood."),
        };
        ErrorReport {
            status: status.as_u16(),
            code,
            message: message.to_owned(),
            field: None,
            fields: Vec::new(),
        }
    }

    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a ErrorReport,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(cause) = &self {
            // The one place internal errors are logged: every handler's `?` ends here.
            tracing::error!(error = %cause, "internal error while handling a request");
        }
        let report = self.report();
        let mut response = (self.status(), Json(ErrorBody { error: &report })).into_response();
        if let AppError::TooManyRequests {
            retry_after_secs, ..
        } = &self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if let AppError::Unauthenticated(_) = &self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"broadsheet\""),
            );
        }
        response.extensions_mut().insert(report);
        response
    }
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict { field } => AppError::Conflict {
                field: field.to_owned(),
            },
            backend @ StoreError::Backend(_) => AppError::internal(backend),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(errors: ValidationErrors) -> Self {
        AppError::Validation(errors)
    }
}

impl From<minijinja::Error> for AppError {
    fn from(err: minijinja::Error) -> Self {
        // `{:#}` includes the template name and line, which is what an operator
        // debugging a theme needs in the log.
        AppError::internal(format!("template error: {err:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn store_errors_map_to_statuses() {
        assert_eq!(
            AppError::from(StoreError::NotFound).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            AppError::from(StoreError::Conflict { field: "slug" }).status(),
            StatusCode::CONFLICT
        );
        let response =
            AppError::from(StoreError::Backend("disk full at /secret".into())).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let json = body_json(response).await;
        assert_eq!(json["error"]["code"], "internal");
        assert!(!json.to_string().contains("secret"), "{json}");
    }

    #[tokio::test]
    async fn validation_is_422_with_fields_and_an_extension() {
        let mut errors = ValidationErrors::single("title", "is required");
        errors.add("slug", "must not be empty");
        let response = AppError::from(errors).into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let report = response.extensions().get::<ErrorReport>().unwrap().clone();
        assert_eq!(report.field.as_deref(), Some("title"));
        let json = body_json(response).await;
        assert_eq!(json["error"]["code"], "validation_failed");
        assert_eq!(json["error"]["field"], "title");
        assert_eq!(json["error"]["fields"][1]["field"], "slug");
    }

    #[tokio::test]
    async fn too_many_requests_says_when_to_retry() {
        let response = AppError::TooManyRequests {
            code: "rate_limited",
            message: "Slow down.".into(),
            retry_after_secs: 7,
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        let json = body_json(response).await;
        assert_eq!(json["error"]["code"], "rate_limited");
        let forbidden = AppError::Forbidden("no".into()).into_response();
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        assert_eq!(body_json(forbidden).await["error"]["code"], "forbidden");
    }

    #[tokio::test]
    async fn refused_uploads_are_413_and_415_with_their_message() {
        let response = AppError::PayloadTooLarge("At most 10 MiB.".into()).into_response();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let json = body_json(response).await;
        assert_eq!(json["error"]["code"], "payload_too_large");
        assert_eq!(json["error"]["message"], "At most 10 MiB.");
        let response = AppError::UnsupportedMediaType("JPEG only.".into()).into_response();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(
            body_json(response).await["error"]["code"],
            "unsupported_media_type"
        );
    }

    #[tokio::test]
    async fn not_found_json_has_no_field() {
        let json = body_json(AppError::NotFound.into_response()).await;
        assert_eq!(json["error"]["code"], "not_found");
        assert!(json["error"].get("field").is_none());
    }
}
