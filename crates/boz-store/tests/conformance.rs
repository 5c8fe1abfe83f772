//! The conformance suite: every repository test runs against SQLite (a real file) and against
//! PostgreSQL (a fresh database per test on the server at `DATABASE_URL_PG`, default
//! `postgres://postgres@127.0.0.1:5432/test`). When that server is unreachable the PostgreSQL
//! half is skipped with a message, unless `BOZ_REQUIRE_PG` is set (CI sets it), where it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::collections::BTreeMap;
use std::sync::Arc;

use boz_common::config::DatabaseUrl;
use boz_common::error::ErrorKind;
use boz_common::ports::*;
use boz_common::schemas::*;
use boz_common::{CityCode, Count, Dollars, Price, TradeStatus};
use boz_store::{Database, MigrationState};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use sqlx::Connection;

// ---------------------------------------------------------------- databases

async fn sqlite_db() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite {
        path: dir.path().join("test.sqlite"),
    };
    let db = Database::open(&url).await.unwrap();
    db.migrate().await.unwrap();
    (db, dir)
}

struct PgTestDb {
    db: Database,
    admin_url: String,
    name: String,
}

fn pg_admin_url() -> String {
    std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A fresh, migrated database on the PostgreSQL server, or `None` (skip) if there is none.
async fn pg_db() -> Option<PgTestDb> {
    let admin_url = pg_admin_url();
    let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var_os("BOZ_REQUIRE_PG").is_some() {
                panic!("PostgreSQL required (BOZ_REQUIRE_PG) but unreachable: {e}");
            }
            eprintln!("skipping the PostgreSQL half: {e}");
            return None;
        }
    };
    let name = format!("boz_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let (base, _) = admin_url.rsplit_once('/').unwrap();
    let url = DatabaseUrl::parse(&format!("{base}/{name}")).unwrap();
    let db = Database::open(&url).await.unwrap();
    db.migrate().await.unwrap();
    Some(PgTestDb {
        db,
        admin_url,
        name,
    })
}

impl PgTestDb {
    async fn cleanup(self) {
        self.db.close().await;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

/// Runs each listed test against both backends.
macro_rules! conformance {
    ($($t:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $t() {
                    let (db, _dir) = super::sqlite_db().await;
                    super::$t(&db).await;
                    db.close().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $t() {
                    let Some(pg) = super::pg_db().await else { return };
                    super::$t(&pg.db).await;
                    pg.cleanup().await;
                }
            )*
        }
    };
}

conformance!(
    migrations_create_the_seed_tables_and_revert,
    tables_have_the_seed_columns,
    users_round_trip_and_keys_rotate_atomically,
    forecasts_round_trip_without_duplicates,
    forecasts_and_settlements_by_date_range,
    market_snapshots_round_trip_exact_prices,
    market_trades_round_trip_once_each,
    predictions_round_trip_latest_first,
    trades_round_trip_exact_money_and_filters,
    trade_status_follows_the_state_machine,
    trades_are_scoped_to_their_user,
    settlements_upsert_and_report_corrections,
    logs_are_stored_and_filtered,
    orders_hold_exposure_and_fills_execute_the_trade,
    concurrent_orders_never_pass_the_exposure_limit,
    risk_results_and_trading_state,
    approvals_are_decided_once,
    settling_updates_the_trade_and_the_risk_once,
    concurrent_writers_all_succeed,
    job_runs_are_recorded_and_summarised,
    leases_are_held_by_one_holder_at_a_time,
    logins_are_created_once_with_their_user,
    sessions_and_tokens_are_found_by_hash_and_scoped,
);

// ---------------------------------------------------------------- data

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn nyc() -> CityCode {
    CityCode::parse("NYC").unwrap()
}

fn weather(source: &str, run: &str, high: f64) -> WeatherData {
    serde_json::from_value(json!({
        "city": "NYC", "date": "2026-02-17", "forecast_high_f": high, "source": source,
        "model_run_timestamp": run,
        "variables": {"temp_high_f": high, "temp_low_f": 41.0, "humidity_pct": 60.0,
            "wind_speed_mph": 10.5, "wind_gust_mph": null, "cloud_cover_pct": 20.0,
            "dew_point_f": 30.2, "pressure_mb": 1015.0},
        "raw_data": {"source": source, "values": [high]},
        "fetched_at": "2026-02-17T10:00:01.250Z"
    }))
    .unwrap()
}

fn prediction(city: &str, date: &str, generated: &str) -> BracketPrediction {
    let b = |l: &str, lo: Option<f64>, hi: Option<f64>, p: f64| json!({"bracket_label": l, "lower_bound_f": lo, "upper_bound_f": hi, "probability": p});
    serde_json::from_value(json!({
        "city": city, "date": date,
        "brackets": [
            b("50F or below", None, Some(50.0), 0.102), b("51-52F", Some(51.0), Some(52.0), 0.206),
            b("53-54F", Some(53.0), Some(54.0), 0.298), b("55-56F", Some(55.0), Some(56.0), 0.244),
            b("57-58F", Some(57.0), Some(58.0), 0.115), b("59F or above", Some(59.0), None, 0.035)
        ],
        "ensemble_forecast_f": 53.8, "confidence": "MEDIUM", "model_sources": ["NWS", "Open-Meteo:GFS"],
        "forecast_spread_f": 1.2, "error_std_f": 2.6, "generated_at": generated
    }))
    .unwrap()
}

fn trade(id: &str, city: &str, date: &str, status: &str, created: &str) -> TradeRecord {
    serde_json::from_value(json!({
        "id": id, "city": city, "date": date, "bracket_label": "53-54F", "side": "yes",
        "entry_price": "0.123456", "quantity": "2.5", "model_probability": 0.298,
        "market_probability": 0.22, "ev_at_entry": 0.0598, "confidence": "MEDIUM",
        "weather_forecasts": [weather("NWS", "2026-02-17T06:00:00Z", 54.0)],
        "prediction": prediction(city, date, "2026-02-17T10:05:00Z"),
        "status": status, "settlement_temp_f": null, "settlement_source": null, "pnl": null,
        "postmortem": null, "created_at": created, "settled_at": null
    }))
    .unwrap()
}

fn user(id: &str, key: &str) -> StoredUser {
    StoredUser {
        id: id.into(),
        api_key_id: format!("kalshi-{id}"),
        encrypted_private_key: key.into(),
        settings: json!({}),
        created_at: at("2026-02-17T09:00:00Z"),
    }
}

async fn with_user(s: &Arc<dyn Store>, id: &str) {
    s.create_user(&user(id, &format!("v1.cafebabe.{id}")))
        .await
        .unwrap();
}

async fn insert(s: &Arc<dyn Store>, user_id: &str, t: TradeRecord) {
    s.insert_trade(&StoredTrade {
        user_id: user_id.into(),
        kalshi_order_id: Some(format!("order-{}", t.id)),
        record: t,
    })
    .await
    .unwrap();
}

// ---------------------------------------------------------------- tests

const SEED_TABLES: [&str; 6] = [
    "log_entries",
    "predictions",
    "settlements",
    "trades",
    "users",
    "weather_forecasts",
];

async fn columns(db: &Database) -> BTreeMap<String, Vec<String>> {
    let rows: Vec<(String, String)> = match db {
        Database::Sqlite(s) => sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
                 WHERE m.type = 'table' ORDER BY m.name, p.cid",
        )
        .fetch_all(s.write_pool())
        .await
        .unwrap(),
        Database::Postgres(s) => sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns \
             WHERE table_schema = 'public' ORDER BY table_name, ordinal_position",
        )
        .fetch_all(s.pool())
        .await
        .unwrap(),
    };
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (t, c) in rows {
        if SEED_TABLES.contains(&t.as_str()) {
            out.entry(t).or_default().push(c);
        }
    }
    out
}

