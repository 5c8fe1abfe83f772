//! The settle job and `boz settle`: each city's recent climate reports from the NWS, the
//! settled high of every day with a final report stored (a correction replaces it and is
//! reported), then every EXECUTED trade of those days whose market Kalshi has finalized settled:
//! WON or LOST from the market's result, P&L from our fills, the risk accounting and the
//! post-mortem in one transaction, and a notification. Running it again changes nothing.

use std::sync::Arc;

use boz_common::city::City;
use boz_common::ports::{
    MarketData, Notification, NotificationKind, Notifier, OrderStatus, SettlementRow, Store,
    TradeFilter, TradeSettlement,
};
use boz_common::status::TradeStatus;
use boz_common::{Dollars, Price};
use boz_kalshi::market_data::KalshiMarketData;
use boz_settle::postmortem::{Facts, postmortem};
use boz_settle::settlement::{DayHigh, Issued, cross_check, day_high, outcome, read_products};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::json;

use crate::services::Services;
use crate::{Context, Result};

/// How many of the newest climate products are read per city.
const PRODUCTS: usize = 12;

/// What one settlement run did: lines for a person, errors, and the (city, date) pairs whose
/// final high is stored.
#[derive(Debug, Default)]
pub struct SettleReport {
    pub lines: Vec<String>,
    pub errors: Vec<String>,
    pub settled_days: Vec<(String, NaiveDate)>,
}

/// Settles `cities` (the day `date`, or every day their recent reports cover).
pub async fn settle(
    svc: &Services,
    cities: &[Arc<City>],
    date: Option<NaiveDate>,
) -> Result<SettleReport> {
    let mut report = SettleReport::default();
    let market = KalshiMarketData::new(svc.kalshi.clone());
    let notifier = svc.notifier.clone();
    let now = svc.clock.now();
    for city in cities {
        let products = match svc.nws.climate_reports(city, PRODUCTS).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(target: "SETTLE", city = %city.code, error = %e, "climate reports unavailable");
                report
                    .errors
                    .push(format!("{}: climate reports unavailable: {e}", city.code));
                continue;
            }
        };
        let products = issued(products);
        let (reads, errors) = read_products(&products);
        for e in errors {
            tracing::warn!(target: "SETTLE", city = %city.code, error = %e, "unreadable climate report");
            report
                .errors
                .push(format!("{}: unreadable report {e}", city.code));
        }
        let mut dates: Vec<NaiveDate> = match date {
            Some(d) => vec![d],
            None => reads.iter().map(|r| r.report.climate_date).collect(),
        };
        dates.sort();
        dates.dedup();
        for d in dates {
            let Some(high) = day_high(&reads, d) else {
                report
                    .lines
                    .push(format!("{} {d}: no final climate report yet", city.code));
                continue;
            };
            store_high(&svc.store, city, &high, &products, now, &mut report.lines).await?;
            report.settled_days.push((city.code.to_string(), d));
            settle_trades(
                &svc.store,
                &market,
                notifier.as_deref(),
                city,
                &high,
                now,
                &mut report.lines,
            )
            .await?;
        }
    }
    Ok(report)
}

async fn store_high(
    store: &Arc<dyn Store>,
    city: &City,
    h: &DayHigh,
    issued: &[Issued],
    now: DateTime<Utc>,
    out: &mut Vec<String>,
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
        fetched_at: now,
    };
    match store.upsert_settlement(&row).await? {
        Some(prev) if prev.actual_high_f != row.actual_high_f => {
            tracing::warn!(target: "SETTLE", city = %city.code, date = %h.date, before = prev.actual_high_f, after = row.actual_high_f, "settled high corrected");
            out.push(format!(
                "{} {}: settled high CORRECTED from {}°F to {}°F ({})",
                city.code, h.date, prev.actual_high_f, h.high_f, h.product_id
            ));
        }
        Some(_) => out.push(format!(
            "{} {}: settled high {}°F (unchanged)",
            city.code, h.date, h.high_f
        )),
        None => out.push(format!(
            "{} {}: settled high {}°F ({})",
            city.code, h.date, h.high_f, h.product_id
        )),
    }
    Ok(())
}

async fn settle_trades(
    store: &Arc<dyn Store>,
    market: &KalshiMarketData,
    notifier: Option<&dyn Notifier>,
    city: &City,
    h: &DayHigh,
    now: DateTime<Utc>,
    out: &mut Vec<String>,
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
                out.push(format!(
                    "  {} {}: no filled order on record; not settled (reconcile first)",
                    user.id, r.id
                ));
                continue;
            };
            let Some(result) = market.market_result(&o.request.ticker).await? else {
                out.push(format!(
                    "  {} {}: {} is not finalized yet",
                    user.id, r.id, o.request.ticker
                ));
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
                out.push(format!(
                    "  {} {}: {} {}{}",
                    user.id,
                    r.id,
                    status,
                    if pnl.is_negative() { "-$" } else { "+$" },
                    Dollars::new(pnl.as_decimal().abs()).unwrap_or(Dollars::ZERO)
                ));
                out.push(format!("    {}", pm.narrative));
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
                out.push(format!("  {} {}: already settled", user.id, r.id));
            }
        }
    }
    Ok(())
}

/// Climate products as fetched, in the form the settlement reader takes.
pub fn issued(products: Vec<boz_weather::nws::ClimateProduct>) -> Vec<Issued> {
    products
        .into_iter()
        .map(|p| Issued {
            id: p.id,
            issued_at: p.issued_at,
            text: p.text,
        })
        .collect()
}
