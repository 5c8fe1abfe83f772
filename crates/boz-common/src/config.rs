//! Application settings (the seed's `config.py`): the same environment variable names and
//! defaults, read from the process environment and a `.env` file (the environment wins).
//!
//! Every setting is listed once in [`SETTINGS`], which drives parsing, `boz config check` and the
//! README table. An invalid value fails at start with an error naming the variable.
//!
//! The seed's Celery/Redis settings (`REDIS_URL`, `CELERY_BROKER_URL`, `CELERY_RESULT_BACKEND`)
//! are accepted so an old `.env` still loads, but nothing uses them: jobs run through a queue in
//! the database (`DATABASE_URL`), so there is no broker or result backend to configure.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

use crate::city::CityCode;
use crate::error::ValidationError;
use crate::money::{Dollars, Price};
use crate::schemas::{TradingMode, UserSettings, UserSettingsFields};

/// One setting: its variable, default and meaning.
#[derive(Debug, Clone, Copy)]
pub struct SettingSpec {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub secret: bool,
    pub description: &'static str,
}

const fn spec(
    name: &'static str,
    default: Option<&'static str>,
    secret: bool,
    description: &'static str,
) -> SettingSpec {
    SettingSpec {
        name,
        default,
        secret,
        description,
    }
}

/// Every setting the system reads.
pub const SETTINGS: &[SettingSpec] = &[
    spec(
        "DATABASE_URL",
        Some("sqlite://boz.sqlite"),
        true,
        "Database: `sqlite://PATH` (embedded, default) or `postgres://...` (the seed's `postgresql+asyncpg://` form is accepted)",
    ),
    spec(
        "ENCRYPTION_KEY",
        None,
        true,
        "Master key for users' Kalshi private keys (32 bytes, URL-safe base64, as the seed's Fernet key; `boz keygen` makes one). Required in production; in development a key is generated into `<database file>.key` (0600) when unset",
    ),
    spec(
        "ENVIRONMENT",
        Some("development"),
        false,
        "`development` or `production`",
    ),
    spec(
        "LOG_LEVEL",
        Some("INFO"),
        false,
        "Minimum log level: TRACE, DEBUG, INFO, WARNING (or WARN), ERROR, CRITICAL",
    ),
    spec(
        "LOG_FORMAT",
        Some("text"),
        false,
        "`text` (the seed's line format) or `json` (JSON lines)",
    ),
    spec(
        "NWS_USER_AGENT",
        Some("BozWeatherTrader/1.0 (boz@example.com)"),
        false,
        "User-Agent for the NWS API; must include a contact",
    ),
    spec(
        "NWS_RATE_LIMIT_PER_SECOND",
        Some("1.0"),
        false,
        "Most NWS API calls per second, shared by all NWS calls",
    ),
    spec(
        "NWS_BASE_URL",
        Some("https://api.weather.gov"),
        false,
        "NWS API base URL (override to point at a local server)",
    ),
    spec(
        "NWS_MAX_FORECAST_AGE_MINUTES",
        Some("360"),
        false,
        "An NWS forecast whose `updateTime` is older than this is stale and not used",
    ),
    spec(
        "OPEN_METEO_BASE_URL",
        Some("https://api.open-meteo.com"),
        false,
        "Open-Meteo forecast API base URL (`/v1/forecast` is appended)",
    ),
    spec(
        "OPEN_METEO_ENSEMBLE_URL",
        Some("https://ensemble-api.open-meteo.com"),
        false,
        "Open-Meteo ensemble API base URL (`/v1/ensemble` is appended)",
    ),
    spec(
        "OPEN_METEO_PREVIOUS_RUNS_URL",
        Some("https://previous-runs-api.open-meteo.com"),
        false,
        "Open-Meteo Previous Runs API base URL (`/v1/forecast` is appended)",
    ),
    spec(
        "IEM_BASE_URL",
        Some("https://mesonet.agron.iastate.edu"),
        false,
        "Iowa Environmental Mesonet base URL: the archive of past climate reports `boz backfill` reads",
    ),
    spec(
        "OPEN_METEO_API_KEY",
        None,
        true,
        "API key for Open-Meteo's commercial endpoints (sent as `apikey`; set the base URLs to the `customer-` hosts)",
    ),
    spec(
        "OPEN_METEO_MODELS",
        Some(
            "ncep_gfs_seamless,ecmwf_ifs025,dwd_icon_seamless,cmc_gem_seamless,ncep_hrrr_conus,ncep_nbm_conus",
        ),
        false,
        "Deterministic Open-Meteo models, comma-separated (old names such as `gfs_seamless` are accepted too)",
    ),
    spec(
        "OPEN_METEO_ENSEMBLE_MODELS",
        Some("ncep_gefs025,ecmwf_ifs025_ensemble"),
        false,
        "Open-Meteo ensemble models, comma-separated (old names such as `gfs025` are accepted too)",
    ),
    spec(
        "HTTP_TIMEOUT_SECONDS",
        Some("20"),
        false,
        "Timeout of every outbound HTTP request, in seconds",
    ),
    spec(
        "WEATHER_FETCH_CONCURRENCY",
        Some("4"),
        false,
        "Most weather requests (city x source) in flight at once",
    ),
    spec(
        "KALSHI_ENV",
        Some("demo"),
        false,
        "`demo` or `prod`: which Kalshi hosts to use (demo keys work only on demo)",
    ),
    spec(
        "KALSHI_BASE_URL",
        None,
        false,
        "Overrides the REST base URL, including `/trade-api/v2` (default: the KALSHI_ENV host)",
    ),
    spec(
        "KALSHI_WS_URL",
        None,
        false,
        "Overrides the WebSocket URL (default: the KALSHI_ENV host)",
    ),
    spec(
        "KALSHI_API_KEY_ID",
        None,
        true,
        "Kalshi API key id for single-user command-line use",
    ),
    spec(
        "KALSHI_PRIVATE_KEY_PATH",
        None,
        false,
        "A PEM file holding the Kalshi private key (PKCS#1 or PKCS#8)",
    ),
    spec(
        "KALSHI_PRIVATE_KEY",
        None,
        true,
        "The Kalshi private key PEM itself (instead of KALSHI_PRIVATE_KEY_PATH)",
    ),
    spec(
        "KALSHI_READ_TOKENS_PER_SECOND",
        Some("200"),
        false,
        "Client-side Read budget (Basic tier: 200 tokens/s; a request costs 10)",
    ),
    spec(
        "KALSHI_WRITE_TOKENS_PER_SECOND",
        Some("100"),
        false,
        "Client-side Write budget (Basic tier: 100 tokens/s)",
    ),
    spec(
        "DEFAULT_MAX_TRADE_SIZE",
        Some("1.00"),
        false,
        "New users' most dollars per trade",
    ),
    spec(
        "DEFAULT_DAILY_LOSS_LIMIT",
        Some("10.00"),
        false,
        "New users' daily loss limit in dollars",
    ),
    spec(
        "DEFAULT_MAX_DAILY_EXPOSURE",
        Some("25.00"),
        false,
        "New users' most total exposure per day in dollars",
    ),
    spec(
        "DEFAULT_MIN_EV_THRESHOLD",
        Some("0.05"),
        false,
        "New users' minimum expected value per contract (dollars, 0 to 1) to trade",
    ),
    spec(
        "DEFAULT_COOLDOWN_MINUTES",
        Some("60"),
        false,
        "New users' pause after a loss, in minutes",
    ),
    spec(
        "DEFAULT_CONSECUTIVE_LOSS_LIMIT",
        Some("3"),
        false,
        "New users' consecutive losses before trading halts",
    ),
    spec(
        "TRADING_VENUE",
        Some("paper"),
        false,
        "Where orders go: `paper` (simulated fills against live Kalshi books), `demo` or `live`",
    ),
    spec(
        "TRADING_LIVE_CONFIRM",
        Some("false"),
        false,
        "Must be `true` for TRADING_VENUE=live (real money), with KALSHI_ENV=prod",
    ),
    spec(
        "PAPER_STARTING_BALANCE",
        Some("1000.00"),
        false,
        "The paper account's starting cash in dollars",
    ),
    spec(
        "KELLY_FRACTION",
        Some("0.25"),
        false,
        "Fraction of the Kelly stake to bet (0 to 1)",
    ),
    spec(
        "MIN_CONTRACT_PRICE",
        Some("0.05"),
        false,
        "No contract is bought below this price (guards against cheap longshots)",
    ),
    spec(
        "MAX_EVENT_EXPOSURE",
        Some("10.00"),
        false,
        "Most dollars committed to one event (all its brackets) per trading day",
    ),
    spec(
        "MAX_PREDICTION_AGE_MINUTES",
        Some("180"),
        false,
        "A prediction older than this is not traded on",
    ),
    spec(
        "MAX_BOOK_AGE_SECONDS",
        Some("120"),
        false,
        "An order book older than this is not traded on",
    ),
    spec(
        "APPROVAL_TTL_MINUTES",
        Some("30"),
        false,
        "How long a manual-mode trade waits for approval before it expires",
    ),
    spec(
        "CANCEL_BEFORE_CLOSE_MINUTES",
        Some("10"),
        false,
        "Resting orders are cancelled this long before their market closes",
    ),
    spec(
        "NOTIFY_WEBHOOK_URL",
        None,
        true,
        "Webhook for notifications (trade executed, trade settled, trading halted, source down)",
    ),
    spec(
        "NOTIFY_WEBHOOK_FORMAT",
        Some("generic"),
        false,
        "`generic` (JSON with kind, title, text, data), `discord` or `slack`",
    ),
    spec(
        "NOTIFY_SOURCE_DOWN_MINUTES",
        Some("120"),
        false,
        "A weather source with no stored forecast for this long is reported down",
    ),
    spec(
        "CITIES_FILE",
        None,
        false,
        "Optional TOML file of extra `[[city]]` entries (see README) added to NYC, CHI, MIA, AUS",
    ),
    spec(
        "JOB_FORECASTS_SECONDS",
        Some("1800"),
        false,
        "Forecast fetch interval (also at 04:30, 10:30, 16:30 and 22:30 UTC, after the main model runs)",
    ),
    spec(
        "JOB_OBSERVATIONS_SECONDS",
        Some("600"),
        false,
        "Observation fetch interval (the running maximum of today's climate day)",
    ),
    spec(
        "JOB_MARKETS_SECONDS",
        Some("60"),
        false,
        "Market feed interval: top of book recorded into `market_snapshots`; a moved book triggers a trading cycle",
    ),
    spec(
        "JOB_TRADING_SECONDS",
        Some("300"),
        false,
        "Trading cycle interval (also after each prediction and when a watched book moves)",
    ),
    spec(
        "JOB_APPROVALS_SECONDS",
        Some("60"),
        false,
        "Interval for expiring pending approvals past their time to live",
    ),
    spec(
        "JOB_RECONCILE_SECONDS",
        Some("300"),
        false,
        "Interval for reconciling orders and positions with the exchange",
    ),
    spec(
        "JOB_SETTLE_SECONDS",
        Some("1800"),
        false,
        "Settlement interval (climate reports, P&L, post-mortems), until each city's day is settled",
    ),
    spec(
        "JOB_HEARTBEAT_SECONDS",
        Some("10"),
        false,
        "Worker heartbeat; a worker silent for 3 heartbeats is dead and its job runs again elsewhere",
    ),
    spec(
        "JOB_LEASE_SECONDS",
        Some("60"),
        false,
        "Trading cycle lease (one cycle at a time across workers), renewed while the cycle runs; a dead worker's lease expires after this",
    ),
    spec(
        "WORKER_CONCURRENCY",
        Some("4"),
        false,
        "Jobs one worker process runs at once",
    ),
    spec(
        "BOZ_SECURE_COOKIES",
        Some("false"),
        false,
        "Mark the session cookie Secure (set it when users reach the server over HTTPS, e.g. behind a TLS proxy)",
    ),
    spec(
        "BOZ_BIND",
        Some("127.0.0.1:8000"),
        false,
        "Address the HTTP server listens on",
    ),
    spec(
        "REDIS_URL",
        Some("redis://localhost:6379/0"),
        true,
        "Accepted for seed compatibility; unused (no Redis: caching and jobs live in the database)",
    ),
    spec(
        "CELERY_BROKER_URL",
        Some("redis://localhost:6379/1"),
        true,
        "Accepted for seed compatibility; unused (replaced by the job queue in the database)",
    ),
    spec(
        "CELERY_RESULT_BACKEND",
        Some("redis://localhost:6379/2"),
        true,
        "Accepted for seed compatibility; unused (job runs are recorded in the database)",
    ),
];