async fn migrations_create_the_seed_tables_and_revert(db: &Database) {
    assert_eq!(
        columns(db).await.keys().cloned().collect::<Vec<_>>(),
        SEED_TABLES
    );
    // Running migrate again is harmless.
    assert_eq!(db.migrate().await.unwrap(), Vec::<i64>::new());
    let status = db.status().await.unwrap();
    assert!(!status.is_empty());
    assert!(status.iter().all(|m| m.state == MigrationState::Applied));
    let last = status.last().unwrap().version;
    // Data survives a second migrate.
    let store = db.store();
    with_user(&store, "u1").await;
    db.migrate().await.unwrap();
    assert_eq!(store.list_users().await.unwrap().len(), 1);
    // Revert undoes the last migration, one step.
    assert_eq!(db.revert().await.unwrap(), Some(last));
    let status = db.status().await.unwrap();
    assert_eq!(status.last().unwrap().state, MigrationState::Pending);
    if last == 2 {
        assert!(
            !columns(db).await["predictions"].contains(&"provenance".to_string()),
            "reverting 2 removes the provenance column"
        );
    }
    if status.len() == 1 {
        assert!(
            columns(db).await.is_empty(),
            "revert of the only migration drops the tables"
        );
        assert_eq!(db.revert().await.unwrap(), None);
    }
    assert_eq!(db.migrate().await.unwrap(), vec![last]);
    assert_eq!(columns(db).await.len(), 6);
}

async fn tables_have_the_seed_columns(db: &Database) {
    let cols = columns(db).await;
    let want = |t: &str, c: &[&str]| {
        assert_eq!(
            cols[t],
            c.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "table {t}"
        );
    };
    want(
        "users",
        &[
            "id",
            "api_key_id",
            "encrypted_private_key",
            "settings",
            "created_at",
            "kalshi_env",
        ],
    );
    want(
        "weather_forecasts",
        &[
            "id",
            "city",
            "forecast_date",
            "forecast_high_f",
            "source",
            "model_run_timestamp",
            "raw_data",
            "variables",
            "fetched_at",
        ],
    );
    want(
        "predictions",
        &[
            "id",
            "city",
            "prediction_date",
            "ensemble_forecast_f",
            "bracket_probabilities",
            "confidence",
            "model_sources",
            "forecast_spread_f",
            "error_std_f",
            "generated_at",
            "provenance",
        ],
    );
    want(
        "trades",
        &[
            "id",
            "user_id",
            "city",
            "trade_date",
            "bracket_label",
            "side",
            "entry_price",
            "quantity",
            "model_probability",
            "market_probability",
            "ev_at_entry",
            "confidence",
            "kalshi_order_id",
            "status",
            "settlement_temp_f",
            "settlement_source",
            "pnl",
            "postmortem_narrative",
            "weather_snapshot",
            "prediction_snapshot",
            "created_at",
            "settled_at",
            "postmortem",
        ],
    );
    want(
        "settlements",
        &[
            "id",
            "city",
            "settlement_date",
            "actual_high_f",
            "source",
            "raw_report",
            "fetched_at",
        ],
    );
    want(
        "log_entries",
        &["id", "timestamp", "level", "module", "message", "data"],
    );
}

async fn users_round_trip_and_keys_rotate_atomically(db: &Database) {
    let s = db.store();
    let alice = user("alice", "v1.cafebabe.alice-old");
    s.create_user(&alice).await.unwrap();
    s.create_user(&user("bob", "v1.cafebabe.bob-old"))
        .await
        .unwrap();
    assert_eq!(s.get_user("alice").await.unwrap(), alice);
    assert_eq!(s.list_users().await.unwrap().len(), 2);
    let dup = s.create_user(&alice).await.unwrap_err();
    assert_eq!(dup.kind, ErrorKind::ConflictError);
    assert_eq!(
        s.get_user("carol").await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );

    let settings: UserSettings = serde_json::from_value(json!({
        "trading_mode": "auto", "max_trade_size": "2.50", "daily_loss_limit": 10,
        "max_daily_exposure": 25, "min_ev_threshold": 0.04, "cooldown_per_loss_minutes": 30,
        "consecutive_loss_limit": 2, "cities": ["NYC", "CHI"]
    }))
    .unwrap();
    s.update_user_settings("alice", &settings).await.unwrap();
    let back: UserSettings =
        serde_json::from_value(s.get_user("alice").await.unwrap().settings).unwrap();
    assert_eq!(back, settings);
    assert_eq!(
        s.update_user_settings("carol", &settings)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFoundError
    );

    // One stale entry: nothing changes for anybody.
    let err = s
        .replace_encrypted_keys(&[
            (
                "alice".into(),
                "v1.cafebabe.alice-old".into(),
                "v1.deadbeef.alice-new".into(),
            ),
            ("bob".into(), "stale".into(), "v1.deadbeef.bob-new".into()),
        ])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConflictError);
    assert_eq!(
        s.get_user("alice").await.unwrap().encrypted_private_key,
        "v1.cafebabe.alice-old"
    );
    s.replace_encrypted_keys(&[
        (
            "alice".into(),
            "v1.cafebabe.alice-old".into(),
            "v1.deadbeef.alice-new".into(),
        ),
        (
            "bob".into(),
            "v1.cafebabe.bob-old".into(),
            "v1.deadbeef.bob-new".into(),
        ),
    ])
    .await
    .unwrap();
    assert_eq!(
        s.get_user("bob").await.unwrap().encrypted_private_key,
        "v1.deadbeef.bob-new"
    );
}

