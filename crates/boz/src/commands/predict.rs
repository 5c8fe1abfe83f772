//! `boz predict`: the predict job of `boz_engine::predict` for each open event (or one date),
//! printed. Each prediction is stored in `predictions` with its provenance.

use anyhow::{Result, bail};
use chrono::NaiveDate;
use serde_json::Value;

use crate::setup;

pub async fn predict(codes: &[String], date: Option<NaiveDate>, json: bool) -> Result<()> {
    let settings = setup::settings()?;
    let cities = setup::cities(codes)?;
    let opened = setup::services(&settings).await?;
    let report = boz_engine::predict::predict(&opened.svc, &cities, date).await;
    opened.db.close().await;
    let report = report?;
    let out = &report.predictions;
    if json {
        let list: Vec<&Value> = out.iter().map(|(p, _)| p).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for (p, prov) in out {
            print_prediction(p, prov);
        }
    }
    for f in &report.failures {
        eprintln!("{f}");
    }
    if out.is_empty() && !report.failures.is_empty() {
        bail!("no prediction could be made");
    }
    Ok(())
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
