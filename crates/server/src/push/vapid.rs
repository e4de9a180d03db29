//! The site's VAPID key (RFC 8292): a P-256 key pair made on first start and kept in
//! a PKCS#8 PEM file readable by its owner only. Browsers subscribe with its public
//! half (`applicationServerKey`); every push carries a JWT signed with the private half,
//! which the push service checks against the key the subscription was made with.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};

/// How long a VAPID token is valid; RFC 8292 allows at most 24 hours.
const TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(12);

pub struct VapidKey {
    signing: SigningKey,
    /// The public key as browsers take it: the uncompressed point, base64url.
    public: String,
}

impl std::fmt::Debug for VapidKey {
    /// Shows the public half only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl VapidKey {
    fn new(secret: p256::SecretKey) -> VapidKey {
        let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false));
        VapidKey {
            signing: SigningKey::from(secret),
            public,
        }
    }

    /// Reads the key at `path`, or makes one and writes it there (mode 0600) when the
    /// file does not exist. Processes starting together agree on one key: the file
    /// appears whole, once (written aside, then linked into place).
    pub fn load_or_create(path: &Path) -> anyhow::Result<VapidKey> {
        match fs::read_to_string(path) {
            Ok(pem) => return Self::parse(path, &pem),
            Err(err) if err.kind() == ErrorKind::NotFound => {}
            Err(err) => {
                return Err(err).with_context(|| format!("cannot read {}", path.display()));
            }
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let secret = random_secret()?;
        let pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .context("cannot encode the VAPID key")?;
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let aside = path.with_extension(format!("tmp-{}", u64::from_le_bytes(suffix)));
        let written = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&aside)?;
            file.write_all(pem.as_bytes())?;
            file.sync_all()
        })();
        written.with_context(|| format!("cannot write {}", aside.display()))?;
        let linked = fs::hard_link(&aside, path);
        let _ = fs::remove_file(&aside);
        match linked {
            Ok(()) => {
                tracing::info!(file = %path.display(), "made the site's VAPID key for web push");
                Ok(VapidKey::new(secret))
            }
            // Another process made one first: use it.
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {
                let pem = fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                Self::parse(path, &pem)
            }
            Err(err) => Err(err).with_context(|| format!("cannot write {}", path.display())),
        }
    }

    fn parse(path: &Path, pem: &str) -> anyhow::Result<VapidKey> {
        let secret = p256::SecretKey::from_pkcs8_pem(pem).with_context(|| {
            format!(
                "{} is not a P-256 private key in PKCS#8 PEM; move it away to make a new \
                 one (browsers then need to subscribe again)",
                path.display()
            )
        })?;
        if let Ok(meta) = fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                file = %path.display(),
                "the VAPID private key is readable by others; chmod 600 it"
            );
        }
        Ok(VapidKey::new(secret))
    }

    /// The public key (the uncompressed P-256 point, base64url without padding), as
    /// `PushManager.subscribe({applicationServerKey})` takes it.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292 section 3):
    /// `vapid t=<JWT>, k=<public key>`, the JWT's audience being the endpoint's
    /// origin.
    pub fn authorization(
        &self,
        endpoint: &reqwest::Url,
        subject: &str,
        now: DateTime<Utc>,
    ) -> String {
        let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": (now + TOKEN_LIFETIME).timestamp(),
            "sub": subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        // ES256 is the raw 64-byte r || s, not DER (RFC 7518 section 3.4).
        let signature: Signature = self.signing.sign(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
        format!("vapid t={signed}.{signature}, k={}", self.public)
    }
}

fn random_secret() -> anyhow::Result<p256::SecretKey> {
    loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // Zero or past the group order (odds about 2^-32): draw again.
        if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
            return Ok(secret);
        }
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier as _;

    use super::*;

    #[test]
    fn made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/vapid.pem");
        let made = VapidKey::load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = VapidKey::load_or_create(&path).unwrap();
        assert_eq!(made.public_key(), again.public_key());
        assert_eq!(URL_SAFE_NO_PAD.decode(made.public_key()).unwrap().len(), 65);
        assert!(!format!("{made:?}").contains("signing"));
        // No leftovers beside it.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_damaged_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vapid.pem");
        fs::write(&path, "not a key").unwrap();
        let err = VapidKey::load_or_create(&path).unwrap_err().to_string();
        assert!(err.contains("vapid.pem"), "{err}");
    }

    #[test]
    fn the_token_verifies_with_the_public_key() {
        let dir = tempfile::tempdir().unwrap();
        let key = VapidKey::load_or_create(&dir.path().join("v.pem")).unwrap();
        let endpoint: reqwest::Url = "https://push.example.net:8443/send/abc".parse().unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let header = key.authorization(&endpoint, "mailto:desk@example.org", now);
        let (t, k) = header
            .strip_prefix("vapid t=")
            .unwrap()
            .split_once(", k=")
            .unwrap();
        assert_eq!(k, key.public_key());
        let (signed, signature) = t.rsplit_once('.').unwrap();
        let (_, claims) = signed.split_once('.').unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_800_000_000 + 12 * 3600);
        assert_eq!(claims["sub"], "mailto:desk@example.org");
        let point = URL_SAFE_NO_PAD.decode(k).unwrap();
        let verifying = VerifyingKey::from_sec1_bytes(&point).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
        verifying.verify(signed.as_bytes(), &signature).unwrap();
    }
}
