//! Signed, expiring preview links: `/preview/{id}?expires=<unix>&sig=<hex>`, so a
//! writer can show an unpublished article to someone without an account.
//!
//! The signature is HMAC-SHA256 over the article id and the expiry, keyed with the
//! database's signing key ([`crate::signing`]), so a link made on one node
//! works on every node and survives restarts. Changing the id or the expiry breaks the
//! signature; the comparison is constant-time.

use broadsheet_domain::{ArticleId, RevisionStore};
use chrono::{DateTime, TimeDelta, Utc};

use crate::error::AppError;
use crate::signing::SigningKey;

/// How long a link works.
pub const VALID_FOR: TimeDelta = TimeDelta::days(7);

/// The key links are signed with.
pub struct PreviewLinks {
    key: SigningKey,
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
        Ok(PreviewLinks {
            key: SigningKey::load(store).await?,
        })
    }

    /// A link to `article` that works until `now` + [`VALID_FOR`], and that instant.
    pub fn link(&self, article: ArticleId, now: DateTime<Utc>) -> (String, DateTime<Utc>) {
        let expires = now + VALID_FOR;
        let at = expires.timestamp();
        let sig = self.key.sign(&message(article, at));
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
        if !self.key.verify(&message(article, expires), sig) {
            return Err(LinkProblem::BadSignature);
        }
        if now.timestamp() >= expires {
            return Err(LinkProblem::Expired);
        }
        Ok(())
    }
}

/// What a link signs. The separator keeps (1, 23…) and (12, 3…) apart.
fn message(article: ArticleId, expires: i64) -> String {
    format!("preview:{article}:{expires}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links() -> PreviewLinks {
        PreviewLinks {
            key: SigningKey::from_bytes([7; 32]),
        }
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
        let other = PreviewLinks {
            key: SigningKey::from_bytes([8; 32]),
        };
        assert_eq!(
            other.verify(ArticleId(12), at, &sig, now),
            Err(LinkProblem::BadSignature)
        );
    }
}
