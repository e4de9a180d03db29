//! Password hashing with argon2id, stored as PHC strings (the parameters travel with
//! each hash, so raising the cost later keeps old hashes verifiable).

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use password_hash::rand_core::OsRng;

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
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash password: {e}"))
}

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
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("x", "not a hash"));
        assert!(check_strength("short").unwrap_err().contains("10"));
    }
}
