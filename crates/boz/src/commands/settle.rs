//! `boz settle`, `boz settle parse FILE`, `boz postmortem TRADE_ID`.
//!
//! `boz settle` reads each city's recent climate reports from the NWS, stores the settled high
//! of every day with a final report (a correction replaces it and is reported), then settles
//! every EXECUTED trade of those days whose market Kalshi has finalized: WON or LOST from the
//! market's result, P&L from our fills, the risk accounting and the post-mortem in one
//! transaction. Running it again changes nothing.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use boz_common::city::City;
use boz_common::ports::{
    MarketData, Notification, NotificationKind, Notifier, OrderStatus, SettlementRow, Store,
    SystemClock, TradeFilter, TradeSettlement,
};
use boz_common::status::TradeStatus;
use boz_common::{Dollars, Price};
use boz_kalshi::market_data::KalshiMarketData;
use boz_settle::climate::parse;
use boz_settle::postmortem::{Facts, postmortem};
use boz_settle::settlement::{DayHigh, Issued, cross_check, day_high, outcome, read_products};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use crate::setup;

/// How many of the newest climate products are read per city.
const PRODUCTS: usize = 12;

pub fn parse_file(path: &Path, as_json: bool) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let reports = parse(&text)
        .with_context(|| format!("{} is not a readable climate report", path.display()))?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
        return Ok(());
    }
    for r in &reports {
        let show = |o: &Option<boz_settle::Observation>| {
            o.as_ref().map_or("missing (MM)".to_string(), |o| {
                format!(
                    "{}°F{}{}{}",
                    o.value_f,
                    o.time_lst
                        .map_or(String::new(), |t| format!(" at {} LST", t.format("%H:%M"))),
                    if o.record { ", record" } else { "" },
                    if o.estimated { ", estimated" } else { "" }
                )
            })
        };
        println!(
            "{} {}: {:?}{}; maximum {}; minimum {}",
            r.station,
            r.climate_date,
            r.kind,
            if r.correction { " (CORRECTION)" } else { "" },
            show(&r.maximum),
            show(&r.minimum)
        );
    }
    Ok(())
}

pub async fn settle(codes: &[String], date: Option<NaiveDate>) -> Result<()> {
    let settings = setup::settings()?;
    let _telemetry = setup::telemetry(&settings, Vec::new())?;
    let cities = setup::cities(codes)?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let nws = crate::commands::weather::nws_client(&settings, Arc::new(SystemClock))?;
    let market = KalshiMarketData::new(Arc::new(crate::commands::kalshi::client(&settings)?));
    let notifier = crate::notify::from_settings(&settings);
    for city in &cities {
        let products = match nws.climate_reports(city, PRODUCTS).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{}: climate reports unavailable: {e}", city.code);
                continue;
            }
        };
        let issued: Vec<Issued> = products
            .into_iter()
            .map(|p| Issued {
                id: p.id,
                issued_at: p.issued_at,
                text: p.text,
            })
            .collect();
        let (reads, errors) = read_products(&issued);
        for e in errors {
            eprintln!("{}: unreadable report {e}", city.code);
        }
        let mut dates: Vec<NaiveDate> = match date {
            Some(d) => vec![d],
            None => reads.iter().map(|r| r.report.climate_date).collect(),
        };
        dates.sort();
        dates.dedup();
        for d in dates {
            let Some(high) = day_high(&reads, d) else {
                println!("{} {d}: no final climate report yet", city.code);
                continue;
            };
            store_high(&store, city, &high, &issued).await?;
            settle_trades(&store, &market, notifier.as_deref(), city, &high).await?;
        }
    }
    db.close().await;
    Ok(())
}

async fn store_high(
    store: &Arc<dyn Store>,
    city: &City,
    h: &DayHigh,
    issued: &[Issued],
) -> Result<()> {
    let text = issued
        .iter()
        .find(|p| p.id == h.product_id)
        .map(|p| p.text.clone())
        .unwrap_or_default();
    let row = SettlementRow {
        city: city.code(),
        settlement_date: h.date,
        actual_high_f: f64::from(h.high_f),
        source: if h.corrected {
            "NWS CLI final (corrected)".into()
        } else {
            "NWS CLI final".into()
        },
        raw_report: json!({"product_id": h.product_id, "issued_at": h.issued_at, "text": text}),
        fetched_at: Utc::now(),
    };
    match store.upsert_settlement(&row).await? {
        Some(prev) if prev.actual_high_f != row.actual_high_f => {
            tracing::warn!(target: "SETTLE", city = %city.code, date = %h.date, before = prev.actual_high_f, after = row.actual_high_f, "settled high corrected");
            println!(
                "{} {}: settled high CORRECTED from {}°F to {}°F ({})",
                city.code, h.date, prev.actual_high_f, h.high_f, h.product_id
            );
        }
        Some(_) => println!(
            "{} {}: settled high {}°F (unchanged)",
            city.code, h.date, h.high_f
        ),
        None => println!(
            "{} {}: settled high {}°F ({})",
            city.code, h.date, h.high_f, h.product_id
        ),
    }
    Ok(())
}

