//! The site's signing key and the HMAC signatures made with it, for links that must
//! work without a session: preview links and the one-click stop links in comment
//! notifications.
//!
//! The key lives in the database ([`RevisionStore::signing_key`]), so a link made on
//! one node works on every node and survives restarts. Each kind of link signs its
//! own prefixed message (`preview:…`, `stop:…`), so a signature for one kind is never
//! accepted as another. Comparisons are constant-time.

use broadsheet_domain::{RevisionStore, StoreError};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key links are signed with.
#[derive(Clone)]
pub struct SigningKey {
    key: [u8; 32],
}

impl SigningKey {
    /// The site's key: the one in the database, or a new random one if there is none.
    pub async fn load(store: &dyn RevisionStore) -> Result<SigningKey, StoreError> {
        let mut candidate = [0; 32];
        getrandom::fill(&mut candidate).map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(SigningKey {
            key: store.signing_key(candidate).await?,
        })
    }

    /// A key from known bytes, for tests.
    pub fn from_bytes(key: [u8; 32]) -> SigningKey {
        SigningKey { key }
    }

    /// The signature of `message`, in lowercase hex.
    pub fn sign(&self, message: &str) -> String {
        hmac_sha256_hex(&self.key, message.as_bytes())
    }

    /// Whether `signature` (hex, either case) is this key's signature of `message`.
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        unhex(signature).is_some_and(|sig| self.mac(message).verify_slice(&sig).is_ok())
    }

    fn mac(&self, message: &str) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(message.as_bytes());
        mac
    }
}

/// HMAC-SHA256 of `message` under any `key`, in lowercase hex: what webhook
/// deliveries are signed with (each webhook has its own secret).
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
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

    #[test]
    fn a_signature_verifies_only_its_message_under_its_key() {
        let key = SigningKey::from_bytes([7; 32]);
        let sig = key.sign("stop:12");
        assert!(key.verify("stop:12", &sig));
        assert!(key.verify("stop:12", &sig.to_uppercase()));
        for bad in [&sig[2..], "zz", "é", ""] {
            assert!(!key.verify("stop:12", bad), "{bad}");
        }
        assert!(!key.verify("stop:13", &sig));
        assert!(!SigningKey::from_bytes([8; 32]).verify("stop:12", &sig));
    }
}
