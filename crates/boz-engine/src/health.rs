//! What `/health` reports: the database, each forecast source's data age, the market feed's
//! age, the last run of each job, and each user's trading state; healthy or not, with reasons.
//!
//! Unhealthy (503): the database does not answer; no forecast stored within
//! NOTIFY_SOURCE_DOWN_MINUTES for a city (every source down); the market feed older than three
//! market intervals while Kalshi has been read before; a job whose last run failed and has not
//! succeeded since for three of its intervals. A single source down is reported but keeps the
//! system healthy (the model works without it); the sources that failed at the newest fetch are
//! listed with their error and since when they have been down.

use std::collections::BTreeMap;

use boz_common::ports::JobOutcome;
use boz_trading::risk::trading_day;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::jobs::JobKind;
use crate::schedule::Schedule;
use crate::services::Services;

#[derive(Debug, Serialize)]
pub struct Health {
    pub healthy: bool,
    pub reasons: Vec<String>,
    pub body: Value,
}

fn age(now: DateTime<Utc>, t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| json!((now - t).num_seconds()))
}

pub async fn check(svc: &Services) -> Health {
    let now = svc.clock.now();
    let mut reasons = Vec::new();
    let store = &svc.store;
    if let Err(e) = store.ping().await {
        return Health {
            healthy: false,
            reasons: vec![format!("database unreachable: {}", e.message)],
            body: json!({
                "status": "unavailable",
                "reasons": [format!("database unreachable: {}", e.message)],
                "database": {"backend": store.backend(), "reachable": false},
            }),
        };
    }
    let plan = Schedule::from_settings(&svc.settings);
    let interval = |k: JobKind| {
        plan.every
            .iter()
            .find(|(j, _)| *j == k)
            .map_or(3600, |(_, s)| *s)
    };
    let down_after = Duration::minutes(i64::from(svc.settings.notify_source_down_minutes));

    // forecasts: the newest fetch of each source, per city
    let mut sources = BTreeMap::new();
    let today = now.date_naive();
    for city in &svc.cities {
        let rows = match store
            .forecasts_between(
                &city.code(),
                today - Duration::days(7),
                today + Duration::days(7),
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                reasons.push(format!(
                    "forecasts of {} unreadable: {}",
                    city.code, e.message
                ));
                continue;
            }
        };
        let mut newest: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
        for f in &rows {
            let e = newest
                .entry(f.data.source.clone())
                .or_insert(f.data.fetched_at);
            if f.data.fetched_at > *e {
                *e = f.data.fetched_at;
            }
        }
        let latest = newest.values().max().copied();
        let ever_fetched = !rows.is_empty();
        let stale = latest.is_none_or(|t| now - t > down_after);
        let list: Vec<Value> = newest
            .iter()
            .map(|(s, t)| {
                json!({"source": s, "fetched_at": t, "age_seconds": (now - *t).num_seconds(),
                       "down": now - *t > down_after})
            })
            .collect();
        sources.insert(
            city.code.to_string(),
            json!({"latest_fetched_at": latest, "age_seconds": age(now, latest), "sources": list}),
        );
        if stale && ever_fetched {
            reasons.push(format!(
                "{}: no forecast fetched in the last {} minutes (every source down since {})",
                city.code,
                svc.settings.notify_source_down_minutes,
                latest.map_or("unknown".into(), |t| t.to_rfc3339())
            ));
        }
    }

    // the market feed: the newest snapshot of any open event
    let mut feed: Option<DateTime<Utc>> = None;
    for city in &svc.cities {
        match store
            .latest_market_snapshots(
                &city.code(),
                today - Duration::days(1),
                today + Duration::days(3),
            )
            .await
        {
            Ok(snaps) => feed = feed.max(snaps.iter().map(|s| s.as_of).max()),
            Err(e) => reasons.push(format!(
                "market snapshots of {} unreadable: {}",
                city.code, e.message
            )),
        }
    }
    let feed_limit = Duration::seconds(3 * interval(JobKind::RecordMarkets));

    // jobs
    let statuses = match store.job_statuses().await {
        Ok(s) => s,
        Err(e) => {
            reasons.push(format!("job runs unreadable: {}", e.message));
            Vec::new()
        }
    };
    let feed_ran = statuses
        .iter()
        .any(|s| s.job == JobKind::RecordMarkets.as_str() && s.last_ok.is_some());
    if feed_ran && feed.is_none_or(|t| now - t > feed_limit) {
        reasons.push(format!(
            "market feed stale: newest snapshot {}",
            feed.map_or("none".into(), |t| t.to_rfc3339())
        ));
    }
    // which sources failed at the newest forecast fetch, and since when they have been down
    // (their newest stored forecast; if none, the first fetch)
    let mut down = Vec::new();
    if let Some(f) = statuses
        .iter()
        .find(|s| s.job == JobKind::FetchForecasts.as_str())
        && let Some(done) = &f.last_finished
        && let Some(errors) = done
            .summary
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(Value::as_array)
    {
        for e in errors {
            let source = e["source"].as_str().unwrap_or_default();
            let city = e["city"].as_str().unwrap_or_default();
            let last_ok = match boz_common::CityCode::parse(city) {
                Ok(code) => crate::weather::last_stored(store, &code, source, now)
                    .await
                    .ok()
                    .flatten(),
                Err(_) => None,
            };
            down.push(json!({
                "source": source, "city": city, "error": e["error"],
                "last_ok": last_ok,
                "down_since": last_ok.unwrap_or(f.first_started_at),
                "checked_at": done.started_at,
            }));
        }
    }
    let mut jobs = Vec::new();
    for s in &statuses {
        let every = JobKind::ALL
            .iter()
            .find(|k| k.as_str() == s.job)
            .map_or(3600, |k| interval(*k));
        // failing for three intervals: since its last success, or since it first ran
        let good_since = s
            .last_ok
            .as_ref()
            .map_or(s.first_started_at, |r| r.started_at);
        if let Some(f) = &s.last_finished
            && f.outcome == JobOutcome::Failed
            && now - good_since > Duration::seconds(3 * every)
        {
            reasons.push(format!(
                "job {} failing: {}",
                s.job,
                f.error.clone().unwrap_or_default()
            ));
        }
        jobs.push(json!({
            "job": s.job,
            "last_run": {"tick": s.last.tick, "started_at": s.last.started_at, "finished_at": s.last.finished_at,
                          "duration_ms": s.last.duration_ms, "outcome": s.last.outcome, "error": s.last.error,
                          "worker": s.last.worker},
            "last_finished": s.last_finished.as_ref().map(|f| json!({
                "tick": f.tick, "finished_at": f.finished_at, "outcome": f.outcome, "error": f.error})),
            "last_ok_at": s.last_ok.as_ref().and_then(|r| r.finished_at),
            "first_run_at": s.first_started_at,
        }));
    }

    // trading state of every user
    let mut trading = Vec::new();
    match store.list_users().await {
        Ok(users) => {
            for u in users {
                match store.risk_status(&u.id, trading_day(now)).await {
                    Ok(r) => trading.push(json!({"user_id": u.id, "state": r.state})),
                    Err(e) => reasons.push(format!(
                        "trading state of {} unreadable: {}",
                        u.id, e.message
                    )),
                }
            }
        }
        Err(e) => reasons.push(format!("users unreadable: {}", e.message)),
    }
    let healthy = reasons.is_empty();
    Health {
        healthy,
        body: json!({
            "status": if healthy { "ok" } else { "degraded" },
            "reasons": reasons,
            "time": now,
            "database": {"backend": store.backend(), "reachable": true},
            "forecasts": sources,
            "sources_down": down,
            "market_feed": {"latest_snapshot_at": feed, "age_seconds": age(now, feed)},
            "jobs": jobs,
            "trading": trading,
            "venue": svc.settings.trading_venue.as_str(),
        }),
        reasons,
    }
}
