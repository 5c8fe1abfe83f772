//! A sweep of every endpoint of `boz run` (the API, the dashboard's pages and the event
//! stream): without a session or token each answers 401 (pages: a redirect to sign in); a
//! state-changing request with a forged or missing CSRF token is refused with 403; a second
//! user can neither see nor act on the first user's trades, queue, settings, trading state or
//! Kalshi key; and no response body, of any endpoint, holds a secret (passwords, the session,
//! the API token, the Kalshi private key or its ciphertext, the encryption key).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::fake_kalshi;
use support::process::*;
use support::*;

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const BOB_PASSWORD: &str = "bob's long password";

/// Every route: method, path (`{trade}` and `{queued}` stand for the first user's ids), body.
fn endpoints() -> Vec<(Method, &'static str, Option<Value>)> {
    use Method as M;
    let settings = json!({"trading_mode": "manual", "max_trade_size": 3.0, "daily_loss_limit": 10.0,
        "max_daily_exposure": 25.0, "min_ev_threshold": 0.05, "cooldown_per_loss_minutes": 60,
        "consecutive_loss_limit": 3, "cities": ["NYC"]});
    vec![
        (M::POST, "/api/logout", None),
        (M::GET, "/api/me", None),
        (
            M::POST,
            "/api/password",
            Some(json!({"current_password": "x", "new_password": "a new long password"})),
        ),
        (M::GET, "/api/settings", None),
        (M::PUT, "/api/settings", Some(settings)),
        (M::GET, "/api/trades", None),
        (M::GET, "/api/trades/{trade}", None),
        (M::GET, "/api/kalshi", None),
        (
            M::POST,
            "/api/kalshi",
            Some(json!({"api_key_id": "k", "private_key": "x", "environment": "demo"})),
        ),
        (M::DELETE, "/api/kalshi", None),
        (M::GET, "/api/weather", None),
        (M::GET, "/api/predictions?city=NYC&date={date}", None),
        (M::GET, "/api/logs", None),
        (M::GET, "/api/signals", None),
        (M::GET, "/api/markets", None),
        (M::GET, "/api/queue", None),
        (M::POST, "/api/queue/{queued}/approve", Some(json!({}))),
        (
            M::POST,
            "/api/queue/{queued}/reject",
            Some(json!({"reason": "no"})),
        ),
        (M::GET, "/api/trading-state", None),
        (
            M::POST,
            "/api/trading-state/halt",
            Some(json!({"reason": "sweep"})),
        ),
        (M::POST, "/api/trading-state/resume", None),
        (M::GET, "/api/performance", None),
        (M::GET, "/api/events", None),
    ]
}

const PAGES: [&str; 10] = [
    "/",
    "/markets",
    "/markets/NYC/{date}",
    "/queue",
    "/trades",
    "/performance",
    "/settings",
    "/onboarding",
    "/logs",
    "/trades?status=PENDING",
];

struct Sweep {
    base: String,
    http: reqwest::Client,
    trade: String,
    queued: String,
    date: String,
    /// Every response body seen.
    bodies: Vec<(String, String)>,
}

