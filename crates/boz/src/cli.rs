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
    /// Run the system in one process: the HTTP server on BOZ_BIND (`/health`), the scheduler
    /// and the workers (forecasts, observations, markets, predictions, trading, settlement),
    /// until SIGINT or SIGTERM. SQLite by default; paper trading unless TRADING_VENUE says
    /// otherwise.
    Run,
    /// The HTTP server and a scheduler, sharing a PostgreSQL database with `boz worker`s.
    Serve,
    /// A scheduler and workers, sharing a PostgreSQL database with `boz serve` and other
    /// workers.
    Worker,
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
        /// Also store every bracket's top of book in `market_snapshots` (source `kalshi-rest`),
        /// for scoring the market and for backtests.
        #[arg(long)]
        record: bool,
    },
    /// Kalshi account tools.
    #[command(subcommand)]
    Kalshi(KalshiCommand),
    /// The model's distribution and every bracket's probability for each open event (or the
    /// event of --date), from the stored forecasts; each prediction is stored with its inputs.
    Predict {
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// Only the event of this climate date.
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Print the predictions as a JSON list of BracketPrediction.
        #[arg(long)]
        json: bool,
    },
    /// Score the model, the original design, climatology and the market on stored history
    /// (a rolling, out-of-sample replay: each day is predicted from what was known before it).
    Score {
        /// First climate date scored (earlier stored days only train the model).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last climate date scored.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// Decision hour, local standard time.
        #[arg(long, default_value_t = 20)]
        decision_hour: u32,
        /// Days between the decision and the climate day (0-2).
        #[arg(long, default_value_t = 1)]
        days_before: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Backtest the live decision path (model, EV after fees, Kelly, risk, paper fills) on the
    /// recorded markets under --data, with no look-ahead.
    Backtest {
        /// First climate date traded (earlier recorded days only train the model).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last climate date traded.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// The recorded history directory.
        #[arg(long, default_value = "../shared/data/history")]
        data: std::path::PathBuf,
        /// Write report.json into this directory.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Decision hours, local standard time (`16,20`: two decisions a day, the first one
        /// also learning what settled before it).
        #[arg(long, default_value = "20", value_delimiter = ',')]
        decision_hour: Vec<u32>,
        /// Days between the decision and the climate day (0-2).
        #[arg(long, default_value_t = 1)]
        days_before: i64,
        /// How far back the recorded trades that make a book reach.
        #[arg(long, default_value_t = 60)]
        window_minutes: i64,
        /// Also use the reserved acceptance window (2025-01-01..2025-06-30): the acceptance run only.
        #[arg(long)]
        include_reserved: bool,
        /// The forecaster traded: `model` (boz predict's) or `original` (the original design:
        /// raw forecast average, σ 3 °F, no half-degree correction).
        #[arg(long, default_value = "model", value_parser = ["model", "original"])]
        model: String,
        /// Use the configured database's own recordings (market snapshots with bid and ask,
        /// forecasts as fetched, settled highs) instead of importing --data.
        #[arg(long)]
        recorded: bool,
        /// With --recorded, the book at each decision: `quotes` (recorded bids and asks, such as
        /// backfilled candlesticks) or `trades` (rebuilt conservatively from the recorded
        /// trades, as with --data).
        #[arg(long, value_enum, default_value = "quotes")]
        book: crate::commands::backtest::BookSource,
        /// With --recorded --book quotes, only the snapshots of this source (repeatable), e.g.
        /// `jetpackjules-book-log`, `kalshi-candlesticks`, `kalshi-ws`; default: every source.
        #[arg(long = "quotes-from")]
        quotes_from: Vec<String>,
        /// Run every combination of these values and print one row each (repeatable):
        /// `min-ev=0.03,0.05,0.08`, `kelly=0.1,0.25`, `min-price=0.05,0.10`,
        /// `decision-hour=12,16,20`.
        #[arg(long = "sweep")]
        sweeps: Vec<String>,
    },
    /// Download history for backtests into the tables the backtest reads: Open-Meteo as-of
    /// forecasts at each decision time, NWS climate reports (IEM's archive), and Kalshi's
    /// markets, hourly candlesticks, trades and settled values. Resumable and rate-limited.
    Backfill {
        /// First climate date.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last climate date.
        #[arg(long)]
        to: chrono::NaiveDate,
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// What to download (repeatable or comma-separated); default: all three.
        #[arg(long = "source", value_enum, value_delimiter = ',')]
        sources: Vec<crate::commands::backfill::Source>,
        /// Open-Meteo model (repeatable); default: OPEN_METEO_MODELS.
        #[arg(long = "model")]
        models: Vec<String>,
        /// Decision hours, local standard time: the forecast as known then.
        #[arg(long, default_value = "20", value_delimiter = ',')]
        decision_hour: Vec<u32>,
        /// Days between the decision and the climate day (0-2).
        #[arg(long, default_value_t = 1)]
        days_before: i64,
        /// Requests per second at most (1-50).
        #[arg(long, default_value_t = 2)]
        rate_per_second: u32,
        /// Also the reserved acceptance window (2025-01-01..2025-06-30).
        #[arg(long)]
        include_reserved: bool,
    },
    /// Recorded history.
    #[command(subcommand)]
    History(HistoryCommand),
    /// Every trade candidate (both sides of every bracket of every open event) with its EV
    /// after fees, its size and the risk verdict. Places nothing.
    Signals {
        /// The user whose limits apply.
        #[arg(long, default_value = "local")]
        user: String,
        /// Only this city (repeatable).
        #[arg(long = "city")]
        cities: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Trading: one cycle, and the manual approval queue.
    #[command(subcommand)]
    Trade(TradeCommand),
    /// Settle: read the climate reports, store each day's settled high, settle the trades of
    /// finalized markets (P&L from fills, risk, post-mortem); `boz settle parse FILE` reads one
    /// report file.
    #[command(args_conflicts_with_subcommands = true)]
    Settle {
        #[command(subcommand)]
        command: Option<SettleCommand>,
        /// Only this climate date (default: every day with a final report among the newest).
        #[arg(long)]
        date: Option<chrono::NaiveDate>,
        /// Only this city (repeatable).
        #[arg(long = "city")]
        cities: Vec<String>,
    },
    /// The post-mortem of a settled trade: the narrative and the structured fields.
    Postmortem {
        trade_id: String,
        #[arg(long, default_value = "local")]
        user: String,
    },
    /// The kill switch: stop all new trading for a user until `boz resume`.
    Halt {
        #[arg(long, default_value = "local")]
        user: String,
        /// Why (recorded with who and when).
        #[arg(long, default_value = "kill switch")]
        reason: String,
    },
    /// Resume trading after a halt (automation never resumes by itself).
    Resume {
        #[arg(long, default_value = "local")]
        user: String,
    },
    /// Print a new master key for ENCRYPTION_KEY (32 random bytes, URL-safe base64).
    Keygen,
    /// Manage the encryption of users' stored Kalshi keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage sign-in accounts and personal API tokens.
    #[command(subcommand)]
    User(UserCommand),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account (a user with the DEFAULT_* limits, paper only, and a login of the same
    /// name) and print its one-time password once; it must be changed at first sign-in.
    Add {
        name: String,
        /// Give the login the admin role.
        #[arg(long)]
        admin: bool,
    },
    /// List the logins: name, user, role, whether the password must be changed.
    List,
    /// Set a login's password, read from standard input (at least 12 characters); ends its
    /// sessions. With --generate, a one-time password is made and printed instead.
    SetPassword {
        name: String,
        #[arg(long)]
        generate: bool,
    },
    /// Create a personal API token for a login's user and print it once (only its hash is
    /// stored). Use it as `Authorization: Bearer <token>`.
    Token {
        name: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettleCommand {
    /// Parse a climate report text file and print what it says (or why it cannot be read).
    Parse {
        file: std::path::PathBuf,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TradeCommand {
    /// One full cycle for every user: reconcile orders, expire stale approvals, then order
    /// (auto mode) or queue for approval (manual mode) every candidate that passes.
    Cycle {
        /// Judge every candidate but place and queue nothing.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Trades waiting for approval.
    Pending {
        #[arg(long, default_value = "local")]
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Approve a waiting trade: a fresh book, EV and risk again at the current price.
    Approve {
        id: String,
        #[arg(long, default_value = "local")]
        user: String,
        /// The most to pay per contract (default: the price when it was queued).
        #[arg(long)]
        limit_price: Option<boz_common::Price>,
    },
    /// Reject a waiting trade.
    Reject {
        id: String,
        #[arg(long, default_value = "local")]
        user: String,
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Load the recorded history files (../shared/data/history) into the store: settled
    /// highs, forecasts with the time they were available, and each market's price at the
    /// decision time. Days in the reserved acceptance window 2025-01-01..2025-06-30 are skipped.
    Import {
        /// The history directory.
        #[arg(long, default_value = "../shared/data/history")]
        dir: std::path::PathBuf,
        /// Only this city (repeatable); default: every configured city.
        #[arg(long = "city")]
        cities: Vec<String>,
        /// Decision hour, local standard time on the day before the event, for market prices.
        #[arg(long, default_value_t = 20)]
        decision_hour: u32,
        /// Also import the reserved acceptance window (for the acceptance run only).
        #[arg(long)]
        include_reserved: bool,
    },
    /// Load a peer bot's top-of-book logs (jetpackjules/Kalshi-Trader `market_logs/*.csv.gz`)
    /// into `market_snapshots` as recorded quotes, for `boz backtest --recorded`.
    ImportBookLogs {
        /// The directory of `market_data_<EVENT>.csv(.gz)` files.
        #[arg(
            long,
            default_value = "../shared/data/peers/jetpackjules-kalshi-trader/market_logs"
        )]
        dir: std::path::PathBuf,
        /// The zone of the logs' timestamps (they carry none; these were written in US Pacific
        /// time, see the README).
        #[arg(long, default_value = "America/Los_Angeles")]
        zone: String,
        /// Also import the reserved acceptance window (for the acceptance run only).
        #[arg(long)]
        include_reserved: bool,
    },
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
