DROP TABLE market_trades;