impl Sweep {
    fn url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.base,
            path.replace("{trade}", &self.trade)
                .replace("{queued}", &self.queued)
                .replace("{date}", &self.date)
        )
    }

    /// Sends the request; returns the status and body (the event stream: its first chunk).
    async fn send(
        &mut self,
        m: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let mut req = self.http.request(m.clone(), self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let mut r = req.send().await.unwrap();
        let status = r.status();
        let text = if path == "/api/events" && status.is_success() {
            let chunk = tokio::time::timeout(Duration::from_secs(30), r.chunk())
                .await
                .unwrap()
                .unwrap()
                .unwrap_or_default();
            String::from_utf8_lossy(&chunk).into_owned()
        } else {
            r.text().await.unwrap()
        };
        self.bodies.push((format!("{m} {path}"), text.clone()));
        (status, text)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_refuses_strangers_forged_requests_and_other_users_and_leaks_no_secret() {
    let mut token = String::new();
    let run = boz_run_manual(async |store| {
        add_login(store, "bob", "bob", "user", BOB_PASSWORD).await;
        token = add_token(store, "tok-admin", "local").await;
    })
    .await;
    let token_hash = boz_crypto::token::hash_secret(&token);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = run.base.clone();
    let (admin_cookie, admin_csrf) = sign_in(&http, &base, "admin", &run.otp).await;
    let (bob_cookie, bob_csrf) = sign_in(&http, &base, "bob", BOB_PASSWORD).await;

    // the first user (admin, acting for the local user) connects a Kalshi key and has trades
    let pem = fake_kalshi::private_key_pem();
    let r = http
        .post(format!("{base}/api/kalshi"))
        .header("cookie", &admin_cookie)
        .header("x-csrf-token", &admin_csrf)
        .json(&json!({"api_key_id": "key-admin", "private_key": pem, "environment": "demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let connected = r.text().await.unwrap();
    let ciphertext = run
        .store
        .get_user("local")
        .await
        .unwrap()
        .encrypted_private_key;
    assert!(!ciphertext.is_empty());
    let deadline = Instant::now() + Duration::from_secs(120);
    let queue = loop {
        let q: Value = http
            .get(format!("{base}/api/queue"))
            .header("cookie", &admin_cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(first) = q["queue"].as_array().and_then(|a| a.first()) {
            break first.clone();
        }
        assert!(Instant::now() < deadline, "nothing queued");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let queued = queue["id"].as_str().unwrap().to_string();
    let mut sweep = Sweep {
        base: base.clone(),
        http: http.clone(),
        trade: queued.clone(),
        queued: queued.clone(),
        date: fake_kalshi::event_date().to_string(),
        bodies: vec![("POST /api/kalshi (connect)".into(), connected)],
    };

    // 1. strangers: 401 from every endpoint, with or without a made-up cookie or token; pages
    //    send them to sign in
    for (m, path, body) in endpoints() {
        for headers in [
            vec![],
            vec![("cookie", "boz_session=made-up")],
            vec![("authorization", "Bearer boz_made-up")],
        ] {
            let (status, text) = sweep.send(m.clone(), path, body.as_ref(), &headers).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{m} {path} {headers:?}: {text}"
            );
            assert!(text.contains("AuthenticationError"), "{m} {path}: {text}");
        }
    }
    for page in PAGES {
        let (status, _) = sweep.send(Method::GET, page, None, &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    }

    // 2. forged CSRF: every state-changing request of a session without the right token is
    //    refused before it does anything
    for (m, path, body) in endpoints() {
        if m == Method::GET {
            continue;
        }
        for forged in [None, Some("forged-token"), Some(bob_csrf.as_str())] {
            let mut headers = vec![("cookie", admin_cookie.as_str())];
            if let Some(f) = forged {
                headers.push(("x-csrf-token", f));
            }
            let (status, text) = sweep.send(m.clone(), path, body.as_ref(), &headers).await;
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{m} {path} {forged:?}: {text}"
            );
        }
    }
    // nothing happened: still signed in, still connected, still queued, still trading
    let admin = [("cookie", admin_cookie.as_str())];
    let (s, me) = sweep.send(Method::GET, "/api/me", None, &admin).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    let (_, k) = sweep.send(Method::GET, "/api/kalshi", None, &admin).await;
    assert!(k.contains(r#""connected":true"#), "{k}");
    let (_, q) = sweep.send(Method::GET, "/api/queue", None, &admin).await;
    assert!(q.contains(&queued), "{q}");
    let (_, st) = sweep
        .send(Method::GET, "/api/trading-state", None, &admin)
        .await;
    assert!(st.contains(r#""state":"ACTIVE""#), "{st}");

    // 3. the second user, on every endpoint: sees and changes only his own
    let bob = [
        ("cookie", bob_cookie.as_str()),
        ("x-csrf-token", bob_csrf.as_str()),
    ];
    for (m, path, body) in endpoints() {
        if path == "/api/logout" || path == "/api/password" {
            continue; // his own session and password
        }
        let (status, text) = sweep.send(m.clone(), path, body.as_ref(), &bob).await;
        // a "not found" names the id asked for, and nothing of the trade
        let shown = if status == StatusCode::NOT_FOUND {
            text.replace(&queued, "")
        } else {
            text.clone()
        };
        assert!(
            !shown.contains(&queued) && !text.contains("key-admin"),
            "{m} {path} shows the first user's data: {text}"
        );
        let want = match path {
            "/api/trades/{trade}"
            | "/api/queue/{queued}/approve"
            | "/api/queue/{queued}/reject" => Some(StatusCode::NOT_FOUND),
            "/api/logs" => Some(StatusCode::FORBIDDEN),
            "/api/kalshi" if m == Method::POST => Some(StatusCode::UNPROCESSABLE_ENTITY),
            _ => None,
        };
        if let Some(w) = want {
            assert_eq!(status, w, "{m} {path}: {text}");
        } else if path.starts_with("/api/predictions") {
            assert!(
                status.is_success() || status == StatusCode::NOT_FOUND,
                "{path}: {status}"
            );
        } else {
            assert!(status.is_success(), "{m} {path}: {status} {text}");
        }
    }
    for page in PAGES {
        let (status, text) = sweep.send(Method::GET, page, None, &bob).await;
        if page == "/logs" {
            assert_eq!(status, StatusCode::FORBIDDEN);
        } else {
            assert_eq!(status, StatusCode::OK, "{page}");
        }
        assert!(
            !text.contains(&queued) && !text.contains("key-admin"),
            "{page} shows the first user's data: {text}"
        );
    }
    // ... and the first user's things are as they were
    let (_, k) = sweep.send(Method::GET, "/api/kalshi", None, &admin).await;
    assert!(
        k.contains(r#""connected":true"#),
        "bob's disconnect was his own: {k}"
    );
    let (_, q) = sweep.send(Method::GET, "/api/queue", None, &admin).await;
    assert!(q.contains(&queued), "bob's reject was refused: {q}");
    let (_, st) = sweep
        .send(Method::GET, "/api/trading-state", None, &admin)
        .await;
    assert!(
        st.contains(r#""state":"ACTIVE""#),
        "bob's halt was his own: {st}"
    );
    let (_, set) = sweep.send(Method::GET, "/api/settings", None, &admin).await;
    let set: Value = serde_json::from_str(&set).unwrap();
    assert_ne!(
        set["max_trade_size"],
        json!(3.0),
        "bob's settings change was his own: {set}"
    );
    let bobs = run.store.get_user("bob").await.unwrap().settings;
    assert_eq!(bobs["max_trade_size"], json!(3.0), "{bobs}");

    // 4. the first user's own view of every endpoint (with the API token as well)
    let bearer = format!("Bearer {token}");
    for (m, path, _) in endpoints() {
        if m == Method::GET {
            sweep.send(m.clone(), path, None, &admin).await;
            sweep
                .send(m, path, None, &[("authorization", bearer.as_str())])
                .await;
        }
    }
    for page in PAGES {
        let (status, _) = sweep.send(Method::GET, page, None, &admin).await;
        assert_eq!(status, StatusCode::OK, "{page}");
    }
    for path in ["/metrics", "/health", "/api/openapi.json", "/login"] {
        sweep.send(Method::GET, path, None, &[]).await;
    }

    // no body anywhere holds a secret
    let admin_session = admin_cookie.trim_start_matches("boz_session=").to_string();
    let bob_session = bob_cookie.trim_start_matches("boz_session=").to_string();
    let pem_line = pem.lines().nth(2).unwrap().to_string();
    let secrets = [
        ("the admin's one-time password", run.otp.clone()),
        ("bob's password", BOB_PASSWORD.to_string()),
        ("the admin's session", admin_session),
        ("bob's session", bob_session),
        ("the API token", token.clone()),
        ("the API token's hash", token_hash.clone()),
        ("the private key", pem_line),
        ("a private key header", "PRIVATE KEY".to_string()),
        (
            "the key's ciphertext",
            ciphertext[..40.min(ciphertext.len())].to_string(),
        ),
        ("the encryption key", MASTER.to_string()),
    ];
    assert!(sweep.bodies.len() > 150, "{} responses", sweep.bodies.len());
    for (what, body) in &sweep.bodies {
        for (name, secret) in &secrets {
            assert!(!body.contains(secret.as_str()), "{what} shows {name}");
        }
    }
    let p = run.proc;
    tokio::task::spawn_blocking(move || p.stop()).await.unwrap();
}
