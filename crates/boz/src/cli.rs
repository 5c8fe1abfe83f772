//! The command line (clap). Only commands that work are listed.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Boz Weather Trader: automated trading of Kalshi's daily high-temperature markets.
///
/// Settings come from the environment and `.env` (see the README); `boz config check` prints
/// them.
#[derive(Debug, Parser)]
#[command(name = "boz", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the system in one process: migrate the database and serve the HTTP endpoints
    /// (`/health`) on BOZ_BIND until SIGINT or SIGTERM.
    Run,
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the database schema (embedded migrations).
    #[command(subcommand)]
    Db(DbCommand),
    /// Fetch forecasts and observations (NWS and Open-Meteo).
    #[command(subcommand)]
    Weather(WeatherCommand),
    /// Show each open weather event's brackets with prices and the market-implied probability.
    Markets {
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// Only the event of this climate date.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Kalshi account tools.
    #[command(subcommand)]
    Kalshi(KalshiCommand),
    /// Print a new master key for ENCRYPTION_KEY (32 random bytes, URL-safe base64).
    Keygen,
    /// Manage the encryption of users' stored Kalshi keys.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
pub enum WeatherCommand {
    /// Fetch every source's forecast high for each city and climate date, store it in
    /// `weather_forecasts` (a forecast already stored for the same model run is not stored
    /// twice), and print it.
    Fetch {
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// Only this climate date; default: each city's today and the next two days.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Print a JSON list of WeatherData instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the running maximum so far of each city's current climate day, from the settlement
    /// station's observations.
    Observe {
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KalshiCommand {
    /// Check Kalshi credentials (reads the balance) and print the environment: those of
    /// KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY(_PATH), or a stored user's with --user.
    Check {
        /// A user id: check the key stored (encrypted) for this user.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the settings and print the effective configuration, secrets redacted.
    Check,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Apply every pending migration (harmless when there is none).
    Migrate,
    /// List the migrations and whether each is applied.
    Status,
    /// Revert the last applied migration (one step).
    Revert,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every stored key under a new master key, in one transaction. Legacy Fernet
    /// tokens from the Python deployment are converted too.
    ///
    /// The new key is read from --new-key-file, or generated. When the current key lives in the
    /// development key file, that file is replaced; otherwise the generated key is printed once
    /// and must be put into ENCRYPTION_KEY.
    Rotate {
        /// A file holding the new master key (as printed by `boz keygen`).
        #[arg(long)]
        new_key_file: Option<PathBuf>,
    },
}
