//! Proper scores for bracket forecasts and the continuous distribution, PIT values,
//! reliability tables and interval coverage.
//!
//! RPS is the sum over the K − 1 cumulative thresholds, not divided by K − 1, so figures
//! compare across reports whatever the number of brackets.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};
use statrs::function::gamma::ln_gamma;

use crate::distribution::Predictive;
use crate::error::ModelError;

/// Log loss clips probabilities to this range when reporting.
pub const LOG_LOSS_CLIP: (f64, f64) = (0.002, 0.998);

fn check(probs: &[f64], outcome: usize) -> Result<(), ModelError> {
    if outcome >= probs.len() {
        return Err(ModelError::Score(format!(
            "outcome bracket {outcome} is outside the {} brackets",
            probs.len()
        )));
    }
    if probs
        .iter()
        .any(|p| !(p.is_finite() && (0.0..=1.0).contains(p)))
    {
        return Err(ModelError::Score(format!(
            "probabilities must lie in [0, 1]: {probs:?}"
        )));
    }
    let s: f64 = probs.iter().sum();
    if (s - 1.0).abs() > 1e-6 {
        return Err(ModelError::Score(format!(
            "probabilities sum to {s}, not 1"
        )));
    }
    Ok(())
}

/// Ranked probability score over ordered brackets (0 is perfect).
pub fn rps(probs: &[f64], outcome: usize) -> Result<f64, ModelError> {
    check(probs, outcome)?;
    let mut cum = 0.0;
    let mut total = 0.0;
    for (k, p) in probs.iter().enumerate().take(probs.len() - 1) {
        cum += p;
        let o = if outcome <= k { 1.0 } else { 0.0 };
        total += (cum - o).powi(2);
    }
    Ok(total)
}

/// Multi-category Brier score: Σ (q_k − o_k)².
pub fn brier(probs: &[f64], outcome: usize) -> Result<f64, ModelError> {
    check(probs, outcome)?;
    Ok(probs
        .iter()
        .enumerate()
        .map(|(k, p)| (p - if k == outcome { 1.0 } else { 0.0 }).powi(2))
        .sum())
}

/// Log loss −ln q of the observed bracket, q clipped to [`LOG_LOSS_CLIP`]; also whether it
/// was clipped.
pub fn log_loss(probs: &[f64], outcome: usize) -> Result<(f64, bool), ModelError> {
    check(probs, outcome)?;
    let q = probs[outcome];
    let c = q.clamp(LOG_LOSS_CLIP.0, LOG_LOSS_CLIP.1);
    Ok((-c.ln(), c != q))
}

/// CRPS of N(μ, σ²) at y (closed form).
pub fn crps_gaussian(mu: f64, sigma: f64, y: f64) -> f64 {
    let z = (y - mu) / sigma;
    let n = Normal::standard();
    sigma * (z * (2.0 * n.cdf(z) - 1.0) + 2.0 * n.pdf(z) - 1.0 / std::f64::consts::PI.sqrt())
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// CRPS of a location-scale Student-t (location μ, scale s, ν > 1 degrees of freedom) at y
/// (closed form, as in scoringRules' `crps_t`).
pub fn crps_student_t(mu: f64, scale: f64, df: f64, y: f64) -> f64 {
    let z = (y - mu) / scale;
    let Ok(t) = StudentsT::new(0.0, 1.0, df) else {
        return f64::NAN;
    };
    let term3 = 2.0 * df.sqrt() * (ln_beta(0.5, df - 0.5) - 2.0 * ln_beta(0.5, df / 2.0)).exp()
        / (df - 1.0);
    scale * (z * (2.0 * t.cdf(z) - 1.0) + 2.0 * t.pdf(z) * (df + z * z) / (df - 1.0) - term3)
}

/// The mid PIT of a whole-degree outcome: F(y − 0.5) + ½·(F(y + 0.5) − F(y − 0.5)). Uniform on
/// [0, 1] for a calibrated forecast (the non-random form of the randomised PIT).
pub fn pit(dist: &Predictive, y: i32) -> f64 {
    let lo = dist.cdf(f64::from(y) - 0.5);
    let hi = dist.cdf(f64::from(y) + 0.5);
    lo + 0.5 * (hi - lo)
}

/// Whether a PIT value falls in the central interval of this level (0.5, 0.8, 0.9).
pub fn covered(pit: f64, level: f64) -> bool {
    let tail = (1.0 - level) / 2.0;
    pit >= tail && pit <= 1.0 - tail
}

/// One row of a reliability table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    pub from: f64,
    pub to: f64,
    pub count: u32,
    pub mean_forecast: f64,
    pub observed_frequency: f64,
}

