//! A fake Kalshi for the running-system tests: tomorrow's NYC event with four brackets and
//! their books (51-52 °F is cheap against the model's prediction), and a stateful exchange that
//! records every order it is sent, answers the create-order call only after a delay (the order
//! is on the exchange at once: a worker killed meanwhile leaves it there), lists the orders by
//! client order id, and reports positions and a balance.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boz_common::CityCode;
use boz_common::schemas::{BracketPrediction, TradingMode};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const PREFIX: &str = "/trade-api/v2";
/// ≤50 | 51-52 | 53-54 | ≥55
pub const BOUNDS: [(Option<i32>, Option<i32>); 4] = [
    (None, Some(50)),
    (Some(51), Some(52)),
    (Some(53), Some(54)),
    (Some(55), None),
];
pub const SUFFIX: [&str; 4] = ["T51", "B51.5", "B53.5", "T54"];
/// The model: 20 %, 45 %, 25 %, 10 %.
pub const PROBS: [f64; 4] = [0.20, 0.45, 0.25, 0.10];
/// YES bid / ask: 51-52 is cheap (ask 0.35), ≥55 is dear (bid 0.25 → NO at 0.75).
pub const QUOTES: [(&str, &str); 4] = [
    ("0.18", "0.21"),
    ("0.33", "0.35"),
    ("0.24", "0.27"),
    ("0.25", "0.28"),
];

pub fn event_date() -> NaiveDate {
    CityCode::parse("NYC")
        .unwrap()
        .city()
        .unwrap()
        .climate_date(Utc::now())
        + chrono::Duration::days(1)
}

pub fn event_ticker() -> String {
    format!("KXHIGHNY-{}", event_date().format("%y%b%d")).to_uppercase()
}

pub fn ticker(i: usize) -> String {
    format!("{}-{}", event_ticker(), SUFFIX[i])
}

/// The model's prediction for the event, made now.
pub fn prediction() -> BracketPrediction {
    serde_json::from_value(json!({
        "city": "NYC", "date": event_date(),
        "brackets": (0..4).map(|i| json!({"bracket_label": format!("b{i}"), "lower_bound_f": BOUNDS[i].0, "upper_bound_f": BOUNDS[i].1, "probability": PROBS[i]})).collect::<Vec<_>>(),
        "ensemble_forecast_f": 52.0, "confidence": "MEDIUM", "model_sources": ["NWS"],
        "forecast_spread_f": 1.0, "error_std_f": 2.5, "generated_at": Utc::now()
    }))
    .unwrap()
}

pub fn book_json(bid: &str, ask: &str) -> Value {
    let no = (Decimal::ONE - ask.parse::<Decimal>().unwrap()).to_string();
    json!({"orderbook_fp": {"yes_dollars": [[bid, "100.00"]], "no_dollars": [[no, "100.00"]]}})
}

/// An order the fake exchange holds.
#[derive(Debug, Clone)]
pub struct Held {
    pub order_id: String,
    pub client_order_id: String,
    pub ticker: String,
    pub count: Decimal,
    pub cost: Decimal,
}

/// What the fake exchange saw.
#[derive(Default)]
pub struct Book {
    pub orders: Vec<Held>,
    /// create-order calls per client order id
    pub posts: HashMap<String, usize>,
}

pub struct Exchange {
    pub state: Arc<Mutex<Book>>,
    /// told the client order id of every create-order call, as it arrives
    pub arrived: Mutex<std::sync::mpsc::Sender<String>>,
    pub delay: Duration,
}

impl Respond for Exchange {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let coid = body["client_order_id"].as_str().unwrap().to_string();
        let ticker = body["ticker"].as_str().unwrap().to_string();
        let count: Decimal = body["count"].as_str().unwrap().parse().unwrap();
        let yes_price: Decimal = body["price"].as_str().unwrap().parse().unwrap();
        let price = if body["side"] == "bid" {
            yes_price
        } else {
            Decimal::ONE - yes_price
        };
        let held = {
            let mut s = self.state.lock().unwrap();
            *s.posts.entry(coid.clone()).or_default() += 1;
            if let Some(h) = s.orders.iter().find(|o| o.client_order_id == coid) {
                h.clone()
            } else {
                let h = Held {
                    order_id: format!("ord-{}", s.orders.len() + 1),
                    client_order_id: coid.clone(),
                    ticker,
                    count,
                    cost: count * price,
                };
                s.orders.push(h.clone());
                h
            }
        };
        let _ = self.arrived.lock().unwrap().send(coid);
        ResponseTemplate::new(201)
            .set_body_json(json!({"order": {
                "order_id": held.order_id, "client_order_id": held.client_order_id,
                "fill_count": held.count.to_string(), "remaining_count": "0",
                "taker_fill_cost_dollars": held.cost.to_string(), "average_fee_paid": "0.01",
                "status": "executed"}}))
            .set_delay(self.delay)
    }
}

struct Listing(Arc<Mutex<Book>>);

