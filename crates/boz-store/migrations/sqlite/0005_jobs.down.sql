ALTER TABLE market_snapshots DROP COLUMN depth;
DROP TABLE user_logins;
DROP TABLE job_leases;
DROP TABLE job_runs;
