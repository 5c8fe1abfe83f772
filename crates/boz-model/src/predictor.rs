//! One city-day: choose the usable forecasts, combine them, size σ, build the distribution and
//! the event's bracket probabilities, and record where every number came from.

use std::collections::{BTreeMap, BTreeSet};

use boz_common::city::City;
use boz_common::schemas::{BracketPrediction, BracketPredictionFields};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::combine::{Combination, SourceForecast, Weighted, combine};
use crate::confidence::confidence;
use crate::config::ModelConfig;
use crate::distribution::{Predictive, Shape};
use crate::error::ModelError;
use crate::ladder::{BracketSpec, bracket_probabilities};
use crate::learning::{Lead, ModelState, Observed, Season, SigmaEstimate};

/// A stored forecast offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub source: String,
    pub high_f: f64,
    /// When we had it (the lead and the staleness are measured from here).
    pub fetched_at: DateTime<Utc>,
    pub model_run: DateTime<Utc>,
    pub member_spread_f: Option<f64>,
}

/// A source left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excluded {
    pub source: String,
    pub reason: String,
}

/// One used source with its timing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsedSource {
    #[serde(flatten)]
    pub weighted: Weighted,
    pub fetched_at: DateTime<Utc>,
    pub model_run: DateTime<Utc>,
    pub member_spread_f: Option<f64>,
}

/// Where a prediction's numbers came from (stored with it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub decision_at: DateTime<Utc>,
    pub lead: Lead,
    pub season: Season,
    pub shape: Shape,
    pub mean_f: f64,
    pub spread_f: f64,
    pub sigma: SigmaEstimate,
    pub observed_max_f: Option<f64>,
    pub truncated_at_f: Option<f64>,
    pub bracket_floor: f64,
    pub sources: Vec<UsedSource>,
    pub excluded: Vec<Excluded>,
    pub settled_days: u32,
    pub last_settled: Option<NaiveDate>,
}

/// What to predict.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub city: &'a City,
    pub date: NaiveDate,
    pub decision_at: DateTime<Utc>,
    pub candidates: &'a [Candidate],
    pub ladder: &'a [BracketSpec],
    /// The running maximum observed so far on the climate day (°F), on the day itself.
    pub observed_max_f: Option<f64>,
    /// Sources the caller expects; one without a forecast is recorded as missing.
    pub expected_sources: &'a [String],
}

/// A finished prediction.
#[derive(Debug, Clone)]
pub struct Prediction {
    pub prediction: BracketPrediction,
    pub distribution: Predictive,
    pub probabilities: Vec<f64>,
    pub provenance: Provenance,
    pub used: Vec<SourceForecast>,
}

/// The predictive distribution of one city-day and what shaped it.
#[derive(Debug, Clone)]
pub struct Forecast {
    pub distribution: Predictive,
    pub combination: Combination,
    pub sigma: SigmaEstimate,
    pub lead: Lead,
    pub season: Season,
    pub truncated_at: Option<f64>,
    pub selected: Vec<(SourceForecast, Candidate)>,
    pub excluded: Vec<Excluded>,
}

/// The model for one city: configuration plus what it has learned.
#[derive(Debug, Clone, Default)]
pub struct Predictor {
    pub config: ModelConfig,
    pub state: ModelState,
}

impl Predictor {
    pub fn new(config: ModelConfig) -> Predictor {
        Predictor {
            config,
            state: ModelState::default(),
        }
    }

    /// The lead of a decision (or a forecast fetch) for a climate day.
    pub fn lead_at(city: &City, date: NaiveDate, at: DateTime<Utc>) -> Option<Lead> {
        Lead::from_days((date - city.climate_date(at)).num_days())
    }

    /// The usable forecasts (the latest of each source available at the decision) and the
    /// sources left out with the reason.
    pub fn select(&self, req: &Request<'_>) -> (Vec<(SourceForecast, Candidate)>, Vec<Excluded>) {
        let mut latest: BTreeMap<&str, &Candidate> = BTreeMap::new();
        let mut excluded = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for c in req.candidates {
            seen.insert(&c.source);
            if c.fetched_at > req.decision_at {
                continue; // not yet available at the decision (replays only)
            }
            let newer = latest
                .get(c.source.as_str())
                .is_none_or(|l| (c.fetched_at, c.model_run) > (l.fetched_at, l.model_run));
            if newer {
                latest.insert(&c.source, c);
            }
        }
        for s in &seen {
            if !latest.contains_key(s) {
                excluded.push(Excluded {
                    source: s.to_string(),
                    reason: "no forecast fetched before the decision time".into(),
                });
            }
        }
        let expected: BTreeSet<&str> = req
            .expected_sources
            .iter()
            .map(String::as_str)
            .chain(self.state.sources.keys().map(String::as_str))
            .collect();
        for s in expected {
            if !seen.contains(s) {
                excluded.push(Excluded {
                    source: s.to_string(),
                    reason: "missing: no forecast stored for this day".into(),
                });
            }
        }
        let max_age = self.config.max_forecast_age_hours;
        let mut used = Vec::new();
        for (source, c) in latest {
            let age_h = (req.decision_at - c.fetched_at).num_seconds() as f64 / 3600.0;
            let Some(lead) = Self::lead_at(req.city, req.date, c.fetched_at) else {
                excluded.push(Excluded {
                    source: source.to_string(),
                    reason: "fetched after its climate day".into(),
                });
                continue;
            };
            if age_h > max_age {
                excluded.push(Excluded {
                    source: source.to_string(),
                    reason: format!(
                        "stale: fetched {age_h:.1} h before the decision (limit {max_age} h)"
                    ),
                });
                continue;
            }
            match SourceForecast::new(source, c.high_f, lead, c.member_spread_f) {
                Ok(f) => used.push((f, c.clone())),
                Err(e) => excluded.push(Excluded {
                    source: source.to_string(),
                    reason: format!("rejected: {e}"),
                }),
            }
        }
        (used, excluded)
    }

