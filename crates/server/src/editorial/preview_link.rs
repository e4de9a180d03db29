//! Signed, expiring preview links: `/preview/{id}?expires=<unix>&sig=<hex>`, so a
//! writer can show an unpublished article to someone without an account.
//!
//! The signature is HMAC-SHA256 over the article id and the expiry, keyed with the
//! database's signing key ([`RevisionStore::signing_key`]), so a link made on one node
//! works on every node and survives restarts. Changing the id or the expiry breaks the
//! signature; the comparison is constant-time.

use broadsheet_domain::{ArticleId, RevisionStore};
use chrono::{DateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::AppError;

/// How long a link works.
pub const VALID_FOR: TimeDelta = TimeDelta::days(7);

/// The key links are signed with.
pub struct PreviewLinks {
    key: [u8; 32],
}

/// Why a link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not a link this site made (or one that was changed).
    BadSignature,
    /// A link this site made, too old.
    Expired,
}

impl PreviewLinks {
    /// The site's key: the one in the database, or a new random one if there is none.
    pub async fn load(store: &dyn RevisionStore) -> Result<PreviewLinks, AppError> {
        let mut candidate = [0; 32];
        getrandom::fill(&mut candidate).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(PreviewLinks {
            key: store.signing_key(candidate).await?,
        })
    }

    /// A link to `article` that works until `now` + [`VALID_FOR`], and that instant.
    pub fn link(&self, article: ArticleId, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let expires = now + VALID_FOR;
        let at = expires.timestamp();
        let sig = hex(&self.mac(article, at).finalize().into_bytes());
        (
            format!("/preview/{article}?expires={at}&sig={sig}"),
            expires,
        )
    }

    /// Checks a link's `expires` and `sig` for `article` at `now`.
    pub fn verify(
        &self,
        article: ArticleId,
        expires: i64,
        sig: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LinkProblem> {
        let sig = unhex(sig).ok_or(LinkProblem::BadSignature)?;
        self.mac(article, expires)
            .verify_slice(&sig)
            .map_err(|_| LinkProblem::BadSignature)?;
        if now.timestamp() >= expires {
            return Err(LinkProblem::Expired);
        }
        Ok(())
    }

    fn mac(&self, article: ArticleId, expires: i64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        // The separator keeps (1, 23…) and (12, 3…) apart.
        mac.update(format!("preview:{article}:{expires}").as_bytes());
        mac
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase or uppercase hex to bytes; `None` for anything else.
fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> PreviewLinks {
        PreviewLinks { key: [7; 32] }
    }

    fn parts(link: &str) -> (i64, String) {
        let query = link.split_once('?').unwrap().1;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        (pairs[0].1.parse().unwrap(), pairs[1].1.clone())
    }

    #[test]
    fn a_link_works_until_it_expires_and_only_for_its_article() {
        let now = broadsheet_domain::clock::now();
        let (link, expires) = links().link(ArticleId(12), now);
        assert!(link.starts_with("/preview/12?expires="));
        assert_eq!(expires, now + VALID_FOR);
        let (at, sig) = parts(&link);
        assert_eq!(links().verify(ArticleId(12), at, &sig, now), Ok(()));
        assert_eq!(
            links().verify(ArticleId(12), at, &sig.to_uppercase(), now),
            Ok(())
        );
        assert_eq!(
            links().verify(ArticleId(12), at, &sig, expires),
            Err(LinkProblem::Expired)
        );
        for (id, at, sig) in [
            (13, at, sig.as_str()),
            (12, at + 3600, sig.as_str()),
            (12, at, &sig[2..]),
            (12, at, "zz"),
            (12, at, "é"),
            (12, at, ""),
        ] {
            assert_eq!(
                links().verify(ArticleId(id), at, sig, now),
                Err(LinkProblem::BadSignature),
                "{id} {at} {sig}"
            );
        }
        let other = PreviewLinks { key: [8; 32] };
        assert_eq!(
            other.verify(ArticleId(12), at, &sig, now),
            Err(LinkProblem::BadSignature)
        );
    }
}
