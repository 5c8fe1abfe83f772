//! A rolling, out-of-sample replay of history for one city.
//!
//! Days are taken in date order. The decision for day D is at a fixed local standard time on
//! D − `days_before`; only forecasts fetched by then are used, and the model has learned only
//! from days settled before it (a day X settles with the climate report early on X + 1, so
//! days X < the decision's date). Parameters are never fitted on the day being scored, and the
//! tuning constants are the documented defaults in [`crate::config`], not chosen on this data.
//! Days before `from` only train the model.

use boz_common::city::City;
use chrono::{NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};

use crate::baseline::original_design;
use crate::climatology::Climatology;
use crate::combine::SourceForecast;
use crate::error::ModelError;
use crate::ladder::{BracketSpec, outcome_index};
use crate::learning::Lead;
use crate::market::normalise;
use crate::predictor::{Candidate, Predictor, Request};
use crate::scoring::{Reliability, ReliabilityBin, ScoreSummary, covered, pit};

/// Everything stored about one climate day.
#[derive(Debug, Clone, Default)]
pub struct DayInput {
    pub date: NaiveDate,
    pub candidates: Vec<Candidate>,
    pub actual: Option<i32>,
    pub ladder: Option<Vec<BracketSpec>>,
    /// Market prices per bracket (same order as the ladder) at the decision time.
    pub market_prices: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days_before: i64,
    /// Decision hour, local standard time.
    pub decision_hour: u32,
}

/// The model's own figures beyond the bracket scores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelFigures {
    pub scores: ScoreSummary,
    pub mae_f: f64,
    pub crps: f64,
    pub mean_sigma_f: f64,
    pub coverage_50: f64,
    pub coverage_80: f64,
    pub coverage_90: f64,
    /// Counts of mid-PIT values in ten equal bins.
    pub pit_histogram: [u32; 10],
    pub reliability: Vec<ReliabilityBin>,
}

/// Model and market on the events where the market had a price for every bracket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Paired {
    pub model: ScoreSummary,
    pub market: ScoreSummary,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub city: String,
    pub window: Option<Window>,
    /// Days in the window with a settled high and an event ladder.
    pub events: u32,
    /// Of those, days the model could not predict (no usable source), with the first reasons.
    pub unpredicted: u32,
    pub unpredicted_reasons: Vec<String>,
    pub model: ModelFigures,
    pub baseline: ScoreSummary,
    pub climatology: ScoreSummary,
    pub market_vs_model: Paired,
}

struct Pending {
    date: NaiveDate,
    lead: Lead,
    used: Vec<SourceForecast>,
    actual: i32,
}

/// Replays `days` (any order) and scores the days inside the window.
pub fn evaluate(
    city: &City,
    predictor: &mut Predictor,
    days: &[DayInput],
    climatology: &Climatology,
    window: Window,
) -> Result<Report, ModelError> {
    let mut days: Vec<&DayInput> = days.iter().filter(|d| d.date <= window.to).collect();
    days.sort_by_key(|d| d.date);
    let mut report = Report {
        city: city.code.clone(),
        window: Some(window),
        ..Report::default()
    };
    let mut pending: Vec<Pending> = Vec::new();
    let mut reliability = Reliability::default();
    let (mut abs_err, mut crps, mut sigma, mut cov) = (0.0, 0.0, 0.0, [0u32; 3]);
    let hour = NaiveTime::from_hms_opt(window.decision_hour.min(23), 0, 0).unwrap_or_default();
    for day in days {
        let decision_date = day.date - chrono::Duration::days(window.days_before);
        let Some(decision_at) = city
            .standard_offset()
            .from_local_datetime(&decision_date.and_time(hour))
            .single()
            .map(|t| t.to_utc())
        else {
            continue;
        };
        // learn every day settled before the decision
        pending.sort_by_key(|p| p.date);
        while pending.first().is_some_and(|p| p.date < decision_date) {
            let p = pending.remove(0);
            predictor.learn(p.date, p.lead, &p.used, f64::from(p.actual));
        }
        let Some(lead) = Predictor::lead_at(city, day.date, decision_at) else {
            continue;
        };
        let req = Request {
            city,
            date: day.date,
            decision_at,
            candidates: &day.candidates,
            ladder: day.ladder.as_deref().unwrap_or_default(),
            observed_max_f: None,
            expected_sources: &[],
        };
        let (selected, _) = predictor.select(&req);
        let used: Vec<SourceForecast> = selected.iter().map(|(f, _)| f.clone()).collect();
        if let Some(actual) = day.actual {
            pending.push(Pending {
                date: day.date,
                lead,
                used: used.clone(),
                actual,
            });
        }
        let (Some(actual), Some(ladder)) = (day.actual, day.ladder.as_ref()) else {
            continue;
        };
        if day.date < window.from {
            continue;
        }
        let Some(outcome) = outcome_index(ladder, actual) else {
            continue;
        };
        report.events += 1;
        let prediction = match predictor.predict(&req) {
            Ok(p) => p,
            Err(e) => {
                report.unpredicted += 1;
                if report.unpredicted_reasons.len() < 5 {
                    report
                        .unpredicted_reasons
                        .push(format!("{}: {e}", day.date));
                }
                continue;
            }
        };
        let probs = &prediction.probabilities;
        report.model.scores.add(probs, outcome)?;
        reliability.add(probs, outcome);
        let dist = &prediction.distribution;
        abs_err += (dist.mean() - f64::from(actual)).abs();
        crps += dist.crps(f64::from(actual));
        sigma += dist.sd();
        let u = pit(dist, actual);
        report.model.pit_histogram[((u * 10.0).floor() as usize).min(9)] += 1;
        for (i, level) in [0.5, 0.8, 0.9].iter().enumerate() {
            cov[i] += u32::from(covered(u, *level));
        }
        let raw: Vec<f64> = used.iter().map(|f| f.high_f).collect();
        report
            .baseline
            .add(&original_design(&raw, ladder)?, outcome)?;
        if let Ok(c) = climatology.probabilities(day.date, ladder) {
            report.climatology.add(&c, outcome)?;
        }
        if let Some(prices) = day
            .market_prices
            .as_ref()
            .filter(|p| p.len() == ladder.len())
            && let Ok(m) = normalise(prices)
        {
            report.market_vs_model.market.add(&m, outcome)?;
            report.market_vs_model.model.add(probs, outcome)?;
        }
    }
    let n = f64::from(report.model.scores.events.max(1));
    report.model.mae_f = abs_err / n;
    report.model.crps = crps / n;
    report.model.mean_sigma_f = sigma / n;
    report.model.coverage_50 = f64::from(cov[0]) / n;
    report.model.coverage_80 = f64::from(cov[1]) / n;
    report.model.coverage_90 = f64::from(cov[2]) / n;
    report.model.reliability = reliability.table();
    Ok(report)
}
