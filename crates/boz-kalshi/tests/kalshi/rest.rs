//! The REST client against a fake Kalshi (wiremock) that checks every request as Kalshi does:
//! the three headers, a millisecond timestamp, and an RSA-PSS (SHA-256, salt 32) signature over
//! `timestamp + METHOD + path` (path without the query) verified with the account's public key.

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{RSA_PSS_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use boz_common::fees::FeeType;
use boz_common::money::{Count, Dollars, Price};
use boz_common::ports::{OrderRequest, SystemClock, TimeInForce};
use boz_common::schemas::Side;
use boz_crypto::KalshiSigner;
use boz_kalshi::rest::{Credentials, KalshiClient, KalshiConfig, KalshiError, parse_error_body};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use super::{SHARED, gz_lines};

const PREFIX: &str = "/trade-api/v2";

fn signer() -> (Arc<KalshiSigner>, Vec<u8>) {
    let kp = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pem_text = pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        kp.as_der().unwrap().as_ref().to_vec(),
    ));
    let s = KalshiSigner::from_pem(&pem_text).unwrap();
    let public = s.public_key_der();
    (Arc::new(s), public)
}

/// Accepts a request only if it is signed as Kalshi requires, by the key given.
struct SignedBy {
    public_key: Vec<u8>,
    key_id: String,
}

impl Match for SignedBy {
    fn matches(&self, req: &Request) -> bool {
        let h = |n: &str| {
            req.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (Some(key), Some(ts), Some(sig)) = (
            h("KALSHI-ACCESS-KEY"),
            h("KALSHI-ACCESS-TIMESTAMP"),
            h("KALSHI-ACCESS-SIGNATURE"),
        ) else {
            return false;
        };
        let Ok(ts_ms) = ts.parse::<i64>() else {
            return false;
        };
        let now = chrono::Utc::now().timestamp_millis();
        if key != self.key_id || ts.len() != 13 || (now - ts_ms).abs() > 60_000 {
            return false;
        }
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(sig) else {
            return false;
        };
        let msg = format!("{ts}{}{}", req.method.as_str(), req.url.path());
        UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, &self.public_key)
            .verify(msg.as_bytes(), &sig)
            .is_ok()
    }
}

/// Accepts a request body only if it satisfies a request schema of a saved OpenAPI fragment:
/// every required field, no unknown field, enums, and fixed-point string formats (items of an
/// `orders` list that are orders are checked against `CreateOrderV2Request`).
struct MatchesSchema {
    schema: serde_norway::Value,
    name: String,
}

/// The create-order check.
struct MatchesCreateOrderV2;

impl MatchesCreateOrderV2 {
    fn load() -> MatchesSchema {
        MatchesSchema::load("CreateOrderV2", "CreateOrderV2Request")
    }
}

impl MatchesSchema {
    fn load(file: &str, name: &str) -> Self {
        let text =
            std::fs::read_to_string(format!("{SHARED}/kalshi/openapi-fragments/{file}.yaml"))
                .unwrap();
        let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
        Self {
            schema: doc["components"]["schemas"].clone(),
            name: name.to_string(),
        }
    }

