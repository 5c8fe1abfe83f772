-- The seed's six tables (backend/common/models.py): same table and column names, nullability,
-- defaults and indexes (SQLAlchemy's `index=True` names, ix_<table>_<column>).
-- Departures, each for correctness:
--   * money (trades.entry_price, trades.pnl) and contract counts (trades.quantity) are exact
--     decimal text such as '0.5600' (SQLite has no exact numeric type; REAL would round);
--     quantity may be fractional (Kalshi fills fractional counts);
--   * the climate dates (forecast_date, prediction_date, trade_date, settlement_date) are dates
--     'YYYY-MM-DD', not instants; timestamps are RFC 3339 UTC text;
--   * city is text, not an enum (cities are configurable); status and side have CHECKs;
--   * added so the schemas round-trip: weather_forecasts.variables, trades.settlement_source;
--   * added indexes: a unique forecast per (city, date, source, model run); one settlement per
--     (city, date); trades by (user_id, created_at) for paging a user's trades.

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    api_key_id TEXT NOT NULL,
    encrypted_private_key TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE weather_forecasts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    city TEXT NOT NULL,
    forecast_date TEXT NOT NULL,
    forecast_high_f REAL NOT NULL,
    source TEXT NOT NULL,
    model_run_timestamp TEXT,
    raw_data TEXT,
    variables TEXT,
    fetched_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ix_weather_forecasts_city ON weather_forecasts (city);
CREATE INDEX ix_weather_forecasts_forecast_date ON weather_forecasts (forecast_date);
CREATE UNIQUE INDEX uq_weather_forecasts_run
    ON weather_forecasts (city, forecast_date, source, model_run_timestamp);

CREATE TABLE predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    city TEXT NOT NULL,
    prediction_date TEXT NOT NULL,
    ensemble_forecast_f REAL NOT NULL,
    bracket_probabilities TEXT NOT NULL,
    confidence TEXT NOT NULL,
    model_sources TEXT,
    forecast_spread_f REAL,
    error_std_f REAL,
    generated_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ix_predictions_city ON predictions (city);

CREATE TABLE trades (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    city TEXT NOT NULL,
    trade_date TEXT NOT NULL,
    bracket_label TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('yes', 'no')),
    entry_price TEXT NOT NULL,
    quantity TEXT NOT NULL DEFAULT '1',
    model_probability REAL NOT NULL,
    market_probability REAL NOT NULL,
    ev_at_entry REAL NOT NULL,
    confidence TEXT,
    kalshi_order_id TEXT,
    status TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN
        ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'EXECUTED', 'WON', 'LOST', 'CANCELLED')),
    settlement_temp_f REAL,
    settlement_source TEXT,
    pnl TEXT,
    postmortem_narrative TEXT,
    weather_snapshot TEXT,
    prediction_snapshot TEXT,
    created_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    settled_at TEXT
);
CREATE INDEX ix_trades_city ON trades (city);
CREATE INDEX ix_trades_user_id_created_at ON trades (user_id, created_at);

CREATE TABLE settlements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    city TEXT NOT NULL,
    settlement_date TEXT NOT NULL,
    actual_high_f REAL NOT NULL,
    source TEXT DEFAULT 'NWS_CLI',
    raw_report TEXT,
    fetched_at TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX ix_settlements_settlement_date ON settlements (settlement_date);
CREATE UNIQUE INDEX uq_settlements_city_date ON settlements (city, settlement_date);

CREATE TABLE log_entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    level TEXT NOT NULL,
    module TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT
);
CREATE INDEX ix_log_entries_timestamp ON log_entries (timestamp);
CREATE INDEX ix_log_entries_module ON log_entries (module);
