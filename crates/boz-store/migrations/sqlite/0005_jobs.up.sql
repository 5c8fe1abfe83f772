-- The running system (issue 8): every pipeline job run (for health reporting and to show that
-- each scheduled tick ran once), leases that keep one job from running twice at once across
-- workers, and sign-in names with password hashes (the admin created at first start).
-- The market feed also records a depth summary of each book.
-- The job queue's own tables belong to apalis and live apart (a separate SQLite file).
CREATE TABLE job_runs (
    id TEXT PRIMARY KEY NOT NULL,
    job TEXT NOT NULL,
    tick TEXT NOT NULL,
    worker TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('running', 'ok', 'failed', 'skipped')),
    error TEXT,
    summary TEXT
);
CREATE INDEX ix_job_runs_job_started_at ON job_runs (job, started_at);

CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE user_logins (
    username TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX ix_user_logins_user_id ON user_logins (user_id);

ALTER TABLE market_snapshots ADD COLUMN depth TEXT;
