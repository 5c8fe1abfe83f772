//! The key vault: users' Kalshi private keys encrypted at rest.
//!
//! Token format (version 1): `v1.<kid>.<base64url(nonce ‖ ciphertext ‖ tag)>`
//! - AES-256-GCM with a random 96-bit nonce per encryption;
//! - the AES key is derived from the master key (`ENCRYPTION_KEY`) with HKDF-SHA256, so the same
//!   master key can also read the seed's Fernet tokens without using one key for two ciphers;
//! - `kid` is a short fingerprint of the master key, so a token under another key is reported as
//!   such instead of as tampering;
//! - the associated data binds the version, the key id and the **user id**: a token copied to
//!   another user's row does not decrypt.
//!
//! Tokens made by the original Python deployment (`cryptography`'s Fernet with the same
//! `ENCRYPTION_KEY`) are recognised by their `gAAAAA` prefix and can be read; `boz keys rotate`
//! re-encrypts them in the current format.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

const VERSION: &str = "v1";
const HKDF_INFO: &[u8] = b"boz-weather-trader/key-vault/aes-256-gcm/v1";
const FERNET_PREFIX: &str = "gAAAAA";

/// Why a key or token was refused. Messages never contain key material or plaintext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("ENCRYPTION_KEY is not valid: {0}")]
    InvalidMasterKey(&'static str),
    #[error("encrypted key is malformed: {0}")]
    Malformed(&'static str),
    #[error("encrypted key uses unsupported format version {0:?}")]
    UnsupportedVersion(String),
    #[error("encrypted key was made with another master key (key id {found}, current {current})")]
    WrongMasterKey { found: String, current: String },
    #[error("encrypted key failed authentication: it was altered or belongs to another user")]
    AuthenticationFailed,
    #[error("legacy Fernet token could not be decrypted with the current ENCRYPTION_KEY")]
    LegacyDecryptFailed,
    #[error("decrypted key is not valid UTF-8")]
    NotUtf8,
    #[error("the system random number generator failed")]
    Random,
}

/// Generates a new master key: 32 random bytes, URL-safe base64 (the seed's Fernet key format).
pub fn generate_master_key() -> Result<Zeroizing<String>, VaultError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| VaultError::Random)?;
    Ok(Zeroizing::new(URL_SAFE.encode(bytes.as_ref())))
}

/// Encrypts and decrypts users' private keys under one master key.
pub struct KeyVault {
    aead: LessSafeKey,
    kid: String,
    /// The master key text, kept only to read legacy Fernet tokens.
    fernet_key: Zeroizing<String>,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVault")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn decode_master(text: &str) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    let t = text.trim();
    let bytes = URL_SAFE
        .decode(t)
        .or_else(|_| STANDARD.decode(t))
        .or_else(|_| URL_SAFE_NO_PAD.decode(t))
        .map_err(|_| VaultError::InvalidMasterKey("not base64"))?;
    let bytes = Zeroizing::new(bytes);
    if bytes.len() != 32 {
        return Err(VaultError::InvalidMasterKey(
            "must decode to 32 bytes (generate one with `boz keygen`)",
        ));
    }
    Ok(bytes)
}

impl KeyVault {
    /// A vault for the master key text (`ENCRYPTION_KEY`).
    pub fn new(master_key: &str) -> Result<KeyVault, VaultError> {
        let bytes = decode_master(master_key)?;
        let kid = hex::encode(
            &Sha256::new_with_prefix(b"boz-key-id")
                .chain_update(&*bytes)
                .finalize()[..4],
        );
        let prk = Salt::new(HKDF_SHA256, &[]).extract(&bytes);
        let info = [HKDF_INFO];
        let okm = prk
            .expand(&info, &AES_256_GCM)
            .map_err(|_| VaultError::InvalidMasterKey("key derivation failed"))?;
        let aead = LessSafeKey::new(UnboundKey::from(okm));
        // Fernet wants URL-safe base64 with padding.
        let fernet_key = Zeroizing::new(URL_SAFE.encode(&*bytes));
        Ok(KeyVault {
            aead,
            kid,
            fernet_key,
            rng: SystemRandom::new(),
        })
    }

