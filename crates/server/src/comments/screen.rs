//! Spam defence without third parties: decides whether a new comment is approved, held
//! for a moderator, or kept as spam, and refuses outright a submission sent too fast
//! or too often.
//!
//! The signals, cheapest first: a per-network rate limit; signed-in newsroom users
//! pass; the honeypot field (`website_confirm`, which people never see); Akismet's
//! documented test values; a signed form token carrying the time the form was rendered
//! (a submission less than [`MIN_FORM_SECONDS`] after it is refused, one without a
//! valid token is held); the same text from the same email on the same article; the
//! site's moderation rules (blocklist words, the link count); the content classifier
//! ([`broadsheet_domain::spam`], whose catch is held for a moderator); and last, hold
//! everything unless the commenter is known, if the site asks for that.
//!
//! Spam is never dropped: the verdict says why, and the comment is kept with status
//! spam and that reason, so a moderator can rescue it.
//!
//! The form token has no expiry on purpose: article pages are cached, so a form may
//! be rendered long before it is sent. It only proves that the form came from this
//! site and how long ago.

use std::num::NonZeroU32;
use std::sync::Weak;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use broadsheet_domain::comment::CommentSettings;
use broadsheet_domain::{Article, NetworkHash, User, ValidationErrors, spam};
use chrono::{DateTime, TimeDelta, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::OnceCell;

use crate::app::AppState;
use crate::engagement::limits::whole_seconds;
use crate::error::AppError;

/// The name of the honeypot field in the comment form.
pub const HONEYPOT_FIELD: &str = "website_confirm";

/// The fastest a person fills in a comment form, from render to submit.
pub const MIN_FORM_SECONDS: i64 = 3;

/// Comments one network may send per minute (a burst of this many, then one every
/// `60 / n` seconds), per node.
const COMMENTS_PER_MINUTE_PER_NETWORK: u32 = 6;

/// How far back the same text from the same commenter counts as a duplicate.
const DUPLICATE_WINDOW: TimeDelta = TimeDelta::days(1);

/// Akismet's documented test triggers: comments with these always come out as spam.
const AKISMET_SPAM_AUTHOR: &str = "viagra-test-123";
const AKISMET_SPAM_EMAIL: &str = "akismet-guaranteed-spam@example.com";

/// What the comment form sent, with what the server knows about the sender.
pub struct Submission<'a> {
    pub article: &'a Article,
    pub name: &'a str,
    pub email: &'a str,
    pub url: &'a str,
    pub body: &'a str,
    pub honeypot: &'a str,
    pub form_token: &'a str,
    pub network: &'a NetworkHash,
    pub user_agent: &'a str,
    pub signed_in: Option<&'a User>,
    pub now: DateTime<Utc>,
}

/// What becomes of a comment; `Hold` and `Spam` say why, for the moderator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Hold(String),
    Spam(String),
}

/// This node's screening state: the per-network limiter and the form-token key.
pub struct Screen {
    per_network: DefaultKeyedRateLimiter<NetworkHash>,
    clock: DefaultClock,
    /// The database's signing key, read once: the same on every node, so a form
    /// rendered on one node may be sent to another.
    key: OnceCell<[u8; 32]>,
}

impl Default for Screen {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(COMMENTS_PER_MINUTE_PER_NETWORK)
            .expect("the per-network allowance is a positive constant");
        Screen {
            per_network: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
            key: OnceCell::new(),
        }
    }
}

impl Screen {
    async fn key(&self, state: &AppState) -> Result<&[u8; 32], AppError> {
        self.key
            .get_or_try_init(|| async {
                let mut candidate = [0; 32];
                getrandom::fill(&mut candidate).map_err(|e| AppError::internal(e.to_string()))?;
                Ok(state.store.signing_key(candidate).await?)
            })
            .await
    }

    fn take_one(&self, network: &NetworkHash) -> Result<(), AppError> {
        self.per_network.check_key(network).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::TooManyRequests {
                code: "rate_limited",
                message: "Too many comments come from your network right now. Please wait a \
                          moment and try again."
                    .into(),
                retry_after_secs: whole_seconds(wait),
            }
        })
    }
}

/// Every minute, forgets networks whose allowance has fully recovered, so memory
/// follows recent commenters; ends when the state is dropped.
pub async fn forget_idle(screen: Weak<Screen>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.tick().await; // the first tick is immediate
    loop {
        every.tick().await;
        let Some(screen) = screen.upgrade() else {
            break;
        };
        screen.per_network.retain_recent();
        screen.per_network.shrink_to_fit();
    }
}