    /// The predictive distribution alone (no brackets needed), with what shaped it.
    pub fn forecast(&self, req: &Request<'_>) -> Result<Forecast, ModelError> {
        let cfg = &self.config;
        let lead = Self::lead_at(req.city, req.date, req.decision_at).ok_or_else(|| {
            ModelError::Distribution(format!(
                "the decision time {} is after the climate day {}",
                req.decision_at, req.date
            ))
        })?;
        let (selected, excluded) = self.select(req);
        let forecasts: Vec<SourceForecast> = selected.iter().map(|(f, _)| f.clone()).collect();
        let Some(combination) = combine(cfg, &self.state, &forecasts) else {
            let why = if excluded.is_empty() {
                "no forecast stored".to_string()
            } else {
                excluded
                    .iter()
                    .map(|e| format!("{}: {}", e.source, e.reason))
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            return Err(ModelError::NoUsableSource {
                city: req.city.code.clone(),
                date: req.date.to_string(),
                excluded: why,
            });
        };
        let season = Season::of(req.date);
        let sigma = self.state.sigma(cfg, lead, season, combination.spread_f);
        let mut dist = Predictive::new(combination.mean_f, sigma.sigma_f, cfg.shape)?;
        let mut truncated_at = None;
        if lead == Lead::SameDay
            && let Some(m) = req.observed_max_f
        {
            if !(m.is_finite() && (-80.0..=140.0).contains(&m)) {
                return Err(ModelError::BadForecast {
                    source_name: "observed running maximum".into(),
                    value: m,
                });
            }
            // The report gives whole degrees: a running maximum of M means the high is ≥ M.
            let at = m.round() - 0.5;
            dist = dist.truncate_below(at)?;
            truncated_at = Some(at);
        }
        Ok(Forecast {
            distribution: dist,
            combination,
            sigma,
            lead,
            season,
            truncated_at,
            selected,
            excluded,
        })
    }

    pub fn predict(&self, req: &Request<'_>) -> Result<Prediction, ModelError> {
        crate::ladder::check_ladder(req.ladder)?;
        let cfg = &self.config;
        let Forecast {
            distribution: dist,
            combination:
                Combination {
                    mean_f,
                    spread_f,
                    sources,
                },
            sigma,
            lead,
            season,
            truncated_at,
            selected,
            excluded,
        } = self.forecast(req)?;
        let forecasts: Vec<SourceForecast> = selected.iter().map(|(f, _)| f.clone()).collect();
        let probabilities = bracket_probabilities(&dist, req.ladder, cfg.bracket_floor)?;
        let oldest_h = selected
            .iter()
            .map(|(_, c)| (req.decision_at - c.fetched_at).num_seconds() as f64 / 3600.0)
            .fold(0.0, f64::max);
        let brackets = req
            .ladder
            .iter()
            .zip(&probabilities)
            .map(|(b, p)| b.with_probability(*p))
            .collect::<Result<Vec<_>, _>>()?;
        let prediction = BracketPrediction::new(BracketPredictionFields {
            city: req.city.code(),
            date: req.date,
            brackets,
            ensemble_forecast_f: mean_f,
            confidence: confidence(sigma.sigma_f, spread_f, sources.len(), oldest_h),
            model_sources: sources.iter().map(|s| s.source.clone()).collect(),
            forecast_spread_f: spread_f,
            error_std_f: sigma.sigma_f,
            generated_at: req.decision_at,
        })?;
        let used_sources = sources
            .into_iter()
            .zip(&selected)
            .map(|(weighted, (_, c))| UsedSource {
                weighted,
                fetched_at: c.fetched_at,
                model_run: c.model_run,
                member_spread_f: c.member_spread_f,
            })
            .collect();
        Ok(Prediction {
            prediction,
            distribution: dist,
            probabilities,
            provenance: Provenance {
                decision_at: req.decision_at,
                lead,
                season,
                shape: cfg.shape,
                mean_f,
                spread_f,
                sigma,
                observed_max_f: req.observed_max_f,
                truncated_at_f: truncated_at,
                bracket_floor: cfg.bracket_floor,
                sources: used_sources,
                excluded,
                settled_days: self.state.settled_days,
                last_settled: self.state.last_settled,
            },
            used: forecasts,
        })
    }

    /// Learns from a settled day: the forecasts used at its decision and the settled high.
    pub fn learn(&mut self, date: NaiveDate, lead: Lead, used: &[SourceForecast], actual: f64) {
        let combined = combine(&self.config, &self.state, used).map(|c| (c.mean_f, c.spread_f));
        let observed: Vec<Observed<'_>> = used
            .iter()
            .map(|f| Observed {
                source: &f.source,
                lead: f.lead,
                high_f: f.high_f,
            })
            .collect();
        self.state
            .observe(&self.config, date, lead, &observed, combined, actual);
    }
}
