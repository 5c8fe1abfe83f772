//! `boz settle` end to end: climate reports from a fake NWS products API, market results from a
//! fake Kalshi, trades and fills in a real SQLite file; a correction after settlement; a Kalshi
//! result that disagrees with the report; idempotence; `boz settle parse` and `boz postmortem`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use std::path::Path;

use boz_common::config::DatabaseUrl;
use boz_common::ports::{
    ExposureLimits, OrderRecord, OrderRequest, OrderState, OrderStatus, StoredTrade, StoredUser,
    TimeInForce,
};
use boz_common::schemas::Side;
use boz_common::{CityCode, Count, Dollars, Price, TradeStatus};
use chrono::{NaiveDate, Utc};
use serde_json::{Value, json};
use support::*;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/weather/cli_samples/pyiem_CLINYC.txt"
);

/// The recorded Central Park report, for another day and maximum.
fn report(date: NaiveDate, max: i32, correction: bool) -> String {
    let text = std::fs::read_to_string(SAMPLE).unwrap();
    let when = date.format("%B %-d %Y").to_string().to_uppercase();
    let mut t = text.replace("JANUARY 2 2013", &when).replace(
        "  MAXIMUM         33    301 PM",
        &format!("  MAXIMUM         {max}    301 PM"),
    );
    if correction {
        t = t
            .replace("CLIMATE REPORT\n", "CLIMATE REPORT (CORRECTION)\n")
            .replace(
                &format!("SUMMARY FOR {when}..."),
                &format!("SUMMARY FOR {when} CORRECTION..."),
            );
    }
    t
}

async fn mount_nws(server: &MockServer, products: &[(&str, &str, String)]) {
    let graph: Vec<Value> = products
        .iter()
        .map(|(id, at, _)| json!({"id": id, "issuanceTime": at}))
        .collect();
    Mock::given(path("/products/types/CLI/locations/NYC"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"@graph": graph})))
        .mount(server)
        .await;
    for (id, at, text) in products {
        Mock::given(path(format!("/products/{id}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"id": id, "issuanceTime": at, "productText": text})),
            )
            .mount(server)
            .await;
    }
}

async fn mount_result(server: &MockServer, ticker: &str, result: &str, value: &str) {
    Mock::given(path(format!("/trade-api/v2/markets/{ticker}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"market": {
            "ticker": ticker, "status": "finalized", "result": result, "expiration_value": value,
            "last_price_dollars": "0.9100"}})))
        .mount(server)
        .await;
}

fn prediction(date: NaiveDate) -> Value {
    let b = |l: &str, lo: Option<f64>, hi: Option<f64>, p: f64| json!({"bracket_label": l, "lower_bound_f": lo, "upper_bound_f": hi, "probability": p});
    json!({"city": "NYC", "date": date, "brackets": [
        b("52F or below", None, Some(52.0), 0.25), b("53-54F", Some(53.0), Some(54.0), 0.45),
        b("55F or above", Some(55.0), None, 0.30)],
        "ensemble_forecast_f": 53.6, "confidence": "MEDIUM", "model_sources": ["NWS"],
        "forecast_spread_f": 0.5, "error_std_f": 2.4, "generated_at": Utc::now()})
}

