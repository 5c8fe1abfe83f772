//! Climatology baseline: the share of past years' highs in each bracket, from the days within
//! ±7 days of the same day of the year, using only days settled at least 30 days before the
//! forecast day (so no recent persistence leaks in), with add-½ smoothing.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use crate::error::ModelError;
use crate::ladder::{BracketSpec, check_ladder};

pub const WINDOW_DAYS: i64 = 7;
pub const MIN_SAMPLES: usize = 30;
const GAP_DAYS: i64 = 30;

#[derive(Debug, Clone, Default)]
pub struct Climatology {
    highs: BTreeMap<NaiveDate, i32>,
}

fn circular_distance(a: NaiveDate, b: NaiveDate) -> i64 {
    let d = (i64::from(a.ordinal()) - i64::from(b.ordinal())).abs();
    d.min(365 - d)
}

impl Climatology {
    pub fn new(highs: impl IntoIterator<Item = (NaiveDate, i32)>) -> Climatology {
        Climatology {
            highs: highs.into_iter().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.highs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.highs.is_empty()
    }

    pub fn probabilities(
        &self,
        date: NaiveDate,
        ladder: &[BracketSpec],
    ) -> Result<Vec<f64>, ModelError> {
        check_ladder(ladder)?;
        let cutoff = date - chrono::Duration::days(GAP_DAYS);
        let mut counts = vec![0usize; ladder.len()];
        let mut n = 0usize;
        for (d, h) in self.highs.range(..cutoff) {
            if circular_distance(*d, date) <= WINDOW_DAYS
                && let Some(k) = crate::ladder::outcome_index(ladder, *h)
            {
                counts[k] += 1;
                n += 1;
            }
        }
        if n < MIN_SAMPLES {
            return Err(ModelError::Score(format!(
                "climatology for {date} has {n} past days within ±{WINDOW_DAYS} days, needs {MIN_SAMPLES}"
            )));
        }
        let denom = n as f64 + 0.5 * ladder.len() as f64;
        Ok(counts.iter().map(|c| (*c as f64 + 0.5) / denom).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ladder::BracketSpec;

    #[test]
    fn counts_same_season_of_earlier_years() {
        let mut highs = Vec::new();
        for y in 2015..2024 {
            for d in 1..=20 {
                let date = NaiveDate::from_ymd_opt(y, 7, d).unwrap();
                highs.push((date, if d % 2 == 0 { 85 } else { 90 }));
            }
            highs.push((NaiveDate::from_ymd_opt(y, 1, 10).unwrap(), 30));
        }
        let c = Climatology::new(highs);
        let ladder = vec![
            BracketSpec::new("low", None, Some(86)),
            BracketSpec::new("high", Some(87), None),
        ];
        let p = c
            .probabilities(NaiveDate::from_ymd_opt(2024, 7, 10).unwrap(), &ladder)
            .unwrap();
        assert!((p[0] - 0.5).abs() < 0.02, "{p:?}");
        assert!(
            c.probabilities(NaiveDate::from_ymd_opt(2024, 4, 1).unwrap(), &ladder)
                .is_err()
        );
    }
}
