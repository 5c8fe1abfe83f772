//! The WebSocket feed against a local WebSocket server: a signed handshake, per-market
//! subscriptions with `use_yes_price` set, snapshot and deltas, a sequence gap answered with a
//! snapshot request, pings, and a dropped connection followed by a reconnect.

#![allow(clippy::result_large_err)] // the handshake callback's signature is tungstenite's

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::signature::{RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
use base64::Engine;
use boz_common::money::{Count, Price};
use boz_common::ports::SystemClock;
use boz_common::schemas::Side;
use boz_kalshi::rest::Credentials;
use boz_kalshi::ws::{FeedConfig, FeedEvent, MarketFeed};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

/// One accepted connection: the upgrade headers, what the client sent, a way to send, and a
/// way to drop the connection.
struct Conn {
    headers: Vec<(String, String)>,
    from_client: mpsc::UnboundedReceiver<Message>,
    to_client: mpsc::UnboundedSender<Message>,
    kill: tokio::sync::oneshot::Sender<()>,
}

async fn ws_server() -> (String, mpsc::UnboundedReceiver<Conn>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/trade-api/ws/v2", listener.local_addr().unwrap());
    let (conn_tx, conn_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let mut headers = Vec::new();
            let ws =
                tokio_tungstenite::accept_hdr_async(stream, |req: &Request, resp: Response| {
                    headers = req
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
                        .collect();
                    Ok(resp)
                })
                .await
                .unwrap();
            let (mut sink, mut source) = ws.split();
            let (in_tx, in_rx) = mpsc::unbounded_channel();
            let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Message>();
            let (kill_tx, mut kill_rx) = tokio::sync::oneshot::channel::<()>();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        m = source.next() => match m {
                            Some(Ok(m)) => { let _ = in_tx.send(m); }
                            _ => return,
                        },
                        out = out_rx.recv() => match out {
                            Some(m) => { if sink.send(m).await.is_err() { return; } }
                            None => return,
                        },
                        _ = &mut kill_rx => return, // dropping both halves drops the connection
                    }
                }
            });
            let _ = conn_tx.send(Conn {
                headers,
                from_client: in_rx,
                to_client: out_tx,
                kill: kill_tx,
            });
        }
    });
    (url, conn_rx)
}

async fn next_json(c: &mut Conn) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), c.from_client.recv())
            .await
            .unwrap()
            .unwrap();
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn wait_for(
    rx: &mut broadcast::Receiver<FeedEvent>,
    want: impl Fn(&FeedEvent) -> bool,
) -> FeedEvent {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        if want(&e) {
            return e;
        }
    }
}

fn send(c: &Conn, v: Value) {
    c.to_client.send(Message::text(v.to_string())).unwrap();
}

const T1: &str = "KXHIGHNY-26SEP01-B80.5";
const T2: &str = "KXHIGHNY-26SEP01-B82.5";

fn snapshot(sid: u64, seq: u64, yes: &str) -> Value {
    json!({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": {
        "market_ticker": T1, "yes_dollars_fp": [[yes, "10.00"]], "no_dollars_fp": [["0.7000", "5.00"]]}})
}