/// An executed trade: 10 YES of 53-54F at 0.22 (2.20) with 0.15 fees.
async fn executed_trade(db: &DatabaseUrl, id: &str, date: NaiveDate) -> String {
    let ticker = format!(
        "KXHIGHNY-{}-B53.5",
        date.format("%y%b%d").to_string().to_uppercase()
    );
    let t = ticker.clone();
    let id = id.to_string();
    let db = db.clone();
    tokio::task::spawn_blocking(move || {
        with_database(&db, async |s| {
            if s.list_users().await.unwrap().is_empty() {
                s.create_user(&StoredUser {
                    id: "u1".into(),
                    api_key_id: String::new(),
                    encrypted_private_key: String::new(),
                    settings: json!({}),
                    created_at: Utc::now(),
                })
                .await
                .unwrap();
            }
            let now = Utc::now();
            let record = serde_json::from_value(json!({
                "id": id, "city": "NYC", "date": date, "bracket_label": "53-54F", "side": "yes",
                "entry_price": "0.22", "quantity": "10", "model_probability": 0.45, "market_probability": 0.22,
                "ev_at_entry": 0.2, "confidence": "MEDIUM",
                "weather_forecasts": [{"city": "NYC", "date": date, "forecast_high_f": 54.0, "source": "NWS",
                    "model_run_timestamp": now, "variables": {"temp_high_f": 54.0}, "raw_data": {}, "fetched_at": now}],
                "prediction": prediction(date), "status": "APPROVED", "settlement_temp_f": null,
                "settlement_source": null, "pnl": null, "postmortem": null, "created_at": now, "settled_at": null
            }))
            .unwrap();
            let order = OrderRecord {
                request: OrderRequest {
                    client_order_id: format!("c-{id}"),
                    ticker: t.clone(),
                    side: Side::Yes,
                    price: Price::parse("0.22").unwrap(),
                    count: Count::parse("10").unwrap(),
                    time_in_force: TimeInForce::ImmediateOrCancel,
                },
                user_id: "u1".into(),
                trade_id: id.clone(),
                trading_day: date,
                reserved: Dollars::parse("2.35").unwrap(),
                status: OrderStatus::New,
                exchange_order_id: None,
                filled: Count::ZERO,
                fill_cost: Dollars::ZERO,
                fees: Dollars::ZERO,
                close_time: None,
                detail: None,
                created_at: now,
                updated_at: now,
            };
            let trade = StoredTrade { user_id: "u1".into(), kalshi_order_id: None, record };
            s.open_order(&order, Some(&trade), &ExposureLimits { daily: Dollars::parse("100").unwrap(), event: None }).await.unwrap();
            let state = OrderState {
                order_id: format!("x-{id}"),
                client_order_id: format!("c-{id}"),
                filled: Count::parse("10").unwrap(),
                remaining: Count::ZERO,
                fill_cost: Dollars::parse("2.20").unwrap(),
                fees: Dollars::parse("0.15").unwrap(),
                status: "executed".into(),
            };
            s.update_order(&format!("c-{id}"), Some(&state), OrderStatus::Executed, None, now).await.unwrap();
        })
    })
    .await
    .unwrap();
    ticker
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settle_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = DatabaseUrl::Sqlite {
        path: dir.path().join("boz.sqlite"),
    };
    settle_fetches_parses_settles_and_explains(dir.path(), db, None).await;
}

#[test]
fn settle_on_postgres() {
    let Some((url, admin, name)) = pg_database() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(settle_fetches_parses_settles_and_explains(
        dir.path(),
        DatabaseUrl::Postgres { url: url.clone() },
        Some(url),
    ));
    drop(rt);
    drop_pg_database(&admin, &name);
}

