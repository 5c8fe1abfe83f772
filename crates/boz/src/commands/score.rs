//! `boz score`: the model, the original design, climatology and the market scored on the
//! stored history (forecasts, settled highs and market snapshots), with a rolling,
//! out-of-sample replay (see `boz_model::evaluation`).

use anyhow::Result;
use boz_model::Predictor;
use boz_model::evaluation::{Report, Window, evaluate};
use chrono::NaiveDate;

pub use boz_engine::history::Decision;
use boz_engine::history::day_inputs_with_market;

use crate::setup;

pub async fn score(
    codes: &[String],
    from: NaiveDate,
    to: NaiveDate,
    decision: Decision,
    json: bool,
) -> Result<()> {
    if from > to {
        anyhow::bail!("invalid range: --from {from} is after --to {to}");
    }
    if decision.hour > 23 || !(0..=2).contains(&decision.days_before) {
        anyhow::bail!("invalid decision: --decision-hour must be 0-23 and --days-before 0-2");
    }
    let settings = setup::settings()?;
    let cities = setup::cities(codes)?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let mut reports = Vec::new();
    for city in &cities {
        let (days, climatology) = day_inputs_with_market(&store, city, to, decision).await?;
        let mut predictor = Predictor::default();
        let window = Window {
            from,
            to,
            days_before: decision.days_before,
            decision_hour: decision.hour,
        };
        reports.push(evaluate(city, &mut predictor, &days, &climatology, window)?);
    }
    db.close().await;
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for r in &reports {
            print_report(r, decision);
        }
    }
    Ok(())
}

fn print_report(r: &Report, d: Decision) {
    let Some(w) = r.window else { return };
    println!(
        "{} {}..{}: decision at {:02}:00 local standard time, {} day(s) before; {} events with a settled high and brackets, {} not predicted",
        r.city, w.from, w.to, d.hour, d.days_before, r.events, r.unpredicted
    );
    for reason in &r.unpredicted_reasons {
        println!("  not predicted: {reason}");
    }
    println!(
        "  {:<28} {:>6} {:>8} {:>8} {:>9}",
        "forecaster", "events", "RPS", "Brier", "log loss"
    );
    let row = |name: &str, s: &boz_model::scoring::ScoreSummary| {
        println!(
            "  {:<28} {:>6} {:>8.4} {:>8.4} {:>9.4}",
            name, s.events, s.rps, s.brier, s.log_loss
        );
    };
    println!("  on the events the model predicted:");
    row("model", &r.model.scores);
    row("original design (σ 3, raw)", &r.baseline);
    row("climatology", &r.climatology);
    println!("  on those of them with a price for every bracket at the decision:");
    row("model", &r.market_vs_model.model);
    row("market (normalised prices)", &r.market_vs_model.market);
    println!("  on every event:");
    row("climatology", &r.all_events.climatology);
    row("market (normalised prices)", &r.all_events.market);
    let c = &r.continuous;
    println!(
        "  continuous forecast on {} settled days: MAE {:.2} °F, CRPS {:.3} °F, mean σ {:.2} °F; coverage 50% {:.3}, 80% {:.3}, 90% {:.3}",
        c.days, c.mae_f, c.crps, c.mean_sigma_f, c.coverage_50, c.coverage_80, c.coverage_90
    );
    println!("  PIT histogram (10 bins): {:?}", c.pit_histogram);
    println!("  model log losses clipped: {}", r.model.scores.clipped);
    println!("  reliability (every bracket of every predicted event):");
    for b in r.model.reliability.iter().filter(|b| b.count > 0) {
        println!(
            "    forecast {:.1}-{:.1}: {:>5} brackets, mean forecast {:.3}, observed {:.3}",
            b.from, b.to, b.count, b.mean_forecast, b.observed_frequency
        );
    }
}
