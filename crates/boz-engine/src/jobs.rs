//! The pipeline's jobs: what each does, and the jobs it asks for next (a fetch asks for a
//! prediction, a prediction or a moved book for a trading cycle).

use std::sync::Arc;

use boz_common::city::City;
use boz_common::ports::TradeFilter;
use boz_common::status::TradeStatus;
use boz_trading::risk::trading_day;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::services::Services;
use crate::{EngineError, Result};

/// Every kind of job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    FetchForecasts,
    FetchObservations,
    RecordMarkets,
    Predict,
    TradingCycle,
    ExpireApprovals,
    Reconcile,
    Settle,
}

impl JobKind {
    pub const ALL: [JobKind; 8] = [
        JobKind::FetchForecasts,
        JobKind::FetchObservations,
        JobKind::RecordMarkets,
        JobKind::Predict,
        JobKind::TradingCycle,
        JobKind::ExpireApprovals,
        JobKind::Reconcile,
        JobKind::Settle,
    ];

    /// Whether the job touches orders (and so runs only while holding the trading lease).
    pub fn trades(self) -> bool {
        matches!(
            self,
            JobKind::TradingCycle | JobKind::Reconcile | JobKind::ExpireApprovals
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::FetchForecasts => "fetch_forecasts",
            JobKind::FetchObservations => "fetch_observations",
            JobKind::RecordMarkets => "record_markets",
            JobKind::Predict => "predict",
            JobKind::TradingCycle => "trading_cycle",
            JobKind::ExpireApprovals => "expire_approvals",
            JobKind::Reconcile => "reconcile",
            JobKind::Settle => "settle",
        }
    }
}

/// One job to run: its kind, the scheduled tick it belongs to, and why it was asked for
/// ("interval", "model run", "after fetch_forecasts", "book moved", ...). The key is unique
/// per (kind, reason, tick): the queue refuses a second job with the same key, so a tick runs
/// once however many schedulers ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub kind: JobKind,
    pub tick: DateTime<Utc>,
    pub reason: String,
}

impl Job {
    pub fn new(kind: JobKind, tick: DateTime<Utc>, reason: impl Into<String>) -> Job {
        Job {
            kind,
            tick,
            reason: reason.into(),
        }
    }

    pub fn key(&self) -> String {
        format!(
            "{}@{}@{}",
            self.kind.as_str(),
            self.reason,
            self.tick.to_rfc3339()
        )
    }

    fn follow(&self, kind: JobKind) -> Job {
        Job::new(kind, self.tick, format!("after {}", self.kind.as_str()))
    }
}

/// What a job did (stored as the run's summary), the jobs it asks for, and whether it failed
/// all the same (a fetch whose every source failed keeps the per-source errors in its summary).
#[derive(Debug, Default)]
pub struct Done {
    pub summary: Value,
    pub next: Vec<Job>,
    pub failed: Option<String>,
}

