//! What every job uses: the settings, the store, the clock, the cities, and the NWS,
//! Open-Meteo and Kalshi clients built from the settings (each with its timeout, rate limit and
//! retries of idempotent calls), and the notifier.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use boz_common::city::City;
use boz_common::config::Settings;
use boz_common::ports::{Clock, Notifier, Store, StoredUser};
use boz_crypto::KalshiSigner;
use boz_kalshi::rest::{Credentials, KalshiClient, KalshiConfig};
use boz_weather::http::RetryPolicy;
use boz_weather::{NwsClient, NwsConfig, OpenMeteoClient, OpenMeteoConfig};
use chrono::Duration;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::{Context, EngineError, Result};

/// The user the command line and a one-machine installation trade as.
pub const LOCAL_USER: &str = "local";

fn timeout(settings: &Settings) -> StdDuration {
    StdDuration::from_secs(u64::from(settings.http_timeout_seconds))
}

pub fn nws_client(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Arc<NwsClient>> {
    let config = NwsConfig {
        base_url: settings.nws_base_url.clone(),
        user_agent: settings.nws_user_agent.clone(),
        rate_limit_per_second: settings.nws_rate_limit_per_second,
        timeout: timeout(settings),
        max_forecast_age: Duration::minutes(i64::from(settings.nws_max_forecast_age_minutes)),
        retry: RetryPolicy::default(),
    };
    Ok(Arc::new(
        NwsClient::new(&config, clock).context("NWS client")?,
    ))
}

pub fn open_meteo_client(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<Arc<OpenMeteoClient>> {
    let config = OpenMeteoConfig {
        base_url: settings.open_meteo_base_url.clone(),
        ensemble_url: settings.open_meteo_ensemble_url.clone(),
        previous_runs_url: settings.open_meteo_previous_runs_url.clone(),
        api_key: settings
            .open_meteo_api_key
            .as_ref()
            .map(|k| k.expose_secret().to_string()),
        models: settings.open_meteo_models.clone(),
        ensemble_models: settings.open_meteo_ensemble_models.clone(),
        timeout: timeout(settings),
        retry: RetryPolicy::default(),
        availability_lag: Duration::hours(6),
    };
    Ok(Arc::new(
        OpenMeteoClient::new(config, &settings.nws_user_agent, clock)
            .context("Open-Meteo client")?,
    ))
}

/// The client of IEM's archive of past climate reports (`boz backfill`).
pub fn iem_client(settings: &Settings) -> Result<boz_weather::iem::IemClient> {
    boz_weather::iem::IemClient::new(
        &settings.iem_base_url,
        &settings.nws_user_agent,
        timeout(settings),
        RetryPolicy::default(),
    )
    .context("IEM client")
}

/// The installation's Kalshi credentials from KALSHI_API_KEY_ID and
/// KALSHI_PRIVATE_KEY(_PATH); none when no key id is set.
pub fn kalshi_credentials(settings: &Settings) -> Result<Option<Credentials>> {
    let Some(key_id) = &settings.kalshi_api_key_id else {
        return Ok(None);
    };
    let pem = match (
        &settings.kalshi_private_key,
        &settings.kalshi_private_key_path,
    ) {
        (Some(k), _) => Zeroizing::new(k.expose_secret().to_string()),
        (None, Some(path)) => Zeroizing::new(std::fs::read_to_string(path).with_context(|| {
            format!(
                "invalid KALSHI_PRIVATE_KEY_PATH: cannot read {}",
                path.display()
            )
        })?),
        (None, None) => {
            return Err(EngineError::failed(
                "KALSHI_API_KEY_ID is set but neither KALSHI_PRIVATE_KEY_PATH nor KALSHI_PRIVATE_KEY is",
            ));
        }
    };
    let signer = KalshiSigner::from_pem(&pem).context("invalid Kalshi private key")?;
    Ok(Some(Credentials {
        api_key_id: key_id.expose_secret().to_string(),
        signer: Arc::new(signer),
    }))
}

/// A Kalshi client on the configured environment (or KALSHI_BASE_URL).
pub fn kalshi_client_with(
    settings: &Settings,
    credentials: Option<Credentials>,
    clock: Arc<dyn Clock>,
) -> Result<KalshiClient> {
    let base_url = settings
        .kalshi_base_url
        .clone()
        .unwrap_or_else(|| settings.kalshi_env.rest_url().to_string());
    let config = KalshiConfig {
        base_url,
        credentials,
        timeout: timeout(settings),
        read_tokens_per_second: settings.kalshi_read_tokens_per_second,
        write_tokens_per_second: settings.kalshi_write_tokens_per_second,
        retries: 3,
        min_delay: StdDuration::from_millis(500),
    };
    KalshiClient::new(config, clock).context("Kalshi client")
}

/// The installation's Kalshi client (its credentials if configured).
pub fn kalshi_client(settings: &Settings, clock: Arc<dyn Clock>) -> Result<KalshiClient> {
    kalshi_client_with(settings, kalshi_credentials(settings)?, clock)
}

/// Everything the jobs share. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// Every configured city.
    pub cities: Vec<Arc<City>>,
    pub nws: Arc<NwsClient>,
    pub open_meteo: Arc<OpenMeteoClient>,
    pub kalshi: Arc<KalshiClient>,
    pub notifier: Option<Arc<dyn Notifier>>,
}

impl Services {
    pub fn new(
        settings: Arc<Settings>,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        cities: Vec<Arc<City>>,
    ) -> Result<Services> {
        Ok(Services {
            nws: nws_client(&settings, clock.clone())?,
            open_meteo: open_meteo_client(&settings, clock.clone())?,
            kalshi: Arc::new(kalshi_client(&settings, clock.clone())?),
            notifier: crate::notify::from_settings(&settings),
            settings,
            store,
            clock,
            cities,
        })
    }

    /// The configured cities among `codes` (all when empty).
    pub fn cities_named(&self, codes: &[String]) -> Result<Vec<Arc<City>>> {
        if codes.is_empty() {
            return Ok(self.cities.clone());
        }
        codes
            .iter()
            .map(|c| {
                self.cities
                    .iter()
                    .find(|city| city.code.as_str().eq_ignore_ascii_case(c))
                    .cloned()
                    .ok_or_else(|| EngineError::failed(format!("unknown city {c:?}")))
            })
            .collect()
    }
}

/// A new user with the DEFAULT_* limits in manual mode and no Kalshi key (paper only).
pub fn new_user(id: &str, settings: &Settings) -> Result<StoredUser> {
    Ok(StoredUser {
        id: id.to_string(),
        api_key_id: String::new(),
        encrypted_private_key: String::new(),
        settings: serde_json::to_value(settings.default_user_settings()?)?,
        created_at: chrono::Utc::now(),
    })
}

/// Creates the `local` user (the DEFAULT_* limits, manual mode, no Kalshi key: paper only) if
/// there are no users yet. True when it was created.
pub async fn ensure_local_user(store: &Arc<dyn Store>, settings: &Settings) -> Result<bool> {
    if !store.list_users().await?.is_empty() {
        return Ok(false);
    }
    store.create_user(&new_user(LOCAL_USER, settings)?).await?;
    Ok(true)
}

/// The admin login's name.
pub const ADMIN_LOGIN: &str = "admin";

/// On first start: the `admin` login for the local user, with a one-time password, if no admin
/// exists. Returns the password to show once (never logged); none when an admin exists (or
/// another process created it at the same moment).
pub async fn ensure_admin(store: &Arc<dyn Store>, settings: &Settings) -> Result<Option<String>> {
    if store.admin_exists().await? {
        return Ok(None);
    }
    let password = boz_crypto::password::one_time_password().context("one-time password")?;
    let hash = boz_crypto::password::hash_password(&password).context("password hash")?;
    let user = new_user(LOCAL_USER, settings)?;
    let now = user.created_at;
    let login = boz_common::ports::Login {
        username: ADMIN_LOGIN.into(),
        user_id: LOCAL_USER.into(),
        password_hash: hash,
        role: "admin".into(),
        must_change_password: true,
        created_at: now,
    };
    match store.create_login(&user, &login).await {
        Ok(()) => {
            tracing::info!(target: "AUTH", login = ADMIN_LOGIN, user_id = LOCAL_USER, "admin login created with a one-time password");
            Ok(Some(password))
        }
        Err(e) if e.kind == boz_common::error::ErrorKind::ConflictError => Ok(None),
        Err(e) => Err(e.into()),
    }
}