impl Respond for Listing {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let s = self.0.lock().unwrap();
        if request.url.path().ends_with("/positions") {
            let positions: Vec<Value> = s
                .orders
                .iter()
                .map(|o| json!({"ticker": o.ticker, "position_fp": o.count.to_string()}))
                .collect();
            return ResponseTemplate::new(200)
                .set_body_json(json!({"market_positions": positions, "cursor": ""}));
        }
        let orders: Vec<Value> = s
            .orders
            .iter()
            .map(|o| {
                json!({"order_id": o.order_id, "client_order_id": o.client_order_id,
                       "ticker": o.ticker, "fill_count_fp": o.count.to_string(),
                       "remaining_count_fp": "0", "taker_fill_cost_dollars": o.cost.to_string(),
                       "taker_fees_dollars": (o.count * Decimal::new(1, 2)).to_string(),
                       "status": "executed"})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"orders": orders, "cursor": ""}))
    }
}

/// Mounts the market side on `server`: the series, the open event, and books for `quotes`
/// (other series are unknown).
pub async fn mount_markets(server: &MockServer, quotes: &[(&str, &str); 4]) {
    let close = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let markets: Vec<Value> = (0..4)
        .map(|i| {
            let (lo, hi) = BOUNDS[i];
            let (st, floor, cap) = match (lo, hi) {
                (None, Some(u)) => ("less", None, Some(u + 1)),
                (Some(l), None) => ("greater", Some(l - 1), None),
                (l, u) => ("between", l, u),
            };
            json!({"ticker": ticker(i), "strike_type": st, "floor_strike": floor, "cap_strike": cap, "close_time": close})
        })
        .collect();
    Mock::given(path(format!("{PREFIX}/series/KXHIGHNY")))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"series": {"ticker": "KXHIGHNY", "fee_type": "quadratic", "fee_multiplier": 1}}),
        ))
        .mount(server)
        .await;
    Mock::given(path(format!("{PREFIX}/events")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": [{"event_ticker": event_ticker(), "series_ticker": "KXHIGHNY", "markets": markets}], "cursor": ""})))
        .mount(server)
        .await;
    let books: Vec<Value> = (0..4)
        .map(|i| {
            let mut b = book_json(quotes[i].0, quotes[i].1);
            b["ticker"] = json!(ticker(i));
            b
        })
        .collect();
    Mock::given(path(format!("{PREFIX}/markets/orderbooks")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"orderbooks": books})))
        .mount(server)
        .await;
    for (i, (bid, ask)) in quotes.iter().enumerate() {
        Mock::given(method("GET"))
            .and(path(format!("{PREFIX}/markets/{}/orderbook", ticker(i))))
            .respond_with(ResponseTemplate::new(200).set_body_json(book_json(bid, ask)))
            .mount(server)
            .await;
    }
    Mock::given(path_regex(format!("{PREFIX}/series/.*")))
        .respond_with(ResponseTemplate::new(404))
        .mount(server)
        .await;
}

/// Starts the fake Kalshi with the [`QUOTES`] books. Orders are answered after `delay`; each
/// create-order call's client order id is sent on the returned receiver as it arrives.
pub async fn start(
    delay: Duration,
) -> (
    MockServer,
    Arc<Mutex<Book>>,
    std::sync::mpsc::Receiver<String>,
) {
    let server = MockServer::start().await;
    mount_markets(&server, &QUOTES).await;
    let state = Arc::new(Mutex::new(Book::default()));
    let (tx, rx) = std::sync::mpsc::channel();
    Mock::given(method("POST"))
        .and(path(format!("{PREFIX}/portfolio/events/orders")))
        .respond_with(Exchange {
            state: state.clone(),
            arrived: Mutex::new(tx),
            delay,
        })
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            "{PREFIX}/portfolio/(orders|positions)$"
        )))
        .respond_with(Listing(state.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PREFIX}/portfolio/balance")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"balance_dollars": "1000.00"})),
        )
        .mount(&server)
        .await;
    (server, state, rx)
}

/// The local user trading in `mode` in NYC only, with the DEFAULT_* limits.
pub async fn seed_user(store: &Arc<dyn boz_common::ports::Store>, mode: TradingMode) {
    let defaults = boz_common::config::Settings::from_map(&Default::default()).unwrap();
    let mut settings = serde_json::to_value(defaults.default_user_settings().unwrap()).unwrap();
    settings["trading_mode"] = serde_json::to_value(mode).unwrap();
    settings["cities"] = json!(["NYC"]);
    store
        .create_user(&boz_common::ports::StoredUser {
            id: "local".into(),
            api_key_id: String::new(),
            encrypted_private_key: String::new(),
            settings,
            created_at: Utc::now(),
        })
        .await
        .unwrap();
}

/// The local user ([`seed_user`]) and a fresh [`prediction`] for tomorrow's event.
pub async fn seed(store: &Arc<dyn boz_common::ports::Store>, mode: TradingMode) {
    seed_user(store, mode).await;
    store
        .insert_prediction(&prediction(), &json!({}))
        .await
        .unwrap();
}

/// A fresh RSA key in PKCS#8 PEM, for signed requests to the fake.
pub fn private_key_pem() -> String {
    use aws_lc_rs::encoding::AsDer;
    let kp = aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        kp.as_der().unwrap().as_ref().to_vec(),
    ))
}
