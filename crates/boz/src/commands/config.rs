//! `boz config check`.

use anyhow::Result;
use boz_common::city::registry;

use crate::setup;

/// Validates the settings (and the key, if set) and prints the effective configuration.
pub fn check() -> Result<()> {
    let settings = setup::settings()?;
    if let Some(text) = settings.encryption_key_text() {
        boz_crypto::KeyVault::new(text)
            .map_err(|e| anyhow::anyhow!("invalid ENCRYPTION_KEY: {e}"))?;
    }
    println!("Effective configuration (secrets redacted):");
    for (name, value, origin) in settings.effective() {
        println!("  {name:<32} {value}  ({origin})");
    }
    if settings.encryption_key.is_none() {
        let db_file = match &settings.database_url {
            boz_common::config::DatabaseUrl::Sqlite { path } => Some(path.as_path()),
            boz_common::config::DatabaseUrl::Postgres { .. } => None,
        };
        println!(
            "ENCRYPTION_KEY is unset: the development key file {} is used (created on first run).",
            boz_crypto::keyfile::dev_key_path(db_file).display()
        );
    }
    let cities: Vec<String> = registry()
        .all()
        .iter()
        .map(|c| format!("{} ({}, {})", c.code, c.station_id, c.kalshi_series))
        .collect();
    println!("Cities: {}", cities.join(", "));
    println!("Configuration is valid.");
    Ok(())
}
