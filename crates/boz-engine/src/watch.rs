//! Book watch: the open events' books kept over Kalshi's WebSocket feed (it needs the
//! installation's Kalshi credentials), and a trading cycle asked for when a bracket's best YES
//! bid or ask moves (at most one per minute: the job's tick is the minute, and the queue runs a
//! tick once). Without credentials the market feed job's REST polling (JOB_MARKETS_SECONDS)
//! does the same at its interval. The watched markets are read again every hour.

use std::collections::HashMap;
use std::time::Duration;

use boz_common::money::Price;
use boz_common::schemas::Side;
use boz_kalshi::ws::{FeedConfig, FeedEvent, MarketFeed};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::jobs::{Job, JobKind};
use crate::schedule::Schedule;
use crate::services::{Services, kalshi_credentials};

/// How often the watched markets are read again.
const REFRESH: Duration = Duration::from_secs(3600);

type Top = (Option<Price>, Option<Price>);

/// The bracket tickers of every open event of the configured cities.
async fn open_tickers(svc: &Services) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for city in &svc.cities {
        let events = svc
            .kalshi
            .weather_events(&city.kalshi_series, "open")
            .await
            .map_err(|e| format!("{}: {e}", city.code))?;
        out.extend(
            events
                .into_iter()
                .flat_map(|e| e.brackets.into_iter().map(|b| b.ticker)),
        );
    }
    Ok(out)
}

/// Watches until `stop` is cancelled, sending a trading cycle job on `moved` when a watched
/// book's top moves. Returns at once when no Kalshi credentials are configured.
pub async fn watch_books(
    svc: Services,
    moved: mpsc::UnboundedSender<Job>,
    stop: CancellationToken,
) {
    let credentials = match kalshi_credentials(&svc.settings) {
        Ok(Some(c)) => c,
        Ok(None) => {
            tracing::info!(target: "MARKET", "book watch off: no Kalshi credentials (the market feed job polls the books)");
            return;
        }
        Err(e) => {
            tracing::warn!(target: "MARKET", error = %e, "book watch off");
            return;
        }
    };
    let url = svc
        .settings
        .kalshi_ws_url
        .clone()
        .unwrap_or_else(|| svc.settings.kalshi_env.ws_url().to_string());
    while !stop.is_cancelled() {
        let tickers = match open_tickers(&svc).await {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(target: "MARKET", error = %e, "book watch: open markets unreadable; trying again in a minute");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(60)) => continue,
                }
            }
        };
        let feed = MarketFeed::new(svc.clock.clone());
        let events = feed.subscribe();
        let (stop_feed, stop_rx) = watch::channel(false);
        let config = FeedConfig {
            url: url.clone(),
            credentials: Some(credentials.clone()),
            tickers: tickers.clone(),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        };
        tracing::info!(target: "MARKET", markets = tickers.len(), "book watch on");
        let task = tokio::spawn(feed.clone().run(config, stop_rx));
        follow(&svc, &feed, events, &moved, &stop).await;
        let _ = stop_feed.send(true);
        let _ = task.await;
    }
}

/// Follows one feed until the refresh is due or `stop` is cancelled.
async fn follow(
    svc: &Services,
    feed: &MarketFeed,
    mut events: broadcast::Receiver<FeedEvent>,
    moved: &mpsc::UnboundedSender<Job>,
    stop: &CancellationToken,
) {
    let mut tops: HashMap<String, Top> = HashMap::new();
    let refresh = tokio::time::sleep(REFRESH);
    tokio::pin!(refresh);
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => return,
            _ = &mut refresh => return,
            e = events.recv() => e,
        };
        let ticker = match event {
            Ok(FeedEvent::BookChanged { ticker, .. }) => ticker,
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(target: "MARKET", missed = n, "book watch fell behind");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        let Some(book) = feed.book(&ticker) else {
            continue;
        };
        let top: Top = (
            book.best_bid(Side::Yes).map(|(p, _)| p),
            book.best_ask(Side::Yes).map(|(p, _)| p),
        );
        let before = tops.insert(ticker.clone(), top);
        if before.is_some_and(|b| b != top) {
            let tick = Schedule::tick(svc.clock.now(), 60);
            tracing::info!(target: "MARKET", ticker = %ticker, "book moved: trading cycle asked for");
            let _ = moved.send(Job::new(JobKind::TradingCycle, tick, "book moved"));
        }
    }
}