fn delta(sid: u64, seq: u64, price: &str, d: &str) -> Value {
    json!({"type": "orderbook_delta", "sid": sid, "seq": seq, "msg": {
        "market_ticker": T1, "price_dollars": price, "delta_fp": d, "side": "yes", "ts_ms": 1}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_keeps_books_through_gaps_pings_and_reconnects() {
    let (url, mut conns) = ws_server().await;
    let (signer, public) = {
        use aws_lc_rs::encoding::AsDer;
        let kp =
            aws_lc_rs::signature::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let pem_text = pem::encode(&pem::Pem::new(
            "PRIVATE KEY",
            kp.as_der().unwrap().as_ref().to_vec(),
        ));
        let s = boz_crypto::KalshiSigner::from_pem(&pem_text).unwrap();
        let public = s.public_key_der();
        (Arc::new(s), public)
    };
    let feed = MarketFeed::new(Arc::new(SystemClock));
    let mut events = feed.subscribe();
    let (stop_tx, stop_rx) = watch::channel(false);
    let config = FeedConfig {
        url,
        credentials: Some(Credentials {
            api_key_id: "key-123".into(),
            signer,
        }),
        tickers: vec![T1.into(), T2.into()],
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    };
    let task = tokio::spawn(feed.clone().run(config, stop_rx));

    // The signed handshake.
    let mut c = tokio::time::timeout(Duration::from_secs(10), conns.recv())
        .await
        .unwrap()
        .unwrap();
    let h = |name: &str| {
        c.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    assert_eq!(h("KALSHI-ACCESS-KEY"), "key-123");
    let ts = h("KALSHI-ACCESS-TIMESTAMP");
    assert_eq!(ts.len(), 13, "milliseconds");
    let sig = base64::engine::general_purpose::STANDARD
        .decode(h("KALSHI-ACCESS-SIGNATURE"))
        .unwrap();
    UnparsedPublicKey::new(&RSA_PSS_2048_8192_SHA256, &public)
        .verify(format!("{ts}GET/trade-api/ws/v2").as_bytes(), &sig)
        .expect("the handshake signature verifies");

    // One orderbook_delta subscription per market, use_yes_price set explicitly.
    let s1 = next_json(&mut c).await;
    assert_eq!(s1["cmd"], "subscribe");
    assert_eq!(
        s1["params"],
        json!({"channels": ["orderbook_delta"], "market_ticker": T1, "use_yes_price": false})
    );
    let s2 = next_json(&mut c).await;
    assert_eq!(s2["params"]["market_ticker"], T2);
    let s3 = next_json(&mut c).await;
    assert_eq!(
        s3["params"]["channels"],
        json!(["ticker", "market_lifecycle_v2"])
    );
    let s4 = next_json(&mut c).await;
    assert_eq!(s4["params"]["channels"], json!(["fill"]));

    // Snapshot, then a delta.
    send(&c, snapshot(1, 1, "0.2000"));
    wait_for(
        &mut events,
        |e| matches!(e, FeedEvent::BookChanged { ticker, .. } if ticker == T1),
    )
    .await;
    assert_eq!(
        feed.book(T1).unwrap().best_ask(Side::Yes),
        Some((Price::parse("0.30").unwrap(), Count::whole(5)))
    );
    send(&c, delta(1, 2, "0.2500", "4.00"));
    wait_for(&mut events, |e| matches!(e, FeedEvent::BookChanged { .. })).await;
    assert_eq!(
        feed.book(T1).unwrap().best_bid(Side::Yes),
        Some((Price::parse("0.25").unwrap(), Count::whole(4)))
    );

    // A gap: the book is dropped and a snapshot is asked for on that subscription.
    send(&c, delta(1, 4, "0.2600", "1.00"));
    let gap = wait_for(&mut events, |e| matches!(e, FeedEvent::Gap { .. })).await;
    assert_eq!(
        gap,
        FeedEvent::Gap {
            ticker: T1.into(),
            expected: 3,
            got: 4
        }
    );
    assert!(feed.book(T1).is_none(), "a book with a gap is not used");
    let resync = next_json(&mut c).await;
    assert_eq!(resync["cmd"], "update_subscription");
    assert_eq!(
        resync["params"],
        json!({"sid": 1, "action": "get_snapshot"})
    );
    send(&c, snapshot(1, 5, "0.2100"));
    wait_for(&mut events, |e| matches!(e, FeedEvent::BookChanged { .. })).await;
    assert_eq!(
        feed.book(T1).unwrap().best_bid(Side::Yes).unwrap().0,
        Price::parse("0.21").unwrap()
    );

    // Pings are answered.
    c.to_client
        .send(Message::Ping(b"hb".to_vec().into()))
        .unwrap();
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), c.from_client.recv())
            .await
            .unwrap()
            .unwrap();
        if let Message::Pong(p) = m {
            assert_eq!(&p[..], b"hb");
            break;
        }
    }

    // Other channels are passed on.
    send(
        &c,
        json!({"type": "ticker", "sid": 3, "seq": 1, "msg": {"market_ticker": T1, "price_dollars": "0.2200"}}),
    );
    wait_for(
        &mut events,
        |e| matches!(e, FeedEvent::Message { channel, .. } if channel == "ticker"),
    )
    .await;

    // The connection drops: books go stale, the feed reconnects and subscribes again.
    c.kill.send(()).unwrap();
    wait_for(&mut events, |e| matches!(e, FeedEvent::Disconnected { .. })).await;
    assert!(feed.book(T1).is_none());
    let mut c2 = tokio::time::timeout(Duration::from_secs(10), conns.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next_json(&mut c2).await["params"]["market_ticker"], T1);
    send(&c2, snapshot(7, 1, "0.2300"));
    wait_for(&mut events, |e| matches!(e, FeedEvent::BookChanged { .. })).await;
    assert_eq!(
        feed.book(T1).unwrap().best_bid(Side::Yes).unwrap().0,
        Price::parse("0.23").unwrap()
    );

    stop_tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .unwrap()
        .unwrap();
}
