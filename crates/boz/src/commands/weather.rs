//! `boz weather fetch` and `boz weather observe` (the forecast and observation jobs of
//! `boz_engine::weather`, once, printed).

use anyhow::{Result, bail};
use chrono::NaiveDate;

use crate::setup;

pub async fn fetch(codes: &[String], date: Option<NaiveDate>, json: bool) -> Result<()> {
    let settings = setup::settings()?;
    let telemetry = setup::telemetry(&settings, Vec::new())?;
    let cities = setup::cities(codes)?;
    let opened = setup::services(&settings).await?;
    telemetry.attach_sink(opened.svc.store.clone());
    let report = boz_engine::weather::fetch_forecasts(&opened.svc, &cities, date).await;
    telemetry.flush().await;
    opened.db.close().await;
    let report = report?;
    let data = &report.data;
    if json {
        println!("{}", serde_json::to_string_pretty(data)?);
    } else {
        println!(
            "{:<5} {:<10} {:<22} {:>8}  model run",
            "city", "date", "source", "high °F"
        );
        for w in data {
            println!(
                "{:<5} {:<10} {:<22} {:>8.1}  {}",
                w.city.as_str(),
                w.date,
                w.source,
                w.forecast_high_f,
                w.model_run_timestamp.format("%Y-%m-%d %H:%M UTC")
            );
        }
        println!(
            "Stored {} new forecasts ({} already stored).",
            report.new, report.duplicate
        );
    }
    for (source, city, e) in &report.errors {
        eprintln!("{source} for {city} failed: {}", e.message);
    }
    if data.is_empty() && !report.errors.is_empty() {
        bail!("every weather source failed");
    }
    Ok(())
}

pub async fn observe(codes: &[String], json: bool) -> Result<()> {
    let settings = setup::settings()?;
    let _telemetry = setup::telemetry(&settings, Vec::new())?;
    let cities = setup::cities(codes)?;
    let opened = setup::services(&settings).await?;
    let (found, failed) = boz_engine::weather::observe(&opened.svc, &cities).await;
    opened.db.close().await;
    for (_, message) in &failed {
        eprintln!("{message}");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
    } else {
        for m in &found {
            println!(
                "{:<5} {} climate day {}: max so far {:.1} °F at {} ({}), {} observations, latest {}",
                m.city,
                m.station,
                m.climate_date,
                m.max_f,
                m.max_at.format("%H:%M UTC"),
                m.max_from,
                m.observations,
                m.latest_observation_at.format("%H:%M UTC")
            );
        }
    }
    if found.is_empty() && !failed.is_empty() {
        bail!("no observations could be read");
    }
    Ok(())
}
