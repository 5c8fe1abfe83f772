-- Every trade printed on a market, as Kalshi reported it (`boz backfill` downloads them), so a
-- backtest can rebuild the book from what actually traded. Prices and counts are exact
-- NUMERIC, as in `trades`; `trade_id` is Kalshi's, so a repeated download adds nothing.
CREATE TABLE market_trades (
    id BIGSERIAL PRIMARY KEY,
    trade_id TEXT NOT NULL,
    city TEXT NOT NULL,
    event_date DATE NOT NULL,
    ticker TEXT NOT NULL,
    created_time TIMESTAMPTZ NOT NULL,
    yes_price NUMERIC(20, 6) NOT NULL,
    count NUMERIC(20, 6) NOT NULL,
    taker_side TEXT,
    source TEXT NOT NULL
);
CREATE UNIQUE INDEX uq_market_trades_trade_id ON market_trades (trade_id);
CREATE INDEX ix_market_trades_city_event_date ON market_trades (city, event_date);