    /// The fingerprint of the master key written into every token.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    fn aad(&self, user_id: &str) -> Vec<u8> {
        format!("{VERSION}.{}.{user_id}", self.kid).into_bytes()
    }

    /// Encrypts a user's private key.
    pub fn encrypt(&self, user_id: &str, plaintext: &str) -> Result<String, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| VaultError::Random)?;
        let mut buf = Zeroizing::new(plaintext.as_bytes().to_vec());
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(user_id)),
                &mut *buf,
            )
            .map_err(|_| VaultError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(format!(
            "{VERSION}.{}.{}",
            self.kid,
            URL_SAFE_NO_PAD.encode(out)
        ))
    }

    /// Whether a stored token is in the legacy Fernet format (to be re-encrypted).
    pub fn is_legacy(token: &str) -> bool {
        token.starts_with(FERNET_PREFIX)
    }

    /// Decrypts a user's private key (current format, or a legacy Fernet token).
    pub fn decrypt(&self, user_id: &str, token: &str) -> Result<Zeroizing<String>, VaultError> {
        if KeyVault::is_legacy(token) {
            return self.decrypt_fernet(token);
        }
        let mut parts = token.splitn(3, '.');
        let (Some(version), Some(kid), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Malformed("expected v1.<key id>.<data>"));
        };
        if version != VERSION {
            return Err(VaultError::UnsupportedVersion(
                version.chars().take(8).collect(),
            ));
        }
        if kid != self.kid {
            return Err(VaultError::WrongMasterKey {
                found: kid.chars().take(16).collect(),
                current: self.kid.clone(),
            });
        }
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| VaultError::Malformed("data is not base64"))?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(VaultError::Malformed("data is too short"));
        }
        let (nonce, sealed) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| VaultError::Malformed("bad nonce"))?;
        let mut buf = Zeroizing::new(sealed.to_vec());
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(self.aad(user_id)), &mut buf)
            .map_err(|_| VaultError::AuthenticationFailed)?;
        let text = std::str::from_utf8(plain).map_err(|_| VaultError::NotUtf8)?;
        Ok(Zeroizing::new(text.to_string()))
    }

    fn decrypt_fernet(&self, token: &str) -> Result<Zeroizing<String>, VaultError> {
        let f = fernet::Fernet::new(&self.fernet_key)
            .ok_or(VaultError::InvalidMasterKey("not a Fernet key"))?;
        let plain = Zeroizing::new(
            f.decrypt(token.trim())
                .map_err(|_| VaultError::LegacyDecryptFailed)?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| VaultError::NotUtf8)?;
        Ok(Zeroizing::new(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fixed key and a token made with Python's `cryptography` 48.0.0:
    /// `Fernet(base64.urlsafe_b64encode(bytes(range(32)))).encrypt(b'legacy-python-kalshi-key-material')`.
    const PY_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    const PY_TOKEN: &str = "gAAAAABrCjDyYVTz5_YM3I6w0ml4Im4p_t8-gULgEvmfWWlWMy5J77k9jASXbz-u54ePZVml1-pLp2RX7yYTqB3aflrnIhbBVpIAIr08EAzTjQBqczB-Ycui9Z0gNomhOgnNjKZYpW5k";

    fn vault() -> KeyVault {
        KeyVault::new(&generate_master_key().unwrap()).unwrap()
    }

    #[test]
    fn round_trip_and_fresh_nonces() {
        let v = vault();
        let a = v.encrypt("user-1", "private key text").unwrap();
        let b = v.encrypt("user-1", "private key text").unwrap();
        assert_ne!(a, b, "each encryption uses a new nonce");
        assert!(a.starts_with(&format!("v1.{}.", v.key_id())));
        assert_eq!(&*v.decrypt("user-1", &a).unwrap(), "private key text");
        assert!(!a.contains("private"));
    }

    #[test]
    fn a_flipped_byte_is_detected_anywhere() {
        let v = vault();
        let token = v.encrypt("user-1", "secret").unwrap();
        let prefix = format!("v1.{}.", v.key_id());
        let raw = URL_SAFE_NO_PAD.decode(&token[prefix.len()..]).unwrap();
        for i in 0..raw.len() {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            let t = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(&bad));
            assert_eq!(
                v.decrypt("user-1", &t).unwrap_err(),
                VaultError::AuthenticationFailed
            );
        }
    }

    #[test]
    fn another_users_id_does_not_decrypt() {
        let v = vault();
        let token = v.encrypt("alice", "secret").unwrap();
        assert_eq!(
            v.decrypt("bob", &token).unwrap_err(),
            VaultError::AuthenticationFailed
        );
    }

    #[test]
    fn another_master_key_is_named_as_such() {
        let token = vault().encrypt("u", "secret").unwrap();
        assert!(matches!(
            vault().decrypt("u", &token),
            Err(VaultError::WrongMasterKey { .. })
        ));
    }

    #[test]
    fn malformed_tokens_and_keys() {
        let v = vault();
        assert!(matches!(
            v.decrypt("u", "garbage"),
            Err(VaultError::Malformed(_))
        ));
        assert!(matches!(
            v.decrypt("u", "v9.x.y"),
            Err(VaultError::UnsupportedVersion(_))
        ));
        let short = format!("v1.{}.AAAA", v.key_id());
        assert!(matches!(
            v.decrypt("u", &short),
            Err(VaultError::Malformed(_))
        ));
        assert!(matches!(
            KeyVault::new("short"),
            Err(VaultError::InvalidMasterKey(_))
        ));
        assert!(matches!(
            KeyVault::new(&URL_SAFE.encode([0u8; 16])),
            Err(VaultError::InvalidMasterKey(_))
        ));
    }

    #[test]
    fn python_fernet_token_decrypts() {
        let v = KeyVault::new(PY_KEY).unwrap();
        assert!(KeyVault::is_legacy(PY_TOKEN));
        assert_eq!(
            &*v.decrypt("any-user", PY_TOKEN).unwrap(),
            "legacy-python-kalshi-key-material"
        );
        // And a re-encryption in the current format reads back.
        let t = v
            .encrypt("u1", "legacy-python-kalshi-key-material")
            .unwrap();
        assert_eq!(
            &*v.decrypt("u1", &t).unwrap(),
            "legacy-python-kalshi-key-material"
        );
        // The wrong key cannot read it.
        assert_eq!(
            vault().decrypt("u1", PY_TOKEN).unwrap_err(),
            VaultError::LegacyDecryptFailed
        );
        // A flipped character in the Fernet token is detected.
        let mut bad = PY_TOKEN.to_string().into_bytes();
        bad[60] = if bad[60] == b'A' { b'B' } else { b'A' };
        let bad = String::from_utf8(bad).unwrap();
        assert_eq!(
            v.decrypt("u1", &bad).unwrap_err(),
            VaultError::LegacyDecryptFailed
        );
    }

    #[test]
    fn errors_never_carry_secrets() {
        let v = vault();
        let token = v.encrypt("alice", "TOPSECRET").unwrap();
        let e = v.decrypt("bob", &token).unwrap_err();
        assert!(!e.to_string().contains("TOPSECRET"));
        assert!(!format!("{v:?}").contains(&*v.fernet_key));
    }
}
