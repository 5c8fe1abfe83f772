#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use boz_common::city::builtin_cities;
use boz_common::schemas::Confidence;
use boz_model::ladder::{BracketSpec, bracket_probabilities};
use boz_model::predictor::Request;
use boz_model::{Candidate, ModelError, Predictive, Predictor, Shape};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

fn ladder_from(start: i32, inner: usize) -> Vec<BracketSpec> {
    let mut l = vec![BracketSpec::new(
        format!("{start}F or below"),
        None,
        Some(start),
    )];
    for i in 0..inner as i32 {
        let lo = start + 1 + 2 * i;
        l.push(BracketSpec::new(
            format!("{lo}-{}F", lo + 1),
            Some(lo),
            Some(lo + 1),
        ));
    }
    let top = start + 1 + 2 * inner as i32;
    l.push(BracketSpec::new(
        format!("{top}F or above"),
        Some(top),
        None,
    ));
    l
}

fn shape(t: bool, df: f64) -> Shape {
    if t {
        Shape::StudentT { df }
    } else {
        Shape::Gaussian
    }
}

proptest! {
    #[test]
    fn probabilities_are_a_distribution(mean in -20.0f64..120.0, sd in 0.5f64..10.0, t: bool,
        df in 2.5f64..30.0, start in 0i32..100, inner in 1usize..8, floor in 0.0f64..0.02) {
        let d = Predictive::new(mean, sd, shape(t, df)).unwrap();
        let p = bracket_probabilities(&d, &ladder_from(start, inner), floor).unwrap();
        prop_assert!(p.iter().all(|x| (0.0..=1.0).contains(x)));
        prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        prop_assert!(p.iter().all(|x| *x >= floor * 0.999));
    }

    #[test]
    fn a_higher_mean_moves_mass_up(mean in 30.0f64..80.0, up in 0.1f64..10.0, sd in 0.5f64..8.0,
        t: bool, start in 40i32..60, inner in 1usize..8) {
        let l = ladder_from(start, inner);
        let lo = bracket_probabilities(&Predictive::new(mean, sd, shape(t, 6.0)).unwrap(), &l, 0.005).unwrap();
        let hi = bracket_probabilities(&Predictive::new(mean + up, sd, shape(t, 6.0)).unwrap(), &l, 0.005).unwrap();
        let (mut a, mut b) = (0.0, 0.0);
        for k in 0..l.len() - 1 {
            a += lo[k];
            b += hi[k];
            prop_assert!(b <= a + 1e-12, "cumulative at {k}: {b} > {a}");
        }
    }

    #[test]
    fn truncation_never_puts_mass_below_the_observed_maximum(mean in 30.0f64..80.0, sd in 0.5f64..8.0,
        t: bool, start in 40i32..60, inner in 1usize..8, observed in 30.0f64..90.0) {
        let l = ladder_from(start, inner);
        let m = observed.round();
        let d = Predictive::new(mean, sd, shape(t, 6.0)).unwrap().truncate_below(m - 0.5).unwrap();
        let p = bracket_probabilities(&d, &l, 0.01).unwrap();
        for (b, q) in l.iter().zip(&p) {
            if b.upper.is_some_and(|u| f64::from(u) < m) {
                prop_assert_eq!(*q, 0.0, "bracket {} below the maximum {}", b.label, m);
            }
        }
        prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}

#[test]
fn tails_behave() {
    let l = ladder_from(50, 4);
    // far below or above the ladder, the tail holds everything but the floors
    let low = bracket_probabilities(
        &Predictive::new(10.0, 3.0, Shape::Gaussian).unwrap(),
        &l,
        0.005,
    )
    .unwrap();
    assert!((low[0] - (1.0 - 0.005 * 5.0)).abs() < 1e-9);
    let high = bracket_probabilities(
        &Predictive::new(99.0, 3.0, Shape::Gaussian).unwrap(),
        &l,
        0.0,
    )
    .unwrap();
    assert!(high[5] > 0.999_999);
    // with the same σ, Student-t puts more than a Gaussian in a far tail (here ~3σ away)
    let g = bracket_probabilities(
        &Predictive::new(54.0, 1.2, Shape::Gaussian).unwrap(),
        &l,
        0.0,
    )
    .unwrap();
    let t = bracket_probabilities(
        &Predictive::new(54.0, 1.2, Shape::StudentT { df: 5.0 }).unwrap(),
        &l,
        0.0,
    )
    .unwrap();
    assert!(t[0] > g[0] && t[5] > g[5]);
    // a wider distribution puts more in both tails
    let w = bracket_probabilities(
        &Predictive::new(54.0, 3.0, Shape::Gaussian).unwrap(),
        &l,
        0.0,
    )
    .unwrap();
    assert!(w[0] > g[0] && w[5] > g[5]);
}

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 10, 4, h, 0, 0).unwrap()
}