/// Development or production.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// The body a notification webhook expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    Generic,
    Discord,
    Slack,
}

/// Where orders go (TRADING_VENUE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradingVenue {
    Paper,
    Demo,
    Live,
}

impl TradingVenue {
    pub fn as_str(self) -> &'static str {
        match self {
            TradingVenue::Paper => "paper",
            TradingVenue::Demo => "demo",
            TradingVenue::Live => "live",
        }
    }
}

/// Which Kalshi hosts to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KalshiEnv {
    Demo,
    Prod,
}

impl KalshiEnv {
    pub fn as_str(self) -> &'static str {
        match self {
            KalshiEnv::Demo => "demo",
            KalshiEnv::Prod => "prod",
        }
    }

    /// The documented REST base URL.
    pub fn rest_url(self) -> &'static str {
        match self {
            KalshiEnv::Demo => "https://external-api.demo.kalshi.co/trade-api/v2",
            KalshiEnv::Prod => "https://external-api.kalshi.com/trade-api/v2",
        }
    }

    /// The documented WebSocket URL.
    pub fn ws_url(self) -> &'static str {
        match self {
            KalshiEnv::Demo => "wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2",
            KalshiEnv::Prod => "wss://external-api-ws.kalshi.com/trade-api/ws/v2",
        }
    }
}