    fn check(&self, body: &Value) -> Result<(), String> {
        let schemas = &self.schema;
        let req = &schemas[self.name.as_str()];
        if req.is_null() {
            return Err(format!("no schema {}", self.name));
        }
        let obj = body.as_object().ok_or("body is not an object")?;
        for r in req["required"]
            .as_sequence()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let r = r.as_str().unwrap();
            if !obj.contains_key(r) {
                return Err(format!("missing required {r}"));
            }
        }
        let props = req["properties"].as_mapping().ok_or("no properties")?;
        if let Some(orders) = obj.get("orders").and_then(Value::as_array) {
            let create = MatchesCreateOrderV2::load();
            for o in orders {
                if o.get("ticker").is_some() {
                    create.check(o)?;
                }
            }
        }
        for (k, v) in obj {
            let prop = props.get(k.as_str()).ok_or(format!("unknown field {k}"))?;
            // Resolve a $ref (directly or inside allOf) to find enums and fixed-point types.
            let reference = prop["$ref"]
                .as_str()
                .or_else(|| prop["allOf"][0]["$ref"].as_str())
                .map(|r| r.rsplit('/').next().unwrap().to_string());
            let target = reference
                .as_ref()
                .map(|r| &schemas[r.as_str()])
                .unwrap_or(prop);
            if let Some(values) = target["enum"].as_sequence() {
                let ok = values.iter().any(|e| e.as_str() == v.as_str());
                if !ok {
                    return Err(format!("{k}={v} is not one of {values:?}"));
                }
            }
            match reference.as_deref() {
                Some("FixedPointCount") => {
                    let s = v.as_str().ok_or(format!("{k} is not a string"))?;
                    let dp = s.split_once('.').map_or(0, |(_, d)| d.len());
                    if dp > 2 || s.parse::<f64>().is_err() {
                        return Err(format!("{k}={s} is not a count with 0-2 decimals"));
                    }
                }
                Some("FixedPointDollars") => {
                    let s = v.as_str().ok_or(format!("{k} is not a string"))?;
                    let dp = s.split_once('.').map_or(0, |(_, d)| d.len());
                    if !(2..=4).contains(&dp) || s.parse::<f64>().is_err() {
                        return Err(format!("{k}={s} is not dollars with 2-4 decimals"));
                    }
                }
                _ => {}
            }
            if target["type"].as_str() == Some("string") && !v.is_string() {
                return Err(format!("{k} is not a string"));
            }
        }
        Ok(())
    }
}

impl Match for MatchesSchema {
    fn matches(&self, req: &Request) -> bool {
        let Ok(body) = serde_json::from_slice::<Value>(&req.body) else {
            return false;
        };
        match self.check(&body) {
            Ok(()) => true,
            Err(e) => {
                eprintln!("order body refused: {e}");
                false
            }
        }
    }
}

struct Fake {
    server: MockServer,
    public_key: Vec<u8>,
    client: KalshiClient,
}

fn signed(f: &Fake) -> SignedBy {
    SignedBy {
        public_key: f.public_key.clone(),
        key_id: "key-123".into(),
    }
}

async fn fake(timeout_ms: u64) -> Fake {
    let server = MockServer::start().await;
    let (s, public_key) = signer();
    let client = KalshiClient::new(
        KalshiConfig {
            base_url: format!("{}{PREFIX}", server.uri()),
            credentials: Some(Credentials {
                api_key_id: "key-123".into(),
                signer: s,
            }),
            timeout: Duration::from_millis(timeout_ms),
            read_tokens_per_second: 10_000,
            write_tokens_per_second: 10_000,
            retries: 4,
            min_delay: Duration::from_millis(5),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    Fake {
        server,
        public_key,
        client,
    }
}

/// Unmatched requests (a bad signature) get Kalshi's 401.
async fn reject_unsigned(f: &Fake) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"code": "authentication_error", "message": "invalid signature"}}),
        ))
        .with_priority(200)
        .mount(&f.server)
        .await;
}

