//! Unit conversion of NWS `unitCode`s (`wmoUnit:degC`, `unit:degC`, ...) to the units of
//! `WeatherVariables`: °F, mph, %, mb.

/// What a value measures, after conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    TemperatureF,
    SpeedMph,
    Percent,
    PressureMb,
}

pub fn c_to_f(c: f64) -> f64 {
    c * 9.0 / 5.0 + 32.0
}

/// Converts `value` in `unit_code` to the canonical unit of `want`, or says why it cannot.
pub fn convert(value: f64, unit_code: &str, want: Quantity) -> Result<f64, String> {
    let unit = unit_code.rsplit(':').next().unwrap_or(unit_code);
    let v = match (want, unit) {
        (Quantity::TemperatureF, "degC") => c_to_f(value),
        (Quantity::TemperatureF, "degF") => value,
        (Quantity::SpeedMph, "km_h-1") => value / 1.609_344,
        (Quantity::SpeedMph, "m_s-1") => value * 2.236_936_292,
        (Quantity::SpeedMph, "mi_h-1") => value,
        (Quantity::SpeedMph, "kt") => value * 1.150_779_448,
        (Quantity::Percent, "percent") => value,
        (Quantity::PressureMb, "Pa") => value / 100.0,
        (Quantity::PressureMb, "hPa") => value,
        (Quantity::PressureMb, "inHg") => value * 33.863_886_67,
        _ => return Err(format!("unit {unit_code:?} cannot be read as {want:?}")),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("value {value} is not finite"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert!(
            (convert(22.222222222, "wmoUnit:degC", Quantity::TemperatureF).unwrap() - 72.0).abs()
                < 1e-6
        );
        assert!((convert(-40.0, "unit:degC", Quantity::TemperatureF).unwrap() + 40.0).abs() < 1e-9);
        assert!(
            (convert(16.09344, "wmoUnit:km_h-1", Quantity::SpeedMph).unwrap() - 10.0).abs() < 1e-9
        );
        assert!(
            (convert(101860.0, "wmoUnit:Pa", Quantity::PressureMb).unwrap() - 1018.6).abs() < 1e-9
        );
        assert!(convert(1.0, "wmoUnit:degC", Quantity::SpeedMph).is_err());
        assert!(convert(f64::NAN, "wmoUnit:degC", Quantity::TemperatureF).is_err());
    }
}
