//! The Kalshi request signer.
//!
//! `KALSHI-ACCESS-SIGNATURE` = base64(RSA-PSS(SHA-256, MGF1-SHA-256, 32-byte salt) over
//! `timestamp_ms + METHOD + path`), where the path starts at `/trade-api/...` and has its query
//! string removed; the body is not signed. Keys come as PKCS#1 (`RSA PRIVATE KEY`, what Kalshi
//! hands out) or PKCS#8 (`PRIVATE KEY`) PEM.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// Why a private key or a signature was refused. Never contains key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignerError {
    #[error("private key is not PEM: {0}")]
    NotPem(String),
    #[error("private key PEM label {0:?} is not RSA PRIVATE KEY or PRIVATE KEY")]
    UnsupportedLabel(String),
    #[error("private key was rejected: {0}")]
    Rejected(String),
    #[error("signing failed")]
    SigningFailed,
}

/// Header names of Kalshi's authentication.
pub const HEADER_KEY: &str = "KALSHI-ACCESS-KEY";
pub const HEADER_TIMESTAMP: &str = "KALSHI-ACCESS-TIMESTAMP";
pub const HEADER_SIGNATURE: &str = "KALSHI-ACCESS-SIGNATURE";

/// Signs Kalshi requests with one account's RSA key.
pub struct KalshiSigner {
    key: RsaKeyPair,
    rng: SystemRandom,
}

impl std::fmt::Debug for KalshiSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KalshiSigner(<redacted>)")
    }
}

/// The message Kalshi signs: `timestamp_ms + METHOD + path` without the query string.
pub fn signing_message(timestamp_ms: i64, method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    format!("{timestamp_ms}{}{path}", method.to_ascii_uppercase())
}

impl KalshiSigner {
    /// Parses a PKCS#1 or PKCS#8 PEM private key.
    pub fn from_pem(pem_text: &str) -> Result<KalshiSigner, SignerError> {
        let parsed = pem::parse(pem_text.trim()).map_err(|e| SignerError::NotPem(e.to_string()))?;
        let der = Zeroizing::new(parsed.contents().to_vec());
        let key = match parsed.tag() {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            other => {
                return Err(SignerError::UnsupportedLabel(
                    other.chars().take(40).collect(),
                ));
            }
        }
        .map_err(|e| SignerError::Rejected(e.to_string()))?;
        Ok(KalshiSigner {
            key,
            rng: SystemRandom::new(),
        })
    }

    /// The signature (base64) for a request.
    pub fn sign(&self, timestamp_ms: i64, method: &str, path: &str) -> Result<String, SignerError> {
        let msg = signing_message(timestamp_ms, method, path);
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        self.key
            .sign(&RSA_PSS_SHA256, &self.rng, msg.as_bytes(), &mut sig)
            .map_err(|_| SignerError::SigningFailed)?;
        Ok(STANDARD.encode(sig))
    }