/// A reliability table over every (bracket, day) pair, in ten probability bins.
#[derive(Debug, Clone, Default)]
pub struct Reliability {
    sums: [(u32, f64, f64); 10],
}

impl Reliability {
    pub fn add(&mut self, probs: &[f64], outcome: usize) {
        for (k, p) in probs.iter().enumerate() {
            let bin = ((p * 10.0).floor() as usize).min(9);
            let s = &mut self.sums[bin];
            s.0 += 1;
            s.1 += p;
            s.2 += if k == outcome { 1.0 } else { 0.0 };
        }
    }

    pub fn table(&self) -> Vec<ReliabilityBin> {
        self.sums
            .iter()
            .enumerate()
            .map(|(i, (n, p, o))| {
                let c = f64::from((*n).max(1));
                ReliabilityBin {
                    from: i as f64 / 10.0,
                    to: (i + 1) as f64 / 10.0,
                    count: *n,
                    mean_forecast: p / c,
                    observed_frequency: o / c,
                }
            })
            .collect()
    }
}

/// Means of the bracket scores of one forecaster over many events.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScoreSummary {
    pub events: u32,
    pub rps: f64,
    pub brier: f64,
    pub log_loss: f64,
    /// How many log losses were clipped.
    pub clipped: u32,
}

impl ScoreSummary {
    pub fn add(&mut self, probs: &[f64], outcome: usize) -> Result<(), ModelError> {
        let r = rps(probs, outcome)?;
        let b = brier(probs, outcome)?;
        let (l, clipped) = log_loss(probs, outcome)?;
        let n = f64::from(self.events);
        self.rps = (self.rps * n + r) / (n + 1.0);
        self.brier = (self.brier * n + b) / (n + 1.0);
        self.log_loss = (self.log_loss * n + l) / (n + 1.0);
        self.events += 1;
        self.clipped += u32::from(clipped);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Shape;

    #[test]
    fn rps_is_the_unnormalised_sum_and_equals_brier_for_two_brackets() {
        assert_eq!(rps(&[0.0, 1.0, 0.0], 1).unwrap(), 0.0);
        // all mass two brackets away: two thresholds wrong
        assert_eq!(rps(&[1.0, 0.0, 0.0], 2).unwrap(), 2.0);
        let two = [0.3, 0.7];
        assert!((rps(&two, 0).unwrap() - 0.49).abs() < 1e-12);
        assert!((brier(&two, 0).unwrap() - 0.98).abs() < 1e-12); // multi-category: 2× binary
        assert!(rps(&[0.5, 0.6], 0).is_err());
        assert!(rps(&[0.5, 0.5], 2).is_err());
    }

    #[test]
    fn log_loss_clips() {
        let (l, c) = log_loss(&[0.0, 1.0], 0).unwrap();
        assert!(c && (l - -(0.002f64.ln())).abs() < 1e-12);
        let (l, c) = log_loss(&[0.5, 0.5], 0).unwrap();
        assert!(!c && (l - 2f64.ln()).abs() < 1e-12);
    }

    fn numeric_crps(d: &Predictive, y: f64) -> f64 {
        let (mut s, h) = (0.0, 0.001);
        let mut x = d.mean() - 60.0;
        while x < d.mean() + 60.0 {
            let f = d.cdf(x);
            s += (f - if x >= y { 1.0 } else { 0.0 }).powi(2) * h;
            x += h;
        }
        s
    }

    #[test]
    fn crps_closed_forms_match_the_integral() {
        let g = Predictive::new(53.8, 2.6, Shape::Gaussian).unwrap();
        assert!((crps_gaussian(53.8, 2.6, 53.8) - 0.6076).abs() < 1e-3);
        for y in [49.0, 53.8, 58.0] {
            assert!((g.crps(y) - numeric_crps(&g, y)).abs() < 2e-3);
        }
        let t = Predictive::new(53.8, 2.6, Shape::StudentT { df: 5.0 }).unwrap();
        for y in [45.0, 53.8, 60.0] {
            assert!((t.crps(y) - numeric_crps(&t, y)).abs() < 2e-3, "y {y}");
        }
    }

    #[test]
    fn pit_and_coverage() {
        let g = Predictive::new(50.0, 3.0, Shape::Gaussian).unwrap();
        assert!((pit(&g, 50) - 0.5).abs() < 1e-12);
        assert!(covered(0.5, 0.5) && !covered(0.1, 0.5) && covered(0.1, 0.9));
        let mut r = Reliability::default();
        r.add(&[0.25, 0.75], 1);
        let t = r.table();
        assert_eq!(t[2].count, 1);
        assert_eq!(t[7].observed_frequency, 1.0);
    }
}
