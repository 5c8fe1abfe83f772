-- Authentication (issue 9): browser sessions and personal API tokens. Only hashes of the secret
-- values are stored (SHA-256 of 32 random bytes); a session also holds its CSRF token.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL REFERENCES user_logins (username) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX ix_sessions_username ON sessions (username);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX ix_api_tokens_user_id ON api_tokens (user_id);

-- Onboarding: which Kalshi environment (demo or prod) a user's stored key belongs to.
ALTER TABLE users ADD COLUMN kalshi_env TEXT;