#[tokio::test]
async fn signed_reads_verify_with_the_public_key() {
    let f = fake(2000).await;
    reject_unsigned(&f).await;
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/balance")))
        .and(signed(&f))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"balance": 123456, "balance_dollars": "1234.5612", "portfolio_value": 0}),
        ))
        .expect(1)
        .mount(&f.server)
        .await;
    assert_eq!(
        f.client.balance().await.unwrap(),
        Dollars::parse("1234.5612").unwrap()
    );

    // The same request signed by another key is refused, and not retried.
    let wrong = KalshiClient::new(
        KalshiConfig {
            base_url: format!("{}{PREFIX}", f.server.uri()),
            credentials: Some(Credentials {
                api_key_id: "key-123".into(),
                signer: signer().0,
            }),
            timeout: Duration::from_secs(2),
            read_tokens_per_second: 10_000,
            write_tokens_per_second: 10_000,
            retries: 4,
            min_delay: Duration::from_millis(5),
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let e = wrong.balance().await.unwrap_err();
    assert!(
        matches!(&e, KalshiError::Authentication { status: 401, message } if message == "invalid signature"),
        "{e}"
    );
    let b: boz_common::BozError = e.into();
    assert_eq!(b.kind, boz_common::ErrorKind::AuthenticationError);
}

#[tokio::test]
async fn events_are_read_page_by_page_into_weather_events() {
    let f = fake(2000).await;
    reject_unsigned(&f).await;
    let lines = gz_lines(&format!(
        "{SHARED}/history/cpratim-Kalshi-Weather-Trading/kxhighny_events.jsonl.gz"
    ));
    let event = |i: usize| {
        let v: Value = serde_json::from_str(&lines[i]).unwrap();
        let mut e = v["event"].clone();
        e["markets"] = v["markets"].clone();
        e
    };
    Mock::given(path(format!("{PREFIX}/events")))
        .and(query_param("series_ticker", "KXHIGHNY"))
        .and(query_param("with_nested_markets", "true"))
        .and(query_param("cursor", "page-2"))
        .and(signed(&f))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"events": [event(1)], "cursor": ""})),
        )
        .expect(1)
        .mount(&f.server)
        .await;
    Mock::given(path(format!("{PREFIX}/events")))
        .and(query_param("series_ticker", "KXHIGHNY"))
        .and(signed(&f))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"events": [event(0)], "cursor": "page-2"})),
        )
        .with_priority(10)
        .expect(1)
        .mount(&f.server)
        .await;
    let events = f
        .client
        .weather_events("KXHIGHNY", "settled")
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].event_ticker, "HIGHNY-24AUG16");
    assert_eq!(events[0].brackets[0].label(), "83F or below");
}

#[tokio::test]
async fn a_429_storm_is_waited_out_and_500s_end_in_a_typed_error() {
    let f = fake(2000).await;
    Mock::given(path(format!("{PREFIX}/exchange/status")))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"error": "too many requests"})),
        )
        .up_to_n_times(3)
        .with_priority(1)
        .expect(3)
        .mount(&f.server)
        .await;
    Mock::given(path(format!("{PREFIX}/exchange/status")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"exchange_active": true, "trading_active": true})),
        )
        .expect(1)
        .mount(&f.server)
        .await;
    assert!(f.client.trading_active().await.unwrap());

    let g = fake(2000).await;
    Mock::given(path(format!("{PREFIX}/exchange/status")))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"code": "internal_error", "message": "boom"})),
        )
        .expect(5)
        .mount(&g.server)
        .await;
    let e = g.client.trading_active().await.unwrap_err();
    assert_eq!(
        e,
        KalshiError::Upstream {
            status: 500,
            code: "internal_error".into(),
            message: "boom".into()
        }
    );
}

#[tokio::test]
async fn malformed_json_is_an_error_not_a_value() {
    let f = fake(2000).await;
    Mock::given(path(format!("{PREFIX}/portfolio/balance")))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"balance\": 12"))
        .mount(&f.server)
        .await;
    assert!(matches!(
        f.client.balance().await.unwrap_err(),
        KalshiError::Malformed { .. }
    ));
}

#[tokio::test]
async fn the_recorded_series_gives_the_fee_schedule() {
    let f = fake(2000).await;
    let body: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{SHARED}/kalshi/samples/KXHIGHLAX-series-recorded-2026-09-17.json"
        ))
        .unwrap(),
    )
    .unwrap();
    Mock::given(path(format!("{PREFIX}/series/KXHIGHLAX")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&f.server)
        .await;
    let s = f.client.series("KXHIGHLAX").await.unwrap();
    assert_eq!(s.fees.fee_type, FeeType::Quadratic);
    assert_eq!(s.fees.fee_multiplier, rust_decimal::Decimal::ONE);
}

