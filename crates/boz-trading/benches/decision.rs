//! One full decision for four cities × six brackets: both sides priced, EV after the fee, joint
//! Kelly over each event's brackets, sizing against the caps, verdicts and signals.
//! `cargo bench -p boz-trading --bench decision`. Results in BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks may panic

use std::hint::black_box;

use boz_common::fees::FeeSchedule;
use boz_common::ports::{MarketBracket, MarketEvent, RiskStatus, TopOfBook};
use boz_common::schemas::{BracketPrediction, TradingMode, UserSettings, UserSettingsFields};
use boz_common::{CityCode, Count, Dollars, Price};
use boz_trading::TradingConfig;
use boz_trading::engine::Judge;
use chrono::{NaiveDate, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

fn bench(c: &mut Criterion) {
    let now = Utc::now();
    let date = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
    let config = TradingConfig {
        kelly_fraction: 0.25,
        min_price: Price::parse("0.05").unwrap(),
        max_event_exposure: Dollars::parse("10").unwrap(),
        max_prediction_age: chrono::Duration::minutes(180),
        max_book_age: chrono::Duration::seconds(120),
        approval_ttl: chrono::Duration::minutes(30),
        cancel_before_close: chrono::Duration::minutes(10),
        order_timeout: std::time::Duration::from_secs(25),
        unknown_grace: chrono::Duration::minutes(2),
    };
    let settings = UserSettings::new(UserSettingsFields {
        trading_mode: TradingMode::Auto,
        max_trade_size: Dollars::parse("5").unwrap(),
        daily_loss_limit: Dollars::parse("10").unwrap(),
        max_daily_exposure: Dollars::parse("25").unwrap(),
        min_ev_threshold: 0.02,
        cooldown_per_loss_minutes: 60,
        consecutive_loss_limit: 3,
        cities: vec![],
    })
    .unwrap();
    let probs = [0.10, 0.21, 0.30, 0.24, 0.11, 0.04];
    let bids = ["0.04", "0.12", "0.27", "0.25", "0.14", "0.05"];
    let mut cases = Vec::new();
    for code in ["NYC", "CHI", "MIA", "AUS"] {
        let series = format!("KXHIGH{code}");
        let b = |l: Option<i32>, u: Option<i32>, p: f64| json!({"bracket_label": format!("{l:?}-{u:?}"), "lower_bound_f": l, "upper_bound_f": u, "probability": p});
        let bounds = [
            (None, Some(48)),
            (Some(49), Some(50)),
            (Some(51), Some(52)),
            (Some(53), Some(54)),
            (Some(55), Some(56)),
            (Some(57), None),
        ];
        let prediction: BracketPrediction = serde_json::from_value(json!({
            "city": code, "date": date, "brackets": bounds.iter().zip(probs).map(|((l, u), p)| b(*l, *u, p)).collect::<Vec<_>>(),
            "ensemble_forecast_f": 52.4, "confidence": "MEDIUM", "model_sources": ["NWS", "GFS"],
            "forecast_spread_f": 1.1, "error_std_f": 2.6, "generated_at": now
        }))
        .unwrap();
        let event = MarketEvent {
            event_ticker: format!("{series}-26FEB17"),
            city: CityCode::parse(code).unwrap(),
            date,
            brackets: bounds
                .iter()
                .enumerate()
                .map(|(i, (l, u))| MarketBracket {
                    ticker: format!("{series}-26FEB17-M{i}"),
                    lower_bound_f: *l,
                    upper_bound_f: *u,
                })
                .collect(),
            close_time: None,
            fees: FeeSchedule::WEATHER,
        };
        let books: Vec<TopOfBook> = bids
            .iter()
            .enumerate()
            .map(|(i, bid)| {
                let bid = Price::parse(bid).unwrap();
                TopOfBook {
                    ticker: format!("{series}-26FEB17-M{i}"),
                    yes_bid: Some(bid),
                    yes_bid_size: Count::parse("200").unwrap(),
                    no_bid: Price::new(
                        rust_decimal::Decimal::ONE
                            - bid.as_decimal()
                            - rust_decimal::Decimal::new(2, 2),
                    )
                    .ok(),
                    no_bid_size: Count::parse("200").unwrap(),
                    as_of: now,
                }
            })
            .collect();
        cases.push((event, prediction, books));
    }
    let status = RiskStatus::fresh("u", date);
    let balance = Dollars::parse("1000").unwrap();
    let judge = Judge {
        config: &config,
        now,
    };
    c.bench_function("decide 4 cities × 6 brackets (both sides)", |b| {
        b.iter(|| {
            for (event, prediction, books) in &cases {
                black_box(judge.judge_event(
                    "u",
                    &settings,
                    &status,
                    &Ok(1.0),
                    balance,
                    event,
                    prediction,
                    books,
                ));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
