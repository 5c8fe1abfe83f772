//! One city-day from ten sources: selection, combination, σ, Student-t brackets, provenance.
//! `cargo bench -p boz-model --bench predict`. Results in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks may panic

use std::hint::black_box;

use boz_common::city::builtin_cities;
use boz_model::{BracketSpec, Candidate, Predictor, predictor::Request};
use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let city = builtin_cities()
        .into_iter()
        .next()
        .expect("a built-in city");
    let date = NaiveDate::from_ymd_opt(2024, 10, 5).expect("date");
    let decision = Utc
        .with_ymd_and_hms(2024, 10, 5, 1, 0, 0)
        .single()
        .expect("time");
    let candidates: Vec<Candidate> = (0..10)
        .map(|i| Candidate {
            source: format!("source-{i}"),
            high_f: 60.0 + f64::from(i) * 0.4,
            fetched_at: decision - chrono::Duration::hours(2),
            model_run: decision - chrono::Duration::hours(5),
            member_spread_f: (i % 3 == 0).then_some(1.5),
        })
        .collect();
    let mut ladder = vec![BracketSpec::new("57F or below", None, Some(57))];
    for lo in (58..68).step_by(2) {
        ladder.push(BracketSpec::new(
            format!("{lo}-{}F", lo + 1),
            Some(lo),
            Some(lo + 1),
        ));
    }
    ladder.push(BracketSpec::new("68F or above", Some(68), None));
    let mut predictor = Predictor::default();
    // a trained state: 120 settled days for every source
    for d in 0..120 {
        let day = date - chrono::Duration::days(130 - d);
        let used: Vec<_> = candidates
            .iter()
            .map(|c| {
                boz_model::combine::SourceForecast::new(
                    c.source.clone(),
                    c.high_f + f64::from((d % 7) as i32 - 3),
                    boz_model::Lead::NextDay,
                    c.member_spread_f,
                )
                .expect("valid")
            })
            .collect();
        predictor.learn(
            day,
            boz_model::Lead::NextDay,
            &used,
            61.0 + f64::from((d % 5) as i32),
        );
    }
    let req = Request {
        city: &city,
        date,
        decision_at: decision,
        candidates: &candidates,
        ladder: &ladder,
        observed_max_f: None,
        expected_sources: &[],
    };
    c.bench_function("predict one city-day, 10 sources, 7 brackets", |b| {
        b.iter(|| predictor.predict(black_box(&req)).expect("prediction"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