/// Human text lines or JSON lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Log levels, with the seed's Python names accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }
}

/// Which database backend a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite file.
    Sqlite { path: PathBuf },
    /// A PostgreSQL URL (normalised to `postgres://`).
    Postgres { url: String },
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, String> {
        let raw = raw.trim();
        if let Some(rest) = raw
            .strip_prefix("sqlite://")
            .or_else(|| raw.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or(rest);
            if path.is_empty() {
                return Err("sqlite URL has no file path (e.g. sqlite://boz.sqlite)".into());
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        for prefix in ["postgresql+asyncpg://", "postgresql://", "postgres://"] {
            if let Some(rest) = raw.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Err("postgres URL has no host".into());
                }
                return Ok(DatabaseUrl::Postgres {
                    url: format!("postgres://{rest}"),
                });
            }
        }
        Err("must start with sqlite:// or postgres:// (or postgresql+asyncpg://)".into())
    }

    /// The URL with any password replaced by `***`, for printing.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite { path } => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => redact_url_password(url),
        }
    }
}

/// Replaces the password of `scheme://user:password@host` with `***`.
pub fn redact_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// A URL whose path and query are the secret (webhooks): scheme and host kept.
pub fn redact_url_path(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redacted>".to_string();
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    format!("{scheme}://{host}/<redacted>")
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Environment,
    DotEnv,
    Default,
    Unset,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Environment => "environment",
            Origin::DotEnv => ".env",
            Origin::Default => "default",
            Origin::Unset => "unset",
        })
    }
}

