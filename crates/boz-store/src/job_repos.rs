//! The pipeline's job runs and leases, and sign-in names, written once for both backends like
//! [`crate::repos`]; each backend invokes [`impl_job_repositories!`] after `impl_repositories!`,
//! whose helpers it uses.

macro_rules! impl_job_repositories {
    ($store:ty) => {
        use boz_common::ports::{
            ApiToken, JobOutcome, JobRepo, JobRun, JobStatus, Login, LoginRepo, Session,
            TOKEN_TOUCH_SECONDS,
        };

        fn session_from_row(row: &DbRow) -> Result<Session, BozError> {
            Ok(Session {
                id_hash: col(row, "id_hash")?,
                username: col(row, "username")?,
                user_id: col(row, "user_id")?,
                csrf_token: col(row, "csrf_token")?,
                created_at: col(row, "created_at")?,
                expires_at: col(row, "expires_at")?,
            })
        }

        fn token_from_row(row: &DbRow) -> Result<ApiToken, BozError> {
            Ok(ApiToken {
                id: col(row, "id")?,
                user_id: col(row, "user_id")?,
                name: col(row, "name")?,
                token_hash: col(row, "token_hash")?,
                created_at: col(row, "created_at")?,
                last_used_at: col(row, "last_used_at")?,
            })
        }

        fn job_run_from_row(row: &DbRow) -> Result<JobRun, BozError> {
            let summary: Option<Json<Value>> = col(row, "summary")?;
            Ok(JobRun {
                id: col(row, "id")?,
                job: col(row, "job")?,
                tick: col(row, "tick")?,
                worker: col(row, "worker")?,
                started_at: col(row, "started_at")?,
                finished_at: col(row, "finished_at")?,
                duration_ms: col(row, "duration_ms")?,
                outcome: parsed(row, "outcome")?,
                error: col(row, "error")?,
                summary: summary.map(|Json(v)| v),
            })
        }

        fn login_from_row(row: &DbRow) -> Result<Login, BozError> {
            Ok(Login {
                username: col(row, "username")?,
                user_id: col(row, "user_id")?,
                password_hash: col(row, "password_hash")?,
                role: col(row, "role")?,
                must_change_password: col(row, "must_change_password")?,
                created_at: col(row, "created_at")?,
            })
        }

        #[async_trait]
        impl JobRepo for $store {
            async fn start_job_run(&self, run: &JobRun) -> Result<(), BozError> {
                sqlx::query(
                    "INSERT INTO job_runs (id, job, tick, worker, started_at, finished_at, \
                     duration_ms, outcome, error, summary) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(&run.id)
                .bind(&run.job)
                .bind(run.tick)
                .bind(&run.worker)
                .bind(run.started_at)
                .bind(run.finished_at)
                .bind(run.duration_ms)
                .bind(run.outcome.as_str())
                .bind(&run.error)
                .bind(run.summary.as_ref().map(Json))
                .execute(&self.write)
                .await
                .map_err(|e| db_error("record job start", e))?;
                Ok(())
            }

            async fn finish_job_run(
                &self,
                id: &str,
                finished_at: DateTime<Utc>,
                outcome: JobOutcome,
                error: Option<&str>,
                summary: Option<&Value>,
            ) -> Result<(), BozError> {
                let started: DateTime<Utc> = sqlx::query("SELECT started_at FROM job_runs WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.write)
                    .await
                    .map_err(|e| db_error("read job run", e))?
                    .ok_or_else(|| BozError::not_found("job run", id))
                    .and_then(|row| col(&row, "started_at"))?;
                let duration = (finished_at - started).num_milliseconds().max(0);
                sqlx::query(
                    "UPDATE job_runs SET finished_at = $2, duration_ms = $3, outcome = $4, error = $5, \
                     summary = $6 WHERE id = $1",
                )
                .bind(id)
                .bind(finished_at)
                .bind(duration)
                .bind(outcome.as_str())
                .bind(error)
                .bind(summary.map(Json))
                .execute(&self.write)
                .await
                .map_err(|e| db_error("record job end", e))?;
                Ok(())
            }

            async fn job_statuses(&self) -> Result<Vec<JobStatus>, BozError> {
                let newest = sqlx::query(
                    "SELECT * FROM job_runs r WHERE r.started_at = \
                     (SELECT MAX(started_at) FROM job_runs WHERE job = r.job) ORDER BY r.job",
                )
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("read job runs", e))?;
                let ok = sqlx::query(
                    "SELECT * FROM job_runs r WHERE r.outcome = 'ok' AND r.started_at = \
                     (SELECT MAX(started_at) FROM job_runs WHERE job = r.job AND outcome = 'ok')",
                )
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("read job runs", e))?;
                let ok: Vec<JobRun> = ok.iter().map(job_run_from_row).collect::<Result<_, _>>()?;
                let finished = sqlx::query(
                    "SELECT * FROM job_runs r WHERE r.outcome IN ('ok', 'failed') AND r.started_at = \
                     (SELECT MAX(started_at) FROM job_runs WHERE job = r.job AND outcome IN ('ok', 'failed'))",
                )
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("read job runs", e))?;
                let finished: Vec<JobRun> =
                    finished.iter().map(job_run_from_row).collect::<Result<_, _>>()?;
                let first = sqlx::query(
                    "SELECT * FROM job_runs r WHERE r.started_at = \
                     (SELECT MIN(started_at) FROM job_runs WHERE job = r.job)",
                )
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("read job runs", e))?;
                let first: Vec<JobRun> = first.iter().map(job_run_from_row).collect::<Result<_, _>>()?;
                let mut out: Vec<JobStatus> = Vec::new();
                for row in &newest {
                    let last = job_run_from_row(row)?;
                    if out.iter().any(|s| s.job == last.job) {
                        continue; // two runs started at the same instant: one is enough
                    }
                    let last_ok = ok.iter().find(|r| r.job == last.job).cloned();
                    let last_finished = finished.iter().find(|r| r.job == last.job).cloned();
                    let first_started_at = first
                        .iter()
                        .find(|r| r.job == last.job)
                        .map_or(last.started_at, |r| r.started_at);
                    out.push(JobStatus {
                        job: last.job.clone(),
                        first_started_at,
                        last,
                        last_finished,
                        last_ok,
                    });
                }
                Ok(out)
            }

            async fn job_runs_since(&self, job: &str, since: DateTime<Utc>) -> Result<Vec<JobRun>, BozError> {
                sqlx::query("SELECT * FROM job_runs WHERE job = $1 AND started_at >= $2 ORDER BY started_at, id")
                    .bind(job)
                    .bind(since)
                    .fetch_all(&self.read)
                    .await
                    .map_err(|e| db_error("read job runs", e))?
                    .iter()
                    .map(job_run_from_row)
                    .collect()
            }

            async fn prune_job_runs(&self, before: DateTime<Utc>) -> Result<u64, BozError> {
                Ok(sqlx::query("DELETE FROM job_runs WHERE started_at < $1")
                    .bind(before)
                    .execute(&self.write)
                    .await
                    .map_err(|e| db_error("prune job runs", e))?
                    .rows_affected())
            }

            async fn acquire_lease(
                &self,
                name: &str,
                holder: &str,
                until: DateTime<Utc>,
                now: DateTime<Utc>,
            ) -> Result<bool, BozError> {
                let done = sqlx::query(
                    "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                     WHERE job_leases.expires_at <= $4 OR job_leases.holder = excluded.holder",
                )
                .bind(name)
                .bind(holder)
                .bind(until)
                .bind(now)
                .execute(&self.write)
                .await
                .map_err(|e| db_error("take lease", e))?;
                Ok(done.rows_affected() == 1)
            }

            async fn release_lease(&self, name: &str, holder: &str) -> Result<(), BozError> {
                sqlx::query("DELETE FROM job_leases WHERE name = $1 AND holder = $2")
                    .bind(name)
                    .bind(holder)
                    .execute(&self.write)
                    .await
                    .map_err(|e| db_error("release lease", e))?;
                Ok(())
            }
        }

        #[async_trait]
        impl LoginRepo for $store {
            async fn create_login(&self, user: &StoredUser, login: &Login) -> Result<(), BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                sqlx::query(
                    "INSERT INTO users (id, api_key_id, encrypted_private_key, settings, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&user.id)
                .bind(&user.api_key_id)
                .bind(&user.encrypted_private_key)
                .bind(Json(&user.settings))
                .bind(user.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("create user", e))?;
                let done = sqlx::query(
                    "INSERT INTO user_logins (username, user_id, password_hash, role, must_change_password, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING",
                )
                .bind(&login.username)
                .bind(&login.user_id)
                .bind(&login.password_hash)
                .bind(&login.role)
                .bind(login.must_change_password)
                .bind(login.created_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("create login", e))?;
                if done.rows_affected() != 1 {
                    return Err(BozError::conflict(
                        format!("the login {} exists already", login.username),
                        boz_common::context!("username" => login.username.as_str()),
                    ));
                }
                tx.commit().await.map_err(|e| db_error("commit", e))
            }

            async fn get_login(&self, username: &str) -> Result<Option<Login>, BozError> {
                sqlx::query("SELECT * FROM user_logins WHERE username = $1")
                    .bind(username)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("read login", e))?
                    .as_ref()
                    .map(login_from_row)
                    .transpose()
            }

            async fn admin_exists(&self) -> Result<bool, BozError> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM user_logins WHERE role = 'admin'")
                    .fetch_one(&self.read)
                    .await
                    .map_err(|e| db_error("read logins", e))?;
                let n: i64 = col(&row, "n")?;
                Ok(n > 0)
            }

            async fn list_logins(&self) -> Result<Vec<Login>, BozError> {
                sqlx::query("SELECT * FROM user_logins ORDER BY username")
                    .fetch_all(&self.read)
                    .await
                    .map_err(|e| db_error("list logins", e))?
                    .iter()
                    .map(login_from_row)
                    .collect()
            }

            async fn set_password(
                &self,
                username: &str,
                password_hash: &str,
                must_change_password: bool,
            ) -> Result<(), BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let done = sqlx::query(
                    "UPDATE user_logins SET password_hash = $2, must_change_password = $3 WHERE username = $1",
                )
                .bind(username)
                .bind(password_hash)
                .bind(must_change_password)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("set password", e))?;
                if done.rows_affected() != 1 {
                    return Err(BozError::not_found("login", username));
                }
                sqlx::query("DELETE FROM sessions WHERE username = $1")
                    .bind(username)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("end sessions", e))?;
                tx.commit().await.map_err(|e| db_error("commit", e))
            }

            async fn create_session(&self, x: &Session) -> Result<(), BozError> {
                sqlx::query(
                    "INSERT INTO sessions (id_hash, username, user_id, csrf_token, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&x.id_hash)
                .bind(&x.username)
                .bind(&x.user_id)
                .bind(&x.csrf_token)
                .bind(x.created_at)
                .bind(x.expires_at)
                .execute(&self.write)
                .await
                .map_err(|e| db_error("create session", e))?;
                Ok(())
            }

            async fn get_session(&self, id_hash: &str, now: DateTime<Utc>) -> Result<Option<Session>, BozError> {
                sqlx::query("SELECT * FROM sessions WHERE id_hash = $1 AND expires_at > $2")
                    .bind(id_hash)
                    .bind(now)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("read session", e))?
                    .as_ref()
                    .map(session_from_row)
                    .transpose()
            }

            async fn delete_session(&self, id_hash: &str) -> Result<(), BozError> {
                sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&self.write)
                    .await
                    .map_err(|e| db_error("delete session", e))?;
                Ok(())
            }

            async fn create_token(&self, t: &ApiToken) -> Result<(), BozError> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, last_used_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&t.id)
                .bind(&t.user_id)
                .bind(&t.name)
                .bind(&t.token_hash)
                .bind(t.created_at)
                .bind(t.last_used_at)
                .execute(&self.write)
                .await
                .map_err(|e| db_error("create token", e))?;
                Ok(())
            }

            async fn use_token(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<ApiToken>, BozError> {
                let found = sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
                    .bind(token_hash)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("read token", e))?
                    .as_ref()
                    .map(token_from_row)
                    .transpose()?;
                // last use to the minute: a busy script does not write on every request
                let stale = |t: &ApiToken| {
                    t.last_used_at
                        .is_none_or(|at| now - at >= chrono::Duration::seconds(TOKEN_TOUCH_SECONDS))
                };
                if let Some(t) = found.as_ref().filter(|t| stale(t)) {
                    sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                        .bind(&t.id)
                        .bind(now)
                        .execute(&self.write)
                        .await
                        .map_err(|e| db_error("mark token used", e))?;
                }
                Ok(found.map(|t| {
                    if stale(&t) {
                        ApiToken { last_used_at: Some(now), ..t }
                    } else {
                        t
                    }
                }))
            }

            async fn list_tokens(&self, user_id: &str) -> Result<Vec<ApiToken>, BozError> {
                sqlx::query("SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id")
                    .bind(user_id)
                    .fetch_all(&self.read)
                    .await
                    .map_err(|e| db_error("list tokens", e))?
                    .iter()
                    .map(token_from_row)
                    .collect()
            }

            async fn set_kalshi_key(
                &self,
                user_id: &str,
                key: Option<(&str, &str, &str)>,
            ) -> Result<(), BozError> {
                let (id, encrypted, env) = key.unwrap_or(("", "", ""));
                let done = sqlx::query(
                    "UPDATE users SET api_key_id = $2, encrypted_private_key = $3, kalshi_env = $4 WHERE id = $1",
                )
                .bind(user_id)
                .bind(id)
                .bind(encrypted)
                .bind(if env.is_empty() { None } else { Some(env) })
                .execute(&self.write)
                .await
                .map_err(|e| db_error("store Kalshi key", e))?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(BozError::not_found("user", user_id))
                }
            }

            async fn kalshi_env(&self, user_id: &str) -> Result<Option<String>, BozError> {
                let row = sqlx::query("SELECT kalshi_env FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("read Kalshi environment", e))?
                    .ok_or_else(|| BozError::not_found("user", user_id))?;
                col(&row, "kalshi_env")
            }

            async fn delete_token(&self, user_id: &str, id: &str) -> Result<(), BozError> {
                let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .execute(&self.write)
                    .await
                    .map_err(|e| db_error("delete token", e))?;
                if done.rows_affected() == 1 {
                    Ok(())
                } else {
                    Err(BozError::not_found("token", id))
                }
            }
        }
    };
}

pub(crate) use impl_job_repositories;
