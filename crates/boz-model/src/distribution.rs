//! The predictive distribution of the true daily high: Gaussian or Student-t (scaled so its
//! standard deviation is σ), optionally truncated from below by the running maximum already
//! observed on the climate day.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, Normal, StudentsT};

use crate::error::ModelError;

/// The shape of the predictive distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    Gaussian,
    /// Student-t with `df` degrees of freedom (> 2, so that σ exists).
    StudentT {
        df: f64,
    },
}

#[derive(Debug, Clone)]
enum Base {
    Gaussian(Normal),
    StudentT(StudentsT),
}

/// A predictive distribution with mean `mean` and standard deviation `sd` (°F).
#[derive(Debug, Clone)]
pub struct Predictive {
    mean: f64,
    sd: f64,
    shape: Shape,
    base: Base,
    /// Truncation point (°F) and the untruncated mass above it.
    truncation: Option<(f64, f64)>,
}

impl Predictive {
    pub fn new(mean: f64, sd: f64, shape: Shape) -> Result<Predictive, ModelError> {
        if !mean.is_finite() {
            return Err(ModelError::Distribution(format!(
                "mean {mean} is not finite"
            )));
        }
        if !(sd.is_finite() && sd > 0.0) {
            return Err(ModelError::Distribution(format!("σ {sd} is not positive")));
        }
        let bad = |e: statrs::distribution::NormalError| ModelError::Distribution(e.to_string());
        let base = match shape {
            Shape::Gaussian => Base::Gaussian(Normal::new(mean, sd).map_err(bad)?),
            Shape::StudentT { df } => {
                if !(df.is_finite() && df > 2.0) {
                    return Err(ModelError::Distribution(format!(
                        "Student-t needs more than 2 degrees of freedom, got {df}"
                    )));
                }
                let scale = sd * ((df - 2.0) / df).sqrt();
                Base::StudentT(
                    StudentsT::new(mean, scale, df)
                        .map_err(|e| ModelError::Distribution(e.to_string()))?,
                )
            }
        };
        Ok(Predictive {
            mean,
            sd,
            shape,
            base,
            truncation: None,
        })
    }

    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The standard deviation before any truncation.
    pub fn sd(&self) -> f64 {
        self.sd
    }

    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The truncation point, if the distribution was truncated.
    pub fn truncated_at(&self) -> Option<f64> {
        self.truncation.map(|(t, _)| t)
    }

    /// The distribution given that the high is at least `at` °F. When the untruncated mass
    /// above `at` is negligible, all the mass sits just above `at`.
    pub fn truncate_below(mut self, at: f64) -> Result<Predictive, ModelError> {
        if !at.is_finite() {
            return Err(ModelError::Distribution(format!(
                "truncation point {at} is not finite"
            )));
        }
        let above = 1.0 - self.base_cdf(at);
        self.truncation = Some((at, above));
        Ok(self)
    }

    fn base_cdf(&self, x: f64) -> f64 {
        match &self.base {
            Base::Gaussian(d) => d.cdf(x),
            Base::StudentT(d) => d.cdf(x),
        }
    }

    fn base_pdf(&self, x: f64) -> f64 {
        match &self.base {
            Base::Gaussian(d) => d.pdf(x),
            Base::StudentT(d) => d.pdf(x),
        }
    }

    /// P(high ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        match self.truncation {
            None => self.base_cdf(x),
            Some((t, _)) if x < t => 0.0,
            Some((t, above)) if above < 1e-12 => {
                // Everything is known to be at or above t, and the model gave that no mass:
                // put it all in [t, t + 0.5).
                if x >= t + 0.5 { 1.0 } else { (x - t) / 0.5 }
            }
            Some((t, above)) => ((self.base_cdf(x) - self.base_cdf(t)) / above).clamp(0.0, 1.0),
        }
    }

    /// Density of the untruncated distribution (for scores).
    pub fn pdf_untruncated(&self, x: f64) -> f64 {
        self.base_pdf(x)
    }

    /// CRPS of the untruncated distribution at the observed value (closed form).
    pub fn crps(&self, y: f64) -> f64 {
        match self.shape {
            Shape::Gaussian => crate::scoring::crps_gaussian(self.mean, self.sd, y),
            Shape::StudentT { df } => {
                let scale = self.sd * ((df - 2.0) / df).sqrt();
                crate::scoring::crps_student_t(self.mean, scale, df, y)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_has_the_requested_sd() {
        let d = Predictive::new(50.0, 3.0, Shape::StudentT { df: 6.0 }).unwrap();
        // numerical variance over a wide grid
        let (mut m2, step) = (0.0, 0.01);
        let mut x = 0.0;
        while x < 100.0 {
            m2 += (x - 50.0f64).powi(2) * d.pdf_untruncated(x) * step;
            x += step;
        }
        assert!((m2.sqrt() - 3.0).abs() < 0.02, "sd {}", m2.sqrt());
        assert!((d.cdf(50.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn bad_parameters_are_rejected() {
        assert!(Predictive::new(f64::NAN, 3.0, Shape::Gaussian).is_err());
        assert!(Predictive::new(50.0, 0.0, Shape::Gaussian).is_err());
        assert!(Predictive::new(50.0, 2.0, Shape::StudentT { df: 2.0 }).is_err());
    }

    #[test]
    fn truncation_removes_mass_below_and_keeps_total() {
        let d = Predictive::new(50.0, 3.0, Shape::Gaussian)
            .unwrap()
            .truncate_below(52.5)
            .unwrap();
        assert_eq!(d.cdf(52.0), 0.0);
        assert!(d.cdf(52.6) > 0.0);
        assert!((d.cdf(200.0) - 1.0).abs() < 1e-12);
        // far in the tail: all the mass just above the observed maximum
        let far = Predictive::new(50.0, 1.0, Shape::Gaussian)
            .unwrap()
            .truncate_below(90.0)
            .unwrap();
        assert_eq!(far.cdf(89.9), 0.0);
        assert_eq!(far.cdf(90.5), 1.0);
    }
}