/// The verdict on a submission. `Err` for one refused outright, to be re-shown: too
/// fast or a duplicate (422, naming the problem on the `comment` field), or
/// rate-limited (429).
pub async fn screen(state: &AppState, s: &Submission<'_>) -> Result<Verdict, AppError> {
    let screen = &state.comment_screen;
    screen.take_one(s.network)?;
    if s.signed_in.is_some() {
        // Newsroom users (Akismet's "administrator" role among them) are trusted.
        return Ok(Verdict::Approve);
    }
    if !s.honeypot.trim().is_empty() {
        return Ok(Verdict::Spam(format!(
            "filled in the hidden {HONEYPOT_FIELD} field"
        )));
    }
    if let Some(reason) = akismet_test_spam(s) {
        return Ok(Verdict::Spam(reason));
    }
    let form_age = form_age(screen.key(state).await?, s.form_token, s.now);
    if form_age.is_some_and(|age| age < TimeDelta::seconds(MIN_FORM_SECONDS)) {
        return Err(ValidationErrors::single(
            "comment",
            "That was quick! Please take a few seconds to read over your comment, then send it again.",
        )
        .into());
    }
    let email = s.email.trim().to_lowercase();
    if state
        .store
        .recent_duplicate(s.article.id, &email, s.body, s.now - DUPLICATE_WINDOW)
        .await?
    {
        return Err(ValidationErrors::single(
            "comment",
            "You have already posted this comment here.",
        )
        .into());
    }
    let settings = &state.chrome().await?.settings.comments;
    if let Some(reason) = held_by_rules(settings, s) {
        return Ok(Verdict::Hold(reason));
    }
    // Held, not marked spam: the model learned from YouTube comments, and a news
    // reader's "can you share the source?" can look like them.
    if spam::shipped().is_spam(s.body) {
        return Ok(Verdict::Hold(
            "the spam filter scored it as likely spam".into(),
        ));
    }
    if form_age.is_none() {
        return Ok(Verdict::Hold(
            "sent without a valid comment form token".into(),
        ));
    }
    if settings.hold_all
        && !(settings.auto_approve_known && state.store.has_approved_comment_from(&email).await?)
    {
        return Ok(Verdict::Hold("every comment is held for moderation".into()));
    }
    Ok(Verdict::Approve)
}

/// The hidden field value the form carries: the render time, signed.
pub async fn form_token(state: &AppState, now: DateTime<Utc>) -> Result<String, AppError> {
    let key = state.comment_screen.key(state).await?;
    Ok(sign(key, now.timestamp_millis()))
}

fn sign(key: &[u8; 32], rendered_ms: i64) -> String {
    let sig = mac(key, rendered_ms).finalize().into_bytes();
    format!("{rendered_ms}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// How long ago the form behind `token` was rendered; `None` for a token this site did
/// not make (or none at all).
fn form_age(key: &[u8; 32], token: &str, now: DateTime<Utc>) -> Option<TimeDelta> {
    let (at, sig) = token.trim().split_once('.')?;
    let rendered_ms: i64 = at.parse().ok()?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    mac(key, rendered_ms).verify_slice(&sig).ok()?;
    Some(TimeDelta::milliseconds(
        now.timestamp_millis().saturating_sub(rendered_ms),
    ))
}

fn mac(key: &[u8; 32], rendered_ms: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    // The purpose prefix keeps these apart from anything else signed with the key.
    mac.update(format!("comment-form:{rendered_ms}").as_bytes());
    mac
}

/// Akismet's documented "always spam" test values.
fn akismet_test_spam(s: &Submission<'_>) -> Option<String> {
    let trigger = if s.name.trim().eq_ignore_ascii_case(AKISMET_SPAM_AUTHOR) {
        "author"
    } else if s.email.trim().eq_ignore_ascii_case(AKISMET_SPAM_EMAIL) {
        "email"
    } else {
        return None;
    };
    Some(format!("Akismet's test {trigger} for spam"))
}

/// The site's hold rules (blocklist words, then the link count), and a client that
/// does not say what it is (browsers and ordinary HTTP libraries all do).
fn held_by_rules(settings: &CommentSettings, s: &Submission<'_>) -> Option<String> {
    if s.user_agent.trim().is_empty() {
        return Some("sent without a User-Agent".into());
    }
    if let Some(word) = settings.blocklist.iter().find(|word| {
        [s.body, s.name, s.email, s.url]
            .iter()
            .any(|f| has_word(f, word))
    }) {
        return Some(format!("contains the blocklisted word \"{}\"", word.trim()));
    }
    let links = spam::count_links(s.body);
    let max = settings.max_links as usize;
    // Zero switches the rule off, as in WordPress.
    (max > 0 && links >= max).then(|| format!("has {links} links (held from {max})"))
}

/// Whether `word` (or phrase) occurs in `text` as a whole word, ignoring case.
fn has_word(text: &str, word: &str) -> bool {
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    text.match_indices(&word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        [before, after]
            .iter()
            .all(|c| c.is_none_or(|c| !c.is_alphanumeric()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_prove_the_render_time_and_nothing_else() {
        let key = [3; 32];
        let now = broadsheet_domain::clock::now();
        let token = sign(&key, (now - TimeDelta::seconds(5)).timestamp_millis());
        assert_eq!(form_age(&key, &token, now), Some(TimeDelta::seconds(5)));
        let (at, sig) = token.split_once('.').unwrap();
        let later = format!("{}.{sig}", at.parse::<i64>().unwrap() + 4000);
        for forged in [
            later.as_str(),
            &token[1..],
            at,
            "",
            "x.y",
            "1.",
            &format!("{at}.AA"),
        ] {
            assert_eq!(form_age(&key, forged, now), None, "{forged}");
        }
        assert_eq!(form_age(&[4; 32], &token, now), None, "another site's key");
    }

    #[test]
    fn blocklist_words_match_whole_words_ignoring_case() {
        assert!(has_word("Buy CASINO chips", "casino"));
        assert!(has_word("casino", " Casino "));
        assert!(has_word("me@casino.example", "casino"));
        assert!(has_word("cheap pills here", "cheap pills"));
        assert!(!has_word("casinos and occasional", "casino"));
        assert!(!has_word("anything", ""));
        assert!(!has_word("Straße", "ss"));
    }
}
