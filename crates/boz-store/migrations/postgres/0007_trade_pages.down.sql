CREATE INDEX ix_trades_user_id_created_at ON trades (user_id, created_at);
DROP INDEX ix_trades_user_created_id;
