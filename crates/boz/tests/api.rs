//! The API's authentication over real HTTP (the `boz-api` router on a local port) and a real
//! SQLite database: sessions with their cookie and CSRF token, API tokens, the sign-in rate
//! limit, password changes, the error shapes; and the `boz user` commands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::*;

use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;

use boz_common::ports::{Store, SystemClock};
use boz_store::Database;
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

struct Api {
    base: String,
    http: reqwest::Client,
    store: Arc<dyn Store>,
    _db: Database,
    _dir: Option<tempfile::TempDir>,
}

async fn serve(db_path: &std::path::Path, secure: bool) -> (String, Arc<dyn Store>, Database) {
    let db = open_sqlite(db_path).await;
    let store = db.store();
    let app = boz_api::router(boz_api::ApiState::new(
        store.clone(),
        Arc::new(SystemClock),
        secure,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, store, db)
}

async fn api(secure: bool) -> Api {
    let dir = tempfile::tempdir().unwrap();
    let (base, store, db) = serve(&dir.path().join("boz.sqlite"), secure).await;
    for (name, id) in [("alice", "u-alice"), ("bob", "u-bob")] {
        add_login(&store, name, id, "user", PASSWORD).await;
    }
    Api {
        base,
        http: reqwest::Client::new(),
        store,
        _db: db,
        _dir: Some(dir),
    }
}

impl Api {
    async fn login(&self, user: &str, password: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/login", self.base))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Signs in; returns the cookie header value and the CSRF token.
    async fn session(&self, user: &str) -> (String, String) {
        sign_in(&self.http, &self.base, user, PASSWORD).await
    }

    /// GETs `path` with a session cookie (empty: none).
    async fn get(&self, path: &str, cookie: &str) -> reqwest::Response {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if !cookie.is_empty() {
            req = req.header("cookie", cookie);
        }
        req.send().await.unwrap()
    }

    /// [`Api::get`]'s JSON body.
    async fn get_json(&self, path: &str, cookie: &str) -> Value {
        self.get(path, cookie).await.json().await.unwrap()
    }

    async fn me(&self, auth: Option<(&str, &str)>) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}/api/me", self.base));
        if let Some((k, v)) = auth {
            req = req.header(k, v);
        }
        let r = req.send().await.unwrap();
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }
}

