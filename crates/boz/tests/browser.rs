//! The dashboard in a real browser: headless Chromium driven over WebDriver (Debian's
//! `chromium` and `chromium-driver`, which `.ci/run` installs) against `boz run` on SQLite, in
//! manual mode against the fake Kalshi. It signs in, opens New York's market page, approves the
//! pending trade there, finds it among the trades, saves a settings change, connects a Kalshi key
//! through the onboarding form, and saves screenshots (desktop and phone sizes) as artefacts in
//! `$BOZ_ARTIFACTS_DIR` (default `target/tmp/browser`).
//!
//! Without `chromedriver` on the PATH the test says so and passes, unless `BOZ_REQUIRE_BROWSER`
//! is set (CI sets it), when it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use support::fake_kalshi;
use support::process::*;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// `chromedriver`, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver; `None` when it is not installed.
async fn chromedriver() -> Option<(Driver, String)> {
    let port = free_port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            assert!(
                std::env::var_os("BOZ_REQUIRE_BROWSER").is_none(),
                "chromedriver is needed (apt-get install chromium chromium-driver): {e}"
            );
            eprintln!("skipped: chromedriver is not installed ({e})");
            return None;
        }
    };
    let driver = Driver(child);
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(format!("{url}/status")).await
            && r.status().is_success()
        {
            return Some((driver, url));
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn browser(driver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,1000"]}),
    );
    // WebDriver is plain HTTP here, but the builder wants a TLS provider chosen
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

fn artefacts() -> PathBuf {
    let dir = std::env::var_os("BOZ_ARTIFACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(c: &Client, name: &str) -> PathBuf {
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = artefacts().join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

async fn type_into(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// Waits until `script` (a JavaScript expression) is truthy in the page.
async fn until_js(c: &Client, what: &str, script: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = c
            .execute(&format!("return {script};"), vec![])
            .await
            .unwrap();
        if !(v.is_null() || v == json!(false) || v == json!(0) || v == json!("")) {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_open_a_market_approve_its_trade_and_find_it_among_the_trades() {
    let Some((_driver, driver_url)) = chromedriver().await else {
        return;
    };
    // boz run, the local user in manual mode: the start-up cycle queues its trades
    let run = boz_run_manual(async |_| {}).await;
    let (base, otp) = (run.base.clone(), run.otp.clone());
    let date = fake_kalshi::event_date().to_string();

    let c = browser(&driver_url).await;
    // a page without a session sends the browser to sign in
    let market = format!("/markets/NYC/{date}");
    c.goto(&format!("{base}{market}")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/login", "{url}");
    type_into(&c, "#username", "admin").await;
    type_into(&c, "#password", &otp).await;
    click(&c, "#sign-in").await;
    // a one-time password leads to the password form first
    until_js(
        &c,
        "the settings page",
        "location.pathname === '/settings' && location.hash === '#password'",
    )
    .await;

    // New York's market page: four brackets as bars, the queued trade with its buttons
    c.goto(&format!("{base}{market}")).await.unwrap();
    let n = until_js(
        &c,
        "the brackets",
        "document.querySelectorAll('.bracket').length",
    )
    .await;
    assert_eq!(n, json!(4));
    // low to high, labelled by the whole degrees they pay on
    let labels = c
        .execute(
            "return [...document.querySelectorAll('.bracket .label')].map(l => l.textContent);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        labels,
        json!(["50F or below", "51-52F", "53-54F", "55F or above"])
    );
    let widths = c
        .execute(
            "return [...document.querySelectorAll('.bar.model')].map(b => b.getBoundingClientRect().width);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        widths
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_f64().unwrap() > 10.0),
        "model bars drawn: {widths}"
    );
    let id = until_js(
        &c,
        "a pending trade on the market page",
        "document.querySelector('li.queued') && document.querySelector('li.queued').dataset.id",
    )
    .await;
    let id = id.as_str().unwrap().to_string();
    screenshot(&c, "market-desktop.png").await;
    c.set_window_size(412, 915).await.unwrap();
    screenshot(&c, "market-phone.png").await;
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(overflow, json!(false), "the page fits a phone's width");
    c.set_window_size(1280, 1000).await.unwrap();

    // approve it
    c.find(Locator::Css(&format!(
        "form.decide[data-id='{id}'] button.approve"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let flash = until_js(
        &c,
        "the approval's answer",
        "!document.getElementById('flash').hidden && document.getElementById('flash').textContent",
    )
    .await;
    assert!(flash.as_str().unwrap().starts_with("Approved"), "{flash}");
    // the queue updates itself: the approved trade leaves it
    until_js(
        &c,
        "the trade to leave the page's queue",
        &format!("!document.querySelector(\"li.queued[data-id='{id}']\")"),
    )
    .await;

    // among the trades, executed on the paper venue
    c.goto(&format!("{base}/trades")).await.unwrap();
    let status = until_js(
        &c,
        "the approved trade in the trades",
        &format!(
            "document.querySelector(\"#trades tr[data-id='{id}']\") && \
             document.querySelector(\"#trades tr[data-id='{id}'] td:nth-child(7)\").textContent"
        ),
    )
    .await;
    assert!(
        ["APPROVED", "EXECUTED"].contains(&status.as_str().unwrap()),
        "{status}"
    );
    let shot = screenshot(&c, "trades.png").await;
    assert!(std::fs::metadata(shot).unwrap().len() > 1000);

    // settings: a change saved through the form, a bad value refused naming the field
    c.goto(&format!("{base}/settings")).await.unwrap();
    let field = c
        .find(Locator::Css("input[name='max_trade_size']"))
        .await
        .unwrap();
    field.clear().await.unwrap();
    field.send_keys("-1").await.unwrap();
    click(&c, "#settings-form button[type='submit']").await;
    let err = until_js(
        &c,
        "the settings error",
        "!document.getElementById('settings-error').hidden && document.getElementById('settings-error').textContent",
    )
    .await;
    assert!(err.as_str().unwrap().contains("max_trade_size"), "{err}");
    field.clear().await.unwrap();
    field.send_keys("2.5").await.unwrap();
    click(&c, "#settings-form button[type='submit']").await;
    until_js(
        &c,
        "settings saved",
        "document.getElementById('flash').textContent === 'Settings saved'",
    )
    .await;
    let saved = run.store.get_user("local").await.unwrap().settings;
    assert_eq!(saved["max_trade_size"], json!(2.5), "{saved}");

    // onboarding: a key pasted, checked against (the fake) Kalshi, stored, never shown
    c.goto(&format!("{base}/onboarding")).await.unwrap();
    type_into(&c, "input[name='api_key_id']", "key-browser").await;
    let pem = fake_kalshi::private_key_pem();
    type_into(&c, "textarea[name='private_key']", &pem).await;
    click(&c, "#kalshi-form button[type='submit']").await;
    until_js(
        &c,
        "connected",
        "document.body.textContent.includes('key-browser') && document.body.textContent.includes('Connected')",
    )
    .await;
    let page = c.source().await.unwrap();
    assert!(
        !page.contains(pem.lines().nth(2).unwrap()),
        "the key is never shown"
    );
    assert_eq!(
        run.store.kalshi_env("local").await.unwrap().as_deref(),
        Some("demo")
    );

    // the performance page draws its charts from the vendored uPlot
    c.goto(&format!("{base}/performance")).await.unwrap();
    until_js(&c, "uPlot loaded", "typeof uPlot === 'function'").await;
    screenshot(&c, "performance.png").await;
    c.close().await.unwrap();
    let p = run.proc;
    tokio::task::spawn_blocking(move || p.stop()).await.unwrap();
}
