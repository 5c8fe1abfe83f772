//! An event's brackets and their probabilities.
//!
//! The settled high is a whole degree, so a bracket paying on lo..hi (inclusive) integrates the
//! continuous predictive distribution over [lo − 0.5, hi + 0.5); the low tail "≤ u" is F(u + 0.5)
//! and the high tail "≥ l" is 1 − F(l − 0.5). Nothing is renormalised to hide lost mass: the
//! ladder covers the whole line, so the raw probabilities already sum to one.

use boz_common::schemas::{BracketProbability, BracketProbabilityFields};
use serde::{Deserialize, Serialize};

use crate::distribution::Predictive;
use crate::error::ModelError;

/// One bracket of an event: the inclusive whole-degree bounds that pay YES.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BracketSpec {
    pub label: String,
    pub lower: Option<i32>,
    pub upper: Option<i32>,
}

impl BracketSpec {
    pub fn new(label: impl Into<String>, lower: Option<i32>, upper: Option<i32>) -> BracketSpec {
        BracketSpec {
            label: label.into(),
            lower,
            upper,
        }
    }

    /// Whether a settled high pays this bracket.
    pub fn contains(&self, high: i32) -> bool {
        self.lower.is_none_or(|lo| high >= lo) && self.upper.is_none_or(|hi| high <= hi)
    }

    /// The bracket with this probability, in the seed's schema.
    pub fn with_probability(&self, probability: f64) -> Result<BracketProbability, ModelError> {
        Ok(BracketProbability::new(BracketProbabilityFields {
            bracket_label: self.label.clone(),
            lower_bound_f: self.lower.map(f64::from),
            upper_bound_f: self.upper.map(f64::from),
            probability,
        })?)
    }
}

/// Checks that the brackets run from an open low tail to an open high tail without gaps or
/// overlaps.
pub fn check_ladder(ladder: &[BracketSpec]) -> Result<(), ModelError> {
    let fail = |m: String| Err(ModelError::Brackets(m));
    let n = ladder.len();
    if n < 2 {
        return fail(format!("an event needs at least two brackets, got {n}"));
    }
    for (i, b) in ladder.iter().enumerate() {
        let (first, last) = (i == 0, i == n - 1);
        if first != b.lower.is_none() || last != b.upper.is_none() {
            return fail(format!(
                "bracket {i} ({}): only the first bracket may be open below and only the last open above",
                b.label
            ));
        }
        if let (Some(lo), Some(hi)) = (b.lower, b.upper)
            && lo > hi
        {
            return fail(format!("bracket {i} ({}): {lo} is above {hi}", b.label));
        }
        if i > 0
            && let (Some(prev), Some(lo)) = (ladder[i - 1].upper, b.lower)
            && lo != prev + 1
        {
            return fail(format!(
                "not contiguous: bracket {i} ({}) starts at {lo} but the previous one ends at {prev}",
                b.label
            ));
        }
    }
    Ok(())
}

/// The index of the bracket a settled high pays.
pub fn outcome_index(ladder: &[BracketSpec], high: i32) -> Option<usize> {
    ladder.iter().position(|b| b.contains(high))
}

/// Raw bracket probabilities under the whole-degree continuity correction.
pub fn raw_probabilities(dist: &Predictive, ladder: &[BracketSpec]) -> Vec<f64> {
    ladder
        .iter()
        .map(|b| {
            let hi = b.upper.map_or(1.0, |u| dist.cdf(f64::from(u) + 0.5));
            let lo = b.lower.map_or(0.0, |l| dist.cdf(f64::from(l) - 0.5));
            (hi - lo).max(0.0)
        })
        .collect()
}

/// Bracket probabilities with a floor: every bracket that can still pay gets at least `floor`
/// (p' = floor + (1 − m·floor)·p over the m such brackets). A bracket that can no longer pay
/// (wholly below the running maximum) stays at exactly zero.
pub fn bracket_probabilities(
    dist: &Predictive,
    ladder: &[BracketSpec],
    floor: f64,
) -> Result<Vec<f64>, ModelError> {
    check_ladder(ladder)?;
    let raw = raw_probabilities(dist, ladder);
    let possible: Vec<bool> = ladder
        .iter()
        .map(|b| match (dist.truncated_at(), b.upper) {
            (Some(t), Some(u)) => f64::from(u) + 0.5 > t,
            _ => true,
        })
        .collect();
    let m = possible.iter().filter(|p| **p).count() as f64;
    let floor = if floor * m >= 1.0 {
        0.0
    } else {
        floor.max(0.0)
    };
    let total: f64 = raw.iter().sum();
    if !(total.is_finite() && total > 0.0) {
        return Err(ModelError::Distribution(format!(
            "bracket probabilities sum to {total}"
        )));
    }
    let p: Vec<f64> = raw
        .iter()
        .zip(&possible)
        .map(|(r, ok)| {
            if *ok {
                floor + (1.0 - m * floor) * r / total
            } else {
                0.0
            }
        })
        .collect();
    // exact sum despite rounding in the CDF differences
    let s: f64 = p.iter().sum();
    Ok(p.into_iter().map(|x| x / s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distribution::Shape;

    pub(crate) fn ladder() -> Vec<BracketSpec> {
        vec![
            BracketSpec::new("50F or below", None, Some(50)),
            BracketSpec::new("51-52F", Some(51), Some(52)),
            BracketSpec::new("53-54F", Some(53), Some(54)),
            BracketSpec::new("55-56F", Some(55), Some(56)),
            BracketSpec::new("57-58F", Some(57), Some(58)),
            BracketSpec::new("59F or above", Some(59), None),
        ]
    }

    #[test]
    fn known_values_mean_53_8_sigma_2_6() {
        let d = Predictive::new(53.8, 2.6, Shape::Gaussian).unwrap();
        let p = bracket_probabilities(&d, &ladder(), 0.0).unwrap();
        let rounded: Vec<f64> = p.iter().map(|x| (x * 1000.0).round() / 1000.0).collect();
        assert_eq!(rounded, vec![0.102, 0.206, 0.298, 0.244, 0.114, 0.035]);
    }

    #[test]
    fn gaps_overlaps_and_missing_tails_are_rejected() {
        let mut l = ladder();
        l[2].lower = Some(54);
        let e = check_ladder(&l).unwrap_err().to_string();
        assert!(e.contains("not contiguous") && e.contains("53-54F"), "{e}");
        let mut l = ladder();
        l[0].lower = Some(40);
        assert!(check_ladder(&l).is_err());
        assert!(check_ladder(&ladder()[..1]).is_err());
        let mut l = ladder();
        l.swap(1, 2);
        assert!(check_ladder(&l).is_err());
    }

    #[test]
    fn floor_and_truncation() {
        let d = Predictive::new(53.8, 2.6, Shape::Gaussian).unwrap();
        let p = bracket_probabilities(&d, &ladder(), 0.01).unwrap();
        assert!(p.iter().all(|x| *x >= 0.0099));
        let t = d.truncate_below(54.5).unwrap();
        let p = bracket_probabilities(&t, &ladder(), 0.01).unwrap();
        assert_eq!(&p[..3], &[0.0, 0.0, 0.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert_eq!(outcome_index(&ladder(), 55), Some(3));
        assert_eq!(outcome_index(&ladder(), -3), Some(0));
    }
}
