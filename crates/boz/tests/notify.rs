//! Notifications: the webhook's three formats, a failing webhook never blocks, and a weather
//! source that stays down is reported.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

mod support;

use serde_json::Value;
use support::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn posted(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/hook")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn halt_with(format: &str, status: u16) -> (std::process::Output, Vec<Value>) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(status))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (d, hook, format) = (
        dir.path().to_path_buf(),
        format!("{}/hook", server.uri()),
        format.to_string(),
    );
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &d,
            &[
                ("NOTIFY_WEBHOOK_URL", &hook),
                ("NOTIFY_WEBHOOK_FORMAT", &format),
            ],
            &["halt", "--reason", "storm coming"],
        )
    })
    .await
    .unwrap();
    (out, posted(&server).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_webhook_formats() {
    let (out, got) = halt_with("generic", 200).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["kind"], "trading_halted");
    assert_eq!(got[0]["title"], "Trading halted for local");
    assert!(got[0]["text"].as_str().unwrap().contains("storm coming"));
    assert_eq!(got[0]["data"]["reason"], "storm coming");
    let (_, got) = halt_with("discord", 204).await;
    assert!(
        got[0]["content"]
            .as_str()
            .unwrap()
            .starts_with("**Trading halted for local**\n"),
        "{got:?}"
    );
    let (_, got) = halt_with("slack", 200).await;
    assert!(
        got[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("*Trading halted for local*\n"),
        "{got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_webhook_never_blocks() {
    let (out, got) = halt_with("generic", 500).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("HALTED"));
    assert_eq!(got.len(), 1, "tried once, not retried");
    // nothing listening at all
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &d,
            &[
                ("NOTIFY_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
                ("HTTP_TIMEOUT_SECONDS", "2"),
            ],
            &["halt"],
        )
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_stays_down_is_reported() {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let down = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&down)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (d, url, h) = (
        dir.path().to_path_buf(),
        down.uri(),
        format!("{}/hook", hook.uri()),
    );
    let out = tokio::task::spawn_blocking(move || {
        boz(
            &d,
            &[
                ("NWS_BASE_URL", &url),
                ("OPEN_METEO_BASE_URL", &url),
                ("OPEN_METEO_ENSEMBLE_URL", &url),
                ("NOTIFY_WEBHOOK_URL", &h),
                ("HTTP_TIMEOUT_SECONDS", "2"),
            ],
            &["weather", "fetch", "--city", "NYC"],
        )
    })
    .await
    .unwrap();
    assert!(!out.status.success(), "every source failed");
    let got = posted(&hook).await;
    assert!(!got.is_empty());
    assert!(got.iter().all(|n| n["kind"] == "source_down"), "{got:?}");
    assert!(
        got.iter().any(|n| n["title"] == "NWS down for NYC"),
        "{got:?}"
    );
    assert!(
        got[0]["text"]
            .as_str()
            .unwrap()
            .contains("no stored forecast in the last 7 days")
    );
}
