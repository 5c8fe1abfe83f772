-- The model's inputs and what it is scored against:
--   * predictions.provenance: where each prediction's numbers came from (sources used with their
--     fetch and run times, weights and biases, sources left out and why, σ and how it was
--     reached), as JSON;
--   * market_snapshots: a market's prices at one moment (recorded live or imported from
--     history), with the bracket it pays on, so the market can be scored like the model.
--     Prices and volume are NUMERIC, as in `trades`.
ALTER TABLE predictions ADD COLUMN provenance JSONB;

CREATE TABLE market_snapshots (
    id BIGSERIAL PRIMARY KEY,
    city TEXT NOT NULL,
    event_date DATE NOT NULL,
    event_ticker TEXT NOT NULL,
    ticker TEXT NOT NULL,
    lower_bound_f INTEGER,
    upper_bound_f INTEGER,
    as_of TIMESTAMPTZ NOT NULL,
    yes_bid NUMERIC(20, 6),
    yes_ask NUMERIC(20, 6),
    last_price NUMERIC(20, 6),
    volume NUMERIC(20, 6),
    source TEXT NOT NULL
);
CREATE UNIQUE INDEX uq_market_snapshots ON market_snapshots (ticker, as_of, source);
CREATE INDEX ix_market_snapshots_city_event_date ON market_snapshots (city, event_date);
