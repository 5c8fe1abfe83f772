//! Every tuning constant of the model, with the reason for its default. None of these was fitted
//! on the reserved acceptance window (2025-01-01 to 2025-06-30); the defaults come from
//! `../shared/reference/forecasting.md` (literature values), not from a search over our data.

use serde::{Deserialize, Serialize};

use crate::distribution::Shape;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Shape of the predictive distribution. Student-t with 6 degrees of freedom: pooled
    /// day-ahead errors are heavy-tailed (about 3 % miss by 10 °F or more, which a Gaussian of
    /// the same σ puts at well under 1 %).
    pub shape: Shape,
    /// Each bracket still able to pay gets at least this probability (the tail floor).
    pub bracket_floor: f64,
    /// Half-life, in settled days, of the per-source bias and error averages (30-45 day windows
    /// track regime and season).
    pub bias_half_life_days: f64,
    /// Half-life of the σ estimate within one lead bucket and season, in settled days of that
    /// season (so it spans several years of the same season once history allows).
    pub sigma_half_life_days: f64,
    /// Half-life of the pooled (all seasons) σ of a lead bucket.
    pub pooled_sigma_half_life_days: f64,
    /// Empirical-Bayes shrinkage weight k: σ² = (n·s²_local + k·s²_pooled)/(n + k).
    pub sigma_shrinkage: f64,
    /// Shrinkage of a source's bias toward zero, in settled days: bias·n/(n + k).
    pub bias_shrinkage: f64,
    /// Shrinkage of a source's recent error toward the average of all sources, in settled days.
    pub error_shrinkage: f64,
    /// How far the inverse-error weights are pulled toward equal weights (0.5 = halfway:
    /// model errors are correlated, so the best-looking model earns less than its raw share).
    pub weight_shrinkage: f64,
    /// Priors for σ (°F) when there is no history: same day, next day, two or more days.
    pub prior_sigma_f: [f64; 3],
    /// No σ below this (°F).
    pub sigma_floor_f: f64,
    /// Prior for d in σ² = c + d·spread², and its shrinkage weight in settled days.
    pub prior_spread_coefficient: f64,
    pub spread_shrinkage: f64,
    /// A forecast fetched longer ago than this (hours) before the decision is stale.
    pub max_forecast_age_hours: f64,
}

impl Default for ModelConfig {
    fn default() -> ModelConfig {
        ModelConfig {
            shape: Shape::StudentT { df: 6.0 },
            bracket_floor: 0.005,
            bias_half_life_days: 30.0,
            sigma_half_life_days: 60.0,
            pooled_sigma_half_life_days: 90.0,
            sigma_shrinkage: 20.0,
            bias_shrinkage: 5.0,
            error_shrinkage: 10.0,
            weight_shrinkage: 0.5,
            // Day-1 consensus σ of about 2.5-3.5 °F (forecasting.md §2); same day smaller,
            // two days out 15-25 % larger.
            prior_sigma_f: [2.0, 3.0, 3.5],
            sigma_floor_f: 1.2,
            prior_spread_coefficient: 0.5,
            spread_shrinkage: 30.0,
            max_forecast_age_hours: 24.0,
        }
    }
}
