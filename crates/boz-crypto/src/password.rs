//! Passwords: Argon2id hashes in PHC strings (the `argon2` crate's defaults, a random 16-byte
//! salt), and one-time passwords from the system's secure random generator.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Why a password could not be hashed or a stored hash read.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the system random generator failed")]
    Random,
    #[error("the password cannot be hashed: {0}")]
    Hash(String),
    #[error("the stored password hash is not a PHC string: {0}")]
    Stored(String),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], PasswordError> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| PasswordError::Random)?;
    Ok(b)
}

/// The Argon2id hash of `password` as a PHC string (`$argon2id$v=19$...`).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC hash.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|e| PasswordError::Stored(e.to_string()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// A one-time password: 20 characters from an unambiguous alphabet (about 100 bits).
pub fn one_time_password() -> Result<String, PasswordError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = random_bytes::<20>()?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let pw = one_time_password().unwrap();
        assert_eq!(pw.len(), 20);
        let h = hash_password(&pw).unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains(&pw));
        assert!(verify_password(&pw, &h).unwrap());
        assert!(!verify_password("wrong", &h).unwrap());
        // a new salt each time
        assert_ne!(h, hash_password(&pw).unwrap());
        assert!(matches!(
            verify_password(&pw, "not a hash"),
            Err(PasswordError::Stored(_))
        ));
    }

    #[test]
    fn one_time_passwords_differ() {
        assert_ne!(one_time_password().unwrap(), one_time_password().unwrap());
    }
}
