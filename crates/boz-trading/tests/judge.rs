#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

//! Pricing, sizing and judging one event's candidates (no I/O).

use boz_common::fees::FeeSchedule;
use boz_common::ports::{MarketBracket, MarketEvent, RiskStatus, TopOfBook};
use boz_common::schemas::{BracketPrediction, Side, TradingMode, UserSettings, UserSettingsFields};
use boz_common::{BozError, CityCode, Count, Dollars, Price};
use boz_trading::TradingConfig;
use boz_trading::engine::{Candidate, Judge};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;

fn config() -> TradingConfig {
    TradingConfig {
        kelly_fraction: 0.25,
        min_price: Price::parse("0.05").unwrap(),
        max_event_exposure: Dollars::parse("10").unwrap(),
        max_prediction_age: chrono::Duration::minutes(180),
        max_book_age: chrono::Duration::seconds(120),
        approval_ttl: chrono::Duration::minutes(30),
        cancel_before_close: chrono::Duration::minutes(10),
        order_timeout: std::time::Duration::from_secs(5),
        unknown_grace: chrono::Duration::minutes(2),
    }
}

fn settings(max_trade: &str) -> UserSettings {
    UserSettings::new(UserSettingsFields {
        trading_mode: TradingMode::Auto,
        max_trade_size: Dollars::parse(max_trade).unwrap(),
        daily_loss_limit: Dollars::parse("10").unwrap(),
        max_daily_exposure: Dollars::parse("25").unwrap(),
        min_ev_threshold: 0.02,
        cooldown_per_loss_minutes: 60,
        consecutive_loss_limit: 3,
        cities: vec![],
    })
    .unwrap()
}

fn status() -> RiskStatus {
    RiskStatus::fresh("u", NaiveDate::from_ymd_opt(2026, 2, 16).unwrap())
}

const BOUNDS: [(Option<i32>, Option<i32>); 4] = [
    (None, Some(50)),
    (Some(51), Some(52)),
    (Some(53), Some(54)),
    (Some(55), None),
];

fn event() -> (MarketEvent, BracketPrediction) {
    let now = Utc::now();
    let date = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
    let probs = [0.20, 0.45, 0.25, 0.10];
    let prediction: BracketPrediction = serde_json::from_value(json!({
        "city": "NYC", "date": date,
        "brackets": BOUNDS.iter().zip(probs).map(|((l, u), p)| json!({"bracket_label": format!("{l:?}-{u:?}"), "lower_bound_f": l, "upper_bound_f": u, "probability": p})).collect::<Vec<_>>(),
        "ensemble_forecast_f": 52.0, "confidence": "MEDIUM", "model_sources": ["NWS"],
        "forecast_spread_f": 1.0, "error_std_f": 2.5, "generated_at": now
    }))
    .unwrap();
    let event = MarketEvent {
        event_ticker: "KXHIGHNY-26FEB17".into(),
        city: CityCode::parse("NYC").unwrap(),
        date,
        brackets: BOUNDS
            .iter()
            .enumerate()
            .map(|(i, (l, u))| MarketBracket {
                ticker: format!("KXHIGHNY-26FEB17-M{i}"),
                lower_bound_f: *l,
                upper_bound_f: *u,
            })
            .collect(),
        close_time: None,
        fees: FeeSchedule::WEATHER,
    };
    (event, prediction)
}

/// YES bid / YES ask per bracket (the ask is 1 − the NO bid).
fn books(quotes: &[(&str, &str)], as_of: DateTime<Utc>) -> Vec<TopOfBook> {
    quotes
        .iter()
        .enumerate()
        .map(|(i, (bid, ask))| TopOfBook {
            ticker: format!("KXHIGHNY-26FEB17-M{i}"),
            yes_bid: Some(Price::parse(bid).unwrap()),
            yes_bid_size: Count::parse("100").unwrap(),
            no_bid: Price::new(Decimal::ONE - Price::parse(ask).unwrap().as_decimal()).ok(),
            no_bid_size: Count::parse("100").unwrap(),
            as_of,
        })
        .collect()
}

fn judge(
    max_trade: &str,
    quotes: &[(&str, &str)],
    allowed: Result<f64, BozError>,
    book_age_s: i64,
) -> Vec<Candidate> {
    let cfg = config();
    let now = Utc::now();
    let (event, prediction) = event();
    Judge { config: &cfg, now }
        .judge_event(
            "u",
            &settings(max_trade),
            &status(),
            &allowed,
            Dollars::parse("100").unwrap(),
            &event,
            &prediction,
            &books(quotes, now - chrono::Duration::seconds(book_age_s)),
        )
        .into_iter()
        .map(|(c, _)| c)
        .collect()
}

fn find(cs: &[Candidate], i: usize, side: Side) -> &Candidate {
    cs.iter()
        .find(|c| c.ticker.ends_with(&format!("M{i}")) && c.side == side)
        .unwrap()
}

#[test]
fn buys_the_underpriced_bracket_and_sells_the_overpriced_one() {
    // bracket 1: model 45 %, ask 35¢ → YES; bracket 3: model 10 %, bid 25¢ → NO at 75¢ (wins 90 %)
    let q = [
        ("0.18", "0.21"),
        ("0.33", "0.35"),
        ("0.24", "0.27"),
        ("0.25", "0.28"),
    ];
    let cs = judge("5", &q, Ok(1.0), 5);
    let yes = find(&cs, 1, Side::Yes);
    assert_eq!(yes.verdict, "trade", "{yes:?}");
    assert_eq!(yes.price, Price::parse("0.35").unwrap());
    assert!(yes.ev > 0.08 && yes.contracts > Count::ZERO);
    assert!(
        yes.commitment <= Dollars::parse("5").unwrap(),
        "max_trade_size caps the order"
    );
    let no = find(&cs, 3, Side::No);
    assert_eq!(no.price, Price::parse("0.75").unwrap());
    assert!(no.ev > 0.1, "{no:?}");
    // the fairly priced bracket is left alone
    let fair = find(&cs, 0, Side::Yes);
    assert!(
        fair.verdict.contains("below min_ev_threshold"),
        "{}",
        fair.verdict
    );
    // the signal says why, in words
    let s = yes.signal.as_ref().unwrap();
    assert!(
        s.reasoning.contains("model 45.0%") && s.reasoning.contains("0.35"),
        "{}",
        s.reasoning
    );
}