async fn forecasts_round_trip_without_duplicates(db: &Database) {
    let s = db.store();
    let gfs = weather("Open-Meteo:GFS", "2026-02-17T06:00:00Z", 55.4);
    let Inserted::New(id) = s.insert_forecast(&gfs).await.unwrap() else {
        panic!("first insert is new")
    };
    assert_eq!(
        s.insert_forecast(&gfs).await.unwrap(),
        Inserted::Duplicate(id)
    );
    let later_run = weather("Open-Meteo:GFS", "2026-02-17T12:00:00Z", 56.0);
    assert!(matches!(
        s.insert_forecast(&later_run).await.unwrap(),
        Inserted::New(_)
    ));
    s.insert_forecast(&weather("NWS", "2026-02-17T06:00:00Z", 54.0))
        .await
        .unwrap();
    let got = s.forecasts_for(&nyc(), day("2026-02-17")).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].data, gfs, "WeatherData round-trips field for field");
    assert!(
        s.forecasts_for(&nyc(), day("2026-02-18"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn forecasts_and_settlements_by_date_range(db: &Database) {
    let s = db.store();
    let on = |date: &str, source: &str| {
        let mut w = weather(source, "2026-02-17T06:00:00Z", 50.0).into_fields();
        w.date = day(date);
        WeatherData::new(w).unwrap()
    };
    let batch = vec![
        on("2026-02-18", "NWS"),
        on("2026-02-16", "NWS"),
        on("2026-02-17", "NWS"),
        on("2026-02-17", "NWS"), // a duplicate in the batch is skipped
        on("2026-02-20", "NWS"),
    ];
    assert_eq!(s.insert_forecasts(&batch).await.unwrap(), 4);
    assert_eq!(s.insert_forecasts(&batch).await.unwrap(), 0);
    let got = s
        .forecasts_between(&nyc(), day("2026-02-16"), day("2026-02-18"))
        .await
        .unwrap();
    let dates: Vec<String> = got.iter().map(|f| f.data.date.to_string()).collect();
    assert_eq!(dates, ["2026-02-16", "2026-02-17", "2026-02-18"]);
    for (d, h) in [
        ("2026-02-17", 51.0),
        ("2026-02-15", 49.0),
        ("2026-02-19", 47.0),
    ] {
        s.upsert_settlement(&SettlementRow {
            city: nyc(),
            settlement_date: day(d),
            actual_high_f: h,
            source: "CLI".into(),
            raw_report: json!({}),
            fetched_at: "2026-02-20T06:00:00Z".parse().unwrap(),
        })
        .await
        .unwrap();
    }
    let got = s
        .settlements_between(&nyc(), day("2026-02-15"), day("2026-02-17"))
        .await
        .unwrap();
    let highs: Vec<f64> = got.iter().map(|r| r.actual_high_f).collect();
    assert_eq!(highs, [49.0, 51.0]);
}

async fn market_snapshots_round_trip_exact_prices(db: &Database) {
    let s = db.store();
    let snap = |ticker: &str, lo: Option<i32>, hi: Option<i32>, as_of: &str| MarketSnapshot {
        city: nyc(),
        event_date: day("2026-02-17"),
        event_ticker: "KXHIGHNY-26FEB17".into(),
        ticker: ticker.into(),
        lower_bound_f: lo,
        upper_bound_f: hi,
        as_of: as_of.parse().unwrap(),
        yes_bid: Some(Price::parse("0.1234").unwrap()),
        yes_ask: Some(Price::parse("0.1301").unwrap()),
        last_price: None,
        volume: Some(Count::parse("1520.5").unwrap()),
        source: "kalshi-trades".into(),
        depth: None,
    };
    let batch = vec![
        MarketSnapshot {
            source: "kalshi-rest".into(),
            depth: Some(BookDepth {
                yes_bid_size: Count::parse("12.5").unwrap(),
                yes_ask_size: Count::parse("3").unwrap(),
                yes_bid_depth: Count::parse("112.5").unwrap(),
                yes_ask_depth: Count::parse("40").unwrap(),
                bid_levels: 4,
                ask_levels: 2,
            }),
            ..snap(
                "KXHIGHNY-26FEB17-B40.5",
                Some(40),
                Some(41),
                "2026-02-17T01:00:00Z",
            )
        },
        snap(
            "KXHIGHNY-26FEB17-T40",
            None,
            Some(39),
            "2026-02-17T01:00:00Z",
        ),
        snap(
            "KXHIGHNY-26FEB17-B40.5",
            Some(40),
            Some(41),
            "2026-02-16T01:00:00Z",
        ),
    ];
    assert_eq!(s.insert_market_snapshots(&batch).await.unwrap(), 3);
    assert_eq!(s.insert_market_snapshots(&batch).await.unwrap(), 0);
    let got = s
        .market_snapshots_between(&nyc(), day("2026-02-17"), day("2026-02-17"))
        .await
        .unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(
        got[0], batch[2],
        "ordered by ticker then time; exact prices"
    );
    assert_eq!(got[1], batch[0], "the depth summary round-trips");
    assert_eq!(got[2], batch[1]);
    assert_eq!(
        got[0].mid_or_last().unwrap().normalize().to_string(),
        "0.12675"
    );
    // the newest of each market only
    let latest = s
        .latest_market_snapshots(&nyc(), day("2026-02-17"), day("2026-02-17"))
        .await
        .unwrap();
    assert_eq!(latest, vec![batch[0].clone(), batch[1].clone()]);
    assert!(
        s.market_snapshots_between(&nyc(), day("2026-02-18"), day("2026-03-01"))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn market_trades_round_trip_once_each(db: &Database) {
    let s = db.store();
    let trade = |id: &str, ticker: &str, at: &str, price: &str, date: &str| MarketTrade {
        trade_id: id.into(),
        city: nyc(),
        event_date: day(date),
        ticker: ticker.into(),
        created_time: at.parse().unwrap(),
        yes_price: Price::parse(price).unwrap(),
        count: Count::parse("12.50").unwrap(),
        taker_side: Some("yes".into()),
        source: "kalshi-historical-trades".into(),
    };
    let batch = vec![
        trade(
            "t3",
            "KXHIGHNY-26FEB17-T40",
            "2026-02-16T20:00:00.250Z",
            "0.0700",
            "2026-02-17",
        ),
        trade(
            "t1",
            "KXHIGHNY-26FEB17-B40.5",
            "2026-02-16T21:00:00Z",
            "0.4400",
            "2026-02-17",
        ),
        trade(
            "t2",
            "KXHIGHNY-26FEB17-B40.5",
            "2026-02-16T20:30:00Z",
            "0.4150",
            "2026-02-17",
        ),
        trade(
            "t4",
            "KXHIGHNY-26FEB18-T40",
            "2026-02-17T20:00:00Z",
            "0.99",
            "2026-02-18",
        ),
    ];
    assert_eq!(s.insert_market_trades(&batch).await.unwrap(), 4);
    assert_eq!(
        s.insert_market_trades(&batch[..2]).await.unwrap(),
        0,
        "a trade id already stored adds nothing"
    );
    let got = s
        .market_trades_between(&nyc(), day("2026-02-17"), day("2026-02-17"))
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![batch[2].clone(), batch[1].clone(), batch[0].clone()],
        "by ticker then time; exact prices, counts and sub-second times"
    );
    assert!(
        s.market_trades_between(
            &CityCode::parse("CHI").unwrap(),
            day("2026-02-01"),
            day("2026-02-28")
        )
        .await
        .unwrap()
        .is_empty()
    );
}

async fn predictions_round_trip_latest_first(db: &Database) {
    let s = db.store();
    let early = prediction("NYC", "2026-02-17", "2026-02-17T10:05:00Z");
    let late = prediction("NYC", "2026-02-17", "2026-02-17T11:05:00Z");
    let provenance = json!({"sources": [{"source": "NWS", "weight": 0.5}], "excluded": []});
    s.insert_prediction(&early, &Value::Null).await.unwrap();
    let id = s.insert_prediction(&late, &provenance).await.unwrap();
    s.insert_prediction(
        &prediction("CHI", "2026-02-17", "2026-02-17T12:00:00Z"),
        &provenance,
    )
    .await
    .unwrap();
    let got = s
        .latest_prediction(&nyc(), day("2026-02-17"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.prediction, late);
    assert_eq!(got.provenance, provenance);
    assert!(
        s.latest_prediction(&nyc(), day("2026-02-16"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn trades_round_trip_exact_money_and_filters(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    let t1 = trade(
        "t1",
        "NYC",
        "2026-02-17",
        "EXECUTED",
        "2026-02-17T10:00:00Z",
    );
    insert(&s, "u1", t1.clone()).await;
    insert(
        &s,
        "u1",
        trade("t2", "CHI", "2026-02-18", "PENDING", "2026-02-17T11:00:00Z"),
    )
    .await;
    insert(
        &s,
        "u1",
        trade("t3", "NYC", "2026-02-19", "PENDING", "2026-02-17T12:00:00Z"),
    )
    .await;

    let got = s.get_trade("u1", "t1").await.unwrap();
    assert_eq!(got.record, t1, "TradeRecord round-trips field for field");
    assert_eq!(got.record.entry_price.to_kalshi_string(), "0.123456");
    assert_eq!(got.record.quantity.to_kalshi_string(), "2.50");
    assert_eq!(got.kalshi_order_id.as_deref(), Some("order-t1"));

    let ids = |v: Vec<StoredTrade>| {
        v.into_iter()
            .map(|t| t.record.id.clone())
            .collect::<Vec<_>>()
    };
    let all = s.list_trades("u1", &TradeFilter::default()).await.unwrap();
    assert_eq!(ids(all), ["t3", "t2", "t1"], "newest first");
    let f = TradeFilter {
        city: Some(nyc()),
        ..Default::default()
    };
    assert_eq!(ids(s.list_trades("u1", &f).await.unwrap()), ["t3", "t1"]);
    let f = TradeFilter {
        status: Some(TradeStatus::Pending),
        ..Default::default()
    };
    assert_eq!(ids(s.list_trades("u1", &f).await.unwrap()), ["t3", "t2"]);
    let f = TradeFilter {
        from: Some(day("2026-02-18")),
        to: Some(day("2026-02-18")),
        ..Default::default()
    };
    assert_eq!(ids(s.list_trades("u1", &f).await.unwrap()), ["t2"]);
    let f = TradeFilter {
        limit: 1,
        offset: 1,
        ..Default::default()
    };
    assert_eq!(ids(s.list_trades("u1", &f).await.unwrap()), ["t2"]);

    // Settle with an exact P&L; settling the same way again changes nothing.
    let outcome = TradeSettlement {
        status: TradeStatus::Won,
        settlement_temp_f: Some(54.0),
        pnl: Some(Dollars::parse("-1.234567").unwrap()),
        settled_at: at("2026-02-18T12:00:00Z"),
    };
    s.settle_trade("u1", "t1", &outcome).await.unwrap();
    s.settle_trade("u1", "t1", &outcome).await.unwrap();
    let settled = s.get_trade("u1", "t1").await.unwrap().record;
    assert_eq!(settled.status, TradeStatus::Won);
    assert_eq!(settled.pnl.unwrap().to_string(), "-1.234567");
    assert_eq!(settled.settled_at, Some(at("2026-02-18T12:00:00Z")));
    // A different outcome for a settled trade is refused.
    let other = TradeSettlement {
        status: TradeStatus::Lost,
        ..outcome.clone()
    };
    assert_eq!(
        s.settle_trade("u1", "t1", &other).await.unwrap_err().kind,
        ErrorKind::ConflictError
    );
    // A pending trade cannot settle.
    assert_eq!(
        s.settle_trade("u1", "t2", &outcome).await.unwrap_err().kind,
        ErrorKind::ConflictError
    );

    s.set_postmortem("u1", "t1", "Won: 54F inside 53-54F.")
        .await
        .unwrap();
    assert_eq!(
        s.get_trade("u1", "t1")
            .await
            .unwrap()
            .record
            .postmortem
            .as_deref(),
        Some("Won: 54F inside 53-54F.")
    );

    // A trade for a user that does not exist is refused by the foreign key.
    let orphan = StoredTrade {
        user_id: "nobody".into(),
        kalshi_order_id: None,
        record: trade("t9", "NYC", "2026-02-17", "PENDING", "2026-02-17T10:00:00Z"),
    };
    assert_eq!(
        s.insert_trade(&orphan).await.unwrap_err().kind,
        ErrorKind::ValidationError
    );
    // The same id twice is a conflict.
    let dup = StoredTrade {
        user_id: "u1".into(),
        kalshi_order_id: None,
        record: t1,
    };
    assert_eq!(
        s.insert_trade(&dup).await.unwrap_err().kind,
        ErrorKind::ConflictError
    );
}

async fn trade_status_follows_the_state_machine(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    insert(
        &s,
        "u1",
        trade("t1", "NYC", "2026-02-17", "PENDING", "2026-02-17T10:00:00Z"),
    )
    .await;
    let err = s
        .transition_trade("u1", "t1", TradeStatus::Won)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ConflictError);
    assert!(
        err.message.contains("PENDING") && err.message.contains("WON"),
        "{}",
        err.message
    );
    assert_eq!(
        s.transition_trade("u1", "t1", TradeStatus::Approved)
            .await
            .unwrap(),
        TradeStatus::Pending
    );
    assert_eq!(
        s.transition_trade("u1", "t1", TradeStatus::Executed)
            .await
            .unwrap(),
        TradeStatus::Approved
    );
    assert_eq!(
        s.get_trade("u1", "t1").await.unwrap().record.status,
        TradeStatus::Executed
    );
    assert_eq!(
        s.transition_trade("u1", "missing", TradeStatus::Approved)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFoundError
    );
}

async fn trades_are_scoped_to_their_user(db: &Database) {
    let s = db.store();
    with_user(&s, "alice").await;
    with_user(&s, "bob").await;
    insert(
        &s,
        "alice",
        trade("t1", "NYC", "2026-02-17", "PENDING", "2026-02-17T10:00:00Z"),
    )
    .await;
    assert_eq!(
        s.get_trade("bob", "t1").await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );
    assert!(
        s.list_trades("bob", &TradeFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.transition_trade("bob", "t1", TradeStatus::Approved)
            .await
            .unwrap_err()
            .kind,
        ErrorKind::NotFoundError
    );
    assert_eq!(
        s.set_postmortem("bob", "t1", "x").await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );
    assert_eq!(
        s.get_trade("alice", "t1").await.unwrap().record.status,
        TradeStatus::Pending
    );
}

async fn settlements_upsert_and_report_corrections(db: &Database) {
    let s = db.store();
    let row = SettlementRow {
        city: nyc(),
        settlement_date: day("2026-02-17"),
        actual_high_f: 54.0,
        source: "NWS_CLI".into(),
        raw_report: json!({"text": "CLIMATE REPORT ... MAXIMUM 54"}),
        fetched_at: at("2026-02-18T06:00:00Z"),
    };
    assert_eq!(s.upsert_settlement(&row).await.unwrap(), None);
    let corrected = SettlementRow {
        actual_high_f: 55.0,
        fetched_at: at("2026-02-18T09:00:00Z"),
        ..row.clone()
    };
    assert_eq!(s.upsert_settlement(&corrected).await.unwrap(), Some(row));
    assert_eq!(
        s.get_settlement(&nyc(), day("2026-02-17")).await.unwrap(),
        Some(corrected)
    );
    assert_eq!(
        s.get_settlement(&nyc(), day("2026-02-16")).await.unwrap(),
        None
    );
}

async fn logs_are_stored_and_filtered(db: &Database) {
    let s = db.store();
    let rec = |secs: i64, level: &str, module: &str, msg: &str| LogRecord {
        timestamp: at("2026-02-17T10:00:00Z") + Duration::seconds(secs),
        level: level.into(),
        module: module.into(),
        message: msg.into(),
        data: json!({"n": secs}),
    };
    s.insert_log_entries(&[
        rec(0, "INFO", "WEATHER", "fetched"),
        rec(1, "WARN", "RISK", "near limit"),
        rec(2, "INFO", "WEATHER", "fetched again"),
    ])
    .await
    .unwrap();
    let all = s.recent_logs(&LogFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].message, "fetched again");
    assert_eq!(all[0].data, json!({"n": 2}));
    let f = LogFilter {
        module: Some("WEATHER".into()),
        ..Default::default()
    };
    assert_eq!(s.recent_logs(&f).await.unwrap().len(), 2);
    let f = LogFilter {
        level: Some("WARN".into()),
        ..Default::default()
    };
    assert_eq!(s.recent_logs(&f).await.unwrap()[0].module, "RISK");
    let f = LogFilter {
        since: Some(at("2026-02-17T10:00:01Z")),
        limit: 1,
        ..Default::default()
    };
    let got = s.recent_logs(&f).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].message, "fetched again");
}

/// Twenty tasks writing at once (trades, status changes, logs, forecasts) all succeed; on SQLite
/// a second store on the same file (as a second process would) writes at the same time too.
async fn concurrent_writers_all_succeed(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    let second: Option<Arc<dyn Store>> = match db {
        Database::Sqlite(sq) => {
            let path: String =
                sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(sq.write_pool())
                    .await
                    .unwrap();
            let other = Database::open(&DatabaseUrl::Sqlite { path: path.into() })
                .await
                .unwrap();
            Some(other.store())
        }
        Database::Postgres(_) => None,
    };
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = match (&second, i % 2) {
            (Some(o), 1) => o.clone(),
            _ => s.clone(),
        };
        tasks.push(tokio::spawn(async move {
            for j in 0..5 {
                let id = format!("t{i}-{j}");
                let created = format!("2026-02-17T10:{i:02}:{j:02}Z");
                insert(
                    &store,
                    "u1",
                    trade(&id, "NYC", "2026-02-17", "PENDING", &created),
                )
                .await;
                store
                    .transition_trade("u1", &id, TradeStatus::Approved)
                    .await
                    .unwrap();
                store
                    .insert_log_entries(&[LogRecord {
                        timestamp: Utc::now(),
                        level: "INFO".into(),
                        module: "TRADING".into(),
                        message: id.clone(),
                        data: Value::Null,
                    }])
                    .await
                    .unwrap();
                let run = format!("2026-02-17T{:02}:{j:02}:00Z", i % 24);
                store
                    .insert_forecast(&weather(&format!("src-{i}"), &run, 50.0 + j as f64))
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let f = TradeFilter {
        status: Some(TradeStatus::Approved),
        limit: 1000,
        ..Default::default()
    };
    assert_eq!(s.list_trades("u1", &f).await.unwrap().len(), 100);
    assert_eq!(
        s.recent_logs(&LogFilter {
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .len(),
        100
    );
    assert_eq!(
        s.forecasts_for(&nyc(), day("2026-02-17"))
            .await
            .unwrap()
            .len(),
        100
    );
}

fn money(s: &str) -> Dollars {
    Dollars::parse(s).unwrap()
}

fn order(coid: &str, trade_id: &str, reserved: &str) -> OrderRecord {
    let at: DateTime<Utc> = "2026-02-16T20:00:00Z".parse().unwrap();
    OrderRecord {
        request: OrderRequest {
            client_order_id: coid.into(),
            ticker: "KXHIGHNY-26FEB17-B53.5".into(),
            side: Side::Yes,
            price: Price::parse("0.30").unwrap(),
            count: Count::parse("10").unwrap(),
            time_in_force: TimeInForce::ImmediateOrCancel,
        },
        user_id: "u1".into(),
        trade_id: trade_id.into(),
        trading_day: day("2026-02-16"),
        reserved: money(reserved),
        status: OrderStatus::New,
        exchange_order_id: None,
        filled: Count::ZERO,
        fill_cost: Dollars::ZERO,
        fees: Dollars::ZERO,
        close_time: None,
        detail: None,
        created_at: at,
        updated_at: at,
    }
}

fn approved(id: &str) -> StoredTrade {
    StoredTrade {
        user_id: "u1".into(),
        kalshi_order_id: None,
        record: trade(id, "NYC", "2026-02-17", "APPROVED", "2026-02-16T20:00:00Z"),
    }
}

async fn orders_hold_exposure_and_fills_execute_the_trade(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    let limit = ExposureLimits {
        daily: money("5.00"),
        event: None,
    };
    let limit = &limit;
    let today = day("2026-02-16");
    let o = order("c1", "t1", "3.15");
    assert_eq!(
        s.open_order(&o, Some(&approved("t1")), limit)
            .await
            .unwrap(),
        Opened::New
    );
    assert_eq!(
        s.risk_status("u1", today).await.unwrap().exposure,
        money("3.15")
    );
    // the same client order id again: never a second order
    let Opened::Existing(again) = s
        .open_order(&o, Some(&approved("t1")), limit)
        .await
        .unwrap()
    else {
        panic!("the order exists")
    };
    assert_eq!(again.request, o.request);
    // past the limit: refused with the numbers, nothing stored
    let err = s
        .open_order(&order("c2", "t2", "1.86"), Some(&approved("t2")), limit)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::RiskLimitError);
    assert!(
        err.message.contains("3.15")
            && err.message.contains("1.86")
            && err.message.contains("5.00"),
        "{}",
        err.message
    );
    assert!(s.get_order("c2").await.unwrap().is_none());
    assert_eq!(
        s.get_trade("u1", "t2").await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );
    // exactly at the limit is allowed
    s.open_order(&order("c3", "t3", "1.85"), Some(&approved("t3")), limit)
        .await
        .unwrap();
    assert_eq!(
        s.risk_status("u1", today).await.unwrap().exposure,
        money("5.00")
    );
    // 6 of 10 filled at 0.29 with 0.13 fees: the trade executes at the fill, the rest is released
    let state = OrderState {
        order_id: "x1".into(),
        client_order_id: "c1".into(),
        filled: Count::parse("6").unwrap(),
        remaining: Count::ZERO,
        fill_cost: money("1.74"),
        fees: money("0.13"),
        status: "executed".into(),
    };
    let done = s
        .update_order("c1", Some(&state), OrderStatus::Executed, None, Utc::now())
        .await
        .unwrap();
    assert_eq!(done.filled, Count::parse("6").unwrap());
    let t = s.get_trade("u1", "t1").await.unwrap();
    assert_eq!(t.record.status, TradeStatus::Executed);
    assert_eq!(t.record.quantity, Count::parse("6").unwrap());
    assert_eq!(t.record.entry_price, Price::parse("0.29").unwrap());
    assert_eq!(t.kalshi_order_id.as_deref(), Some("x1"));
    assert_eq!(
        s.risk_status("u1", today).await.unwrap().exposure,
        money("3.72")
    );
    // a final order never changes again
    let again = s
        .update_order("c1", None, OrderStatus::Canceled, Some("late"), Utc::now())
        .await
        .unwrap();
    assert_eq!(again.status, OrderStatus::Executed);
    // nothing filled: the trade is cancelled and all its exposure released
    s.update_order(
        "c3",
        None,
        OrderStatus::Rejected,
        Some("market closed"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_trade("u1", "t3").await.unwrap().record.status,
        TradeStatus::Cancelled
    );
    assert_eq!(
        s.risk_status("u1", today).await.unwrap().exposure,
        money("1.87")
    );
    assert_eq!(
        s.orders_in(&[OrderStatus::Executed]).await.unwrap().len(),
        1
    );
    assert_eq!(s.user_orders("u1", today).await.unwrap().len(), 2);
    let yesterday = today - chrono::Duration::days(1);
    assert_eq!(
        s.user_orders_between("u1", yesterday, today)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        s.user_orders_between("u1", yesterday, yesterday)
            .await
            .unwrap()
            .is_empty()
    );
    // the event cap counts what the event's orders filled or still hold
    let capped = ExposureLimits {
        daily: money("100.00"),
        event: Some(("KXHIGHNY-26FEB17".into(), money("3.00"))),
    };
    let err = s
        .open_order(&order("c4", "t4", "1.27"), Some(&approved("t4")), &capped)
        .await
        .unwrap_err();
    assert!(
        err.message
            .contains("max_event_exposure (KXHIGHNY-26FEB17): 1.87 used + 1.27"),
        "{}",
        err.message
    );
    s.open_order(&order("c5", "t5", "1.13"), Some(&approved("t5")), &capped)
        .await
        .unwrap();
}

/// Twenty writers open orders at once: the day's exposure never passes the limit.
async fn concurrent_orders_never_pass_the_exposure_limit(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let id = format!("t{i}");
                let limit = ExposureLimits {
                    daily: money("10.00"),
                    event: None,
                };
                s.open_order(
                    &order(&format!("c{i}"), &id, "3.00"),
                    Some(&approved(&id)),
                    &limit,
                )
                .await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert!(matches!(e.kind, ErrorKind::RiskLimitError), "{e:?}"),
        }
    }
    assert_eq!(ok, 3);
    assert_eq!(
        s.risk_status("u1", day("2026-02-16"))
            .await
            .unwrap()
            .exposure,
        money("9.00")
    );
}

async fn risk_results_and_trading_state(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    let today = day("2026-02-16");
    let fresh = s.risk_status("u1", today).await.unwrap();
    assert_eq!(
        (fresh.state, fresh.consecutive_losses, fresh.exposure),
        (TradingState::Active, 0, Dollars::ZERO)
    );
    let t1: DateTime<Utc> = "2026-02-16T15:00:00Z".parse().unwrap();
    s.record_result("u1", today, money("-2.50"), t1)
        .await
        .unwrap();
    let r = s
        .record_result("u1", today, money("-1.25"), t1 + Duration::minutes(5))
        .await
        .unwrap();
    assert_eq!(r.consecutive_losses, 2);
    assert_eq!(r.realized_pnl, money("-3.75"));
    assert_eq!(r.last_loss_at, Some(t1 + Duration::minutes(5)));
    let r = s
        .record_result("u1", today, money("0.80"), t1 + Duration::minutes(9))
        .await
        .unwrap();
    assert_eq!((r.consecutive_losses, r.realized_pnl), (0, money("-2.95")));
    // a new day starts at zero but keeps the state
    s.set_trading_state("u1", TradingState::Halted, "kill switch", "alice", t1)
        .await
        .unwrap();
    let next = s.risk_status("u1", day("2026-02-17")).await.unwrap();
    assert_eq!(
        (next.realized_pnl, next.state),
        (Dollars::ZERO, TradingState::Halted)
    );
    assert_eq!(next.state_changed_by.as_deref(), Some("alice"));
    assert_eq!(next.state_reason.as_deref(), Some("kill switch"));
}

async fn approvals_are_decided_once(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    let t = StoredTrade {
        user_id: "u1".into(),
        kalshi_order_id: None,
        record: trade("p1", "NYC", "2026-02-17", "PENDING", "2026-02-16T20:00:00Z"),
    };
    let signal: TradeSignal = serde_json::from_value(json!({
        "city": "NYC", "bracket": {"bracket_label": "53-54F", "lower_bound_f": 53.0, "upper_bound_f": 54.0, "probability": 0.298},
        "side": "yes", "market_price": "0.22", "model_probability": 0.298, "ev": 0.06,
        "confidence": "MEDIUM", "reasoning": "model 29.8% vs ask 22c"
    }))
    .unwrap();
    let pending = PendingTrade::new(PendingTradeFields {
        id: "p1".into(),
        user_id: "u1".into(),
        date: day("2026-02-17"),
        market_ticker: "KXHIGHNY-26FEB17-B53.5".into(),
        signal,
        quantity: Count::parse("10").unwrap(),
        limit_price: Price::parse("0.24").unwrap(),
        status: TradeStatus::Pending,
        created_at: "2026-02-16T20:00:00Z".parse().unwrap(),
        expires_at: "2026-02-16T21:00:00Z".parse().unwrap(),
    })
    .unwrap();
    s.queue_trade(&t, &pending).await.unwrap();
    assert_eq!(s.list_approvals("u1", true).await.unwrap().len(), 1);
    let at: DateTime<Utc> = "2026-02-16T20:30:00Z".parse().unwrap();
    s.decide_approval(
        "u1",
        "p1",
        TradeStatus::Rejected,
        "alice",
        at,
        Some("too late in the day"),
    )
    .await
    .unwrap();
    let a = s.get_approval("u1", "p1").await.unwrap();
    assert_eq!(a.pending.status, TradeStatus::Rejected);
    assert_eq!(
        (a.decided_by.as_deref(), a.decided_at),
        (Some("alice"), Some(at))
    );
    let again = s
        .decide_approval("u1", "p1", TradeStatus::Approved, "bob", at, None)
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::ConflictError);
    assert!(s.list_approvals("u1", true).await.unwrap().is_empty());
    assert_eq!(s.list_approvals("u1", false).await.unwrap().len(), 1);
    assert_eq!(
        s.get_approval("u2", "p1").await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );
    // an approved trade that then executed (and settled) still reads as APPROVED in the queue
    let t2 = StoredTrade {
        record: trade("p2", "NYC", "2026-02-17", "PENDING", "2026-02-16T20:00:00Z"),
        ..t.clone()
    };
    let pending2 = PendingTrade::new(PendingTradeFields {
        id: "p2".into(),
        ..pending.clone().into_fields()
    })
    .unwrap();
    s.queue_trade(&t2, &pending2).await.unwrap();
    s.decide_approval("u1", "p2", TradeStatus::Approved, "alice", at, None)
        .await
        .unwrap();
    s.transition_trade("u1", "p2", TradeStatus::Executed)
        .await
        .unwrap();
    let a = s.get_approval("u1", "p2").await.unwrap();
    assert_eq!(a.pending.status, TradeStatus::Approved);
    assert_eq!(s.list_approvals("u1", false).await.unwrap().len(), 2);
}

async fn settling_updates_the_trade_and_the_risk_once(db: &Database) {
    let s = db.store();
    with_user(&s, "u1").await;
    let executed = |id: &str| StoredTrade {
        user_id: "u1".into(),
        kalshi_order_id: Some("x".into()),
        record: trade(id, "NYC", "2026-02-17", "EXECUTED", "2026-02-16T20:00:00Z"),
    };
    s.insert_trade(&executed("w")).await.unwrap();
    s.insert_trade(&executed("l")).await.unwrap();
    let day = day("2026-02-17");
    let at: DateTime<Utc> = "2026-02-18T12:00:00Z".parse().unwrap();
    // 10 YES at 0.30 with 0.15 fees: won pays 10.00 → +6.85; lost → −3.15
    let won = TradeSettlement {
        status: TradeStatus::Won,
        settlement_temp_f: Some(53.0),
        pnl: Some(money("6.85")),
        settled_at: at,
    };
    let pm = json!({"verdict": "WIN"});
    assert!(
        s.settle_with_risk("u1", "w", &won, day, "won as expected", &pm)
            .await
            .unwrap()
    );
    let lost = TradeSettlement {
        status: TradeStatus::Lost,
        settlement_temp_f: Some(53.0),
        pnl: Some(money("-3.15")),
        settled_at: at,
    };
    assert!(
        s.settle_with_risk(
            "u1",
            "l",
            &lost,
            day,
            "bad luck",
            &json!({"verdict": "BAD_LUCK"})
        )
        .await
        .unwrap()
    );
    // twice changes nothing
    assert!(
        !s.settle_with_risk("u1", "l", &lost, day, "bad luck", &json!({}))
            .await
            .unwrap()
    );
    let r = s.risk_status("u1", day).await.unwrap();
    assert_eq!(
        (r.realized_pnl, r.consecutive_losses, r.last_loss_at),
        (money("3.70"), 1, Some(at))
    );
    let t = s.get_trade("u1", "w").await.unwrap().record;
    assert_eq!(
        (t.status, t.pnl, t.postmortem.as_deref()),
        (
            TradeStatus::Won,
            Some(money("6.85")),
            Some("won as expected")
        )
    );
    assert_eq!(s.get_postmortem("u1", "w").await.unwrap(), Some(pm));
    assert_eq!(
        s.get_postmortem("u1", "l").await.unwrap().unwrap()["verdict"],
        "BAD_LUCK"
    );
    // only EXECUTED trades settle
    let pending = StoredTrade {
        user_id: "u1".into(),
        kalshi_order_id: None,
        record: trade("p", "NYC", "2026-02-17", "PENDING", "2026-02-16T20:00:00Z"),
    };
    s.insert_trade(&pending).await.unwrap();
    assert_eq!(
        s.settle_with_risk("u1", "p", &won, day, "x", &json!({}))
            .await
            .unwrap_err()
            .kind,
        ErrorKind::ConflictError
    );
}

// ---------------------------------------------------------------- jobs and logins

fn job_run(id: &str, job: &str, started: &str) -> JobRun {
    JobRun {
        id: id.into(),
        job: job.into(),
        tick: at("2026-11-28T06:00:00Z"),
        worker: "w1".into(),
        started_at: at(started),
        finished_at: None,
        duration_ms: None,
        outcome: JobOutcome::Running,
        error: None,
        summary: Some(json!({"reason": "interval"})),
    }
}

async fn job_runs_are_recorded_and_summarised(db: &Database) {
    let s = db.store();
    s.start_job_run(&job_run("a", "settle", "2026-11-28T06:00:01Z"))
        .await
        .unwrap();
    s.finish_job_run(
        "a",
        at("2026-11-28T06:00:03.5Z"),
        JobOutcome::Ok,
        None,
        Some(&json!({"settled": 2})),
    )
    .await
    .unwrap();
    s.start_job_run(&job_run("b", "settle", "2026-11-28T06:30:01Z"))
        .await
        .unwrap();
    s.finish_job_run(
        "b",
        at("2026-11-28T06:30:02Z"),
        JobOutcome::Failed,
        Some("NWS: cannot reach /products"),
        None,
    )
    .await
    .unwrap();
    s.start_job_run(&job_run("c", "predict", "2026-11-28T06:31:00Z"))
        .await
        .unwrap();
    let statuses = s.job_statuses().await.unwrap();
    assert_eq!(statuses.len(), 2);
    let settle = statuses.iter().find(|j| j.job == "settle").unwrap();
    assert_eq!(settle.last.id, "b");
    assert_eq!(settle.last.outcome, JobOutcome::Failed);
    assert_eq!(
        settle.last.error.as_deref(),
        Some("NWS: cannot reach /products")
    );
    assert_eq!(settle.last.duration_ms, Some(1000));
    let ok = settle.last_ok.as_ref().unwrap();
    assert_eq!(ok.id, "a");
    assert_eq!(ok.duration_ms, Some(2500));
    assert_eq!(ok.summary, Some(json!({"settled": 2})));
    assert_eq!(settle.first_started_at, at("2026-11-28T06:00:01Z"));
    assert_eq!(settle.last_finished.as_ref().unwrap().id, "b");
    let predict = statuses.iter().find(|j| j.job == "predict").unwrap();
    assert_eq!(predict.last.outcome, JobOutcome::Running);
    assert!(predict.last_ok.is_none());
    assert!(predict.last_finished.is_none());
    let since = s
        .job_runs_since("settle", at("2026-11-28T06:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        since.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    // pruning removes the runs started before the cut only
    assert_eq!(
        s.prune_job_runs(at("2026-11-28T06:30:00Z")).await.unwrap(),
        1
    );
    let left = s
        .job_runs_since("settle", at("2026-11-28T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        left.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    // finishing an unknown run is an error naming it
    let e = s
        .finish_job_run(
            "zzz",
            at("2026-11-28T07:00:00Z"),
            JobOutcome::Ok,
            None,
            None,
        )
        .await
        .unwrap_err();
    assert!(e.message.contains("zzz"), "{}", e.message);
}

async fn leases_are_held_by_one_holder_at_a_time(db: &Database) {
    let s = db.store();
    let t0 = at("2026-11-28T06:00:00Z");
    let until = t0 + Duration::minutes(10);
    assert!(
        s.acquire_lease("trading_cycle", "w1", until, t0)
            .await
            .unwrap()
    );
    // the holder may renew; another may not while it is held
    assert!(
        s.acquire_lease("trading_cycle", "w1", until, t0)
            .await
            .unwrap()
    );
    assert!(
        !s.acquire_lease("trading_cycle", "w2", until, t0 + Duration::minutes(5))
            .await
            .unwrap()
    );
    // other names are independent
    assert!(s.acquire_lease("other", "w2", until, t0).await.unwrap());
    // after it expires (a dead holder) another takes it
    let later = t0 + Duration::minutes(11);
    assert!(
        s.acquire_lease("trading_cycle", "w2", later + Duration::minutes(10), later)
            .await
            .unwrap()
    );
    assert!(
        !s.acquire_lease("trading_cycle", "w1", later + Duration::minutes(10), later)
            .await
            .unwrap()
    );
    // only the holder releases it
    s.release_lease("trading_cycle", "w1").await.unwrap();
    assert!(
        !s.acquire_lease("trading_cycle", "w1", later + Duration::minutes(10), later)
            .await
            .unwrap()
    );
    s.release_lease("trading_cycle", "w2").await.unwrap();
    assert!(
        s.acquire_lease("trading_cycle", "w1", later + Duration::minutes(10), later)
            .await
            .unwrap()
    );

    // many workers racing for a free lease: exactly one wins
    let s = Arc::new(s);
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                s.acquire_lease("race", &format!("w{i}"), until, t0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

async fn logins_are_created_once_with_their_user(db: &Database) {
    let s = db.store();
    assert!(!s.admin_exists().await.unwrap());
    let login = Login {
        username: "admin".into(),
        user_id: "local".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: "admin".into(),
        must_change_password: true,
        created_at: at("2026-11-28T06:00:00Z"),
    };
    s.create_login(&user("local", ""), &login).await.unwrap();
    assert!(s.admin_exists().await.unwrap());
    assert_eq!(s.get_login("admin").await.unwrap(), Some(login.clone()));
    assert_eq!(s.get_user("local").await.unwrap().id, "local");
    assert_eq!(s.get_login("nobody").await.unwrap(), None);
    // a second admin login with the same name is a conflict and changes nothing
    let e = s
        .create_login(
            &user("local", ""),
            &Login {
                password_hash: "other".into(),
                ..login.clone()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ConflictError);
    assert_eq!(s.get_login("admin").await.unwrap(), Some(login));
    // an existing user gets a login without being replaced
    with_user(&s, "bob").await;
    s.create_login(
        &user("bob", "ignored"),
        &Login {
            username: "bob".into(),
            user_id: "bob".into(),
            password_hash: "h".into(),
            role: "user".into(),
            must_change_password: false,
            created_at: at("2026-11-28T06:00:00Z"),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        s.get_user("bob").await.unwrap().encrypted_private_key,
        "v1.cafebabe.bob"
    );
}

async fn sessions_and_tokens_are_found_by_hash_and_scoped(db: &Database) {
    let s = db.store();
    let t0 = at("2026-11-28T06:00:00Z");
    for (name, id) in [("alice", "u-alice"), ("bob", "u-bob")] {
        s.create_login(
            &user(id, ""),
            &Login {
                username: name.into(),
                user_id: id.into(),
                password_hash: "h0".into(),
                role: "user".into(),
                must_change_password: false,
                created_at: t0,
            },
        )
        .await
        .unwrap();
    }
    assert_eq!(
        s.list_logins()
            .await
            .unwrap()
            .iter()
            .map(|l| l.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    let session = Session {
        id_hash: "sess-hash-1".into(),
        username: "alice".into(),
        user_id: "u-alice".into(),
        csrf_token: "csrf-1".into(),
        created_at: t0,
        expires_at: t0 + Duration::hours(12),
    };
    s.create_session(&session).await.unwrap();
    assert_eq!(
        s.get_session("sess-hash-1", t0).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(s.get_session("other", t0).await.unwrap(), None);
    // expired sessions are not found
    assert_eq!(
        s.get_session("sess-hash-1", t0 + Duration::hours(12))
            .await
            .unwrap(),
        None
    );
    // a new password ends the login's sessions, and only its own
    let bobs = Session {
        id_hash: "sess-hash-2".into(),
        username: "bob".into(),
        user_id: "u-bob".into(),
        ..session.clone()
    };
    s.create_session(&bobs).await.unwrap();
    s.set_password("alice", "h1", false).await.unwrap();
    assert_eq!(
        s.get_login("alice").await.unwrap().unwrap().password_hash,
        "h1"
    );
    assert_eq!(s.get_session("sess-hash-1", t0).await.unwrap(), None);
    assert!(s.get_session("sess-hash-2", t0).await.unwrap().is_some());
    assert_eq!(
        s.set_password("nobody", "h", false).await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );
    s.delete_session("sess-hash-2").await.unwrap();
    assert_eq!(s.get_session("sess-hash-2", t0).await.unwrap(), None);

    let token = ApiToken {
        id: "tok-1".into(),
        user_id: "u-alice".into(),
        name: "script".into(),
        token_hash: "tok-hash-1".into(),
        created_at: t0,
        last_used_at: None,
    };
    s.create_token(&token).await.unwrap();
    let used = s
        .use_token("tok-hash-1", t0 + Duration::minutes(5))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(used.user_id, "u-alice");
    assert_eq!(used.last_used_at, Some(t0 + Duration::minutes(5)));
    assert_eq!(s.use_token("nope", t0).await.unwrap(), None);
    assert_eq!(
        s.list_tokens("u-alice").await.unwrap()[0].last_used_at,
        used.last_used_at
    );
    // the last use is kept to the minute: no write for a use 30 s later, one a minute later
    let again = t0 + Duration::minutes(5) + Duration::seconds(30);
    let used2 = s.use_token("tok-hash-1", again).await.unwrap().unwrap();
    assert_eq!(used2.last_used_at, used.last_used_at);
    assert_eq!(
        s.list_tokens("u-alice").await.unwrap()[0].last_used_at,
        used.last_used_at
    );
    let later = t0 + Duration::minutes(6);
    s.use_token("tok-hash-1", later).await.unwrap();
    assert_eq!(
        s.list_tokens("u-alice").await.unwrap()[0].last_used_at,
        Some(later)
    );
    assert!(s.list_tokens("u-bob").await.unwrap().is_empty());
    // another user cannot delete it
    assert_eq!(
        s.delete_token("u-bob", "tok-1").await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );
    s.delete_token("u-alice", "tok-1").await.unwrap();
    assert_eq!(s.use_token("tok-hash-1", t0).await.unwrap(), None);

    // a Kalshi key with its environment, and disconnecting it
    assert_eq!(s.kalshi_env("u-alice").await.unwrap(), None);
    s.set_kalshi_key("u-alice", Some(("key-1", "v1.enc", "demo")))
        .await
        .unwrap();
    let u = s.get_user("u-alice").await.unwrap();
    assert_eq!(
        (u.api_key_id.as_str(), u.encrypted_private_key.as_str()),
        ("key-1", "v1.enc")
    );
    assert_eq!(
        s.kalshi_env("u-alice").await.unwrap().as_deref(),
        Some("demo")
    );
    s.set_kalshi_key("u-alice", None).await.unwrap();
    let u = s.get_user("u-alice").await.unwrap();
    assert_eq!(
        (u.api_key_id.as_str(), u.encrypted_private_key.as_str()),
        ("", "")
    );
    assert_eq!(s.kalshi_env("u-alice").await.unwrap(), None);
    assert_eq!(
        s.set_kalshi_key("nobody", None).await.unwrap_err().kind,
        ErrorKind::NotFoundError
    );
}