#[tokio::test]
async fn the_documented_order_book() {
    let f = fake(2000).await;
    reject_unsigned(&f).await;
    let body: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{SHARED}/kalshi/samples/orderbook-response-docs-example.json"
        ))
        .unwrap(),
    )
    .unwrap();
    Mock::given(path(format!(
        "{PREFIX}/markets/KXHIGHNY-26SEP01-B80.5/orderbook"
    )))
    .and(signed(&f))
    .respond_with(ResponseTemplate::new(200).set_body_json(body))
    .mount(&f.server)
    .await;
    let b = f.client.orderbook("KXHIGHNY-26SEP01-B80.5").await.unwrap();
    assert!(b.best_bid(Side::Yes).is_some() && b.best_ask(Side::Yes).is_some());
}

fn order(client_id: &str, side: Side) -> OrderRequest {
    OrderRequest {
        client_order_id: client_id.into(),
        ticker: "KXHIGHNY-26SEP01-B80.5".into(),
        side,
        price: Price::parse("0.44").unwrap(),
        count: Count::whole(10),
        time_in_force: TimeInForce::ImmediateOrCancel,
    }
}

#[tokio::test]
async fn order_bodies_match_the_openapi_fragment() {
    let f = fake(2000).await;
    reject_unsigned(&f).await;
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders")))
        .and(signed(&f))
        .and(MatchesCreateOrderV2::load())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "order_id": "o-1", "client_order_id": "c-1", "fill_count": "10.00", "remaining_count": "0.00",
            "average_fill_price": "0.4400", "average_fee_paid": "0.0173", "ts_ms": 1715793600123i64
        })))
        .expect(2)
        .mount(&f.server)
        .await;
    let s = f
        .client
        .create_order(&order("c-1", Side::Yes))
        .await
        .unwrap();
    assert_eq!(
        (s.order_id.as_str(), s.filled, s.fees),
        ("o-1", Count::whole(10), Dollars::parse("0.173").unwrap())
    );
    // Buying NO at 0.44 is an ask at the YES price 0.56.
    let body = KalshiClient::order_body(&order("c-2", Side::No));
    assert_eq!(
        (body["side"].as_str(), body["price"].as_str()),
        (Some("ask"), Some("0.5600"))
    );
    f.client
        .create_order(&order("c-2", Side::No))
        .await
        .unwrap();
    // The schema check itself refuses a wrong body.
    let check = MatchesCreateOrderV2::load();
    assert!(check.check(&json!({"ticker": "x", "side": "buy", "count": "1", "price": "0.56", "time_in_force": "fill_or_kill", "self_trade_prevention_type": "maker"})).is_err());
    assert!(check.check(&json!({"ticker": "x", "side": "bid", "count": "1", "price": "0.5", "time_in_force": "fill_or_kill", "self_trade_prevention_type": "maker"})).is_err());
    assert!(check.check(&json!({"ticker": "x", "side": "bid", "count": "1.000", "price": "0.50", "time_in_force": "fill_or_kill", "self_trade_prevention_type": "maker"})).is_err());
    assert!(check.check(&json!({"ticker": "x", "side": "bid", "count": "1", "price": "0.50", "time_in_force": "fill_or_kill"})).is_err());
}

#[tokio::test]
async fn a_timeout_on_order_creation_is_resolved_by_client_order_id_without_a_duplicate() {
    let f = fake(300).await;
    reject_unsigned(&f).await;
    // Kalshi accepts the order but answers too late.
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders")))
        .and(signed(&f))
        .respond_with(ResponseTemplate::new(201).set_delay(Duration::from_secs(2)).set_body_json(json!({"order_id": "o-9", "fill_count": "10.00", "remaining_count": "0.00", "ts_ms": 1})))
        .expect(1)
        .mount(&f.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/orders")))
        .and(query_param("ticker", "KXHIGHNY-26SEP01-B80.5"))
        .and(signed(&f))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "orders": [
                {"order_id": "o-8", "client_order_id": "other", "status": "executed", "fill_count_fp": "1.00", "remaining_count_fp": "0.00"},
                {"order_id": "o-9", "client_order_id": "c-9", "status": "executed", "fill_count_fp": "10.00", "remaining_count_fp": "0.00",
                 "taker_fees_dollars": "0.1700", "maker_fees_dollars": "0.0000"}
            ],
            "cursor": ""
        })))
        .expect(1)
        .mount(&f.server)
        .await;
    let s = f
        .client
        .create_order(&order("c-9", Side::Yes))
        .await
        .unwrap();
    assert_eq!(
        (s.order_id.as_str(), s.filled, s.fees),
        ("o-9", Count::whole(10), Dollars::parse("0.17").unwrap())
    );
}

