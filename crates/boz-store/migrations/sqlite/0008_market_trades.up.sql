-- Every trade printed on a market, as Kalshi reported it (`boz backfill` downloads them), so a
-- backtest can rebuild the book from what actually traded. Prices and counts are exact decimal
-- text, as in `trades`; `trade_id` is Kalshi's, so a repeated download adds nothing.
CREATE TABLE market_trades (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trade_id TEXT NOT NULL,
    city TEXT NOT NULL,
    event_date TEXT NOT NULL,
    ticker TEXT NOT NULL,
    created_time TEXT NOT NULL,
    yes_price TEXT NOT NULL,
    count TEXT NOT NULL,
    taker_side TEXT,
    source TEXT NOT NULL
);
CREATE UNIQUE INDEX uq_market_trades_trade_id ON market_trades (trade_id);
CREATE INDEX ix_market_trades_city_event_date ON market_trades (city, event_date);
