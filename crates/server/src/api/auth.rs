//! API tokens on the server: making one, reading `Authorization: Bearer …`, checking
//! what the token's scope and its user's role allow, and the per-token (or, without a
//! token, per-address) rate limits.
//!
//! Tokens are `bs_` and 43 base64url characters (32 random bytes). The store keeps
//! their SHA-256 only ([`crate::auth::session::hash_token`], as for sessions), so the
//! admin shows a token once, when it is made.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use broadsheet_domain::api_token::{Refusal, token_permits};
use broadsheet_domain::{
    Action, ApiToken, ApiTokenId, NewApiToken, Scope, StoreError, Target, User, UserId, clock,
};
use chrono::{DateTime, TimeDelta, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::app::AppState;
use crate::auth::session::{hash_token, new_token};
use crate::engagement::routes::Peer;
use crate::error::AppError;

/// What every token starts with, so a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "bs_";
/// How much of a token the admin shows to tell tokens apart.
const SHOWN_CHARS: usize = 10;
/// How often a token's "last used" is written.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

/// Makes a token for `user` and stores its hash: the token itself is returned once
/// and never kept.
pub async fn create(
    state: &AppState,
    user: UserId,
    name: String,
    scope: Scope,
) -> Result<(String, ApiToken), AppError> {
    let token = format!("{TOKEN_PREFIX}{}", new_token()?);
    let stored = state
        .store
        .create_api_token(&NewApiToken {
            user_id: user,
            name,
            scope,
            token_hash: hash_token(&token),
            prefix: token.chars().take(SHOWN_CHARS).collect(),
            created_at: clock::now(),
        })
        .await?;
    Ok((token, stored))
}

/// This node's API limits: one GCRA allowance per token, and one per address for
/// requests without a token.
pub struct ApiLimits {
    per_token: DefaultKeyedRateLimiter<ApiTokenId>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    /// When each token's use was last written, so a busy token writes once a minute.
    touched: Mutex<std::collections::HashMap<ApiTokenId, DateTime<Utc>>>,
}

impl ApiLimits {
    pub fn new(per_minute: NonZeroU32, anonymous_per_minute: NonZeroU32) -> ApiLimits {
        ApiLimits {
            per_token: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            per_address: DefaultKeyedRateLimiter::keyed(Quota::per_minute(anonymous_per_minute)),
            clock: DefaultClock::default(),
            touched: Mutex::default(),
        }
    }

    fn refused(&self, wait: Duration) -> AppError {
        AppError::TooManyRequests {
            code: "rate_limited",
            message: "Too many requests; slow down and retry after the time in Retry-After.".into(),
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    }

    pub fn take_token(&self, id: ApiTokenId) -> Result<(), AppError> {
        self.per_token
            .check_key(&id)
            .map_err(|not_until| self.refused(not_until.wait_time_from(self.clock.now())))
    }

    pub fn take_address(&self, ip: IpAddr) -> Result<(), AppError> {
        self.per_address
            .check_key(&ip)
            .map_err(|not_until| self.refused(not_until.wait_time_from(self.clock.now())))
    }

    /// Whether a use at `now` should be written.
    fn needs_touch(&self, id: ApiTokenId, now: DateTime<Utc>) -> bool {
        let mut touched = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        if touched.len() > 10_000 {
            touched.clear();
        }
        match touched.get(&id) {
            Some(at) if now - *at < TOUCH_EVERY => false,
            _ => {
                touched.insert(id, now);
                true
            }
        }
    }
}

/// The bearer token of a request, if it sends one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// A request made with a live API token: the token and the user it acts for.
/// Extracting it refuses (401) a request without a token or with an unknown, revoked
/// or deactivated user's token, and (429) one over the token's rate limit.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub token: ApiToken,
    pub user: User,
}

impl ApiCaller {
    /// Refuses (403) what the token's scope or its user's role does not allow, saying
    /// which.
    pub fn require(&self, action: Action, target: Target) -> Result<(), AppError> {
        token_permits(self.token.scope, &self.user, action, target).map_err(|refusal| {
            AppError::Forbidden(match refusal {
                Refusal::Scope(needed) => format!(
                    "This token's scope is {}; this needs a {needed} token.",
                    self.token.scope
                ),
                Refusal::Role => format!(
                    "The token's user ({}, {}) is not allowed to do this.",
                    self.user.display_name, self.user.role
                ),
            })
        })
    }

    /// `require` for one article.
    pub fn require_article(
        &self,
        action: Action,
        article: &broadsheet_domain::Article,
    ) -> Result<(), AppError> {
        let live = crate::admin::articles::is_live(article.status);
        self.require(action, Target::article(&self.user, article.author.id, live))
    }
}

/// Why a request carries no usable token, for the 401's message.
fn unauthorized(message: &str) -> AppError {
    AppError::Unauthenticated(message.to_owned())
}

impl ApiCaller {
    /// The caller a request's token names: `None` without a token; 401 for an
    /// unknown or revoked token (or a deactivated user's); 429 over the token's rate
    /// limit. Records the token's use (at most once a minute).
    async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Option<ApiCaller>, AppError> {
        let Some(token) = bearer(headers) else {
            return Ok(None);
        };
        let (token, user) = match state.store.api_token_user(&hash_token(token)).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => {
                return Err(unauthorized(
                    "This API token is unknown or was revoked, or its user is deactivated.",
                ));
            }
            Err(other) => return Err(other.into()),
        };
        state.api.limits.take_token(token.id)?;
        let now = clock::now();
        if state.api.limits.needs_touch(token.id, now) {
            state.store.touch_api_token(token.id, now).await?;
        }
        Ok(Some(ApiCaller { token, user }))
    }
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // The API's rate-limit layer has usually resolved the token already.
        if let Some(caller) = parts.extensions.get::<ApiCaller>() {
            return Ok(caller.clone());
        }
        match ApiCaller::resolve(state, &parts.headers).await? {
            Some(caller) => {
                parts.extensions.insert(caller.clone());
                Ok(caller)
            }
            None => Err(unauthorized(
                "Send an API token: Authorization: Bearer bs_… (make one in the admin).",
            )),
        }
    }
}

/// Every API request is rate limited: by its token when it sends one (a bad token is
/// refused here, so sending one cannot dodge the limit), otherwise by the client's
/// address as the engagement code reads it (trusted proxies included).
pub async fn limit(
    axum::extract::State(state): axum::extract::State<AppState>,
    Peer(peer): Peer,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match ApiCaller::resolve(&state, request.headers()).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
        }
        Ok(None) => {
            let ip = state.engagement.identity.client_ip(peer, request.headers());
            if let Err(err) = state.api.limits.take_address(ip) {
                return err.into_response();
            }
        }
        Err(err) => return err.into_response(),
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_are_read_case_insensitively() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer bs_abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("bs_abc"));
        headers.insert(header::AUTHORIZATION, "bearer   bs_abc ".parse().unwrap());
        assert_eq!(bearer(&headers), Some("bs_abc"));
        headers.insert(header::AUTHORIZATION, "Basic YTpi".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn a_token_over_its_allowance_is_told_when_to_retry() {
        let limits = ApiLimits::new(NonZeroU32::new(2).unwrap(), NonZeroU32::new(1).unwrap());
        let id = ApiTokenId(1);
        limits.take_token(id).unwrap();
        limits.take_token(id).unwrap();
        match limits.take_token(id) {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => assert!(retry_after_secs >= 1),
            other => panic!("{other:?}"),
        }
        limits.take_token(ApiTokenId(2)).unwrap();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        limits.take_address(ip).unwrap();
        assert!(limits.take_address(ip).is_err());
    }
}