fn candidate(source: &str, high: f64, fetched: DateTime<Utc>) -> Candidate {
    Candidate {
        source: source.into(),
        high_f: high,
        fetched_at: fetched,
        model_run: fetched - chrono::Duration::hours(3),
        member_spread_f: None,
    }
}

#[test]
fn predictor_uses_fresh_sources_and_records_why_others_were_left_out() {
    let city = builtin_cities().into_iter().next().unwrap(); // NYC
    let date = NaiveDate::from_ymd_opt(2024, 10, 5).unwrap();
    let cands = vec![
        candidate("NWS", 60.0, at(18)),
        candidate("NWS", 61.0, at(20)), // the latest NWS wins
        candidate("Open-Meteo:GFS", 63.0, at(19)),
        candidate("Open-Meteo:ECMWF", f64::NAN, at(19)),
        candidate(
            "Open-Meteo:ICON",
            62.0,
            at(19) - chrono::Duration::hours(30),
        ),
        candidate("Open-Meteo:GEM", 62.0, at(23)), // after the decision
    ];
    let ladder = ladder_from(56, 4);
    let expected = vec!["Open-Meteo:HRRR".to_string()];
    let req = Request {
        city: &city,
        date,
        decision_at: at(21),
        candidates: &cands,
        ladder: &ladder,
        observed_max_f: None,
        expected_sources: &expected,
    };
    let p = Predictor::default().predict(&req).unwrap();
    assert_eq!(p.prediction.model_sources, vec!["NWS", "Open-Meteo:GFS"]);
    assert!((p.prediction.ensemble_forecast_f - 62.0).abs() < 1e-9);
    assert!((p.prediction.forecast_spread_f - 1.0).abs() < 1e-9);
    assert_eq!(p.prediction.confidence, Confidence::Medium);
    let reasons: Vec<String> = p
        .provenance
        .excluded
        .iter()
        .map(|e| format!("{}: {}", e.source, e.reason))
        .collect();
    let all = reasons.join("\n");
    assert!(all.contains("Open-Meteo:ECMWF: rejected: forecast from Open-Meteo:ECMWF is not a usable daily high: NaN"), "{all}");
    assert!(all.contains("Open-Meteo:ICON: stale"), "{all}");
    assert!(
        all.contains("Open-Meteo:GEM: no forecast fetched before the decision time"),
        "{all}"
    );
    assert!(all.contains("Open-Meteo:HRRR: missing"), "{all}");
    let json = serde_json::to_value(&p.provenance).unwrap();
    assert_eq!(json["sources"][0]["source"], "NWS");
    assert_eq!(json["sources"][0]["forecast_f"], 61.0);
    assert_eq!(json["lead"], "next_day");
}

#[test]
fn no_usable_source_is_a_clear_error() {
    let city = builtin_cities().into_iter().next().unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 10, 5).unwrap();
    let ladder = ladder_from(56, 4);
    let cands = vec![candidate("NWS", 200.0, at(20))];
    let req = Request {
        city: &city,
        date,
        decision_at: at(21),
        candidates: &cands,
        ladder: &ladder,
        observed_max_f: None,
        expected_sources: &[],
    };
    let e = Predictor::default().predict(&req).unwrap_err();
    assert!(matches!(e, ModelError::NoUsableSource { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("NYC 2024-10-05") && msg.contains("NWS: rejected") && msg.contains("200"),
        "{msg}"
    );
    let empty = Request {
        candidates: &[],
        ..req.clone()
    };
    assert!(
        Predictor::default()
            .predict(&empty)
            .unwrap_err()
            .to_string()
            .contains("no forecast stored")
    );
    let mut gap = ladder_from(56, 4);
    gap[2].lower = Some(60);
    let bad = Request {
        ladder: &gap,
        candidates: &cands,
        ..req
    };
    assert!(matches!(
        Predictor::default().predict(&bad).unwrap_err(),
        ModelError::Brackets(_)
    ));
}

#[test]
fn on_the_day_the_running_maximum_truncates() {
    let city = builtin_cities().into_iter().next().unwrap();
    let date = NaiveDate::from_ymd_opt(2024, 10, 4).unwrap();
    let ladder = ladder_from(56, 4);
    let cands = vec![
        candidate("NWS", 60.0, at(14)),
        candidate("GFS", 61.0, at(14)),
    ];
    let req = Request {
        city: &city,
        date,
        decision_at: at(18),
        candidates: &cands,
        ladder: &ladder,
        observed_max_f: Some(61.2),
        expected_sources: &[],
    };
    let p = Predictor::default().predict(&req).unwrap();
    assert_eq!(p.provenance.truncated_at_f, Some(60.5));
    // ≤56, 57-58 and 59-60 can no longer pay
    assert_eq!(&p.probabilities[..3], &[0.0, 0.0, 0.0]);
    assert!(p.prediction.brackets[3].probability > 0.3);
}
