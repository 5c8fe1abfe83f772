//! `boz signals`, `boz trade cycle | pending | approve | reject`, `boz halt`, `boz resume`.
//!
//! The command line acts for one user (`--user`, default `local`). A fresh installation has no
//! users; the first trading command creates `local` with the DEFAULT_* limits (manual mode, as
//! for every new user) and no Kalshi key: it can trade on the paper venue only.

use anyhow::{Context, Result};
use boz_engine::services::{LOCAL_USER, ensure_local_user};
use boz_store::Database;
use boz_trading::TradingEngine;

use crate::setup;

pub struct Running {
    pub db: Database,
    pub engine: TradingEngine,
}

/// The engine on the configured venue, for `user`.
pub async fn engine(user: &str) -> Result<Running> {
    let settings = setup::settings()?;
    let opened = setup::services(&settings).await?;
    let store = opened.svc.store.clone();
    if ensure_local_user(&store, &settings).await? {
        eprintln!("created user {LOCAL_USER} (paper only, manual mode, the DEFAULT_* limits)");
    }
    store
        .get_user(user)
        .await
        .with_context(|| format!("no user {user}"))?;
    let engine = boz_engine::trading::engine(&opened.svc, user)?;
    Ok(Running {
        db: opened.db,
        engine,
    })
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
