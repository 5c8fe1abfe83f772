//! The METAR remarks that carry exact temperatures: the hourly T-group (`T02280183`: 22.8 °C,
//! dew point 18.3 °C, tenths of a degree) and the 6-hour maximum group (`10244`: 24.4 °C, the
//! highest temperature of the 6 hours before a synoptic report).

/// Temperatures read from one METAR.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MetarTemps {
    /// The T-group temperature, °C to 0.1.
    pub temperature_c: Option<f64>,
    /// The 6-hour maximum (`1snTTT`), °C to 0.1.
    pub six_hour_max_c: Option<f64>,
}

fn signed_tenths(sign: u8, digits: &str) -> Option<f64> {
    let n: f64 = digits.parse().ok()?;
    match sign {
        b'0' => Some(n / 10.0),
        b'1' => Some(-n / 10.0),
        _ => None,
    }
}

/// Reads the T-group and the 6-hour maximum from the remarks (after `RMK`) of a METAR.
pub fn parse(raw: &str) -> MetarTemps {
    let mut out = MetarTemps::default();
    let Some((_, remarks)) = raw.split_once(" RMK ") else {
        return out;
    };
    for group in remarks.split_whitespace() {
        let b = group.as_bytes();
        let digits = |r: std::ops::Range<usize>| {
            group
                .get(r)
                .filter(|d| d.bytes().all(|c| c.is_ascii_digit()))
        };
        if b.len() == 9
            && b[0] == b'T'
            && let Some(d) = digits(2..5)
        {
            out.temperature_c = signed_tenths(b[1], d);
        } else if b.len() == 5
            && b[0] == b'1'
            && out.six_hour_max_c.is_none()
            && let Some(d) = digits(2..5)
        {
            out.six_hour_max_c = signed_tenths(b[1], d);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_recorded_kfll_metar() {
        let m = parse(
            "KFLL 022353Z 02004KT 10SM FEW026 BKN055 23/18 A3008 RMK AO2 SLP187 60000 T02280183 10244 20228 53008 $",
        );
        assert_eq!(m.temperature_c, Some(22.8));
        assert_eq!(m.six_hour_max_c, Some(24.4));
    }

    #[test]
    fn negative_values_and_absent_groups() {
        let m = parse("KMDW 150051Z 27012KT 10SM CLR M05/M12 A3012 RMK AO2 SLP210 T10561117 11044");
        assert_eq!(m.temperature_c, Some(-5.6));
        assert_eq!(m.six_hour_max_c, Some(-4.4));
        assert_eq!(
            parse("KNYC 150051Z AUTO 10SM CLR 05/M12 A3012"),
            MetarTemps::default()
        );
        // A malformed group is ignored, never guessed.
        assert_eq!(parse("X RMK T0X280183 1024A").temperature_c, None);
    }
}
