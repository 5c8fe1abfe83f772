//! The original design's model, kept as a baseline to beat: the plain average of the raw
//! forecasts, a Gaussian with a fixed σ of 3 °F, and bracket bounds fed raw into the CDF
//! (a "53-54" bracket integrated over [53, 54]) then renormalised to hide the lost mass.

use statrs::distribution::{ContinuousCDF, Normal};

use crate::error::ModelError;
use crate::ladder::{BracketSpec, check_ladder};

pub const BASELINE_SIGMA_F: f64 = 3.0;

pub fn original_design(
    raw_forecasts: &[f64],
    ladder: &[BracketSpec],
) -> Result<Vec<f64>, ModelError> {
    check_ladder(ladder)?;
    if raw_forecasts.is_empty() {
        return Err(ModelError::Score(
            "the baseline needs at least one forecast".into(),
        ));
    }
    let mean = raw_forecasts.iter().sum::<f64>() / raw_forecasts.len() as f64;
    let n =
        Normal::new(mean, BASELINE_SIGMA_F).map_err(|e| ModelError::Distribution(e.to_string()))?;
    let raw: Vec<f64> = ladder
        .iter()
        .map(|b| {
            let hi = b.upper.map_or(1.0, |u| n.cdf(f64::from(u)));
            let lo = b.lower.map_or(0.0, |l| n.cdf(f64::from(l)));
            (hi - lo).max(0.0)
        })
        .collect();
    let s: f64 = raw.iter().sum();
    if s <= 0.0 {
        return Err(ModelError::Score(
            "baseline probabilities are all zero".into(),
        ));
    }
    Ok(raw.iter().map(|p| p / s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loses_mass_between_brackets_then_renormalises() {
        let ladder = vec![
            BracketSpec::new("≤50", None, Some(50)),
            BracketSpec::new("51-52", Some(51), Some(52)),
            BracketSpec::new("≥53", Some(53), None),
        ];
        let p = original_design(&[51.5], &ladder).unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        // the middle bracket is integrated over 1 °F only, so it gets less than a fair share
        let n = Normal::new(51.5, 3.0).unwrap();
        assert!(p[1] < n.cdf(52.5) - n.cdf(50.5));
    }
}
