//! Forecast combination: the bias-corrected, weighted mean of the usable sources and the
//! spread between them.
//!
//! Weights are proportional to 1 / (recent absolute error), the error shrunk toward the average
//! of all sources while a source's history is short, then pulled toward equal weights by
//! `weight_shrinkage` (model errors are correlated). Ensemble sources add their members'
//! variance to the spread.

use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;
use crate::error::ModelError;
use crate::learning::{Lead, ModelState};

/// Highest and lowest daily high the model accepts from a source (°F).
pub const PLAUSIBLE_HIGH_F: (f64, f64) = (-80.0, 140.0);

/// One source's usable forecast for the day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceForecast {
    pub source: String,
    pub high_f: f64,
    pub lead: Lead,
    /// Standard deviation of the members' highs, for ensemble sources.
    pub member_spread_f: Option<f64>,
}

impl SourceForecast {
    /// Rejects values that cannot be a daily high, naming the source.
    pub fn new(
        source: impl Into<String>,
        high_f: f64,
        lead: Lead,
        member_spread_f: Option<f64>,
    ) -> Result<SourceForecast, ModelError> {
        let source = source.into();
        let (lo, hi) = PLAUSIBLE_HIGH_F;
        if !(high_f.is_finite() && (lo..=hi).contains(&high_f)) {
            return Err(ModelError::BadForecast {
                source_name: source,
                value: high_f,
            });
        }
        let member_spread_f = member_spread_f.filter(|s| s.is_finite() && *s >= 0.0);
        Ok(SourceForecast {
            source,
            high_f,
            lead,
            member_spread_f,
        })
    }
}

/// How one source entered the combination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weighted {
    pub source: String,
    pub forecast_f: f64,
    pub lead: Lead,
    pub bias_f: f64,
    pub recent_abs_error_f: Option<f64>,
    pub history_days: u32,
    pub weight: f64,
}

/// The combined forecast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Combination {
    pub mean_f: f64,
    /// Between-source standard deviation of the corrected forecasts, with ensemble members'
    /// variance added (°F).
    pub spread_f: f64,
    pub sources: Vec<Weighted>,
}

/// Combines usable forecasts (at least one).
pub fn combine(
    cfg: &ModelConfig,
    state: &ModelState,
    forecasts: &[SourceForecast],
) -> Option<Combination> {
    if forecasts.is_empty() {
        return None;
    }
    let history: Vec<(f64, u32)> = forecasts
        .iter()
        .map(|f| {
            state
                .stats(&f.source, f.lead)
                .map_or((f64::NAN, 0), |s| (s.abs_error.value, s.abs_error.n))
        })
        .collect();
    let known: Vec<f64> = history
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(e, _)| *e)
        .collect();
    let pooled_error = if known.is_empty() {
        None
    } else {
        Some(known.iter().sum::<f64>() / known.len() as f64)
    };
    let n = forecasts.len() as f64;
    let inverse: Vec<f64> = history
        .iter()
        .map(|(err, count)| match pooled_error {
            None => 1.0,
            Some(p) => {
                let c = f64::from(*count);
                let e = if *count > 0 {
                    (c * err + cfg.error_shrinkage * p) / (c + cfg.error_shrinkage)
                } else {
                    p
                };
                1.0 / e.max(0.1)
            }
        })
        .collect();
    let inv_sum: f64 = inverse.iter().sum();
    let lambda = cfg.weight_shrinkage.clamp(0.0, 1.0);
    let mut sources = Vec::with_capacity(forecasts.len());
    for (f, (inv, (err, count))) in forecasts.iter().zip(inverse.iter().zip(&history)) {
        let weight = (1.0 - lambda) * inv / inv_sum + lambda / n;
        sources.push(Weighted {
            source: f.source.clone(),
            forecast_f: f.high_f,
            lead: f.lead,
            bias_f: state.bias(cfg, &f.source, f.lead),
            recent_abs_error_f: (*count > 0).then_some(*err),
            history_days: *count,
            weight,
        });
    }
    let mean_f: f64 = sources
        .iter()
        .map(|s| s.weight * (s.forecast_f - s.bias_f))
        .sum();
    let between: f64 = sources
        .iter()
        .map(|s| s.weight * (s.forecast_f - s.bias_f - mean_f).powi(2))
        .sum();
    let within: f64 = forecasts
        .iter()
        .zip(&sources)
        .map(|(f, s)| s.weight * f.member_spread_f.unwrap_or(0.0).powi(2))
        .sum();
    Some(Combination {
        mean_f,
        spread_f: (between + within).sqrt(),
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learning::Observed;
    use chrono::NaiveDate;

    #[test]
    fn absurd_values_are_rejected_with_the_source_named() {
        for v in [f64::NAN, f64::INFINITY, 141.0, -81.0] {
            let e = SourceForecast::new("Open-Meteo:GFS", v, Lead::NextDay, None).unwrap_err();
            assert!(e.to_string().contains("Open-Meteo:GFS"), "{e}");
        }
    }

    #[test]
    fn equal_weights_without_history_and_better_sources_weigh_more() {
        let cfg = ModelConfig::default();
        let mut state = ModelState::default();
        let fc = vec![
            SourceForecast::new("A", 50.0, Lead::NextDay, None).unwrap(),
            SourceForecast::new("B", 54.0, Lead::NextDay, Some(1.0)).unwrap(),
        ];
        let c = combine(&cfg, &state, &fc).unwrap();
        assert!((c.mean_f - 52.0).abs() < 1e-12);
        assert!((c.spread_f - (4.0f64 + 0.5).sqrt()).abs() < 1e-12);
        let d = NaiveDate::from_ymd_opt(2024, 5, 1).unwrap();
        for i in 0..60 {
            let actual = 50.0 + f64::from(i % 3);
            let obs = [
                Observed {
                    source: "A",
                    lead: Lead::NextDay,
                    high_f: actual + 0.5,
                },
                Observed {
                    source: "B",
                    lead: Lead::NextDay,
                    high_f: actual + if i % 2 == 0 { 4.0 } else { -4.0 },
                },
            ];
            state.observe(&cfg, d, Lead::NextDay, &obs, None, actual);
        }
        let c = combine(&cfg, &state, &fc).unwrap();
        assert!(c.sources[0].weight > 0.6, "{c:?}");
        assert!((c.sources.iter().map(|s| s.weight).sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(
            c.sources[0].weight < 0.75 + 1e-9,
            "shrunk toward equal weights"
        );
    }
}