    /// The three authentication headers for a request.
    pub fn headers(
        &self,
        api_key_id: &str,
        timestamp_ms: i64,
        method: &str,
        path: &str,
    ) -> Result<[(&'static str, String); 3], SignerError> {
        Ok([
            (HEADER_KEY, api_key_id.to_string()),
            (HEADER_TIMESTAMP, timestamp_ms.to_string()),
            (HEADER_SIGNATURE, self.sign(timestamp_ms, method, path)?),
        ])
    }

    /// The DER `RSAPublicKey` (PKCS#1) of the key, to verify signatures.
    pub fn public_key_der(&self) -> Vec<u8> {
        use aws_lc_rs::signature::KeyPair;
        self.key.public_key().as_ref().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::{KeyPair, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};

    /// A fresh key as (PKCS#1 PEM, PKCS#8 PEM, public key DER).
    fn fresh_key() -> (String, String, Vec<u8>) {
        let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let pkcs8 = kp.as_der().unwrap().as_ref().to_vec();
        let info = pkcs8::PrivateKeyInfo::try_from(pkcs8.as_slice()).unwrap();
        let pkcs1 = info.private_key.to_vec();
        let public = kp.public_key().as_ref().to_vec();
        (
            pem::encode(&pem::Pem::new("RSA PRIVATE KEY", pkcs1)),
            pem::encode(&pem::Pem::new("PRIVATE KEY", pkcs8)),
            public,
        )
    }

    fn verify(public: &[u8], msg: &str, sig_b64: &str) -> bool {
        let sig = STANDARD.decode(sig_b64).unwrap();
        UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, public)
            .verify(msg.as_bytes(), &sig)
            .is_ok()
    }

    #[test]
    fn signature_verifies_with_the_public_key_for_both_pem_forms() {
        let (pkcs1, pkcs8, public) = fresh_key();
        for pem_text in [&pkcs1, &pkcs8] {
            let s = KalshiSigner::from_pem(pem_text).unwrap();
            assert_eq!(s.public_key_der(), public);
            let ts = 1_767_225_600_123i64;
            let sig = s
                .sign(
                    ts,
                    "get",
                    "/trade-api/v2/portfolio/orders?limit=5&cursor=abc",
                )
                .unwrap();
            // Exactly what Kalshi verifies: ms timestamp, upper-case method, path without query.
            assert!(verify(
                &public,
                "1767225600123GET/trade-api/v2/portfolio/orders",
                &sig
            ));
            assert!(!verify(
                &public,
                "1767225600123GET/trade-api/v2/portfolio/orders?limit=5&cursor=abc",
                &sig
            ));
            assert!(!verify(
                &public,
                "1767225600GET/trade-api/v2/portfolio/orders",
                &sig
            ));
        }
    }

    #[test]
    fn signatures_are_pss_with_a_32_byte_salt() {
        // PSS is randomised: two signatures differ, both verify. aws-lc's verifier for
        // RSA_PSS_2048_8192_SHA256 requires salt length = digest length (32 bytes).
        let (pkcs1, _, public) = fresh_key();
        let s = KalshiSigner::from_pem(&pkcs1).unwrap();
        let a = s
            .sign(1, "POST", "/trade-api/v2/portfolio/events/orders")
            .unwrap();
        let b = s
            .sign(1, "POST", "/trade-api/v2/portfolio/events/orders")
            .unwrap();
        assert_ne!(a, b);
        assert!(verify(
            &public,
            "1POST/trade-api/v2/portfolio/events/orders",
            &a
        ));
        assert!(verify(
            &public,
            "1POST/trade-api/v2/portfolio/events/orders",
            &b
        ));
        let h = s
            .headers("key-id", 1, "POST", "/trade-api/v2/portfolio/events/orders")
            .unwrap();
        assert_eq!(h[0], (HEADER_KEY, "key-id".to_string()));
        assert_eq!(h[1], (HEADER_TIMESTAMP, "1".to_string()));
        assert!(verify(
            &public,
            "1POST/trade-api/v2/portfolio/events/orders",
            &h[2].1
        ));
    }

    #[test]
    fn websocket_handshake_message() {
        assert_eq!(
            signing_message(42, "GET", "/trade-api/ws/v2"),
            "42GET/trade-api/ws/v2"
        );
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        assert!(matches!(
            KalshiSigner::from_pem("not a key"),
            Err(SignerError::NotPem(_))
        ));
        let cert = pem::encode(&pem::Pem::new("CERTIFICATE", vec![1, 2, 3]));
        assert!(matches!(
            KalshiSigner::from_pem(&cert),
            Err(SignerError::UnsupportedLabel(_))
        ));
        let junk = pem::encode(&pem::Pem::new("RSA PRIVATE KEY", vec![0x30, 0x03, 1, 2, 3]));
        let e = KalshiSigner::from_pem(&junk).unwrap_err();
        assert!(matches!(e, SignerError::Rejected(_)));
        assert!(!e.to_string().contains("MAM"));
        let (pkcs1, _, _) = fresh_key();
        assert_eq!(
            format!("{:?}", KalshiSigner::from_pem(&pkcs1).unwrap()),
            "KalshiSigner(<redacted>)"
        );
    }
}
