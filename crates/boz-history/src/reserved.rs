//! The acceptance window: everything dated 2025-01-01 to 2025-06-30 is reserved for acceptance
//! and is never fitted, tuned or reported on. Importers skip it unless told otherwise.

use chrono::NaiveDate;

pub const RESERVED_FROM: NaiveDate = match NaiveDate::from_ymd_opt(2025, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};
pub const RESERVED_TO: NaiveDate = match NaiveDate::from_ymd_opt(2025, 6, 30) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

pub fn is_reserved(date: NaiveDate) -> bool {
    (RESERVED_FROM..=RESERVED_TO).contains(&date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_edges() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert!(!is_reserved(d("2024-12-31")));
        assert!(is_reserved(d("2025-01-01")) && is_reserved(d("2025-06-30")));
        assert!(!is_reserved(d("2025-07-01")));
    }
}
