//! What the model learns from settled days, online and in date order: per source and lead
//! bucket an exponentially weighted bias and absolute error; per lead bucket and season the
//! variance of the combined forecast's error (shrunk toward the lead's pooled value, itself
//! shrunk toward a prior); and the coefficient d of σ² = c + d·spread².
//!
//! The same state serves the live predictor (rebuilt from the stored history) and the rolling
//! evaluation (updated only with days settled before each decision), so both run one model.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::config::ModelConfig;

/// Lead bucket: the climate day of the forecast relative to the day it was issued (local
/// standard time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lead {
    SameDay,
    NextDay,
    TwoDays,
}

impl Lead {
    /// The bucket for a lead in days; `None` for a forecast issued after its day.
    pub fn from_days(days: i64) -> Option<Lead> {
        match days {
            ..0 => None,
            0 => Some(Lead::SameDay),
            1 => Some(Lead::NextDay),
            _ => Some(Lead::TwoDays),
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lead::SameDay => "same_day",
            Lead::NextDay => "next_day",
            Lead::TwoDays => "two_days",
        }
    }
}

/// Meteorological season of a date (DJF, MAM, JJA, SON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Season {
    Winter,
    Spring,
    Summer,
    Autumn,
}

impl Season {
    pub fn of(date: NaiveDate) -> Season {
        match date.month() {
            12 | 1 | 2 => Season::Winter,
            3..=5 => Season::Spring,
            6..=8 => Season::Summer,
            _ => Season::Autumn,
        }
    }
}

/// An exponentially weighted mean whose first values are plain means (the weight is never
/// below 1/n), so a short history is not dominated by its first day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Ewma {
    pub n: u32,
    pub value: f64,
}

impl Ewma {
    pub fn update(&mut self, x: f64, half_life: f64) {
        self.n = self.n.saturating_add(1);
        let alpha = (1.0 - 0.5f64.powf(1.0 / half_life)).max(1.0 / f64::from(self.n));
        self.value += alpha * (x - self.value);
    }

    /// The number of observations that effectively count (at most about the window length).
    pub fn effective_n(&self, half_life: f64) -> f64 {
        let window = 1.0 / (1.0 - 0.5f64.powf(1.0 / half_life));
        f64::from(self.n).min(window)
    }
}

/// One source's record at one lead bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceStats {
    /// forecast − observed.
    pub bias: Ewma,
    /// |forecast − bias − observed|, with the bias known before the day.
    pub abs_error: Ewma,
}

/// Accumulators for the spread regression r² = c + d·S².
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SpreadFit {
    pub s2: Ewma,
    pub s4: Ewma,
    pub r2: Ewma,
    pub r2s2: Ewma,
}

/// One forecast that took part in a settled day.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed<'a> {
    pub source: &'a str,
    pub lead: Lead,
    pub high_f: f64,
}

/// Everything learned for one city.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelState {
    pub sources: BTreeMap<String, [SourceStats; 3]>,
    pub sigma: BTreeMap<(Lead, Season), Ewma>,
    pub pooled: [Ewma; 3],
    pub spread: [SpreadFit; 3],
    pub settled_days: u32,
    pub last_settled: Option<NaiveDate>,
}

/// The σ the state gives for a lead and season, with how it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SigmaEstimate {
    /// σ before the spread term (°F).
    pub base_f: f64,
    /// σ with the spread term and the floor (°F).
    pub sigma_f: f64,
    pub spread_coefficient: f64,
    pub n_season: u32,
    pub n_pooled: u32,
    /// True when no settled history shaped it (the documented prior alone).
    pub prior_only: bool,
}

impl ModelState {
    pub fn stats(&self, source: &str, lead: Lead) -> Option<&SourceStats> {
        self.sources
            .get(source)
            .map(|s| &s[lead.index()])
            .filter(|s| s.bias.n > 0)
    }

    /// The shrunk bias of a source at a lead (0 without history).
    pub fn bias(&self, cfg: &ModelConfig, source: &str, lead: Lead) -> f64 {
        self.stats(source, lead).map_or(0.0, |s| {
            let n = f64::from(s.bias.n);
            s.bias.value * n / (n + cfg.bias_shrinkage)
        })
    }

