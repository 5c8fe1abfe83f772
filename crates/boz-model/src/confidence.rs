//! HIGH / MEDIUM / LOW confidence.
//!
//! - HIGH: σ ≤ 2.5 °F, at least 3 fresh sources, spread ≤ 1.5 °F and every used forecast
//!   fetched within 6 hours of the decision.
//! - LOW: σ > 3.5 °F, or fewer than 2 fresh sources, or spread > 3 °F, or a used forecast older
//!   than 12 hours.
//! - MEDIUM: everything between.
//!
//! 2.5 °F is about the day-ahead σ of a good bias-corrected consensus; 3.5 °F is what a single
//! raw forecast achieves (forecasting.md §1.7, §2). With σ = 2.5 the modal bracket can reach 31 %.

use boz_common::schemas::Confidence;

pub const HIGH_MAX_SIGMA_F: f64 = 2.5;
pub const LOW_MIN_SIGMA_F: f64 = 3.5;
pub const HIGH_MIN_SOURCES: usize = 3;
pub const LOW_MAX_SOURCES: usize = 1;
pub const HIGH_MAX_SPREAD_F: f64 = 1.5;
pub const LOW_MIN_SPREAD_F: f64 = 3.0;
pub const HIGH_MAX_AGE_HOURS: f64 = 6.0;
pub const LOW_MIN_AGE_HOURS: f64 = 12.0;

pub fn confidence(
    sigma_f: f64,
    spread_f: f64,
    fresh_sources: usize,
    oldest_hours: f64,
) -> Confidence {
    if sigma_f > LOW_MIN_SIGMA_F
        || fresh_sources <= LOW_MAX_SOURCES
        || spread_f > LOW_MIN_SPREAD_F
        || oldest_hours > LOW_MIN_AGE_HOURS
    {
        Confidence::Low
    } else if sigma_f <= HIGH_MAX_SIGMA_F
        && fresh_sources >= HIGH_MIN_SOURCES
        && spread_f <= HIGH_MAX_SPREAD_F
        && oldest_hours <= HIGH_MAX_AGE_HOURS
    {
        Confidence::High
    } else {
        Confidence::Medium
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(confidence(2.2, 1.0, 4, 2.0), Confidence::High);
        assert_eq!(confidence(2.2, 1.0, 2, 2.0), Confidence::Medium);
        assert_eq!(confidence(2.2, 1.0, 4, 8.0), Confidence::Medium);
        assert_eq!(confidence(3.0, 1.0, 4, 2.0), Confidence::Medium);
        assert_eq!(confidence(3.6, 1.0, 4, 2.0), Confidence::Low);
        assert_eq!(confidence(2.2, 3.5, 4, 2.0), Confidence::Low);
        assert_eq!(confidence(2.2, 1.0, 1, 2.0), Confidence::Low);
        assert_eq!(confidence(2.2, 1.0, 4, 13.0), Confidence::Low);
    }
}
