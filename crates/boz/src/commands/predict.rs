//! `boz predict`: the model's distribution and bracket probabilities for each open event (or
//! one date), from the stored forecasts, trained on the stored history; each prediction is
//! stored in `predictions` with its provenance.
//!
//! Brackets come from the stored market snapshots of the event, else from Kalshi (the open
//! events of the city's series). On the climate day itself the running maximum observed at the
//! station (NWS) truncates the distribution; if it cannot be read the prediction goes ahead
//! without it and says so.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use boz_common::city::City;
use boz_common::ports::{Store, SystemClock};
use boz_model::evaluation::train;
use boz_model::predictor::Request;
use boz_model::{BracketSpec, Candidate, Predictor};
use chrono::{NaiveDate, Timelike, Utc};
use serde_json::Value;

use crate::commands::score::{Decision, day_inputs, ladder_and_prices};
use crate::setup;

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
    let snaps = store
        .market_snapshots_between(&city.code(), date, date)
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

async fn open_events(city: &City) -> Result<Vec<Event>> {
    let settings = setup::settings()?;
    let client = crate::commands::kalshi::client(&settings)?;
    let events = client
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

pub async fn predict(codes: &[String], date: Option<NaiveDate>, json: bool) -> Result<()> {
    let settings = setup::settings()?;
    let cities = setup::cities(codes)?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let now = Utc::now();
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for city in &cities {
        let today = city.climate_date(now);
        let events = match date {
            Some(d) => match stored_event(&store, city, d).await? {
                Some(e) => vec![e],
                None => {
                    let open = open_events(city).await?;
                    let found: Vec<Event> = open.into_iter().filter(|e| e.date == d).collect();
                    if found.is_empty() {
                        failures.push(format!(
                            "{} {d}: no event stored and none open on Kalshi",
                            city.code
                        ));
                    }
                    found
                }
            },
            None => open_events(city).await?,
        };
        for event in &events {
            if event.date < today {
                failures.push(format!(
                    "{} {}: the climate day is over (today is {today}); `boz score` scores past days",
                    city.code, event.date
                ));
            }
        }
        for event in events.into_iter().filter(|e| e.date >= today) {
            match predict_event(&settings, &store, city, &event, now).await {
                Ok(p) => out.push(p),
                Err(e) => failures.push(format!(
                    "{} {} ({}): {e:#}",
                    city.code, event.date, event.ticker
                )),
            }
        }
    }
    db.close().await;
    if json {
        let list: Vec<&Value> = out.iter().map(|(p, _)| p).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for (p, prov) in &out {
            print_prediction(p, prov);
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    if out.is_empty() && !failures.is_empty() {
        bail!("no prediction could be made");
    }
    Ok(())
}

async fn predict_event(
    settings: &boz_common::config::Settings,
    store: &Arc<dyn Store>,
    city: &City,
    event: &Event,
    now: chrono::DateTime<Utc>,
) -> Result<(Value, Value)> {
    let lead_days = (event.date - city.climate_date(now)).num_days();
    let local_hour = now.with_timezone(&city.standard_offset()).hour();
    let decision = Decision {
        days_before: lead_days,
        hour: local_hour,
    };
    let (days, _) = day_inputs(store, city, event.date, decision).await?;
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
        let nws = crate::commands::weather::nws_client(settings, Arc::new(SystemClock))?;
        match nws.observed_max(city).await {
            Ok(m) => Some(m.max_f),
            Err(e) => {
                eprintln!(
                    "{}: running maximum unavailable, not truncating: {e}",
                    city.code
                );
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
    let p = predictor.predict(&req)?;
    let mut provenance = serde_json::to_value(&p.provenance)?;
    provenance["event_ticker"] = Value::from(event.ticker.clone());
    store.insert_prediction(&p.prediction, &provenance).await?;
    Ok((serde_json::to_value(&p.prediction)?, provenance))
}

fn print_prediction(p: &Value, prov: &Value) {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    println!(
        "{} {} ({}): mean {:.1} °F, σ {:.2} °F ({}), spread {:.2} °F, confidence {}",
        p["city"].as_str().unwrap_or("?"),
        p["date"].as_str().unwrap_or("?"),
        prov["event_ticker"].as_str().unwrap_or("?"),
        f(&p["ensemble_forecast_f"]),
        f(&p["error_std_f"]),
        prov["shape"]["kind"].as_str().unwrap_or("?"),
        f(&p["forecast_spread_f"]),
        p["confidence"].as_str().unwrap_or("?"),
    );
    if let Some(sources) = prov["sources"].as_array() {
        for s in sources {
            println!(
                "  source {:<34} {:>6.1} °F  bias {:>5.2}  weight {:.3}",
                s["source"].as_str().unwrap_or("?"),
                f(&s["forecast_f"]),
                f(&s["bias_f"]),
                f(&s["weight"])
            );
        }
    }
    if let Some(ex) = prov["excluded"].as_array() {
        for e in ex {
            println!(
                "  left out {}: {}",
                e["source"].as_str().unwrap_or("?"),
                e["reason"].as_str().unwrap_or("?")
            );
        }
    }
    if let Some(bs) = p["brackets"].as_array() {
        for b in bs {
            println!(
                "  {:<14} {:>6.1}%",
                b["bracket_label"].as_str().unwrap_or("?"),
                f(&b["probability"]) * 100.0
            );
        }
    }
}
