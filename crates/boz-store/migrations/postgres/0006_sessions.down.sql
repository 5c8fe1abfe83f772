ALTER TABLE users DROP COLUMN kalshi_env;
DROP TABLE api_tokens;
DROP TABLE sessions;
