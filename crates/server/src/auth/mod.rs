//! Who is signed in to the admin, and what they may do.
//!
//! - [`session`]: the session cookie, its tokens and loading a session.
//! - [`csrf`]: the middleware on every signed-in admin route: it loads the session
//!   once per request and refuses writes without the session's CSRF token.
//! - [`login`]: signing in (rate limit, lockout, no user enumeration) and out.
//! - [`setup`]: the first-run page that creates the first admin.
//! - [`reset`]: password resets (and first passwords) by emailed link.
//!
//! Handlers take a [`SignedIn`] and call [`SignedIn::require`] before anything else;
//! the permission matrix itself is the domain's ([`broadsheet_domain::permits`]).

pub mod csrf;
pub mod login;
pub mod reset;
pub mod session;
pub mod setup;

use std::sync::{Arc, OnceLock};

use tokio::sync::Semaphore;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::{Action, Target, User, user_permits};

use crate::app::{AppState, SiteChrome};
use crate::error::AppError;

/// A signed-in user, for admin handlers. Without a live session, a GET is sent to the
/// login page (and back here after), and any other request is refused with 401.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: User,
    /// The session's CSRF token, for the forms a page renders.
    pub csrf: String,
    /// The site's settings and pages, for the admin's masthead.
    pub(crate) site: Arc<SiteChrome>,
}

impl SignedIn {
    /// Refuses (403) what the permission matrix does not allow this user.
    pub fn require(&self, action: Action, target: Target) -> Result<(), AppError> {
        if user_permits(&self.user, action, target) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "Your role does not allow this. Ask an admin if you need it.".into(),
            ))
        }
    }

    /// Whether this user may do `action` on the site as a whole (for showing links).
    pub fn may(&self, action: Action) -> bool {
        user_permits(&self.user, action, Target::Site)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The CSRF middleware has usually loaded the session already.
        if let Some(signed_in) = parts.extensions.get::<SignedIn>() {
            return Ok(signed_in.clone());
        }
        let loaded = session::load(state, &parts.headers)
            .await
            .map_err(IntoResponse::into_response)?;
        match loaded {
            Some(loaded) => SignedIn::new(state, loaded.user, loaded.session.csrf)
                .await
                .map_err(IntoResponse::into_response),
            None => Err(not_signed_in(&parts.method, &parts.uri)),
        }
    }
}

impl SignedIn {
    pub(crate) async fn new(
        state: &AppState,
        user: User,
        csrf: String,
    ) -> Result<SignedIn, AppError> {
        Ok(SignedIn {
            user,
            csrf,
            site: state.chrome().await?,
        })
    }
}

/// What a request without a session gets: reads go to the login page, writes are 401.
pub(crate) fn not_signed_in(method: &Method, uri: &Uri) -> Response {
    if method == Method::GET || method == Method::HEAD {
        let path = uri.path_and_query().map_or("/admin", |p| p.as_str());
        let query = serde_urlencoded::to_string([("next", path)]).unwrap_or_default();
        Redirect::to(&format!("/admin/login?{query}")).into_response()
    } else {
        AppError::Unauthorized.into_response()
    }
}

/// `next` when it is a path inside the admin, so that a login link cannot send anyone
/// to another site (`//evil.example`, `/\evil.example`) or anywhere else.
pub fn safe_next(next: &str) -> Option<&str> {
    let inside = next == "/admin" || next.starts_with("/admin/") || next.starts_with("/admin?");
    let odd = next.contains("//")
        || next.contains('\\')
        || next.chars().any(|c| c.is_control() || c.is_whitespace());
    (inside && !odd).then_some(next)
}

/// How many password hashes one node computes at once. Each takes 64 MiB and most of
/// a core for ~90 ms (see `crate::password`); more sign-ins wait their turn rather
/// than exhaust the machine's memory.
const CONCURRENT_HASHES: usize = 4;

/// This node's sign-in machinery: the per-network login limit, the hashing queue, and
/// the hash that unknown addresses are checked against.
pub struct Auth {
    pub(crate) limits: login::LoginLimits,
    hashing: Semaphore,
    dummy_hash: OnceLock<String>,
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            limits: login::LoginLimits::default(),
            hashing: Semaphore::new(CONCURRENT_HASHES),
            dummy_hash: OnceLock::new(),
        }
    }
}

impl Auth {
    /// Hashes a new password, off the async threads.
    pub(crate) async fn hash(&self, password: String) -> Result<String, AppError> {
        self.blocking(move || crate::password::hash(&password).map_err(AppError::internal))
            .await
    }

    /// Checks a password against a user's hash. Without one (an unknown address, a
    /// user who never set a password) a dummy hash is checked, so that it takes as
    /// long, and the answer is no.
    pub(crate) async fn verify(
        self: &Arc<Self>,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, AppError> {
        let auth = Arc::clone(self);
        self.blocking(move || match hash {
            Some(hash) => Ok(crate::password::verify(&password, &hash)),
            None => {
                crate::password::verify(&password, auth.dummy_hash()?);
                Ok(false)
            }
        })
        .await
    }

    /// Runs argon2 work on the blocking pool, at most [`CONCURRENT_HASHES`] at once.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self.hashing.acquire().await.map_err(AppError::internal)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(AppError::internal)?
    }

    /// A real hash of a password nobody has (made once, on first use).
    fn dummy_hash(&self) -> Result<&str, AppError> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash);
        }
        let hash = crate::password::hash(&session::new_token()?).map_err(AppError::internal)?;
        Ok(self.dummy_hash.get_or_init(|| hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_admin() {
        for good in [
            "/admin",
            "/admin/users",
            "/admin/articles?status=draft",
            "/admin?x=1",
        ] {
            assert_eq!(safe_next(good), Some(good));
        }
        for bad in [
            "",
            "/",
            "https://evil.example/admin",
            "//evil.example/admin",
            "/admin//evil.example",
            "/administrator",
            "/admin/\\evil",
            "/admin/\nx",
            "/\\evil.example",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