    /// σ for a lead bucket, season and current spread S (°F).
    pub fn sigma(
        &self,
        cfg: &ModelConfig,
        lead: Lead,
        season: Season,
        spread: f64,
    ) -> SigmaEstimate {
        let k = cfg.sigma_shrinkage;
        let prior = cfg.prior_sigma_f[lead.index()].powi(2);
        let pooled = self.pooled[lead.index()];
        let np = pooled.effective_n(cfg.pooled_sigma_half_life_days);
        let pooled_var = (np * pooled.value + k * prior) / (np + k);
        let local = self.sigma.get(&(lead, season)).copied().unwrap_or_default();
        let nl = local.effective_n(cfg.sigma_half_life_days);
        let base_var = (nl * local.value + k * pooled_var) / (nl + k);

        let fit = self.spread[lead.index()];
        let n = fit.s2.effective_n(cfg.pooled_sigma_half_life_days);
        let var_s2 = fit.s4.value - fit.s2.value.powi(2);
        let d_hat = if var_s2 > 1e-9 {
            ((fit.r2s2.value - fit.r2.value * fit.s2.value) / var_s2).clamp(0.0, 2.0)
        } else {
            cfg.prior_spread_coefficient
        };
        let d = (n * d_hat + cfg.spread_shrinkage * cfg.prior_spread_coefficient)
            / (n + cfg.spread_shrinkage);
        // c + d·S² with c chosen so that an average-spread day gets the base variance
        let var = base_var + d * (spread.powi(2) - fit.s2.value);
        let floor = cfg.sigma_floor_f;
        SigmaEstimate {
            base_f: base_var.sqrt().max(floor),
            sigma_f: var.max(floor * floor).sqrt(),
            spread_coefficient: d,
            n_season: local.n,
            n_pooled: pooled.n,
            prior_only: pooled.n == 0,
        }
    }

    /// Learns from one settled day: the forecasts that were available at the decision, the
    /// combined mean and spread the model used, and the settled high.
    pub fn observe(
        &mut self,
        cfg: &ModelConfig,
        date: NaiveDate,
        lead: Lead,
        forecasts: &[Observed<'_>],
        combined: Option<(f64, f64)>,
        actual: f64,
    ) {
        for f in forecasts {
            let bias_before = self.bias(cfg, f.source, f.lead);
            let stats = &mut self.sources.entry(f.source.to_string()).or_default()[f.lead.index()];
            stats.abs_error.update(
                (f.high_f - bias_before - actual).abs(),
                cfg.bias_half_life_days,
            );
            stats
                .bias
                .update(f.high_f - actual, cfg.bias_half_life_days);
        }
        if let Some((mean, spread)) = combined {
            let r2 = (actual - mean).powi(2);
            self.sigma
                .entry((lead, Season::of(date)))
                .or_default()
                .update(r2, cfg.sigma_half_life_days);
            self.pooled[lead.index()].update(r2, cfg.pooled_sigma_half_life_days);
            let s2 = spread.powi(2);
            let h = cfg.pooled_sigma_half_life_days;
            let fit = &mut self.spread[lead.index()];
            fit.s2.update(s2, h);
            fit.s4.update(s2 * s2, h);
            fit.r2.update(r2, h);
            fit.r2s2.update(r2 * s2, h);
        }
        self.settled_days += 1;
        self.last_settled = Some(self.last_settled.map_or(date, |d| d.max(date)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_start_uses_the_prior_and_history_moves_it() {
        let cfg = ModelConfig::default();
        let mut s = ModelState::default();
        let d = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let e = s.sigma(&cfg, Lead::NextDay, Season::of(d), 0.0);
        assert!(e.prior_only);
        assert!((e.base_f - 3.0).abs() < 1e-12);
        for i in 0..200 {
            let f = [Observed {
                source: "A",
                lead: Lead::NextDay,
                high_f: 52.0,
            }];
            // a source 2 °F warm with ±1 °F noise
            let actual = 50.0 + if i % 2 == 0 { 1.0 } else { -1.0 };
            s.observe(&cfg, d, Lead::NextDay, &f, Some((50.0, 0.0)), actual);
        }
        assert!((s.bias(&cfg, "A", Lead::NextDay) - 2.0).abs() < 0.2);
        let e = s.sigma(&cfg, Lead::NextDay, Season::of(d), 0.0);
        assert!(!e.prior_only);
        assert!(e.base_f < 1.5, "{e:?}");
        assert!(e.base_f >= cfg.sigma_floor_f);
    }

    #[test]
    fn ewma_starts_as_a_plain_mean() {
        let mut e = Ewma::default();
        e.update(4.0, 30.0);
        e.update(2.0, 30.0);
        assert!((e.value - 3.0).abs() < 1e-12);
    }
}
