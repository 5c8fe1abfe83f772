DROP TABLE user_logins;
DROP TABLE job_leases;
DROP TABLE job_runs;