/// The effective settings.
#[derive(Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub encryption_key: Option<SecretString>,
    pub environment: Environment,
    pub log_level: LogLevel,
    pub log_format: LogFormat,
    pub nws_user_agent: String,
    pub nws_rate_limit_per_second: f64,
    pub nws_base_url: String,
    pub nws_max_forecast_age_minutes: u32,
    pub open_meteo_base_url: String,
    pub open_meteo_ensemble_url: String,
    pub open_meteo_previous_runs_url: String,
    /// IEM_BASE_URL: the archive of past climate reports (`boz backfill`).
    pub iem_base_url: String,
    pub open_meteo_api_key: Option<SecretString>,
    pub open_meteo_models: Vec<String>,
    pub open_meteo_ensemble_models: Vec<String>,
    pub http_timeout_seconds: u32,
    pub kalshi_env: KalshiEnv,
    pub kalshi_base_url: Option<String>,
    pub kalshi_ws_url: Option<String>,
    pub kalshi_api_key_id: Option<SecretString>,
    pub kalshi_private_key_path: Option<PathBuf>,
    pub kalshi_private_key: Option<SecretString>,
    pub kalshi_read_tokens_per_second: u32,
    pub kalshi_write_tokens_per_second: u32,
    pub weather_fetch_concurrency: u32,
    pub default_max_trade_size: Dollars,
    pub default_daily_loss_limit: Dollars,
    pub default_max_daily_exposure: Dollars,
    pub default_min_ev_threshold: f64,
    pub default_cooldown_minutes: u32,
    pub default_consecutive_loss_limit: u32,
    pub trading_venue: TradingVenue,
    pub paper_starting_balance: Dollars,
    pub kelly_fraction: f64,
    pub min_contract_price: Price,
    pub max_event_exposure: Dollars,
    pub max_prediction_age_minutes: u32,
    pub max_book_age_seconds: u32,
    pub approval_ttl_minutes: u32,
    pub cancel_before_close_minutes: u32,
    pub notify_webhook_url: Option<SecretString>,
    pub notify_webhook_format: WebhookFormat,
    pub notify_source_down_minutes: u32,
    pub cities_file: Option<PathBuf>,
    pub job_forecasts_seconds: u32,
    pub job_observations_seconds: u32,
    pub job_markets_seconds: u32,
    pub job_trading_seconds: u32,
    pub job_approvals_seconds: u32,
    pub job_reconcile_seconds: u32,
    pub job_settle_seconds: u32,
    pub job_heartbeat_seconds: u32,
    pub job_lease_seconds: u32,
    pub worker_concurrency: u32,
    pub secure_cookies: bool,
    pub bind: SocketAddr,
    /// Raw values and origins, for `boz config check`.
    values: BTreeMap<&'static str, (Option<String>, Origin)>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Settings");
        for (name, value, origin) in self.effective() {
            d.field(name, &format_args!("{value} ({origin})"));
        }
        d.finish()
    }
}

/// A lookup of raw variables with their origin.
struct Vars<'a> {
    lookup: &'a dyn Fn(&str) -> Option<(String, Origin)>,
    seen: BTreeMap<&'static str, (Option<String>, Origin)>,
}

impl Vars<'_> {
    fn raw(&mut self, name: &'static str) -> Option<String> {
        let spec = SETTINGS.iter().find(|s| s.name == name);
        let (value, origin) = match (self.lookup)(name) {
            Some((v, o)) => (Some(v), o),
            None => match spec.and_then(|s| s.default) {
                Some(d) => (Some(d.to_string()), Origin::Default),
                None => (None, Origin::Unset),
            },
        };
        self.seen.insert(name, (value.clone(), origin));
        value
    }

    fn parse<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<T, ValidationError> {
        let raw = self
            .raw(name)
            .ok_or_else(|| ValidationError::new(name, "is required"))?;
        parse(raw.trim()).map_err(|reason| ValidationError::new(name, reason))
    }

    fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ValidationError> {
        match self.raw(name) {
            Some(raw) if !raw.trim().is_empty() => parse(raw.trim())
                .map(Some)
                .map_err(|reason| ValidationError::new(name, reason)),
            _ => Ok(None),
        }
    }
}