async fn settle_trades(
    store: &Arc<dyn Store>,
    market: &KalshiMarketData,
    notifier: Option<&dyn Notifier>,
    city: &City,
    h: &DayHigh,
) -> Result<()> {
    let orders = store
        .orders_in(&[OrderStatus::Executed, OrderStatus::Canceled])
        .await?;
    for user in store.list_users().await? {
        let filter = TradeFilter {
            city: Some(city.code()),
            status: Some(TradeStatus::Executed),
            from: Some(h.date),
            to: Some(h.date),
            limit: 1000,
            offset: 0,
        };
        for t in store.list_trades(&user.id, &filter).await? {
            let r = &t.record;
            let Some(o) = orders.iter().find(|o| {
                o.trade_id == r.id && o.user_id == user.id && o.filled > boz_common::Count::ZERO
            }) else {
                println!(
                    "  {} {}: no filled order on record; not settled (reconcile first)",
                    user.id, r.id
                );
                continue;
            };
            let Some(result) = market.market_result(&o.request.ticker).await? else {
                println!(
                    "  {} {}: {} is not finalized yet",
                    user.id, r.id, o.request.ticker
                );
                continue;
            };
            let mut issues = Vec::new();
            if h.corrected {
                issues.push("the final climate report was corrected".to_string());
            }
            if let Some(p) = h.preliminary_high_f.filter(|p| *p != h.high_f) {
                issues.push(format!(
                    "the preliminary report said {p}°F, the final {}°F",
                    h.high_f
                ));
            }
            let bracket = r
                .prediction
                .brackets
                .iter()
                .find(|b| b.bracket_label == r.bracket_label);
            let (lo, hi) = bracket.map_or((None, None), |b| {
                (
                    b.lower_bound_f.map(|v| v as i32),
                    b.upper_bound_f.map(|v| v as i32),
                )
            });
            if let Some(m) = cross_check(h.high_f, lo, hi, result.yes_won) {
                tracing::warn!(target: "SETTLE", trade_id = %r.id, ticker = %o.request.ticker, issue = %m, "settlement disagreement");
                issues.push(m);
            }
            if let Some(k) = result.settled_high_f.filter(|k| *k != h.high_f) {
                issues.push(format!(
                    "basis mismatch: Kalshi's expiration value is {k}°F, the climate report's {}°F",
                    h.high_f
                ));
            }
            let (status, pnl) = outcome(r.side, o.filled, o.fill_cost, o.fees, result.yes_won)
                .with_context(|| format!("P&L of trade {}", r.id))?;
            let closing = result.last_price.and_then(|p| {
                if r.side == boz_common::schemas::Side::Yes {
                    Some(p)
                } else {
                    Price::new(Decimal::ONE - p.as_decimal()).ok()
                }
            });
            let pm = postmortem(&Facts {
                trade: r,
                actual_high_f: h.high_f,
                fees: o.fees,
                pnl,
                won: status == TradeStatus::Won,
                closing_price: closing,
                issues,
            })?;
            let now = Utc::now();
            let settled = store
                .settle_with_risk(
                    &user.id,
                    &r.id,
                    &TradeSettlement {
                        status,
                        settlement_temp_f: Some(f64::from(h.high_f)),
                        pnl: Some(pnl),
                        settled_at: now,
                    },
                    boz_trading::risk::trading_day(now),
                    &pm.narrative,
                    &serde_json::to_value(&pm)?,
                )
                .await?;
            if settled {
                println!(
                    "  {} {}: {} {}{}",
                    user.id,
                    r.id,
                    status,
                    if pnl.is_negative() { "-$" } else { "+$" },
                    Dollars::new(pnl.as_decimal().abs()).unwrap_or(Dollars::ZERO)
                );
                println!("    {}", pm.narrative);
                if let Some(n) = notifier {
                    n.notify(&Notification {
                        kind: NotificationKind::TradeSettled,
                        title: format!(
                            "{} {} {} {}: {status}",
                            r.city,
                            r.date,
                            r.bracket_label,
                            r.side.as_str().to_uppercase()
                        ),
                        text: pm.narrative.clone(),
                        data: serde_json::to_value(&pm)?,
                    })
                    .await;
                }
            } else {
                println!("  {} {}: already settled", user.id, r.id);
            }
        }
    }
    Ok(())
}

pub async fn show_postmortem(user: &str, id: &str) -> Result<()> {
    let settings = setup::settings()?;
    let db = setup::database(&settings).await?;
    db.migrate().await?;
    let store = db.store();
    let t = store.get_trade(user, id).await?;
    let data = store.get_postmortem(user, id).await?;
    db.close().await;
    match (t.record.postmortem.clone(), data) {
        (Some(text), Some(data)) => {
            println!("{text}");
            println!("{}", serde_json::to_string_pretty(&data)?);
        }
        _ => println!(
            "trade {id} is {} and has no post-mortem yet (it is written when the trade settles)",
            t.record.status
        ),
    }
    Ok(())
}