/// Runs one job's work.
pub async fn execute(svc: &Services, job: &Job) -> Result<Done> {
    let cities = svc.cities.clone();
    match job.kind {
        JobKind::FetchForecasts => {
            let r = crate::weather::fetch_forecasts(svc, &cities, None).await?;
            let errors: Vec<Value> = r
                .errors
                .iter()
                .map(|(s, c, e)| json!({"source": s, "city": c, "error": e.message}))
                .collect();
            let all_failed = r.data.is_empty() && !errors.is_empty();
            Ok(Done {
                summary: json!({"forecasts": r.data.len(), "new": r.new, "duplicate": r.duplicate, "errors": errors}),
                next: if all_failed {
                    Vec::new()
                } else {
                    vec![job.follow(JobKind::Predict)]
                },
                failed: all_failed
                    .then(|| format!("every weather source failed ({} errors)", errors.len())),
            })
        }
        JobKind::FetchObservations => {
            let (found, failed) = crate::weather::observe(svc, &cities).await;
            if found.is_empty() && !failed.is_empty() {
                let text: Vec<String> = failed.into_iter().map(|(_, m)| m).collect();
                return Err(EngineError::failed(format!(
                    "no observations could be read: {}",
                    text.join("; ")
                )));
            }
            let maxima: Vec<Value> = found
                .iter()
                .map(|m| json!({"city": m.city, "climate_date": m.climate_date, "max_f": m.max_f}))
                .collect();
            let errors: Vec<String> = failed.into_iter().map(|(_, m)| m).collect();
            Ok(Done {
                summary: json!({"observed": maxima, "errors": errors}),
                next: vec![job.follow(JobKind::Predict)],
                failed: None,
            })
        }
        JobKind::RecordMarkets => {
            let events = crate::markets::open_books(svc, &cities, None).await?;
            let r = crate::markets::record(svc, &events).await?;
            let next = if r.moved.is_empty() {
                Vec::new()
            } else {
                vec![Job::new(JobKind::TradingCycle, job.tick, "book moved")]
            };
            Ok(Done {
                summary: serde_json::to_value(&r)?,
                next,
                failed: None,
            })
        }
        JobKind::Predict => {
            let r = crate::predict::predict(svc, &cities, None).await?;
            if r.predictions.is_empty() && !r.failures.is_empty() {
                return Err(EngineError::failed(format!(
                    "no prediction could be made: {}",
                    r.failures.join("; ")
                )));
            }
            let made: Vec<Value> = r
                .predictions
                .iter()
                .map(|(p, prov)| json!({"city": p["city"], "date": p["date"], "event_ticker": prov["event_ticker"], "confidence": p["confidence"]}))
                .collect();
            let next = if made.is_empty() {
                Vec::new()
            } else {
                vec![job.follow(JobKind::TradingCycle)]
            };
            Ok(Done {
                summary: json!({"predictions": made, "failures": r.failures}),
                next,
                failed: None,
            })
        }
        JobKind::TradingCycle => {
            let engine = crate::trading::pipeline_engine(svc)?;
            let r = engine.cycle(false).await?;
            let mut refusals: Vec<&str> = r
                .candidates
                .iter()
                .filter(|c| c.verdict.starts_with("refused"))
                .map(|c| c.verdict.as_str())
                .collect();
            refusals.sort_unstable();
            refusals.dedup();
            Ok(Done {
                failed: None,
                summary: json!({
                    "candidates": r.candidates.len(),
                    "refusals": refusals,
                    "orders": r.orders.iter().map(|o| json!({"client_order_id": o.request.client_order_id, "status": o.status.as_str(), "filled": o.filled})).collect::<Vec<_>>(),
                    "queued": r.queued,
                    "expired": r.expired,
                    "refused": r.refused,
                    "errors": r.errors,
                }),
                next: Vec::new(),
            })
        }
        JobKind::ExpireApprovals => {
            let engine = crate::trading::pipeline_engine(svc)?;
            let expired = engine.expire_pending().await?;
            Ok(Done {
                summary: json!({"expired": expired}),
                next: Vec::new(),
                failed: None,
            })
        }
        JobKind::Reconcile => {
            let engine = crate::trading::pipeline_engine(svc)?;
            let day = trading_day(svc.clock.now());
            let mut mismatches = Vec::new();
            for user in svc.store.list_users().await? {
                let r = engine.orders().reconcile(&user.id, day).await?;
                mismatches.extend(r.mismatches);
            }
            for m in &mismatches {
                tracing::warn!(target: "ORDER", mismatch = %m, "reconciliation difference");
            }
            Ok(Done {
                summary: json!({"mismatches": mismatches}),
                next: Vec::new(),
                failed: None,
            })
        }
        JobKind::Settle => {
            let due = cities_to_settle(svc).await?;
            if due.is_empty() {
                return Ok(Done {
                    summary: json!({"skipped": "every city's last day is settled"}),
                    next: Vec::new(),
                    failed: None,
                });
            }
            let r = crate::settle::settle(svc, &due, None).await?;
            Ok(Done {
                summary: json!({
                    "cities": due.iter().map(|c| c.code.to_string()).collect::<Vec<_>>(),
                    "settled_days": r.settled_days,
                    "lines": r.lines,
                    "errors": r.errors,
                }),
                next: Vec::new(),
                failed: None,
            })
        }
    }
}

/// The cities with something left to settle: yesterday's high not stored yet, or an EXECUTED
/// trade of a day that is over.
async fn cities_to_settle(svc: &Services) -> Result<Vec<Arc<City>>> {
    let now = svc.clock.now();
    let users = svc.store.list_users().await?;
    let mut out = Vec::new();
    for city in &svc.cities {
        let yesterday = city.climate_date(now) - Duration::days(1);
        let stored = svc
            .store
            .settlements_between(&city.code(), yesterday, yesterday)
            .await?;
        let mut open = false;
        for u in &users {
            let filter = TradeFilter {
                city: Some(city.code()),
                status: Some(TradeStatus::Executed),
                from: None,
                to: Some(yesterday),
                limit: 1,
                offset: 0,
            };
            if !svc.store.list_trades(&u.id, &filter).await?.is_empty() {
                open = true;
                break;
            }
        }
        if stored.is_empty() || open {
            out.push(city.clone());
        }
    }
    Ok(out)
}
