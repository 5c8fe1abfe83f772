//! The predict job and `boz predict`: the model's distribution and bracket probabilities for
//! each open event (or one date), from the stored forecasts, trained on the stored history;
//! each prediction is stored in `predictions` with its provenance.
//!
//! Brackets come from the stored market snapshots of the event, else from Kalshi (the open
//! events of the city's series). On the climate day itself the running maximum observed at the
//! station (NWS) truncates the distribution; if it cannot be read the prediction goes ahead
//! without it and says so.

use std::sync::Arc;

use boz_common::city::City;
use boz_common::ports::Store;
use boz_model::evaluation::train;
use boz_model::predictor::Request;
use boz_model::{BracketSpec, Candidate, Predictor};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use serde_json::Value;

use crate::history::{day_inputs, ladder_and_prices};
use crate::services::Services;
use crate::{Context, Result};

struct Event {
    date: NaiveDate,
    ticker: String,
    ladder: Vec<BracketSpec>,
}

async fn stored_event(
    store: &Arc<dyn Store>,
    city: &City,
    date: NaiveDate,
) -> Result<Option<Event>> {
    // the ladder needs each market once: its newest snapshot
    let snaps = store
        .latest_market_snapshots(&city.code(), date, date)
        .await?;
    let Some(latest) = snaps.iter().max_by_key(|s| s.as_of) else {
        return Ok(None);
    };
    let of_event: Vec<_> = snaps
        .iter()
        .filter(|s| s.event_ticker == latest.event_ticker)
        .collect();
    Ok(ladder_and_prices(&of_event, None).map(|e| Event {
        date,
        ticker: latest.event_ticker.clone(),
        ladder: e.ladder,
    }))
}

async fn open_events(svc: &Services, city: &City) -> Result<Vec<Event>> {
    let events = svc
        .kalshi
        .weather_events(&city.kalshi_series, "open")
        .await
        .with_context(|| format!("reading {}'s open events from Kalshi", city.code))?;
    Ok(events
        .into_iter()
        .map(|e| Event {
            date: e.date,
            ticker: e.event_ticker,
            ladder: e
                .brackets
                .iter()
                .map(|b| BracketSpec::new(b.label(), b.lower_bound_f, b.upper_bound_f))
                .collect(),
        })
        .collect())
}

/// What one prediction run made: (prediction, provenance) as JSON, and what failed.
#[derive(Debug, Default)]
pub struct PredictReport {
    pub predictions: Vec<(Value, Value)>,
    pub failures: Vec<String>,
}

/// Predicts every open event of `cities` (or the event of `date`).
pub async fn predict(
    svc: &Services,
    cities: &[Arc<City>],
    date: Option<NaiveDate>,
) -> Result<PredictReport> {
    let now = svc.clock.now();
    let mut out = PredictReport::default();
    for city in cities {
        let today = city.climate_date(now);
        let events = match date {
            Some(d) => match stored_event(&svc.store, city, d).await? {
                Some(e) => vec![e],
                None => {
                    let found: Vec<Event> = open_events(svc, city)
                        .await?
                        .into_iter()
                        .filter(|e| e.date == d)
                        .collect();
                    if found.is_empty() {
                        out.failures.push(format!(
                            "{} {d}: no event stored and none open on Kalshi",
                            city.code
                        ));
                    }
                    found
                }
            },
            None => match open_events(svc, city).await {
                Ok(e) => e,
                Err(e) => {
                    out.failures.push(format!("{}: {e}", city.code));
                    continue;
                }
            },
        };
        for event in &events {
            if event.date < today {
                out.failures.push(format!(
                    "{} {}: the climate day is over (today is {today}); `boz score` scores past days",
                    city.code, event.date
                ));
            }
        }
        for event in events.into_iter().filter(|e| e.date >= today) {
            match predict_event(svc, city, &event, now).await {
                Ok(p) => out.predictions.push(p),
                Err(e) => out.failures.push(format!(
                    "{} {} ({}): {e}",
                    city.code, event.date, event.ticker
                )),
            }
        }
    }
    for f in &out.failures {
        tracing::warn!(target: "MODEL", failure = %f, "no prediction");
    }
    Ok(out)
}

async fn predict_event(
    svc: &Services,
    city: &City,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(Value, Value)> {
    let lead_days = (event.date - city.climate_date(now)).num_days();
    let local_hour = now.with_timezone(&city.standard_offset()).hour();
    let (days, _) = day_inputs(&svc.store, city, event.date).await?;
    let mut predictor = Predictor::default();
    train(
        city,
        &mut predictor,
        &days,
        lead_days,
        local_hour,
        event.date,
    );
    let candidates: Vec<Candidate> = days
        .iter()
        .find(|d| d.date == event.date)
        .map(|d| d.candidates.clone())
        .unwrap_or_default();
    let observed_max_f = if lead_days == 0 {
        match svc.nws.observed_max(city).await {
            Ok(m) => Some(m.max_f),
            Err(e) => {
                tracing::warn!(target: "MODEL", city = %city.code, error = %e, "running maximum unavailable, not truncating");
                None
            }
        }
    } else {
        None
    };
    let req = Request {
        city,
        date: event.date,
        decision_at: now,
        candidates: &candidates,
        ladder: &event.ladder,
        observed_max_f,
        expected_sources: &[],
    };
    let p = predictor.predict(&req).context("the model refused")?;
    let mut provenance = serde_json::to_value(&p.provenance)?;
    provenance["event_ticker"] = Value::from(event.ticker.clone());
    svc.store
        .insert_prediction(&p.prediction, &provenance)
        .await?;
    Ok((serde_json::to_value(&p.prediction)?, provenance))
}
