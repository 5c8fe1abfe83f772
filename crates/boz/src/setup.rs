//! Start-up shared by the commands: settings, cities, the master key, logging, the database.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use boz_common::city::{City, CityCode, CityRegistry, install_registry, registry};
use boz_common::config::{DatabaseUrl, Settings};
use boz_crypto::{KeyVault, keyfile};
use boz_store::Database;
use boz_telemetry::{Redactor, Telemetry, TelemetryConfig};
use zeroize::Zeroizing;

/// Where the master key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `ENCRYPTION_KEY`.
    Environment,
    /// The development key file at this path.
    DevFile { path: PathBuf, created: bool },
}

/// The master key and where it came from.
pub struct MasterKey {
    pub text: Zeroizing<String>,
    pub source: KeySource,
}

/// Reads the settings (environment and `.env`) and installs the configured cities.
pub fn settings() -> Result<Settings> {
    let settings = Settings::load()?;
    let mut registry = CityRegistry::builtin();
    if let Some(path) = &settings.cities_file {
        registry = registry.load_file(path)?;
    }
    install_registry(registry);
    Ok(settings)
}

/// The master key: `ENCRYPTION_KEY`, or in development the key file beside the database
/// (generated on first use). Production without `ENCRYPTION_KEY` was refused by the settings.
pub fn master_key(settings: &Settings) -> Result<MasterKey> {
    if let Some(text) = settings.encryption_key_text() {
        KeyVault::new(text).context("invalid ENCRYPTION_KEY")?;
        return Ok(MasterKey {
            text: Zeroizing::new(text.trim().to_string()),
            source: KeySource::Environment,
        });
    }
    let path = match &settings.database_url {
        DatabaseUrl::Sqlite { path } => keyfile::dev_key_path(Some(path)),
        DatabaseUrl::Postgres { .. } => keyfile::dev_key_path(None),
    };
    let (text, created) = keyfile::load_or_create(&path)?;
    Ok(MasterKey {
        text,
        source: KeySource::DevFile { path, created },
    })
}

/// Installs logging for the process; `secrets` are masked wherever they appear.
/// Logging with every configured secret redacted (`Settings::secret_texts`), plus `extra`
/// secrets that do not come from the settings (a master key read from the dev key file).
pub fn telemetry(settings: &Settings, extra: Vec<String>) -> Result<Telemetry> {
    let mut secrets = settings.secret_texts();
    secrets.extend(extra);
    let config = TelemetryConfig {
        level: settings.log_level,
        format: settings.log_format,
        secrets,
    };
    Ok(boz_telemetry::init(&config)?)
}

/// Logs how the master key was obtained (a warning when a development key was generated).
pub fn report_key_source(key: &MasterKey) {
    if let KeySource::DevFile { path, created } = &key.source {
        if *created {
            tracing::warn!(
                target: "AUTH",
                path = %path.display(),
                "ENCRYPTION_KEY is not set: generated a development key into this file (mode 0600); set ENCRYPTION_KEY in production"
            );
        } else {
            tracing::info!(target: "AUTH", path = %path.display(), "using the development key file (ENCRYPTION_KEY is not set)");
        }
    }
}

/// The cities asked for (codes, any case), or every configured city.
pub fn cities(codes: &[String]) -> Result<Vec<Arc<City>>> {
    if codes.is_empty() {
        return Ok(registry().all());
    }
    codes
        .iter()
        .map(|c| {
            let code = CityCode::parse(&c.to_ascii_uppercase())?;
            code.city()
                .ok_or_else(|| anyhow::anyhow!("city {code} is not configured"))
        })
        .collect()
}

/// Opens the database the settings name.
pub async fn database(settings: &Settings) -> Result<Database> {
    Ok(Database::open(&settings.database_url).await?)
}

/// A redactor for text printed outside the logger (final error messages).
pub fn redactor(settings: Option<&Settings>) -> Redactor {
    Redactor::new(settings.map(Settings::secret_texts).unwrap_or_default())
}

/// An open, migrated database and the pipeline's services on it (real clock, every city).
pub struct Opened {
    pub db: Database,
    pub svc: boz_engine::services::Services,
}

/// Opens and migrates the database and builds the services every job and command uses.
pub async fn services(settings: &Settings) -> Result<Opened> {
    let db = database(settings).await?;
    db.migrate().await?;
    let svc = boz_engine::services::Services::new(
        Arc::new(settings.clone()),
        db.store(),
        Arc::new(boz_common::ports::SystemClock),
        cities(&[])?,
    )?;
    Ok(Opened { db, svc })
}
