//! One HTTP client per upstream: timeouts on every call, an optional shared rate limiter, and
//! retries with jittered exponential backoff on 500/502/503/504, timeouts and connection failures
//! only (these are GETs: idempotent). Error bodies in `application/problem+json` are read for
//! their title; the CDN's HTML 403 is reported as blocked.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::Value;

use crate::error::WeatherError;

/// How requests are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// Three retries, 0.5 s doubling to at most 4 s, with jitter: about 10 s of waiting at most,
    /// as NWS recommends for its intermittent 500s.
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
        }
    }
}

/// A limiter allowing `per_second` requests per second (no bursts), shared by every caller.
pub fn rate_limiter(per_second: f64) -> Arc<DefaultDirectRateLimiter> {
    let period = Duration::from_secs_f64(1.0 / per_second.max(0.001));
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(NonZeroU32::MIN);
    Arc::new(RateLimiter::direct(quota))
}

/// A JSON-over-HTTP client for one service.
#[derive(Clone)]
pub struct HttpJson {
    client: reqwest::Client,
    service: &'static str,
    limiter: Option<Arc<DefaultDirectRateLimiter>>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for HttpJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpJson")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

fn path_of(url: &str) -> String {
    let no_query = url.split('?').next().unwrap_or(url);
    match no_query.split_once("://") {
        Some((_, rest)) => rest
            .find('/')
            .map_or("/".to_string(), |i| rest[i..].to_string()),
        None => no_query.to_string(),
    }
}

impl HttpJson {
    pub fn new(
        service: &'static str,
        user_agent: &str,
        accept: &'static str,
        timeout: Duration,
        limiter: Option<Arc<DefaultDirectRateLimiter>>,
        retry: RetryPolicy,
    ) -> Result<HttpJson, WeatherError> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static(accept),
        );
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| WeatherError::Connect {
                service,
                path: String::new(),
                reason: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(HttpJson {
            client,
            service,
            limiter,
            retry,
        })
    }

    pub fn service(&self) -> &'static str {
        self.service
    }

    /// GETs `url` with `query` and parses JSON, retrying transient failures.
    pub async fn get_json(
        &self,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<Value, WeatherError> {
        let body = self.get_text(url, query).await?;
        serde_json::from_str(&body).map_err(|e| WeatherError::Malformed {
            service: self.service,
            path: path_of(url),
            reason: format!("not JSON: {e}"),
        })
    }

    /// GETs `url` with `query` and returns the body as text, retrying transient failures.
    pub async fn get_text(
        &self,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<String, WeatherError> {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.retries)
            .with_jitter();
        (|| self.once(url, query))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(WeatherError::is_transient)
            .notify(|e: &WeatherError, wait: Duration| {
                tracing::warn!(target: "WEATHER", error = %e, retry_in_ms = wait.as_millis() as u64, "retrying");
            })
            .await
    }

    async fn once(&self, url: &str, query: &[(&str, String)]) -> Result<String, WeatherError> {
        let service = self.service;
        let path = path_of(url);
        if let Some(l) = &self.limiter {
            l.until_ready().await;
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                WeatherError::Timeout {
                    service,
                    path: path.clone(),
                }
            } else {
                WeatherError::Connect {
                    service,
                    path: path.clone(),
                    reason: e.without_url().to_string(),
                }
            }
        };
        let resp = self
            .client
            .get(url)
            .query(query)
            .send()
            .await
            .map_err(&transport)?;
        let status = resp.status().as_u16();
        let html = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("html"));
        let body = resp.text().await.map_err(&transport)?;
        if !(200..300).contains(&status) {
            if status == 403 && (html || body.trim_start().starts_with('<')) {
                return Err(WeatherError::Blocked { service });
            }
            let problem: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let text = |k: &str| {
                problem
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            return Err(WeatherError::Http {
                service,
                path,
                status,
                title: text("title"),
                detail: text("detail"),
            });
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limiter_allows_no_burst() {
        // One request at a time: a second request right after the first must wait its turn.
        let l = rate_limiter(1.0);
        assert!(l.check().is_ok());
        assert!(l.check().is_err());
        let shared = l.clone();
        assert!(shared.check().is_err(), "clones share the same budget");
    }

    #[test]
    fn paths_never_carry_the_query() {
        assert_eq!(
            path_of("https://api.open-meteo.com/v1/forecast?apikey=SECRET"),
            "/v1/forecast"
        );
        assert_eq!(
            path_of("http://127.0.0.1:3000/points/40.7790,-73.9690"),
            "/points/40.7790,-73.9690"
        );
        assert_eq!(path_of("https://x.org"), "/");
    }
}
