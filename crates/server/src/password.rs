//! Password hashing with argon2id, stored as PHC strings (the parameters travel with
//! each hash, so raising the cost later keeps old hashes verifiable).
//!
//! The cost is 64 MiB of memory, two passes, one lane: 80-95 ms per hash on the
//! project's 2-core machine (`bench/argon2.sh`), inside the 50-100 ms we aim for. The
//! crate's default (19 MiB, two passes) took 12-20 ms there, four times cheaper to
//! guess at from a stolen database; three passes took 110 ms. One lane keeps a
//! sign-in from taking every core of a small server.

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version};
use password_hash::rand_core::OsRng;

/// Memory per hash, in KiB (64 MiB).
const MEMORY_KIB: u32 = 64 * 1024;
/// Passes over the memory.
const PASSES: u32 = 2;
/// Lanes (parallelism).
const LANES: u32 = 1;

fn hasher() -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
        .map_err(|e| anyhow::anyhow!("invalid argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Shortest password accepted.
pub const MIN_LEN: usize = 10;

/// Checks a new password's length; the message names the rule.
pub fn check_strength(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_LEN {
        return Err(format!("must be at least {MIN_LEN} characters"));
    }
    Ok(())
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

/// Checks a password against a stored hash, at the cost the hash was made with.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_argon2id() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=65536,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("x", "not a hash"));
        // Hashes made at another cost (an older version's default) still verify.
        let old = Argon2::default()
            .hash_password(b"old password", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(verify("old password", &old));
        assert!(check_strength("short").unwrap_err().contains("10"));
    }
}
