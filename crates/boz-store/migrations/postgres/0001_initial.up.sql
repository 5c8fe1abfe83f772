-- The seed's six tables (backend/common/models.py): same table and column names, nullability,
-- defaults and indexes (SQLAlchemy's `index=True` names, ix_<table>_<column>).
-- Departures, each for correctness:
--   * money (trades.entry_price, trades.pnl) and contract counts (trades.quantity) are
--     NUMERIC(20, 6), exact, not double precision; quantity may be fractional (Kalshi fills
--     fractional counts);
--   * the climate dates (forecast_date, prediction_date, trade_date, settlement_date) are DATE,
--     not instants; timestamps are TIMESTAMPTZ (UTC); JSON columns are JSONB;
--   * city is text, not an enum (cities are configurable); status and side have CHECKs;
--   * added so the schemas round-trip: weather_forecasts.variables, trades.settlement_source;
--   * added indexes: a unique forecast per (city, date, source, model run); one settlement per
--     (city, date); trades by (user_id, created_at) for paging a user's trades.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    api_key_id TEXT NOT NULL,
    encrypted_private_key TEXT NOT NULL,
    settings JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ DEFAULT now()
);

CREATE TABLE weather_forecasts (
    id BIGSERIAL PRIMARY KEY,
    city TEXT NOT NULL,
    forecast_date DATE NOT NULL,
    forecast_high_f DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,
    model_run_timestamp TIMESTAMPTZ,
    raw_data JSONB,
    variables JSONB,
    fetched_at TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX ix_weather_forecasts_city ON weather_forecasts (city);
CREATE INDEX ix_weather_forecasts_forecast_date ON weather_forecasts (forecast_date);
CREATE UNIQUE INDEX uq_weather_forecasts_run
    ON weather_forecasts (city, forecast_date, source, model_run_timestamp);

CREATE TABLE predictions (
    id BIGSERIAL PRIMARY KEY,
    city TEXT NOT NULL,
    prediction_date DATE NOT NULL,
    ensemble_forecast_f DOUBLE PRECISION NOT NULL,
    bracket_probabilities JSONB NOT NULL,
    confidence TEXT NOT NULL,
    model_sources JSONB,
    forecast_spread_f DOUBLE PRECISION,
    error_std_f DOUBLE PRECISION,
    generated_at TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX ix_predictions_city ON predictions (city);

CREATE TABLE trades (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    city TEXT NOT NULL,
    trade_date DATE NOT NULL,
    bracket_label TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('yes', 'no')),
    entry_price NUMERIC(20, 6) NOT NULL,
    quantity NUMERIC(20, 6) NOT NULL DEFAULT 1,
    model_probability DOUBLE PRECISION NOT NULL,
    market_probability DOUBLE PRECISION NOT NULL,
    ev_at_entry DOUBLE PRECISION NOT NULL,
    confidence TEXT,
    kalshi_order_id TEXT,
    status TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN
        ('PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'EXECUTED', 'WON', 'LOST', 'CANCELLED')),
    settlement_temp_f DOUBLE PRECISION,
    settlement_source TEXT,
    pnl NUMERIC(20, 6),
    postmortem_narrative TEXT,
    weather_snapshot JSONB,
    prediction_snapshot JSONB,
    created_at TIMESTAMPTZ DEFAULT now(),
    settled_at TIMESTAMPTZ
);
CREATE INDEX ix_trades_city ON trades (city);
CREATE INDEX ix_trades_user_id_created_at ON trades (user_id, created_at);

CREATE TABLE settlements (
    id BIGSERIAL PRIMARY KEY,
    city TEXT NOT NULL,
    settlement_date DATE NOT NULL,
    actual_high_f DOUBLE PRECISION NOT NULL,
    source TEXT DEFAULT 'NWS_CLI',
    raw_report JSONB,
    fetched_at TIMESTAMPTZ DEFAULT now()
);
CREATE INDEX ix_settlements_settlement_date ON settlements (settlement_date);
CREATE UNIQUE INDEX uq_settlements_city_date ON settlements (city, settlement_date);

CREATE TABLE log_entries (
    id BIGSERIAL PRIMARY KEY,
    timestamp TIMESTAMPTZ DEFAULT now(),
    level TEXT NOT NULL,
    module TEXT NOT NULL,
    message TEXT NOT NULL,
    data JSONB
);
CREATE INDEX ix_log_entries_timestamp ON log_entries (timestamp);
CREATE INDEX ix_log_entries_module ON log_entries (module);