/// The whole story on one database: `db_env` is the DATABASE_URL the binary gets (none: the
/// SQLite file in `dir`).
async fn settle_fetches_parses_settles_and_explains(
    dir: &Path,
    db: DatabaseUrl,
    db_env: Option<String>,
) {
    let d1 = NaiveDate::from_ymd_opt(2026, 2, 16).unwrap();
    let d2 = NaiveDate::from_ymd_opt(2026, 2, 17).unwrap();
    let nws = MockServer::start().await;
    let kalshi = MockServer::start().await;
    mount_nws(
        &nws,
        &[
            ("p3", "2026-02-18T06:20:00+00:00", report(d2, 57, false)),
            ("p2", "2026-02-17T06:20:00+00:00", report(d1, 54, false)),
            (
                "p1",
                "2026-02-16T21:30:00+00:00",
                report(d1, 52, false)
                    .replace(" YESTERDAY ", " TODAY ")
                    .replace(
                        "\n\nCLIMATE NORMAL PERIOD",
                        "\nVALID TODAY AS OF 0400 PM LOCAL TIME.\n\nCLIMATE NORMAL PERIOD",
                    ),
            ),
        ],
    )
    .await;
    let t1 = executed_trade(&db, "t1", d1).await;
    let t2 = executed_trade(&db, "t2", d2).await;
    mount_result(&kalshi, &t1, "yes", "54").await;
    // Kalshi says 53-54 won on d2 but the report says 57: flagged
    mount_result(&kalshi, &t2, "yes", "54").await;
    let env = |nws: &MockServer, kalshi: &MockServer| {
        vec![
            ("NWS_BASE_URL".to_string(), nws.uri()),
            (
                "KALSHI_BASE_URL".to_string(),
                format!("{}/trade-api/v2", kalshi.uri()),
            ),
            (
                "NOTIFY_WEBHOOK_URL".to_string(),
                format!("{}/hook", kalshi.uri()),
            ),
        ]
    };
    let run = |env: Vec<(String, String)>, args: Vec<&'static str>| {
        let d = dir.to_path_buf();
        let mut env = env;
        if let Some(u) = &db_env {
            env.push(("DATABASE_URL".to_string(), u.clone()));
        }
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            boz(&d, &env, &args)
        })
    };
    let out = run(env(&nws, &kalshi), vec!["settle", "--city", "NYC"])
        .await
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}\n{stdout}", text(&out.stderr));
    assert!(
        stdout.contains("NYC 2026-02-16: settled high 54°F (p2)"),
        "{stdout}"
    );
    assert!(stdout.contains("u1 t1: WON +$7.65"), "{stdout}");
    assert!(
        stdout.contains("the preliminary report said 52°F, the final 54°F"),
        "{stdout}"
    );
    assert!(
        stdout.contains("NYC 2026-02-17: settled high 57°F"),
        "{stdout}"
    );
    assert!(
        stdout.contains("basis mismatch") && stdout.contains("Verdict: BUG"),
        "{stdout}"
    );
    let hooks: Vec<Value> = kalshi
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/hook")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(hooks.len(), 2, "one per settled trade: {hooks:?}");
    assert!(hooks.iter().all(|h| h["kind"] == "trade_settled"));
    assert!(hooks[0]["text"].as_str().unwrap().contains("Verdict"));

    let (trade, risk_pnl, pm, settled) = {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            with_database(&db, async |s| {
                let t = s.get_trade("u1", "t1").await.unwrap().record;
                let day = boz_trading::risk::trading_day(Utc::now());
                let r = s.risk_status("u1", day).await.unwrap();
                let pm = s.get_postmortem("u1", "t1").await.unwrap().unwrap();
                let row = s
                    .get_settlement(&CityCode::parse("NYC").unwrap(), d1)
                    .await
                    .unwrap()
                    .unwrap();
                (t, r.realized_pnl, pm, row)
            })
        })
        .await
        .unwrap()
    };
    assert_eq!(
        (trade.status, trade.pnl),
        (TradeStatus::Won, Some(Dollars::parse("7.65").unwrap()))
    );
    assert_eq!(trade.settlement_temp_f, Some(54.0));
    // t1 won 7.65; t2 also paid YES (Kalshi pays): +7.65 more
    assert_eq!(risk_pnl, Dollars::parse("15.30").unwrap());
    assert_eq!(pm["verdict"], "WIN");
    assert_eq!(
        (settled.actual_high_f, settled.source.as_str()),
        (54.0, "NWS CLI final")
    );
    assert_eq!(settled.raw_report["product_id"], "p2");

    // again: nothing changes
    let out = run(
        env(&nws, &kalshi),
        vec!["settle", "--city", "NYC", "--date", "2026-02-16"],
    )
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("settled high 54°F (unchanged)") && !stdout.contains("WON"),
        "{stdout}"
    );

    // a correction after settlement updates the day's high and says so
    nws.reset().await;
    mount_nws(
        &nws,
        &[
            ("p4", "2026-02-17T13:00:00+00:00", report(d1, 55, true)),
            ("p2", "2026-02-17T06:20:00+00:00", report(d1, 54, false)),
        ],
    )
    .await;
    let out = run(
        env(&nws, &kalshi),
        vec!["settle", "--city", "NYC", "--date", "2026-02-16"],
    )
    .await
    .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("NYC 2026-02-16: settled high CORRECTED from 54°F to 55°F (p4)"),
        "{stdout}"
    );

    let out = run(vec![], vec!["postmortem", "t2", "--user", "u1"])
        .await
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\"verdict\": \"BUG\""), "{stdout}");

    let out = run(vec![], vec!["settle", "parse", SAMPLE, "--json"])
        .await
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["maximum"]["value_f"], 33);
    assert_eq!(v[0]["climate_date"], "2013-01-02");
}