fn seed_error(body: &Value, kind: &str) {
    assert_eq!(body["error"], kind, "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["context"].is_object(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_signs_in_carries_its_csrf_token_and_signs_out() {
    let api = api(false).await;
    // wrong password and unknown user: the same 401
    for (u, p) in [("alice", "wrong password!"), ("nobody", PASSWORD)] {
        let r = api.login(u, p).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: Value = r.json().await.unwrap();
        seed_error(&body, "AuthenticationError");
        assert_eq!(body["message"], "wrong username or password");
    }
    let r = api.login("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::OK);
    let set = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set.starts_with("boz_session=s_"), "{set}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"));
    assert!(!set.contains("Secure"), "plain HTTP here");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user_id"], "u-alice");
    assert_eq!(body["auth"], "session");
    let csrf = body["csrf_token"].as_str().unwrap().to_string();
    let cookie = set.split(';').next().unwrap().to_string();
    // only the hash of the cookie is stored
    let id = cookie.trim_start_matches("boz_session=");
    assert!(
        api.store
            .get_session(id, chrono::Utc::now())
            .await
            .unwrap()
            .is_none()
    );

    let (status, me) = api.me(Some(("cookie", &cookie))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["role"], "user");
    // no session, a made-up one
    let (status, body) = api.me(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    seed_error(&body, "AuthenticationError");
    let (status, _) = api.me(Some(("cookie", "boz_session=s_madeup"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // a state-changing request without, or with a forged, CSRF token is refused
    let logout = |csrf: Option<&str>| {
        let mut req = api
            .http
            .post(format!("{}/api/logout", api.base))
            .header("cookie", &cookie);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    for forged in [None, Some("c_forged"), Some("")] {
        let r = logout(forged).await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{forged:?}");
        seed_error(&r.json().await.unwrap(), "PermissionError");
    }
    let r = logout(Some(&csrf)).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(
        r.headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let (status, _) = api.me(Some(("cookie", &cookie))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session has ended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cookie_is_secure_when_served_over_tls() {
    let api = api(true).await;
    let r = api.login("alice", PASSWORD).await;
    let set = r
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(set.contains("; Secure"), "{set}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_rate_limited_per_username() {
    let api = api(false).await;
    for _ in 0..boz_api::auth::ATTEMPTS_PER_MINUTE {
        assert_eq!(
            api.login("alice", "wrong password!").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // even the right password waits now
    let r = api.login("alice", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    seed_error(&r.json().await.unwrap(), "RateLimitError");
    // another username is not affected
    assert_eq!(api.login("bob", PASSWORD).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_act_for_their_user_only() {
    let api = api(false).await;
    let token = add_token(&api.store, "t1", "u-bob").await;
    let bearer = format!("Bearer {token}");
    let (status, me) = api.me(Some(("authorization", &bearer))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user_id"], "u-bob");
    assert_eq!(me["auth"], "token");
    assert!(me.get("csrf_token").is_none());
    assert!(!me.to_string().contains(&token));
    let (status, body) = api.me(Some(("authorization", "Bearer boz_wrong"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    seed_error(&body, "AuthenticationError");
    // a token needs no CSRF token, and has no session to end
    let r = api
        .http
        .post(format!("{}/api/logout", api.base))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    seed_error(&r.json().await.unwrap(), "ValidationError");
    assert!(
        api.store.list_tokens("u-bob").await.unwrap()[0]
            .last_used_at
            .is_some()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_checks_both_passwords_and_ends_the_sessions() {
    let api = api(false).await;
    let (cookie, csrf) = api.session("alice").await;
    let change = |current: &str, new: &str| {
        api.http
            .post(format!("{}/api/password", api.base))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    let r = change("not it at all", "a brand new password")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    seed_error(&body, "ValidationError");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("current_password")
    );
    let r = change(PASSWORD, "short").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("new_password")
    );
    let r = change(PASSWORD, "a brand new password").await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (status, _) = api.me(Some(("cookie", &cookie))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "sessions ended");
    assert_eq!(
        api.login("alice", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        api.login("alice", "a brand new password").await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_add_list_set_passwords_and_make_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let run = move |args: &[&str]| boz(&d, &[], args);
    let out = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["user", "add", "carol"])
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let otp = stdout
        .split("one-time password: ")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(otp.len(), 20);
    let again = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["user", "add", "carol"])
    })
    .await
    .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("exists already"));
    let bad = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["user", "add", "no spaces"])
    })
    .await
    .unwrap();
    assert!(text(&bad.stderr).contains("invalid name"));
    let list = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["user", "list"])
    })
    .await
    .unwrap();
    let listed = text(&list.stdout);
    assert!(
        listed.contains("carol") && listed.contains("yes"),
        "{listed}"
    );
    assert!(!listed.contains(&otp));

    // a new password from standard input
    let d = dir.path().to_path_buf();
    let set = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new(BOZ)
            .args(["user", "set-password", "carol"])
            .current_dir(&d)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(set.status.success(), "{}", text(&set.stderr));
    let tok = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(&["user", "token", "carol", "--label", "backtests"])
    })
    .await
    .unwrap();
    assert!(tok.status.success(), "{}", text(&tok.stderr));
    let token = text(&tok.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("boz_"))
        .unwrap()
        .to_string();

    // both work against the API on the same database
    let (base, store, db) = serve(&dir.path().join("boz.sqlite"), false).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/api/login"))
        .json(&json!({"username": "carol", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["must_change_password"], false);
    let r = http
        .get(format!("{base}/api/me"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["user_id"], "carol");
    // stored as hashes only
    let t = &store.list_tokens("carol").await.unwrap()[0];
    assert_eq!(t.name, "backtests");
    assert_ne!(t.token_hash, token);
    assert!(
        store
            .get_login("carol")
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .starts_with("$argon2id$")
    );
    db.close().await;
}

fn trade(id: &str, city: &str, date: &str, status: &str) -> boz_common::schemas::TradeRecord {
    let now = chrono::Utc::now();
    let prediction = json!({"city": city, "date": date, "brackets": [
        {"bracket_label": "52F or below", "lower_bound_f": null, "upper_bound_f": 52.0, "probability": 0.25},
        {"bracket_label": "53-54F", "lower_bound_f": 53.0, "upper_bound_f": 54.0, "probability": 0.45},
        {"bracket_label": "55F or above", "lower_bound_f": 55.0, "upper_bound_f": null, "probability": 0.30}],
        "ensemble_forecast_f": 53.6, "confidence": "MEDIUM", "model_sources": ["NWS"],
        "forecast_spread_f": 0.5, "error_std_f": 2.4, "generated_at": now});
    serde_json::from_value(json!({
        "id": id, "city": city, "date": date, "bracket_label": "53-54F", "side": "yes",
        "entry_price": "0.22", "quantity": "10", "model_probability": 0.45, "market_probability": 0.22,
        "ev_at_entry": 0.2, "confidence": "MEDIUM", "weather_forecasts": [],
        "prediction": prediction, "status": status, "settlement_temp_f": null,
        "settlement_source": null, "pnl": null, "postmortem": null, "created_at": now, "settled_at": null
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_read_and_replaced_whole_and_validated() {
    let api = api(false).await;
    let (cookie, csrf) = api.session("alice").await;
    let s = boz_common::config::Settings::from_map(&Default::default()).unwrap();
    let defaults = serde_json::to_value(s.default_user_settings().unwrap()).unwrap();
    let mut good = defaults.clone();
    good["max_trade_size"] = json!(2.0);
    let put = |body: String| {
        api.http
            .put(format!("{}/api/settings", api.base))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = put(good.to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = api.get("/api/settings", &cookie).await;
    assert_eq!(r.json::<Value>().await.unwrap(), good);
    // invalid values name the field; nothing changes
    let mut bad = good.clone();
    bad["max_trade_size"] = json!("-5");
    let r = put(bad.to_string()).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    seed_error(&body, "ValidationError");
    assert!(body.to_string().contains("max_trade_size"), "{body}");
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("cities");
    let body: Value = put(missing.to_string())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("cities"),
        "{body}"
    );
    // not JSON at all: 400; JSON of the wrong shape: 422
    let r = put("not json".into()).await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    seed_error(&body, "BadRequestError");
    assert!(
        body["message"].as_str().unwrap().contains("not JSON"),
        "{body}"
    );
    let r = put("[1, 2]".into()).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        r.text().await.unwrap()
    );
    // a sign-in that is not JSON gets the same shape, and never its content back
    let r = api
        .http
        .post(format!("{}/api/login", api.base))
        .body("{\"username\": \"alice\", \"password\": \"hunter2")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: Value = r.json().await.unwrap();
    seed_error(&body, "BadRequestError");
    assert!(!body.to_string().contains("hunter2"), "{body}");
    assert_eq!(
        api.store.get_user("u-alice").await.unwrap().settings,
        good,
        "unchanged"
    );
    // bob's settings were not touched (alice's change of max_trade_size is not his)
    let bobs = api.store.get_user("u-bob").await.unwrap().settings;
    assert_eq!(bobs, defaults, "bob keeps the defaults");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trades_are_paged_filtered_and_scoped_to_their_user() {
    let api = api(false).await;
    use boz_common::ports::StoredTrade;
    for (user, id, city, date, status) in [
        ("u-alice", "a1", "NYC", "2026-11-20", "PENDING"),
        ("u-alice", "a2", "CHI", "2026-11-21", "PENDING"),
        ("u-alice", "a3", "NYC", "2026-11-22", "REJECTED"),
        ("u-bob", "b1", "NYC", "2026-11-20", "PENDING"),
    ] {
        api.store
            .insert_trade(&StoredTrade {
                user_id: user.into(),
                kalshi_order_id: None,
                record: trade(id, city, date, status),
            })
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    let (alice, _) = api.session("alice").await;
    let ids = |v: &Value| {
        v["trades"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let all: Value = api.get_json("/api/trades", &alice).await;
    let mut got = ids(&all);
    got.sort();
    assert_eq!(got, ["a1", "a2", "a3"], "only alice's");
    let nyc: Value = api.get_json("/api/trades?city=nyc", &alice).await;
    assert_eq!(ids(&nyc).len(), 2);
    let pending: Value = api
        .get_json("/api/trades?status=pending&from=2026-11-21", &alice)
        .await;
    assert_eq!(ids(&pending), ["a2"]);
    let page: Value = api.get_json("/api/trades?limit=2&offset=2", &alice).await;
    assert_eq!(ids(&page).len(), 1);
    assert_eq!(page["limit"], 2);
    for (q, field) in [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("offset=-1", "offset"),
        ("status=OPENED", "status"),
        ("city=XXX", "city"),
        ("from=yesterday", "from"),
    ] {
        let r = api.get(&format!("/api/trades?{q}"), &alice).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        let body: Value = r.json().await.unwrap();
        seed_error(&body, "ValidationError");
        assert!(body.to_string().contains(field), "{q}: {body}");
    }
    // one trade with its post-mortem (none yet) and snapshots; bob's is not found for alice
    let r = api.get("/api/trades/a1", &alice).await;
    assert_eq!(r.status(), StatusCode::OK);
    let one: Value = r.json().await.unwrap();
    assert_eq!(one["trade"]["id"], "a1");
    assert!(one["postmortem"].is_null());
    assert!(one["snapshots"].is_array());
    let r = api.get("/api/trades/b1", &alice).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    seed_error(&r.json().await.unwrap(), "NotFoundError");
    // without a session: 401 everywhere
    for path in ["/api/trades", "/api/trades/a1", "/api/settings"] {
        let r = api.get(path, "").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weather_predictions_and_logs() {
    let api = api(false).await;
    let now = chrono::Utc::now();
    let date = "2026-11-29";
    for (source, high, age_min) in [
        ("NWS", 51.0, 90),
        ("NWS", 52.0, 30),
        ("Open-Meteo:GFS", 50.0, 10),
    ] {
        let t = now - chrono::Duration::minutes(age_min);
        let w: boz_common::schemas::WeatherData = serde_json::from_value(json!({
            "city": "NYC", "date": date, "forecast_high_f": high, "source": source,
            "model_run_timestamp": t, "variables": {"temp_high_f": high}, "raw_data": {},
            "fetched_at": t}))
        .unwrap();
        api.store.insert_forecast(&w).await.unwrap();
    }
    let (alice, _) = api.session("alice").await;
    let r = api
        .get(&format!("/api/weather?city=nyc&date={date}"), &alice)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = r.json().await.unwrap();
    let list = w["weather"].as_array().unwrap();
    assert_eq!(list.len(), 2, "the newest of each source: {w}");
    let nws = list.iter().find(|x| x["source"] == "NWS").unwrap();
    assert_eq!(nws["forecast_high_f"], 52.0);
    let age = nws["age_seconds"].as_i64().unwrap();
    assert!((1790..=1900).contains(&age), "{age}");
    for (q, field) in [("city=ZZZ", "city"), ("date=tomorrow", "date")] {
        let r = api.get(&format!("/api/weather?{q}"), &alice).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(r.text().await.unwrap().contains(field));
    }

    // predictions: 404 before one is stored, then the newest with its provenance
    let path = format!("/api/predictions?city=NYC&date={date}");
    let r = api.get(&path, &alice).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    seed_error(&r.json().await.unwrap(), "NotFoundError");
    let p: boz_common::schemas::BracketPrediction = serde_json::from_value(json!({
        "city": "NYC", "date": date, "brackets": [
            {"bracket_label": "52F or below", "lower_bound_f": null, "upper_bound_f": 52.0, "probability": 0.4},
            {"bracket_label": "53F or above", "lower_bound_f": 53.0, "upper_bound_f": null, "probability": 0.6}],
        "ensemble_forecast_f": 52.6, "confidence": "MEDIUM", "model_sources": ["NWS"],
        "forecast_spread_f": 0.5, "error_std_f": 2.4, "generated_at": now}))
    .unwrap();
    api.store
        .insert_prediction(&p, &json!({"event_ticker": "KXHIGHNY-26NOV29"}))
        .await
        .unwrap();
    let got: Value = api.get_json(&path, &alice).await;
    assert_eq!(got["prediction"]["ensemble_forecast_f"], 52.6);
    assert_eq!(got["provenance"]["event_ticker"], "KXHIGHNY-26NOV29");
    let r = api.get("/api/predictions?city=NYC", &alice).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("date"));

    // logs: admins only
    api.store
        .insert_log_entries(&[
            boz_common::ports::LogRecord {
                timestamp: now,
                level: "WARN".into(),
                module: "TRADING".into(),
                message: "order refused".into(),
                data: json!({}),
            },
            boz_common::ports::LogRecord {
                timestamp: now,
                level: "INFO".into(),
                module: "WEATHER".into(),
                message: "fetched".into(),
                data: json!({}),
            },
        ])
        .await
        .unwrap();
    let r = api.get("/api/logs", &alice).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    seed_error(&r.json().await.unwrap(), "PermissionError");
    add_login(&api.store, "root", "root", "admin", PASSWORD).await;
    let (root, _) = api.session("root").await;
    let logs: Value = api
        .get_json("/api/logs?module=trading&level=warn", &root)
        .await;
    let list = logs["logs"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{logs}");
    assert_eq!(list[0]["message"], "order refused");
    let r = api.get("/api/logs?limit=0", &root).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onboarding_checks_the_key_stores_it_encrypted_and_never_shows_it() {
    use wiremock::matchers::{header, header_exists, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let kalshi = MockServer::start().await;
    // the good key id gets a balance; any other is refused
    Mock::given(path("/trade-api/v2/portfolio/balance"))
        .and(header("KALSHI-ACCESS-KEY", "key-good"))
        .and(header_exists("KALSHI-ACCESS-SIGNATURE"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"balance_dollars": "250.00"})),
        )
        .mount(&kalshi)
        .await;
    Mock::given(path("/trade-api/v2/portfolio/balance"))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": {"code": "authentication_error", "message": "bad key"}}),
        ))
        .mount(&kalshi)
        .await;
    let master = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let mut api = api(false).await;
    // the same database, served again with onboarding
    let app = boz_api::router(
        boz_api::ApiState::new(api.store.clone(), Arc::new(SystemClock), false).with_onboarding(
            boz_api::onboarding::Onboarding {
                vault: Arc::new(boz_crypto::KeyVault::new(master).unwrap()),
                base_url: Some(format!("{}/trade-api/v2", kalshi.uri())),
                timeout: std::time::Duration::from_secs(5),
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    api.base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let pem = support::fake_kalshi::private_key_pem();
    let (cookie, csrf) = api.session("alice").await;
    let send = |m: reqwest::Method, body: Option<Value>| {
        let mut req = api
            .http
            .request(m, format!("{}/api/kalshi", api.base))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };
    let key_body = &pem[40..80];
    // every failure names the field and never echoes the key
    for (body, field, status) in [
        (
            json!({"private_key": pem, "environment": "demo"}),
            "api_key_id",
            422,
        ),
        (
            json!({"api_key_id": "key-good", "environment": "demo"}),
            "private_key",
            422,
        ),
        (
            json!({"api_key_id": "key-good", "private_key": pem, "environment": "live"}),
            "environment",
            422,
        ),
        (
            json!({"api_key_id": "key-good", "private_key": "-----not a key-----", "environment": "demo"}),
            "private_key",
            422,
        ),
        (
            json!({"api_key_id": "key-bad", "private_key": pem, "environment": "demo"}),
            "private_key",
            422,
        ),
    ] {
        let r = send(reqwest::Method::POST, Some(body)).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{field}");
        let text = r.text().await.unwrap();
        assert!(text.contains(field), "{text}");
        assert!(
            !text.contains(key_body) && !text.contains("PRIVATE KEY"),
            "{text}"
        );
    }
    assert!(
        api.store
            .get_user("u-alice")
            .await
            .unwrap()
            .encrypted_private_key
            .is_empty()
    );

    let r = send(
        reqwest::Method::POST,
        Some(json!({"api_key_id": "key-good", "private_key": pem, "environment": "demo"})),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    assert!(!text.contains(key_body), "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["connected"], true);
    assert_eq!(v["balance"], 250.0);
    // stored encrypted under the master key with the user id; decrypts to the key
    let u = api.store.get_user("u-alice").await.unwrap();
    assert_eq!(u.api_key_id, "key-good");
    assert!(!u.encrypted_private_key.contains(key_body));
    let vault = boz_crypto::KeyVault::new(master).unwrap();
    assert_eq!(
        vault
            .decrypt("u-alice", &u.encrypted_private_key)
            .unwrap()
            .as_str(),
        pem
    );
    assert_eq!(
        api.store.kalshi_env("u-alice").await.unwrap().as_deref(),
        Some("demo")
    );
    let status: Value = send(reqwest::Method::GET, None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        status,
        json!({"connected": true, "api_key_id": "key-good", "environment": "demo"})
    );
    // bob is not connected
    let (bob, _) = api.session("bob").await;
    let bobs: Value = api.get_json("/api/kalshi", &bob).await;
    assert_eq!(bobs["connected"], false);
    // disconnect deletes it
    let r = send(reqwest::Method::DELETE, None).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let u = api.store.get_user("u-alice").await.unwrap();
    assert!(u.encrypted_private_key.is_empty() && u.api_key_id.is_empty());
    let status: Value = send(reqwest::Method::GET, None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["connected"], false);
}

/// Alice's trade `id`, placed through an order (fees `fees`) and settled `won` with `pnl`.
async fn settled_trade(
    store: &Arc<dyn Store>,
    (id, city, date): (&str, &str, &str),
    (model_p, market_p): (f64, f64),
    (fees, won, pnl): (&str, bool, &str),
) {
    use boz_common::money::{Count, Dollars, Price};
    use boz_common::ports::*;
    use boz_common::status::TradeStatus;
    let dollars = |s: &str| Dollars::parse(s).unwrap();
    let mut fields = trade(id, city, date, "APPROVED").into_fields();
    fields.model_probability = model_p;
    fields.market_probability = market_p;
    let record = boz_common::schemas::TradeRecord::new(fields).unwrap();
    let now = chrono::Utc::now();
    let order = OrderRecord {
        request: OrderRequest {
            client_order_id: format!("c-{id}"),
            ticker: "KXHIGHNY-26NOV20-B53.5".into(),
            side: boz_common::schemas::Side::Yes,
            price: Price::parse("0.22").unwrap(),
            count: Count::parse("10").unwrap(),
            time_in_force: TimeInForce::ImmediateOrCancel,
        },
        user_id: "u-alice".into(),
        trade_id: id.into(),
        trading_day: now.date_naive(),
        reserved: dollars("2.40"),
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
    let stored = StoredTrade {
        user_id: "u-alice".into(),
        kalshi_order_id: None,
        record,
    };
    let limits = ExposureLimits {
        daily: dollars("1000"),
        event: None,
    };
    store
        .open_order(&order, Some(&stored), &limits)
        .await
        .unwrap();
    let state = OrderState {
        order_id: format!("x-{id}"),
        client_order_id: format!("c-{id}"),
        filled: Count::parse("10").unwrap(),
        remaining: Count::ZERO,
        fill_cost: dollars("2.20"),
        fees: dollars(fees),
        status: "executed".into(),
    };
    store
        .update_order(
            &format!("c-{id}"),
            Some(&state),
            OrderStatus::Executed,
            None,
            now,
        )
        .await
        .unwrap();
    store
        .settle_trade(
            "u-alice",
            id,
            &TradeSettlement {
                status: if won {
                    TradeStatus::Won
                } else {
                    TradeStatus::Lost
                },
                settlement_temp_f: Some(54.0),
                pnl: Some(dollars(pnl)),
                settled_at: now,
            },
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn performance_adds_up_pnl_fees_scores_and_calibration_per_user() {
    let api = api(false).await;
    settled_trade(
        &api.store,
        ("w1", "NYC", "2026-11-20"),
        (0.45, 0.22),
        ("0.12", true, "7.68"),
    )
    .await;
    settled_trade(
        &api.store,
        ("l1", "CHI", "2026-11-20"),
        (0.35, 0.22),
        ("0.12", false, "-2.32"),
    )
    .await;
    settled_trade(
        &api.store,
        ("w2", "NYC", "2026-11-21"),
        (0.72, 0.60),
        ("0.10", true, "3.90"),
    )
    .await;
    // an open trade counts for nothing yet; bob's trade is not alice's
    api.store
        .insert_trade(&boz_common::ports::StoredTrade {
            user_id: "u-alice".into(),
            kalshi_order_id: None,
            record: trade("p1", "NYC", "2026-11-22", "PENDING"),
        })
        .await
        .unwrap();
    let (alice, _) = api.session("alice").await;
    let (bob, _) = api.session("bob").await;
    let p: Value = api.get_json("/api/performance", &alice).await;
    let t = &p["totals"];
    assert_eq!(
        (
            t["trades"].as_u64(),
            t["wins"].as_u64(),
            t["losses"].as_u64()
        ),
        (Some(3), Some(2), Some(1)),
        "{p}"
    );
    assert_eq!(t["pnl"], json!(9.26), "exact sum: {p}");
    assert_eq!(t["fees"], json!(0.34), "{p}");
    assert!((t["win_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let days = p["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 3, "{p}");
    assert_eq!(
        (
            days[0]["date"].as_str(),
            days[0]["pnl"].as_f64(),
            days[0]["cumulative_pnl"].as_f64()
        ),
        (Some("2026-11-20"), Some(5.36), Some(5.36))
    );
    assert_eq!(
        (days[1]["pnl"].as_f64(), days[1]["cumulative_pnl"].as_f64()),
        (Some(3.90), Some(9.26))
    );
    assert_eq!(
        (
            days[2]["trades"].as_u64(),
            days[2]["cumulative_pnl"].as_f64()
        ),
        (Some(0), Some(9.26))
    );
    let cities = p["by_city"].as_array().unwrap();
    assert_eq!(cities[0]["city"], "CHI");
    assert_eq!(
        (cities[0]["losses"].as_u64(), cities[0]["pnl"].as_f64()),
        (Some(1), Some(-2.32))
    );
    assert_eq!(
        (
            cities[1]["city"].as_str(),
            cities[1]["wins"].as_u64(),
            cities[1]["fees"].as_f64()
        ),
        (Some("NYC"), Some(2), Some(0.22))
    );
    // Brier of the model: ((0.55)^2 + (0.35)^2 + (0.28)^2) / 3; of the market: (0.78^2 + 0.22^2 + 0.4^2) / 3
    let s = &p["scores"];
    let model_brier = (0.55f64.powi(2) + 0.35f64.powi(2) + 0.28f64.powi(2)) / 3.0;
    let market_brier = (0.78f64.powi(2) + 0.22f64.powi(2) + 0.4f64.powi(2)) / 3.0;
    assert!(
        (s["model"]["brier"].as_f64().unwrap() - model_brier).abs() < 1e-12,
        "{s}"
    );
    assert!(
        (s["market"]["brier"].as_f64().unwrap() - market_brier).abs() < 1e-12,
        "{s}"
    );
    let model_ll = -(0.45f64.ln() + 0.65f64.ln() + 0.72f64.ln()) / 3.0;
    assert!(
        (s["model"]["log_loss"].as_f64().unwrap() - model_ll).abs() < 1e-12,
        "{s}"
    );
    assert!(
        (s["model_minus_market"]["brier"].as_f64().unwrap() - (model_brier - market_brier)).abs()
            < 1e-12
    );
    let cal = p["calibration"].as_array().unwrap();
    assert_eq!(cal.len(), 10);
    assert_eq!(
        (
            cal[3]["count"].as_u64(),
            cal[3]["observed_frequency"].as_f64()
        ),
        (Some(1), Some(0.0))
    );
    assert_eq!(
        (
            cal[4]["count"].as_u64(),
            cal[4]["observed_frequency"].as_f64()
        ),
        (Some(1), Some(1.0))
    );
    assert_eq!(
        (cal[7]["count"].as_u64(), cal[7]["mean_forecast"].as_f64()),
        (Some(1), Some(0.72))
    );
    assert!(cal[0]["mean_forecast"].is_null());
    // filters
    let nyc: Value = api
        .get_json("/api/performance?city=nyc&from=2026-11-21", &alice)
        .await;
    assert_eq!(
        (
            nyc["totals"]["trades"].as_u64(),
            nyc["totals"]["pnl"].as_f64()
        ),
        (Some(1), Some(3.90)),
        "{nyc}"
    );
    // bob has none of it
    let b: Value = api.get_json("/api/performance", &bob).await;
    assert_eq!(
        (b["totals"]["trades"].as_u64(), b["totals"]["pnl"].as_f64()),
        (Some(0), Some(0.0)),
        "{b}"
    );
    assert!(b["scores"]["model"].is_null());
    // errors name the field
    for (q, field) in [
        ("from=2026-13-01", "from"),
        ("city=XX1", "city"),
        ("from=2026-11-22&to=2026-11-20", "from"),
    ] {
        let r = api.get(&format!("/api/performance?{q}"), &alice).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        let body: Value = r.json().await.unwrap();
        seed_error(&body, "ValidationError");
        assert_eq!(body["context"]["field"], field, "{q}: {body}");
    }
    assert_eq!(
        api.get("/api/performance", "").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_in_prometheus_format() {
    let api = api(false).await;
    let (alice, _) = api.session("alice").await;
    for _ in 0..3 {
        api.get("/api/trades/no-such-trade", &alice).await;
    }
    let r = api.get("/metrics", "").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    // the route pattern, never the raw id; other tests in this process add to the same counters
    let line = text
        .lines()
        .find(|l| {
            l.starts_with(
                r#"boz_http_requests_total{method="GET",route="/api/trades/{id}",status="404"}"#,
            )
        })
        .unwrap_or_else(|| panic!("{text}"));
    let n: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 3, "{line}");
    assert!(!text.contains("no-such-trade"));
    assert!(
        text.contains("# TYPE boz_http_request_duration_seconds summary"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_matches_its_snapshot_and_the_docs_page_is_served_locally() {
    let api = api(false).await;
    let doc: Value = api.get_json("/api/openapi.json", "").await;
    // every route of the router is documented
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/login",
        "/api/trades",
        "/api/trades/{id}",
        "/api/queue/{id}/approve",
        "/api/settings",
        "/api/markets",
        "/api/predictions",
        "/api/weather",
        "/api/performance",
        "/api/kalshi",
        "/api/trading-state/halt",
        "/api/logs",
        "/api/signals",
        "/health",
        "/metrics",
    ] {
        assert!(paths.contains_key(p), "{p} undocumented");
    }
    assert!(paths["/api/settings"].get("put").is_some());
    let snapshot =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../boz-api/openapi.snapshot.json");
    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    if std::env::var_os("BOZ_UPDATE_SNAPSHOT").is_some() {
        std::fs::write(&snapshot, &pretty).unwrap();
    }
    let want = std::fs::read_to_string(&snapshot)
        .expect("openapi.snapshot.json (BOZ_UPDATE_SNAPSHOT=1 writes it)");
    assert!(
        want == pretty,
        "the API changed: if on purpose, run this test with BOZ_UPDATE_SNAPSHOT=1 and commit crates/boz-api/openapi.snapshot.json"
    );
    // the docs page and its assets come from this server (no CDN)
    let page = api.get("/api/docs/", "").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        let r = api
            .http
            .get(format!("{}/api/docs/{asset}", api.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
    }
    let init = api
        .get("/api/docs/swagger-initializer.js", "")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/openapi.json"), "{init}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_pages_need_a_session_and_render_the_users_own_data() {
    let api = api(false).await;
    settled_trade(
        &api.store,
        ("w1", "NYC", "2026-11-20"),
        (0.45, 0.22),
        ("0.12", true, "7.68"),
    )
    .await;
    api.store
        .set_postmortem(
            "u-alice",
            "w1",
            "The model's 45% on 53-54F held: the high was 54F.",
        )
        .await
        .unwrap();
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // no session: every page sends the browser to sign in and back
    for page in [
        "/",
        "/markets",
        "/markets/NYC/2026-11-20",
        "/queue",
        "/trades?city=NYC",
        "/performance",
        "/settings",
        "/onboarding",
        "/logs",
    ] {
        let r = no_redirect
            .get(format!("{}{page}", api.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{page}");
        let to = r.headers()["location"].to_str().unwrap();
        assert!(to.starts_with("/login?next=/"), "{page}: {to}");
    }
    // an API token is for scripts, not pages
    let login = api.get("/login?next=//evil.example", "").await;
    assert_eq!(login.status(), StatusCode::OK);
    let html = login.text().await.unwrap();
    assert!(
        html.contains(r#"data-next="&#x2f;""#),
        "off-site next refused: {html}"
    );
    let (alice, csrf) = api.session("alice").await;
    let (bob, _) = api.session("bob").await;
    let page = |path: &'static str, cookie: String| {
        let http = api.http.clone();
        let base = api.base.clone();
        async move {
            let r = http
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let csp = r
                .headers()
                .get("content-security-policy")
                .map(|v| v.to_str().unwrap().to_string());
            (status, csp, r.text().await.unwrap())
        }
    };
    let (status, csp, html) = page("/trades", alice.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(csp.unwrap().contains("script-src 'self'"));
    assert!(html.contains(&format!(r#"<meta name="csrf-token" content="{csrf}">"#)));
    assert!(
        html.contains("w1") && html.contains("The model&#x27;s 45% on 53-54F held"),
        "{html}"
    );
    let (_, _, bobs) = page("/trades", bob.clone()).await;
    assert!(
        !bobs.contains("data-id=\"w1\"") && bobs.contains("No trades."),
        "{bobs}"
    );
    let (_, _, perf) = page("/performance", alice.clone()).await;
    assert!(
        perf.contains("id=\"chart-data\"") && perf.contains("7.68"),
        "{perf}"
    );
    let (_, _, overview) = page("/", alice.clone()).await;
    assert!(
        overview.contains("$7.68") && overview.contains("Halt trading"),
        "{overview}"
    );
    let (_, _, settings) = page("/settings", alice.clone()).await;
    assert!(
        settings.contains(r#"name="max_daily_exposure""#),
        "{settings}"
    );
    let (status, _, logs) = page("/logs", alice.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "logs are for admins: {logs}");
    let (status, _, bad) = page("/markets/XX1/2026-11-20", alice.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    for asset in ["app.js", "app.css", "uPlot.iife.min.js", "uPlot.min.css"] {
        let r = api
            .http
            .get(format!("{}/assets/{asset}", api.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
    }
    assert_eq!(
        api.get("/assets/../Cargo.toml", "").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_names_what_changed_for_its_user_only() {
    let api = api(false).await;
    let (alice, _) = api.session("alice").await;
    assert_eq!(
        api.get("/api/events", "").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let r = api.get("/api/events", &alice).await;
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut body = r;
    let mut seen = String::new();
    let mut next_event = async |seen: &mut String, want: &str| {
        while !seen.contains(want) {
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(30), body.chunk())
                .await
                .expect("an event within 30 s")
                .unwrap()
                .expect("the stream stays open");
            seen.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    };
    next_event(&mut seen, "event: hello").await;
    // bob's new trade is not alice's news; alice's is
    api.store
        .insert_trade(&boz_common::ports::StoredTrade {
            user_id: "u-bob".into(),
            kalshi_order_id: None,
            record: trade("b1", "NYC", "2026-11-20", "PENDING"),
        })
        .await
        .unwrap();
    tokio::time::sleep(boz_api::dashboard::EVENT_POLL * 2).await;
    api.store
        .insert_trade(&boz_common::ports::StoredTrade {
            user_id: "u-alice".into(),
            kalshi_order_id: None,
            record: trade("a1", "NYC", "2026-11-20", "PENDING"),
        })
        .await
        .unwrap();
    next_event(&mut seen, "event: trades").await;
    assert!(
        !seen.contains("event: queue") && !seen.contains("event: prices"),
        "{seen}"
    );
    assert_eq!(
        seen.matches("event: trades").count(),
        1,
        "bob's trade was not news to alice: {seen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_trading_engine_or_onboarding_the_api_answers_503() {
    // the router of a process that has neither (the tests' own `api()`), as a `boz serve`
    // without its engine would be
    let api = api(false).await;
    let (cookie, csrf) = api.session("alice").await;
    for (m, path, body) in [
        (reqwest::Method::GET, "/api/signals", None),
        (reqwest::Method::GET, "/api/markets", None),
        (
            reqwest::Method::POST,
            "/api/queue/t1/approve",
            Some(json!({})),
        ),
        (
            reqwest::Method::POST,
            "/api/trading-state/halt",
            Some(json!({"reason": "x"})),
        ),
        (
            reqwest::Method::POST,
            "/api/kalshi",
            Some(json!({"api_key_id": "k", "private_key": "p", "environment": "demo"})),
        ),
    ] {
        let mut req = api
            .http
            .request(m.clone(), format!("{}{path}", api.base))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{m} {path}");
        seed_error(&r.json().await.unwrap(), "UpstreamError");
    }
}