fn from_str<T: FromStr>(what: &'static str) -> impl Fn(&str) -> Result<T, String>
where
    T::Err: fmt::Display,
{
    move |s| {
        s.parse::<T>()
            .map_err(|e| format!("{s:?} is not {what}: {e}"))
    }
}

fn positive(what: &'static str) -> impl Fn(&str) -> Result<u32, String> {
    move |s| {
        let n: u32 = from_str(what)(s)?;
        if n > 0 {
            Ok(n)
        } else {
            Err("must be at least 1".into())
        }
    }
}

/// An `http://` or `https://` base URL, without a trailing slash.
fn base_url(s: &str) -> Result<String, String> {
    if !(s.starts_with("http://") || s.starts_with("https://")) || s.len() <= "https://".len() {
        return Err(format!("{s:?} is not an http:// or https:// URL"));
    }
    Ok(s.trim_end_matches('/').to_string())
}

fn model_list(s: &str) -> Result<Vec<String>, String> {
    let models: Vec<String> = s
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if models.is_empty() {
        return Err("must name at least one model".into());
    }
    if let Some(bad) = models
        .iter()
        .find(|m| !m.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        return Err(format!(
            "{bad:?} is not a model name (letters, digits and _)"
        ));
    }
    Ok(models)
}

fn dollars(s: &str) -> Result<Dollars, String> {
    let d = Dollars::parse(s).map_err(|e| e.to_string())?;
    if d.is_positive() {
        Ok(d)
    } else {
        Err(format!("must be a positive amount of dollars, got {s}"))
    }
}

impl Settings {
    /// Reads `.env` in the current directory (if present) and the process environment.
    pub fn load() -> Result<Settings, ValidationError> {
        Settings::load_with_dotenv(Path::new(".env"))
    }

    /// Reads the given `.env` file (if present) and the process environment (which wins).
    pub fn load_with_dotenv(dotenv: &Path) -> Result<Settings, ValidationError> {
        let mut file = BTreeMap::new();
        if dotenv.exists() {
            let iter = dotenvy::from_path_iter(dotenv).map_err(|e| {
                ValidationError::new(".env", format!("cannot read {}: {e}", dotenv.display()))
            })?;
            for item in iter {
                let (k, v) = item.map_err(|e| {
                    ValidationError::new(".env", format!("{}: {e}", dotenv.display()))
                })?;
                file.insert(k, v);
            }
        }
        Settings::from_lookup(&|name| {
            std::env::var(name)
                .ok()
                .map(|v| (v, Origin::Environment))
                .or_else(|| file.get(name).map(|v| (v.clone(), Origin::DotEnv)))
        })
    }

    /// Builds settings from a map of variables (tests, and explicit configuration).
    pub fn from_map(map: &BTreeMap<String, String>) -> Result<Settings, ValidationError> {
        Settings::from_lookup(&|name| map.get(name).map(|v| (v.clone(), Origin::Environment)))
    }

    fn from_lookup(
        lookup: &dyn Fn(&str) -> Option<(String, Origin)>,
    ) -> Result<Settings, ValidationError> {
        let mut v = Vars {
            lookup,
            seen: BTreeMap::new(),
        };
        let database_url = v.parse("DATABASE_URL", DatabaseUrl::parse)?;
        let encryption_key = v.optional("ENCRYPTION_KEY", |s| Ok(SecretString::from(s)))?;
        let environment = v.parse("ENVIRONMENT", |s| match s.to_ascii_lowercase().as_str() {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            _ => Err(format!("{s:?} is not development or production")),
        })?;
        if environment == Environment::Production && encryption_key.is_none() {
            return Err(ValidationError::new(
                "ENCRYPTION_KEY",
                "is required when ENVIRONMENT=production (generate one with `boz keygen`)",
            ));
        }
        let log_level = v.parse("LOG_LEVEL", |s| match s.to_ascii_uppercase().as_str() {
            "TRACE" => Ok(LogLevel::Trace),
            "DEBUG" => Ok(LogLevel::Debug),
            "INFO" => Ok(LogLevel::Info),
            "WARN" | "WARNING" => Ok(LogLevel::Warn),
            "ERROR" | "CRITICAL" => Ok(LogLevel::Error),
            _ => Err(format!(
                "{s:?} is not a log level (DEBUG, INFO, WARNING, ERROR)"
            )),
        })?;
        let log_format = v.parse("LOG_FORMAT", |s| match s.to_ascii_lowercase().as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("{s:?} is not text or json")),
        })?;
        let nws_user_agent = v.parse("NWS_USER_AGENT", |s| {
            if s.is_empty() {
                Err("must not be empty: the NWS API refuses requests without a User-Agent".into())
            } else {
                Ok(s.to_string())
            }
        })?;
        let nws_rate_limit_per_second = v.parse("NWS_RATE_LIMIT_PER_SECOND", |s| {
            let r: f64 = from_str("a number")(s)?;
            if r.is_finite() && r > 0.0 {
                Ok(r)
            } else {
                Err(format!("must be a positive number, got {s}"))
            }
        })?;
        let nws_base_url = v.parse("NWS_BASE_URL", base_url)?;
        let nws_max_forecast_age_minutes = v.parse(
            "NWS_MAX_FORECAST_AGE_MINUTES",
            positive("a whole number of minutes"),
        )?;
        let open_meteo_base_url = v.parse("OPEN_METEO_BASE_URL", base_url)?;
        let open_meteo_ensemble_url = v.parse("OPEN_METEO_ENSEMBLE_URL", base_url)?;
        let open_meteo_previous_runs_url = v.parse("OPEN_METEO_PREVIOUS_RUNS_URL", base_url)?;
        let iem_base_url = v.parse("IEM_BASE_URL", base_url)?;
        let open_meteo_api_key = v.optional("OPEN_METEO_API_KEY", |s| Ok(SecretString::from(s)))?;
        let open_meteo_models = v.parse("OPEN_METEO_MODELS", model_list)?;
        let open_meteo_ensemble_models = v.parse("OPEN_METEO_ENSEMBLE_MODELS", model_list)?;
        let http_timeout_seconds = v.parse(
            "HTTP_TIMEOUT_SECONDS",
            positive("a whole number of seconds"),
        )?;
        let weather_fetch_concurrency =
            v.parse("WEATHER_FETCH_CONCURRENCY", positive("a whole number"))?;
        let kalshi_env = v.parse("KALSHI_ENV", |s| match s.to_ascii_lowercase().as_str() {
            "demo" => Ok(KalshiEnv::Demo),
            "prod" | "production" => Ok(KalshiEnv::Prod),
            _ => Err(format!("{s:?} is not demo or prod")),
        })?;
        let kalshi_base_url = v.optional("KALSHI_BASE_URL", base_url)?;
        let kalshi_ws_url = v.optional("KALSHI_WS_URL", |s| {
            if s.starts_with("ws://") || s.starts_with("wss://") {
                Ok(s.trim_end_matches('/').to_string())
            } else {
                Err(format!("{s:?} is not a ws:// or wss:// URL"))
            }
        })?;
        let kalshi_api_key_id = v.optional("KALSHI_API_KEY_ID", |s| Ok(SecretString::from(s)))?;
        let kalshi_private_key_path =
            v.optional("KALSHI_PRIVATE_KEY_PATH", |s| Ok(PathBuf::from(s)))?;
        let kalshi_private_key = v.optional("KALSHI_PRIVATE_KEY", |s| Ok(SecretString::from(s)))?;
        let kalshi_read_tokens_per_second = v.parse(
            "KALSHI_READ_TOKENS_PER_SECOND",
            positive("a whole number of tokens"),
        )?;
        let kalshi_write_tokens_per_second = v.parse(
            "KALSHI_WRITE_TOKENS_PER_SECOND",
            positive("a whole number of tokens"),
        )?;
        let trading_venue =
            v.parse("TRADING_VENUE", |s| match s.to_ascii_lowercase().as_str() {
                "paper" => Ok(TradingVenue::Paper),
                "demo" => Ok(TradingVenue::Demo),
                "live" => Ok(TradingVenue::Live),
                _ => Err(format!("{s:?} is not paper, demo or live")),
            })?;
        let live_confirmed = v.parse("TRADING_LIVE_CONFIRM", |s| match s {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{s:?} is not true or false")),
        })?;
        match (trading_venue, kalshi_env) {
            (TradingVenue::Live, _) if !live_confirmed => {
                return Err(ValidationError::new(
                    "TRADING_LIVE_CONFIRM",
                    "TRADING_VENUE=live trades real money: set TRADING_LIVE_CONFIRM=true to confirm",
                ));
            }
            (TradingVenue::Live, KalshiEnv::Demo) => {
                return Err(ValidationError::new(
                    "TRADING_VENUE",
                    "live trading needs KALSHI_ENV=prod (the demo hosts hold no real money)",
                ));
            }
            (TradingVenue::Demo, KalshiEnv::Prod) => {
                return Err(ValidationError::new(
                    "TRADING_VENUE",
                    "demo trading needs KALSHI_ENV=demo; use TRADING_VENUE=live for prod",
                ));
            }
            _ => {}
        }
        let paper_starting_balance = v.parse("PAPER_STARTING_BALANCE", dollars)?;
        let kelly_fraction = v.parse("KELLY_FRACTION", |s| {
            let r: f64 = from_str("a number")(s)?;
            if r > 0.0 && r <= 1.0 {
                Ok(r)
            } else {
                Err(format!("must be above 0 and at most 1, got {s}"))
            }
        })?;
        let min_contract_price = v.parse("MIN_CONTRACT_PRICE", |s| {
            Price::parse(s).map_err(|e| format!("{s:?} is not a price between 0 and 1: {e}"))
        })?;
        let max_event_exposure = v.parse("MAX_EVENT_EXPOSURE", dollars)?;
        let max_prediction_age_minutes = v.parse(
            "MAX_PREDICTION_AGE_MINUTES",
            positive("a whole number of minutes"),
        )?;
        let max_book_age_seconds = v.parse(
            "MAX_BOOK_AGE_SECONDS",
            positive("a whole number of seconds"),
        )?;
        let approval_ttl_minutes = v.parse(
            "APPROVAL_TTL_MINUTES",
            positive("a whole number of minutes"),
        )?;
        let cancel_before_close_minutes = v.parse(
            "CANCEL_BEFORE_CLOSE_MINUTES",
            positive("a whole number of minutes"),
        )?;
        let notify_webhook_url = v.optional("NOTIFY_WEBHOOK_URL", |s| {
            if s.starts_with("http://") || s.starts_with("https://") {
                Ok(SecretString::from(s))
            } else {
                Err("is not an http(s) URL".to_string())
            }
        })?;
        let notify_webhook_format = v.parse("NOTIFY_WEBHOOK_FORMAT", |s| {
            match s.to_ascii_lowercase().as_str() {
                "generic" => Ok(WebhookFormat::Generic),
                "discord" => Ok(WebhookFormat::Discord),
                "slack" => Ok(WebhookFormat::Slack),
                _ => Err(format!("{s:?} is not generic, discord or slack")),
            }
        })?;
        let notify_source_down_minutes = v.parse(
            "NOTIFY_SOURCE_DOWN_MINUTES",
            positive("a whole number of minutes"),
        )?;
        let default_max_trade_size = v.parse("DEFAULT_MAX_TRADE_SIZE", dollars)?;
        let default_daily_loss_limit = v.parse("DEFAULT_DAILY_LOSS_LIMIT", dollars)?;
        let default_max_daily_exposure = v.parse("DEFAULT_MAX_DAILY_EXPOSURE", dollars)?;
        let default_min_ev_threshold = v.parse("DEFAULT_MIN_EV_THRESHOLD", |s| {
            let r: f64 = from_str("a number")(s)?;
            if (0.0..=1.0).contains(&r) {
                Ok(r)
            } else {
                Err(format!("must be within 0 and 1, got {s}"))
            }
        })?;
        let default_cooldown_minutes = v.parse(
            "DEFAULT_COOLDOWN_MINUTES",
            from_str("a whole number of minutes"),
        )?;
        let default_consecutive_loss_limit = v.parse("DEFAULT_CONSECUTIVE_LOSS_LIMIT", |s| {
            let n: u32 = from_str("a whole number")(s)?;
            if n > 0 {
                Ok(n)
            } else {
                Err("must be at least 1".into())
            }
        })?;
        let job_forecasts_seconds = v.parse("JOB_FORECASTS_SECONDS", positive("a whole number"))?;
        let job_observations_seconds =
            v.parse("JOB_OBSERVATIONS_SECONDS", positive("a whole number"))?;
        let job_markets_seconds = v.parse("JOB_MARKETS_SECONDS", positive("a whole number"))?;
        let job_trading_seconds = v.parse("JOB_TRADING_SECONDS", positive("a whole number"))?;
        let job_approvals_seconds = v.parse("JOB_APPROVALS_SECONDS", positive("a whole number"))?;
        let job_reconcile_seconds = v.parse("JOB_RECONCILE_SECONDS", positive("a whole number"))?;
        let job_settle_seconds = v.parse("JOB_SETTLE_SECONDS", positive("a whole number"))?;
        let job_heartbeat_seconds = v.parse("JOB_HEARTBEAT_SECONDS", positive("a whole number"))?;
        let job_lease_seconds = v.parse("JOB_LEASE_SECONDS", positive("a whole number"))?;
        let worker_concurrency = v.parse("WORKER_CONCURRENCY", positive("a whole number"))?;
        let secure_cookies = v.parse("BOZ_SECURE_COOKIES", |s| match s {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(format!("{s:?} is not true or false")),
        })?;
        let cities_file = v.optional("CITIES_FILE", |s| Ok(PathBuf::from(s)))?;
        let bind = v.parse(
            "BOZ_BIND",
            from_str("a socket address such as 127.0.0.1:8000"),
        )?;
        for unused in ["REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"] {
            v.raw(unused);
        }

        let settings = Settings {
            database_url,
            encryption_key,
            environment,
            log_level,
            log_format,
            nws_user_agent,
            nws_rate_limit_per_second,
            nws_base_url,
            nws_max_forecast_age_minutes,
            open_meteo_base_url,
            open_meteo_ensemble_url,
            open_meteo_previous_runs_url,
            iem_base_url,
            open_meteo_api_key,
            open_meteo_models,
            open_meteo_ensemble_models,
            http_timeout_seconds,
            weather_fetch_concurrency,
            kalshi_env,
            kalshi_base_url,
            kalshi_ws_url,
            kalshi_api_key_id,
            kalshi_private_key_path,
            kalshi_private_key,
            kalshi_read_tokens_per_second,
            kalshi_write_tokens_per_second,
            default_max_trade_size,
            default_daily_loss_limit,
            default_max_daily_exposure,
            default_min_ev_threshold,
            default_cooldown_minutes,
            default_consecutive_loss_limit,
            trading_venue,
            paper_starting_balance,
            kelly_fraction,
            min_contract_price,
            max_event_exposure,
            max_prediction_age_minutes,
            max_book_age_seconds,
            approval_ttl_minutes,
            cancel_before_close_minutes,
            notify_webhook_url,
            notify_webhook_format,
            notify_source_down_minutes,
            cities_file,
            secure_cookies,
            job_forecasts_seconds,
            job_observations_seconds,
            job_markets_seconds,
            job_trading_seconds,
            job_approvals_seconds,
            job_reconcile_seconds,
            job_settle_seconds,
            job_heartbeat_seconds,
            job_lease_seconds,
            worker_concurrency,
            bind,
            values: v.seen,
        };
        // The defaults must make a valid UserSettings; name the variable if they do not.
        settings.default_user_settings().map_err(|e| {
            let var = format!("DEFAULT_{}", e.field.to_ascii_uppercase());
            let var = match var.as_str() {
                "DEFAULT_COOLDOWN_PER_LOSS_MINUTES" => "DEFAULT_COOLDOWN_MINUTES".to_string(),
                _ => var,
            };
            ValidationError::new(var, e.reason)
        })?;
        Ok(settings)
    }

    /// The settings a new user starts with, trading every configured city.
    pub fn default_user_settings(&self) -> Result<UserSettings, ValidationError> {
        let cities = crate::city::registry()
            .codes()
            .iter()
            .map(|c| CityCode::parse(c))
            .collect::<Result<Vec<_>, _>>()?;
        UserSettings::new(UserSettingsFields {
            trading_mode: TradingMode::Manual,
            max_trade_size: self.default_max_trade_size,
            daily_loss_limit: self.default_daily_loss_limit,
            max_daily_exposure: self.default_max_daily_exposure,
            min_ev_threshold: self.default_min_ev_threshold,
            cooldown_per_loss_minutes: self.default_cooldown_minutes,
            consecutive_loss_limit: self.default_consecutive_loss_limit,
            cities,
        })
    }

    /// Every setting with its effective value (secrets redacted) and where it came from.
    pub fn effective(&self) -> Vec<(&'static str, String, Origin)> {
        SETTINGS
            .iter()
            .map(|s| {
                let (value, origin) = self
                    .values
                    .get(s.name)
                    .cloned()
                    .unwrap_or((None, Origin::Unset));
                let shown = match (&value, s.secret) {
                    (None, _) => "<unset>".to_string(),
                    (Some(_), true) if s.name == "DATABASE_URL" => self.database_url.redacted(),
                    (Some(v), true) if s.name == "NOTIFY_WEBHOOK_URL" => redact_url_path(v),
                    (Some(v), true) if v.contains("://") => redact_url_password(v),
                    (Some(_), true) => "<redacted>".to_string(),
                    (Some(v), false) => v.clone(),
                };
                (s.name, shown, origin)
            })
            .collect()
    }

    /// Every secret value as text, for redaction (the master key, Kalshi and Open-Meteo keys, the
    /// webhook URL).
    pub fn secret_texts(&self) -> Vec<String> {
        [
            self.encryption_key_text(),
            self.kalshi_api_key_id.as_ref().map(|k| k.expose_secret()),
            self.kalshi_private_key.as_ref().map(|k| k.expose_secret()),
            self.open_meteo_api_key.as_ref().map(|k| k.expose_secret()),
            self.notify_webhook_url.as_ref().map(|k| k.expose_secret()),
        ]
        .into_iter()
        .flatten()
        .map(str::to_string)
        .collect()
    }

    /// The encryption key's text, for the crypto crate only.
    pub fn encryption_key_text(&self) -> Option<&str> {
        self.encryption_key.as_ref().map(|k| k.expose_secret())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_seeds() {
        let s = Settings::from_map(&map(&[])).unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Sqlite {
                path: "boz.sqlite".into()
            }
        );
        assert_eq!(s.environment, Environment::Development);
        assert_eq!(s.log_level, LogLevel::Info);
        assert_eq!(s.nws_user_agent, "BozWeatherTrader/1.0 (boz@example.com)");
        assert_eq!(s.nws_rate_limit_per_second, 1.0);
        assert_eq!(s.default_max_trade_size.to_string(), "1.00");
        assert_eq!(s.default_daily_loss_limit.to_string(), "10.00");
        assert_eq!(s.default_max_daily_exposure.to_string(), "25.00");
        assert_eq!(s.default_min_ev_threshold, 0.05);
        assert_eq!(s.default_cooldown_minutes, 60);
        assert_eq!(s.default_consecutive_loss_limit, 3);
        assert_eq!(s.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(s.nws_base_url, "https://api.weather.gov");
        assert_eq!(s.open_meteo_models.len(), 6);
        assert_eq!(
            s.open_meteo_ensemble_models,
            ["ncep_gefs025", "ecmwf_ifs025_ensemble"]
        );
        assert_eq!(s.http_timeout_seconds, 20);
        assert_eq!(s.kalshi_env, KalshiEnv::Demo);
        assert_eq!(
            s.kalshi_env.rest_url(),
            "https://external-api.demo.kalshi.co/trade-api/v2"
        );
        assert_eq!(
            (
                s.kalshi_read_tokens_per_second,
                s.kalshi_write_tokens_per_second
            ),
            (200, 100)
        );
        assert!(s.encryption_key.is_none());
        let u = s.default_user_settings().unwrap();
        assert_eq!(u.cities.len(), 4);
    }

    #[test]
    fn seed_database_url_forms() {
        let s = Settings::from_map(&map(&[(
            "DATABASE_URL",
            "postgresql+asyncpg://boz:hunter2@localhost:5432/boz_weather_trader",
        )]))
        .unwrap();
        assert_eq!(
            s.database_url,
            DatabaseUrl::Postgres {
                url: "postgres://boz:hunter2@localhost:5432/boz_weather_trader".into()
            }
        );
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("postgres://boz:***@localhost:5432/boz_weather_trader"));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    #[test]
    fn invalid_values_name_the_variable() {
        for (var, value, needle) in [
            ("DEFAULT_MAX_TRADE_SIZE", "abc", "not a decimal"),
            ("DEFAULT_MAX_TRADE_SIZE", "-1", "positive"),
            ("DEFAULT_MIN_EV_THRESHOLD", "1.5", "within 0 and 1"),
            ("DEFAULT_COOLDOWN_MINUTES", "-5", "whole number"),
            ("DEFAULT_CONSECUTIVE_LOSS_LIMIT", "0", "at least 1"),
            ("NWS_RATE_LIMIT_PER_SECOND", "0", "positive"),
            ("ENVIRONMENT", "staging", "development or production"),
            ("LOG_LEVEL", "LOUD", "not a log level"),
            ("LOG_FORMAT", "xml", "text or json"),
            ("DATABASE_URL", "mysql://x", "sqlite://"),
            ("BOZ_BIND", "localhost", "socket address"),
            ("NWS_BASE_URL", "api.weather.gov", "not an http"),
            ("OPEN_METEO_MODELS", " , ", "at least one model"),
            ("OPEN_METEO_MODELS", "gfs;rm -rf", "not a model name"),
            ("HTTP_TIMEOUT_SECONDS", "0", "at least 1"),
            ("KALSHI_ENV", "live", "demo or prod"),
            ("KALSHI_WS_URL", "https://x", "ws://"),
            (
                "DEFAULT_MAX_TRADE_SIZE",
                "100.00",
                "exceeds max_daily_exposure",
            ),
        ] {
            let e = Settings::from_map(&map(&[(var, value)])).unwrap_err();
            assert_eq!(e.field, var, "{e}");
            assert!(e.reason.contains(needle), "{var}={value}: {e}");
        }
    }

    #[test]
    fn production_requires_an_encryption_key() {
        let e = Settings::from_map(&map(&[("ENVIRONMENT", "production")])).unwrap_err();
        assert_eq!(e.field, "ENCRYPTION_KEY");
        let s = Settings::from_map(&map(&[
            ("ENVIRONMENT", "production"),
            (
                "ENCRYPTION_KEY",
                "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy0hISE=",
            ),
        ]))
        .unwrap();
        assert!(s.encryption_key.is_some());
        let shown = format!("{s:?}");
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
    }

    #[test]
    fn dotenv_file_is_read_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(
            &path,
            "DEFAULT_DAILY_LOSS_LIMIT=12.50\n# comment\nLOG_LEVEL=DEBUG\nREDIS_URL=redis://:pw@host/0\n",
        )
        .unwrap();
        // The environment of this test process does not set these variables.
        let s = Settings::load_with_dotenv(&path).unwrap();
        assert_eq!(s.default_daily_loss_limit.to_string(), "12.50");
        assert_eq!(s.log_level, LogLevel::Debug);
        let eff = s.effective();
        let find = |n: &str| eff.iter().find(|(k, _, _)| *k == n).unwrap().clone();
        assert_eq!(find("LOG_LEVEL").2, Origin::DotEnv);
        assert_eq!(find("ENVIRONMENT").2, Origin::Default);
        assert_eq!(find("ENCRYPTION_KEY").1, "<unset>");
        assert_eq!(find("REDIS_URL").1, "redis://:***@host/0");
    }

    #[test]
    fn every_setting_is_reported() {
        let s = Settings::from_map(&map(&[])).unwrap();
        assert_eq!(s.effective().len(), SETTINGS.len());
    }
}
