//! `boz signals`, `boz trade cycle | pending | approve | reject`, `boz halt`, `boz resume`.
//!
//! The command line acts for one user (`--user`, default `local`). A fresh installation has no
//! users; the first trading command creates `local` with the DEFAULT_* limits (manual mode, as
//! for every new user) and no Kalshi key: it can trade on the paper venue only.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use boz_common::config::{Settings, TradingVenue};
use boz_common::ports::{Clock, Exchange, Store, StoredUser, SystemClock};
use boz_kalshi::market_data::KalshiMarketData;
use boz_kalshi::paper::PaperExchange;
use boz_kalshi::rest::KalshiExchange;
use boz_store::Database;
use boz_trading::{TradingConfig, TradingEngine};

use crate::paper_venue::PaperVenue;
use crate::setup;

pub const LOCAL_USER: &str = "local";

/// Creates the `local` user if there are no users yet.
pub async fn ensure_local_user(store: &Arc<dyn Store>, settings: &Settings) -> Result<()> {
    if !store.list_users().await?.is_empty() {
        return Ok(());
    }
    let defaults = settings.default_user_settings()?;
    store
        .create_user(&StoredUser {
            id: LOCAL_USER.into(),
            api_key_id: String::new(),
            encrypted_private_key: String::new(),
            settings: serde_json::to_value(&defaults)?,
            created_at: chrono::Utc::now(),
        })
        .await?;
    eprintln!("created user {LOCAL_USER} (paper only, manual mode, the DEFAULT_* limits)");
    Ok(())
}

pub struct Running {
    pub db: Database,
    pub engine: TradingEngine,
}

/// The engine on the configured venue, for `user`.
pub async fn engine(user: &str) -> Result<Running> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    ensure_local_user(&store, &settings).await?;
    store
        .get_user(user)
        .await
        .with_context(|| format!("no user {user}"))?;
    let client = Arc::new(crate::commands::kalshi::client(&settings)?);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let exchange: Arc<dyn Exchange> = match settings.trading_venue {
        TradingVenue::Paper => Arc::new(PaperVenue {
            paper: PaperExchange::new(settings.paper_starting_balance, clock.clone()),
            client: client.clone(),
            store: store.clone(),
            user_id: user.to_string(),
            starting_balance: settings.paper_starting_balance,
        }),
        TradingVenue::Demo | TradingVenue::Live => {
            if settings.kalshi_api_key_id.is_none() {
                bail!(
                    "TRADING_VENUE={} needs KALSHI_API_KEY_ID and a private key",
                    settings.trading_venue.as_str()
                );
            }
            Arc::new(KalshiExchange(client.clone()))
        }
    };
    let engine = TradingEngine {
        store,
        market: Arc::new(KalshiMarketData::new(client)),
        exchange,
        clock,
        config: TradingConfig::from_settings(&settings),
        cities: setup::cities(&[])?,
        notifier: crate::notify::from_settings(&settings),
    };
    Ok(Running { db, engine })
}

pub async fn signals(user: &str, codes: &[String], json: bool) -> Result<()> {
    let r = engine(user).await?;
    let (mut candidates, errors) = r.engine.signals(Some(user)).await?;
    if !codes.is_empty() {
        candidates.retain(|c| {
            codes
                .iter()
                .any(|code| c.signal.as_ref().is_some_and(|s| s.city.as_str() == code))
        });
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"candidates": candidates, "errors": errors})
            )?
        );
    } else {
        for c in &candidates {
            println!(
                "{:<28} {:<3} at {:<8} model {:>5.1}%  EV {:>+8.4}  size {:>5}  ${:<8} {}",
                c.ticker,
                c.side.as_str(),
                c.price.to_string(),
                c.probability * 100.0,
                c.ev,
                c.contracts.to_string(),
                c.commitment.to_string(),
                c.verdict
            );
        }
        for e in &errors {
            eprintln!("{e}");
        }
        if candidates.is_empty() {
            println!("No candidates.");
        }
    }
    r.db.close().await;
    Ok(())
}

pub async fn cycle(dry_run: bool, json: bool) -> Result<()> {
    let settings = setup::settings()?;
    let _telemetry = setup::telemetry(&settings, Vec::new())?;
    let r = engine(LOCAL_USER).await?;
    let report = r.engine.cycle(dry_run).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for o in &report.orders {
            println!(
                "order {} {} {} {} at {}: {} filled for ${} + ${} fees ({})",
                o.request.client_order_id,
                o.request.ticker,
                o.request.side.as_str(),
                o.request.count,
                o.request.price,
                o.filled,
                o.fill_cost,
                o.fees,
                o.status.as_str()
            );
        }
        for id in &report.queued {
            println!("queued for approval: {id}");
        }
        for id in &report.expired {
            println!("expired: {id}");
        }
        for s in &report.refused {
            println!("refused: {s}");
        }
        for rec in &report.reconciliation {
            for m in &rec.mismatches {
                println!("reconciliation: {m}");
            }
        }
        for e in &report.errors {
            eprintln!("{e}");
        }
        println!(
            "{} candidates, {} orders, {} queued{}",
            report.candidates.len(),
            report.orders.len(),
            report.queued.len(),
            if dry_run {
                " (dry run: nothing placed)"
            } else {
                ""
            }
        );
    }
    r.db.close().await;
    Ok(())
}

pub async fn pending(user: &str, json: bool) -> Result<()> {
    let r = engine(user).await?;
    let list = r.engine.store.list_approvals(user, true).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for a in &list {
            let p = &a.pending;
            println!(
                "{} {} {} x{} limit {} expires {}\n  {}",
                p.id,
                p.market_ticker,
                p.signal.side.as_str(),
                p.quantity,
                p.limit_price,
                p.expires_at.to_rfc3339(),
                p.signal.reasoning
            );
        }
        if list.is_empty() {
            println!("Nothing waits for approval.");
        }
    }
    r.db.close().await;
    Ok(())
}

pub async fn approve(user: &str, id: &str, limit: Option<boz_common::Price>) -> Result<()> {
    let r = engine(user).await?;
    let result = r.engine.approve(user, id, user, limit).await;
    r.db.close().await;
    let o = result?;
    println!(
        "approved {id}: order {} {} filled at ${} + ${} fees ({})",
        o.request.client_order_id,
        o.filled,
        o.fill_cost,
        o.fees,
        o.status.as_str()
    );
    Ok(())
}

pub async fn reject(user: &str, id: &str, reason: Option<&str>) -> Result<()> {
    let r = engine(user).await?;
    let result = r.engine.reject(user, id, user, reason).await;
    r.db.close().await;
    result?;
    println!("rejected {id}");
    Ok(())
}

pub async fn halt(user: &str, reason: &str) -> Result<()> {
    let r = engine(user).await?;
    let result = r.engine.halt(user, user, reason).await;
    r.db.close().await;
    result?;
    println!("trading HALTED for {user}: {reason} (only `boz resume` restarts it)");
    Ok(())
}

pub async fn resume(user: &str) -> Result<()> {
    let r = engine(user).await?;
    let result = r.engine.resume(user, user).await;
    r.db.close().await;
    result?;
    println!("trading ACTIVE for {user}");
    Ok(())
}