#[test]
fn small_budgets_size_to_zero_and_refusals_are_reported() {
    let q = [
        ("0.18", "0.21"),
        ("0.33", "0.35"),
        ("0.24", "0.27"),
        ("0.25", "0.28"),
    ];
    let cs = judge("0.30", &q, Ok(1.0), 5);
    assert!(
        find(&cs, 1, Side::Yes).verdict.starts_with("size zero"),
        "{}",
        find(&cs, 1, Side::Yes).verdict
    );
    let halted = judge(
        "5",
        &q,
        Err(BozError::risk_refused(
            "trading_state",
            "HALTED (kill switch)",
            "a new trade",
            "ACTIVE",
        )),
        5,
    );
    assert!(
        find(&halted, 1, Side::Yes)
            .verdict
            .contains("HALTED (kill switch)")
    );
    let stale = judge("5", &q, Ok(1.0), 600);
    assert!(
        find(&stale, 1, Side::Yes)
            .verdict
            .contains("order book is older"),
        "{}",
        find(&stale, 1, Side::Yes).verdict
    );
    // a cheap longshot is never bought, whatever the model says
    let cheap = [
        ("0.01", "0.03"),
        ("0.33", "0.35"),
        ("0.24", "0.27"),
        ("0.25", "0.28"),
    ];
    let cs = judge("5", &cheap, Ok(1.0), 5);
    assert!(
        find(&cs, 0, Side::Yes)
            .verdict
            .contains("below the minimum")
    );
}

#[test]
fn reducing_halves_the_stake() {
    let q = [
        ("0.18", "0.21"),
        ("0.33", "0.35"),
        ("0.24", "0.27"),
        ("0.25", "0.28"),
    ];
    let full = judge("25", &q, Ok(1.0), 5);
    let half = judge("25", &q, Ok(0.5), 5);
    let (a, b) = (
        find(&full, 1, Side::Yes).contracts.as_decimal(),
        find(&half, 1, Side::Yes).contracts.as_decimal(),
    );
    assert!(
        b < a && b >= (a / Decimal::TWO).floor() - Decimal::ONE,
        "{a} {b}"
    );
}

#[test]
fn max_trade_size_at_under_and_over_its_boundary() {
    let cfg = config();
    let judge = Judge {
        config: &cfg,
        now: Utc::now(),
    };
    let (event, prediction) = event();
    let b = books(
        &[
            ("0.18", "0.21"),
            ("0.33", "0.35"),
            ("0.24", "0.27"),
            ("0.25", "0.28"),
        ],
        Utc::now(),
    );
    let o = boz_trading::ev::opportunities(&prediction, &event, &b)
        .unwrap()
        .into_iter()
        .find(|o| o.index == 1 && o.side == Side::Yes)
        .unwrap();
    // 10 contracts at 0.35: 3.50 + fee ceil(0.07 × 10 × 0.35 × 0.65 = 0.15925) = 0.16 → 3.66
    let at = judge.size(&FeeSchedule::WEATHER, &o, 1000.0, Decimal::new(366, 2));
    assert_eq!(
        (at.0, at.1),
        (Count::parse("10").unwrap(), Dollars::parse("3.66").unwrap())
    );
    let under = judge.size(&FeeSchedule::WEATHER, &o, 1000.0, Decimal::new(365, 2));
    assert_eq!(
        under.0,
        Count::parse("9").unwrap(),
        "a cent short: one contract fewer"
    );
    let over = judge.size(&FeeSchedule::WEATHER, &o, 1000.0, Decimal::new(367, 2));
    assert_eq!(over.0, Count::parse("10").unwrap());
    // the Kelly stake binds when it is the smaller
    let stake = judge.size(&FeeSchedule::WEATHER, &o, 1.0, Decimal::new(366, 2));
    assert_eq!(stake.0, Count::parse("2").unwrap());
}

#[test]
fn min_ev_threshold_is_inclusive() {
    // one contract of 51-52 at 0.35: fee 0.02, EV = 0.45 − 0.37 = 0.08
    let q = [
        ("0.18", "0.21"),
        ("0.33", "0.35"),
        ("0.24", "0.27"),
        ("0.25", "0.28"),
    ];
    let cfg = config();
    let (event, prediction) = event();
    let run = |threshold: f64| {
        let mut s = settings("5").into_fields();
        s.min_ev_threshold = threshold;
        let s = UserSettings::new(s).unwrap();
        Judge {
            config: &cfg,
            now: Utc::now(),
        }
        .judge_event(
            "u",
            &s,
            &status(),
            &Ok(1.0),
            Dollars::parse("100").unwrap(),
            &event,
            &prediction,
            &books(&q, Utc::now()),
        )
        .into_iter()
        .map(|(c, _)| c)
        .find(|c| c.ticker.ends_with("M1") && c.side == Side::Yes)
        .unwrap()
    };
    assert!(!run(0.0799).verdict.contains("below min_ev_threshold"));
    assert!(
        !run(0.08).verdict.contains("is below min_ev_threshold 0.08"),
        "at the threshold"
    );
    assert!(run(0.0801).verdict.contains("below min_ev_threshold"));
}
