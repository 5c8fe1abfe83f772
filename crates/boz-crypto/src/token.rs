//! Session ids, CSRF tokens and personal API tokens: 32 random bytes from the system's secure
//! generator, URL-safe base64 with a readable prefix; stored only as their SHA-256 (hex), so a
//! copy of the database does not let anyone in.

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::password::PasswordError;

/// A new secret: `prefix` and 43 URL-safe base64 characters (256 bits).
pub fn new_secret(prefix: &str) -> Result<String, PasswordError> {
    let mut b = [0u8; 32];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| PasswordError::Random)?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    ))
}

/// What is stored for a secret: its SHA-256, hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_prefixed_and_hashed() {
        let a = new_secret("boz_").unwrap();
        let b = new_secret("boz_").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("boz_"));
        assert_eq!(a.len(), 4 + 43);
        let h = hash_secret(&a);
        assert_eq!(h.len(), 64);
        assert_eq!(h, hash_secret(&a));
        assert_ne!(h, hash_secret(&b));
        assert!(!h.contains(&a[4..]));
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret(&a, "short"));
    }
}
