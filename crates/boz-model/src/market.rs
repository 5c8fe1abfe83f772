//! Market-implied probabilities: the brackets' mid (or last) prices normalised to sum to one
//! (the basic multiplicative method; prices already exclude nothing, so the overround is spread
//! in proportion). For scoring and comparison only: trading uses executable prices and fees.

use crate::error::ModelError;

pub fn normalise(prices: &[f64]) -> Result<Vec<f64>, ModelError> {
    if prices.len() < 2 {
        return Err(ModelError::Score(format!(
            "an event needs at least two prices, got {}",
            prices.len()
        )));
    }
    if let Some(p) = prices
        .iter()
        .find(|p| !(p.is_finite() && **p >= 0.0 && **p <= 1.0))
    {
        return Err(ModelError::Score(format!("price {p} is not in [0, 1]")));
    }
    let s: f64 = prices.iter().sum();
    if s <= 0.0 {
        return Err(ModelError::Score("all prices are zero".into()));
    }
    Ok(prices.iter().map(|p| p / s).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_the_overround_away() {
        let p = normalise(&[0.1, 0.3, 0.5, 0.2]).unwrap();
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((p[2] - 0.5 / 1.1).abs() < 1e-12);
        assert!(normalise(&[0.1, f64::NAN]).is_err());
        assert!(normalise(&[0.0, 0.0]).is_err());
    }
}
