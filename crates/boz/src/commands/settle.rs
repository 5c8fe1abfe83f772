//! `boz settle`, `boz settle parse FILE`, `boz postmortem TRADE_ID`.
//!
//! `boz settle` reads each city's recent climate reports from the NWS, stores the settled high
//! of every day with a final report (a correction replaces it and is reported), then settles
//! every EXECUTED trade of those days whose market Kalshi has finalized: WON or LOST from the
//! market's result, P&L from our fills, the risk accounting and the post-mortem in one
//! transaction. Running it again changes nothing.

use std::path::Path;

use anyhow::{Context, Result};
use boz_settle::climate::parse;
use chrono::NaiveDate;

use crate::setup;

pub fn parse_file(path: &Path, as_json: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reports = parse(&text)
        .with_context(|| format!("{} is not a readable climate report", path.display()))?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    for r in &reports {
        let show = |o: &Option<boz_settle::Observation>| {
            o.as_ref().map_or("missing (MM)".to_string(), |o| {
                format!(
                    "{}°F{}{}{}",
                    o.value_f,
                    o.time_lst
                        .map_or(String::new(), |t| format!(" at {} LST", t.format("%H:%M"))),
                    if o.record { ", record" } else { "" },
                    if o.estimated { ", estimated" } else { "" }
                )
            })
        };
        println!(
            "{} {}: {:?}{}; maximum {}; minimum {}",
            r.station,
            r.climate_date,
            r.kind,
            if r.correction { " (CORRECTION)" } else { "" },
            show(&r.maximum),
            show(&r.minimum)
        );
    }
    Ok(())
}

pub async fn settle(codes: &[String], date: Option<NaiveDate>) -> Result<()> {
    let settings = setup::settings()?;
    let _telemetry = setup::telemetry(&settings, Vec::new())?;
    let cities = setup::cities(codes)?;
    let opened = setup::services(&settings).await?;
    let report = boz_engine::settle::settle(&opened.svc, &cities, date).await;
    opened.db.close().await;
    let report = report?;
    for e in &report.errors {
        eprintln!("{e}");
    }
    for l in &report.lines {
        println!("{l}");
    }
    Ok(())
}

pub async fn show_postmortem(user: &str, id: &str) -> Result<()> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let t = store.get_trade(user, id).await?;
    let data = store.get_postmortem(user, id).await?;
    db.close().await;
    match (t.record.postmortem.clone(), data) {
        (Some(text), Some(data)) => {
            println!("{text}");
            println!("{}", serde_json::to_string_pretty(&data)?);
        }
        _ => println!(
            "trade {id} is {} and has no post-mortem yet (it is written when the trade settles)",
            t.record.status
        ),
    }
    Ok(())
}
