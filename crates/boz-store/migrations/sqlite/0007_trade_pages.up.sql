-- Pages of a user's trades, newest first: the index holds the whole order (created_at, id), so
-- skipping to a later page reads the index only.
CREATE INDEX ix_trades_user_created_id ON trades (user_id, created_at DESC, id DESC);
DROP INDEX ix_trades_user_id_created_at;
