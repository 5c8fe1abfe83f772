//! `boz-crypto`: the key vault (users' Kalshi private keys encrypted at rest with AES-256-GCM,
//! legacy Fernet tokens readable), the development key file, and the Kalshi request signer.
//!
//! Log tag: AUTH. May depend on: `boz-common` and external crates (layer L0).
//! Nothing here logs or formats key material: errors name what was wrong, never the secret.

pub mod keyfile;
pub mod password;
pub mod signer;
pub mod token;
pub mod vault;

pub use signer::{KalshiSigner, SignerError};
pub use vault::{KeyVault, VaultError, generate_master_key};