#[tokio::test]
async fn a_500_on_order_creation_with_no_order_found_is_reported_and_a_409_is_not_looked_up() {
    let f = fake(2000).await;
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders")))
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(1)
        .mount(&f.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/orders")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"orders": []})))
        .expect(1)
        .mount(&f.server)
        .await;
    let e = f
        .client
        .create_order(&order("c-1", Side::Yes))
        .await
        .unwrap_err();
    assert!(
        matches!(e, KalshiError::Upstream { status: 502, .. }),
        "{e}"
    );

    let g = fake(2000).await;
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders")))
        .respond_with(ResponseTemplate::new(409).set_body_json(
            json!({"error": {"code": "conflict", "message": "duplicate client_order_id"}}),
        ))
        .expect(1)
        .mount(&g.server)
        .await;
    let e = g
        .client
        .create_order(&order("c-1", Side::Yes))
        .await
        .unwrap_err();
    assert_eq!(
        e,
        KalshiError::Conflict {
            message: "duplicate client_order_id".into()
        }
    );
}

#[test]
fn the_three_error_shapes() {
    assert_eq!(
        parse_error_body(r#"{"error":{"code":"not_found","message":"market not found"}}"#),
        ("not_found".into(), "market not found".into())
    );
    assert_eq!(
        parse_error_body(r#"{"error":"too many requests"}"#),
        (String::new(), "too many requests".into())
    );
    assert_eq!(
        parse_error_body(r#"{"code":"invalid_order","message":"bad price","details":"x"}"#),
        ("invalid_order".into(), "bad price".into())
    );
    assert_eq!(
        parse_error_body("<html>oops</html>"),
        (String::new(), "<html>oops</html>".into())
    );
}

#[tokio::test]
async fn the_other_endpoints_use_the_documented_paths_and_lists() {
    let f = fake(2000).await;
    reject_unsigned(&f).await;
    let ok = |v: Value| ResponseTemplate::new(200).set_body_json(v);
    for (p, key) in [
        ("/portfolio/fills", "fills"),
        ("/portfolio/positions", "market_positions"),
        ("/portfolio/settlements", "settlements"),
        ("/portfolio/orders", "orders"),
        ("/markets", "markets"),
        ("/markets/trades", "trades"),
        ("/historical/markets", "markets"),
        ("/historical/trades", "trades"),
    ] {
        // Two pages each: the second ends with a missing cursor.
        Mock::given(method("GET"))
            .and(path(format!("{PREFIX}{p}")))
            .and(query_param("cursor", "2"))
            .and(signed(&f))
            .respond_with(ok(json!({key: [{"n": 2}]})))
            .mount(&f.server)
            .await;
        Mock::given(method("GET"))
            .and(path(format!("{PREFIX}{p}")))
            .and(signed(&f))
            .respond_with(ok(json!({key: [{"n": 1}], "cursor": "2"})))
            .with_priority(10)
            .mount(&f.server)
            .await;
    }
    let c = &f.client;
    assert_eq!(c.fills(&[]).await.unwrap().len(), 2);
    assert_eq!(c.positions(&[]).await.unwrap().len(), 2);
    assert_eq!(c.settlements(&[]).await.unwrap().len(), 2);
    assert_eq!(c.orders(&[]).await.unwrap().len(), 2);
    assert_eq!(
        c.markets(&[("series_ticker", "KXHIGHNY".into())])
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(c.trades(&[]).await.unwrap().len(), 2);
    assert_eq!(c.historical_markets(&[]).await.unwrap().len(), 2);
    assert_eq!(c.historical_trades(&[]).await.unwrap().len(), 2);

    let book: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{SHARED}/kalshi/samples/orderbook-response-docs-example.json"
        ))
        .unwrap(),
    )
    .unwrap();
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/markets/orderbooks")))
        .and(query_param("tickers", "A-1,B-2"))
        .and(signed(&f))
        .respond_with(ok(json!({"orderbooks": [
            {"ticker": "A-1", "orderbook_fp": book["orderbook_fp"]},
            {"ticker": "B-2", "orderbook_fp": {"yes_dollars": [], "no_dollars": [["0.4000", "3.00"]]}}
        ]})))
        .mount(&f.server)
        .await;
    let books = c.orderbooks(&["A-1", "B-2"]).await.unwrap();
    assert_eq!(
        books[1].best_ask(Side::Yes),
        Some((Price::parse("0.60").unwrap(), Count::whole(3)))
    );

    // The cancel is signed over its path without the query string.
    Mock::given(method("DELETE"))
        .and(path(format!("{PREFIX}/portfolio/events/orders/o-1")))
        .and(query_param("market_ticker", "A-1"))
        .and(signed(&f))
        .respond_with(ok(
            json!({"order_id": "o-1", "reduced_by": "10.00", "ts_ms": 1}),
        ))
        .expect(1)
        .mount(&f.server)
        .await;
    assert_eq!(
        c.cancel_order("o-1", "A-1").await.unwrap()["reduced_by"],
        "10.00"
    );
}

#[tokio::test]
async fn amend_decrease_and_batch_bodies_match_their_fragments() {
    use boz_kalshi::rest::Decrease;
    let f = fake(2000).await;
    reject_unsigned(&f).await;
    let ok = |v: Value| ResponseTemplate::new(200).set_body_json(v);
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders/o-1/amend")))
        .and(signed(&f))
        .and(MatchesSchema::load("AmendOrderV2", "AmendOrderV2Request"))
        .respond_with(ok(json!({"order": {"order_id": "o-1"}})))
        .expect(1)
        .mount(&f.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!(
            "{PREFIX}/portfolio/events/orders/o-1/decrease"
        )))
        .and(signed(&f))
        .and(MatchesSchema::load(
            "DecreaseOrderV2",
            "DecreaseOrderV2Request",
        ))
        .respond_with(ok(json!({"order": {"order_id": "o-1"}})))
        .expect(2)
        .mount(&f.server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders/batched")))
        .and(signed(&f))
        .and(MatchesSchema::load(
            "BatchCreateOrdersV2",
            "BatchCreateOrdersV2Request",
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"orders": []})))
        .expect(1)
        .mount(&f.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{PREFIX}/portfolio/events/orders/batched")))
        .and(signed(&f))
        .and(MatchesSchema::load(
            "BatchCancelOrdersV2",
            "BatchCancelOrdersV2Request",
        ))
        .respond_with(ok(json!({"orders": []})))
        .expect(1)
        .mount(&f.server)
        .await;
    let c = &f.client;
    c.amend_order("o-1", &order("c-1", Side::Yes), Some("c-1b"))
        .await
        .unwrap();
    c.decrease_order("o-1", Decrease::By(Count::whole(2)))
        .await
        .unwrap();
    c.decrease_order("o-1", Decrease::To(Count::parse("1.5").unwrap()))
        .await
        .unwrap();
    c.batch_create(&[order("c-2", Side::Yes), order("c-3", Side::No)])
        .await
        .unwrap();
    c.batch_cancel(&["o-2", "o-3"]).await.unwrap();
}

#[test]
fn typed_errors_from_status_and_code() {
    use boz_kalshi::rest::classify_for_tests as classify;
    assert!(matches!(
        classify(
            400,
            r#"{"error":{"code":"MARKET_INACTIVE","message":"closed"}}"#
        ),
        KalshiError::MarketInactive { .. }
    ));
    assert!(matches!(
        classify(
            400,
            r#"{"error":{"code":"insufficient_balance","message":"x"}}"#
        ),
        KalshiError::InsufficientBalance { .. }
    ));
    assert!(matches!(
        classify(400, r#"{"code":"available_balance_too_low","message":"x"}"#),
        KalshiError::InsufficientBalance { .. }
    ));
    assert!(matches!(
        classify(
            400,
            r#"{"error":{"code":"invalid_order_size","message":"x"}}"#
        ),
        KalshiError::InvalidOrder { .. }
    ));
    assert!(matches!(
        classify(404, r#"{"error":{"code":"not_found","message":"x"}}"#),
        KalshiError::NotFound { .. }
    ));
    assert!(matches!(
        classify(429, r#"{"error":"too many requests"}"#),
        KalshiError::RateLimited { .. }
    ));
    assert!(matches!(
        classify(503, "down"),
        KalshiError::Upstream { status: 503, .. }
    ));
    let e: boz_common::BozError = classify(
        400,
        r#"{"error":{"code":"insufficient_balance","message":"x"}}"#,
    )
    .into();
    assert_eq!(e.kind, boz_common::ErrorKind::InsufficientBalanceError);
}

#[tokio::test]
async fn the_live_exchange_adapter_places_finds_cancels_and_reads_the_balance() {
    use boz_common::ports::Exchange;
    use boz_kalshi::rest::KalshiExchange;
    let f = fake(2000).await;
    reject_unsigned(&f).await;
    let ok = |v: Value| ResponseTemplate::new(200).set_body_json(v);
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders")))
        .and(signed(&f))
        .and(MatchesCreateOrderV2::load())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"order_id": "o-5", "fill_count": "0.00", "remaining_count": "10.00", "ts_ms": 1})))
        .mount(&f.server)
        .await;
    let listed = json!({"orders": [{"order_id": "o-5", "client_order_id": "c-5", "ticker": "KXHIGHNY-26SEP01-B80.5", "status": "resting",
        "fill_count_fp": "0.00", "remaining_count_fp": "10.00"}]});
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/orders")))
        .and(signed(&f))
        .respond_with(ok(listed))
        .mount(&f.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/orders/o-5")))
        .and(signed(&f))
        .respond_with(ok(json!({"order": {"order_id": "o-5", "client_order_id": "c-5", "ticker": "KXHIGHNY-26SEP01-B80.5"}})))
        .mount(&f.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{PREFIX}/portfolio/events/orders/o-5")))
        .and(query_param("market_ticker", "KXHIGHNY-26SEP01-B80.5"))
        .and(signed(&f))
        .respond_with(ok(json!({"order_id": "o-5", "reduced_by": "10.00"})))
        .expect(1)
        .mount(&f.server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/balance")))
        .and(signed(&f))
        .respond_with(ok(json!({"balance": 5000})))
        .mount(&f.server)
        .await;
    // A lookup without a ticker must not send an empty `ticker` filter.
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/orders")))
        .and(query_param("ticker", ""))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"code": "invalid_parameters", "message": "ticker"})),
        )
        .with_priority(1)
        .mount(&f.server)
        .await;
    let x = KalshiExchange(Arc::new(f.client));
    let mut req = order("c-5", Side::Yes);
    req.time_in_force = TimeInForce::GoodTillCanceled;
    let placed = x.place_order(&req).await.unwrap();
    assert_eq!(
        (
            placed.order_id.as_str(),
            placed.remaining,
            placed.status.as_str()
        ),
        ("o-5", Count::whole(10), "resting")
    );
    assert_eq!(x.find_order("c-5").await.unwrap().unwrap().order_id, "o-5");
    assert!(x.find_order("nope").await.unwrap().is_none());
    x.cancel_order("o-5").await.unwrap();
    assert_eq!(
        x.balance().await.unwrap(),
        Dollars::parse("50.00").unwrap(),
        "integer cents when balance_dollars is absent"
    );
}
