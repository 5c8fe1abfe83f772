//! A rolling, out-of-sample replay of history for one city.
//!
//! Days are taken in date order. The decision for day D is at a fixed local standard time on
//! D − `days_before`; only forecasts fetched by then are used, and the model has learned only
//! from days settled before it (a day X settles with the climate report early on X + 1, so
//! days X < the decision's date). Parameters are never fitted on the day being scored, and the
//! tuning constants are the documented defaults in [`crate::config`], not chosen on this data.
//! Days before `from` only train the model.

use boz_common::city::City;
use std::collections::VecDeque;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
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

/// The model's bracket scores and reliability on the events it predicted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelFigures {
    pub scores: ScoreSummary,
    pub reliability: Vec<ReliabilityBin>,
}

/// The continuous forecast on every settled day the model could forecast, event or not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContinuousFigures {
    pub days: u32,
    /// Mean absolute error of `ensemble_forecast_f` (°F).
    pub mae_f: f64,
    pub crps: f64,
    pub mean_sigma_f: f64,
    pub coverage_50: f64,
    pub coverage_80: f64,
    pub coverage_90: f64,
    /// Counts of mid-PIT values in ten equal bins.
    pub pit_histogram: [u32; 10],
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
    pub continuous: ContinuousFigures,
    pub model: ModelFigures,
    /// The original design on the events the model predicted.
    pub baseline: ScoreSummary,
    /// Climatology on the events the model predicted.
    pub climatology: ScoreSummary,
    pub market_vs_model: Paired,
    /// Climatology and the market on every event, predicted by the model or not.
    pub all_events: AllEvents,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AllEvents {
    pub climatology: ScoreSummary,
    pub market: ScoreSummary,
}

struct Pending {
    date: NaiveDate,
    lead: Lead,
    used: Vec<SourceForecast>,
    actual: i32,
}

/// Walks days in date order, teaching the predictor each settled day once its climate report
/// would have been out at the next decision.
pub struct Replay<'a> {
    city: &'a City,
    days_before: i64,
    hour: NaiveTime,
    pending: VecDeque<Pending>,
}

/// One day's decision in a replay.
pub struct Step<'d> {
    pub decision_at: DateTime<Utc>,
    pub request: Request<'d>,
    pub used: Vec<SourceForecast>,
}

impl<'a> Replay<'a> {
    pub fn new(city: &'a City, days_before: i64, decision_hour: u32) -> Replay<'a> {
        Replay {
            city,
            days_before,
            hour: NaiveTime::from_hms_opt(decision_hour.min(23), 0, 0).unwrap_or_default(),
            pending: VecDeque::new(),
        }
    }

    /// The decision instant for a climate day.
    pub fn decision_at(&self, date: NaiveDate) -> DateTime<Utc> {
        self.city
            .at_standard_time(date - chrono::Duration::days(self.days_before), self.hour)
    }

    /// Teaches the predictor every pending day settled before `decision_date` (pending days
    /// are queued in date order, since days are stepped in date order).
    pub fn catch_up(&mut self, predictor: &mut Predictor, decision_date: NaiveDate) {
        while self.pending.front().is_some_and(|p| p.date < decision_date) {
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            predictor.learn(p.date, p.lead, &p.used, f64::from(p.actual));
        }
    }

    /// Takes one day (in date order): learns what was settled before its decision, selects its
    /// forecasts, and queues the day for learning once settled.
    pub fn step<'d>(&mut self, predictor: &mut Predictor, day: &'d DayInput) -> Option<Step<'d>>
    where
        'a: 'd,
    {
        let decision_at = self.decision_at(day.date);
        self.catch_up(predictor, self.city.climate_date(decision_at));
        let lead = Predictor::lead_at(self.city, day.date, decision_at)?;
        let request = Request {
            city: self.city,
            date: day.date,
            decision_at,
            candidates: &day.candidates,
            ladder: day.ladder.as_deref().unwrap_or_default(),
            observed_max_f: None,
            expected_sources: &[],
        };
        let (selected, _) = predictor.select(&request);
        let used: Vec<SourceForecast> = selected.into_iter().map(|(f, _)| f).collect();
        if let Some(actual) = day.actual {
            self.pending.push_back(Pending {
                date: day.date,
                lead,
                used: used.clone(),
                actual,
            });
        }
        Some(Step {
            decision_at,
            request,
            used,
        })
    }
}

/// Trains a predictor on every stored day before `date`, with decisions at the same lead and
/// hour as the one to be made for `date`, as it would have learned them live.
pub fn train(
    city: &City,
    predictor: &mut Predictor,
    days: &[DayInput],
    days_before: i64,
    decision_hour: u32,
    date: NaiveDate,
) {
    let mut replay = Replay::new(city, days_before, decision_hour);
    let mut sorted: Vec<&DayInput> = days.iter().filter(|d| d.date < date).collect();
    sorted.sort_by_key(|d| d.date);
    for day in sorted {
        replay.step(predictor, day);
    }
    let at = replay.decision_at(date);
    replay.catch_up(predictor, city.climate_date(at));
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
    let mut replay = Replay::new(city, window.days_before, window.decision_hour);
    let mut reliability = Reliability::default();
    let (mut abs_err, mut crps, mut sigma, mut cov) = (0.0, 0.0, 0.0, [0u32; 3]);
    for day in days {
        let Some(step) = replay.step(predictor, day) else {
            continue;
        };
        let Some(actual) = day.actual else { continue };
        if day.date < window.from {
            continue;
        }
        if let Ok(f) = predictor.forecast(&step.request) {
            let dist = &f.distribution;
            let c = &mut report.continuous;
            c.days += 1;
            abs_err += (dist.mean() - f64::from(actual)).abs();
            crps += dist.crps(f64::from(actual));
            sigma += dist.sd();
            let u = pit(dist, actual);
            c.pit_histogram[((u * 10.0).floor() as usize).min(9)] += 1;
            for (i, level) in [0.5, 0.8, 0.9].iter().enumerate() {
                cov[i] += u32::from(covered(u, *level));
            }
        }
        let Some(ladder) = day.ladder.as_ref() else {
            continue;
        };
        let Some(outcome) = outcome_index(ladder, actual) else {
            continue;
        };
        report.events += 1;
        let clim = climatology.probabilities(day.date, ladder).ok();
        if let Some(c) = &clim {
            report.all_events.climatology.add(c, outcome)?;
        }
        let market = day
            .market_prices
            .as_ref()
            .filter(|p| p.len() == ladder.len())
            .and_then(|p| normalise(p).ok());
        if let Some(m) = &market {
            report.all_events.market.add(m, outcome)?;
        }
        let prediction = match predictor.predict(&step.request) {
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
        let raw: Vec<f64> = step.used.iter().map(|f| f.high_f).collect();
        report
            .baseline
            .add(&original_design(&raw, ladder)?, outcome)?;
        if let Some(c) = &clim {
            report.climatology.add(c, outcome)?;
        }
        if let Some(m) = &market {
            report.market_vs_model.market.add(m, outcome)?;
            report.market_vs_model.model.add(probs, outcome)?;
        }
    }
    let c = &mut report.continuous;
    let n = f64::from(c.days.max(1));
    c.mae_f = abs_err / n;
    c.crps = crps / n;
    c.mean_sigma_f = sigma / n;
    c.coverage_50 = f64::from(cov[0]) / n;
    c.coverage_80 = f64::from(cov[1]) / n;
    c.coverage_90 = f64::from(cov[2]) / n;
    report.model.reliability = reliability.table();
    Ok(report)
}
