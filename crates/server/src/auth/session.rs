//! The session cookie and its tokens.
//!
//! A session is a random 32-byte token in the `broadsheet_session` cookie (base64url);
//! the database keeps only its SHA-256, so neither a database copy nor a backup holds a
//! usable session. The cookie is HttpOnly (no script needs it), SameSite=Lax (other
//! sites' forms cannot carry it), Path=/ and Secure when the site is served over HTTPS.
//! Its Max-Age follows the sliding expiry: it is sent again whenever the session's use
//! is recorded.

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use broadsheet_domain::account::SESSION_LIFETIME;
use broadsheet_domain::{Session, StoreError, User, clock};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::AppError;

/// The session cookie's name.
pub const COOKIE: &str = "broadsheet_session";

/// A fresh random token (base64url, 43 characters) for a cookie, a CSRF field or a
/// reset link.
pub fn new_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a token: its SHA-256 in hex.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The session token in the request's cookies, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<&str> {
    crate::cookies::value(headers, COOKIE).filter(|value| !value.is_empty())
}

fn secure(state: &AppState) -> &'static str {
    if state.config.base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

/// The `Set-Cookie` value that holds `token` for the session's lifetime.
pub fn cookie(state: &AppState, token: &str) -> HeaderValue {
    let text = format!(
        "{COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}",
        SESSION_LIFETIME.num_seconds(),
        secure(state)
    );
    // Tokens are base64url, so the value is always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes the cookie.
pub fn removal(state: &AppState) -> HeaderValue {
    let text = format!(
        "{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{}",
        secure(state)
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Starts a session for `user` and returns the `Set-Cookie` value that holds it.
pub async fn start(state: &AppState, user: &User) -> Result<HeaderValue, AppError> {
    let token = new_token()?;
    let session = Session::start(hash_token(&token), user.id, new_token()?, clock::now());
    state.store.create_session(&session).await?;
    Ok(cookie(state, &token))
}

/// The live session the request's cookie names, with its user and its token, or
/// `None` without one. Records the use when it is due, and then says so with the
/// refreshed cookie to send.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<Loaded>, AppError> {
    let Some(token) = token_from_headers(headers) else {
        return Ok(None);
    };
    let now = clock::now();
    let hash = hash_token(token);
    let (session, user) = match state.store.session_user(&hash, now).await {
        Ok(found) => found,
        Err(StoreError::NotFound) => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let refresh = if session.needs_touch(now) {
        state.store.touch_session(&hash, now).await?;
        Some(cookie(state, token))
    } else {
        None
    };
    Ok(Some(Loaded {
        session,
        user,
        refresh,
    }))
}

/// A session found by [`load`].
pub struct Loaded {
    pub session: Session,
    pub user: User,
    /// The cookie to send again, when the expiry moved.
    pub refresh: Option<HeaderValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(hash_token(&a).len(), 64);
        assert_eq!(hash_token(&a), hash_token(&a));
        assert_ne!(hash_token(&a), hash_token(&b));
    }

    #[test]
    fn the_cookie_is_read_by_name() {
        use axum::http::header;
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "bs_reader=1; broadsheet_session=abc; x=y".parse().unwrap(),
        );
        assert_eq!(token_from_headers(&headers), Some("abc"));
        headers.insert(header::COOKIE, "broadsheet_session=".parse().unwrap());
        assert_eq!(token_from_headers(&headers), None);
    }
}
