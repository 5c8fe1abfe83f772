//! The order manager: deterministic client order ids stored before sending, timeouts treated
//! as "unknown" (never as failure), reconciliation by client order id, fills as the truth,
//! resting orders cancelled before close, and a positions check against the exchange.
//!
//! No sequence of retries, restarts or timeouts sends a decision twice: an order is sent only
//! after it is stored, and a stored order is sent again only when the exchange, asked by its
//! client order id, does not know it (Kalshi also refuses a repeated client order id).

use std::collections::BTreeMap;
use std::sync::Arc;

use boz_common::ports::{
    Clock, Exchange, ExposureLimits, Opened, OrderRecord, OrderState, OrderStatus, Store,
    StoredTrade,
};
use boz_common::schemas::Side;
use boz_common::{BozError, Count, ErrorKind};
use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The client order id of a decision: one order per user, market, side and trading day.
pub fn client_order_id(user_id: &str, ticker: &str, side: Side, day: NaiveDate) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{user_id}\u{1f}{ticker}\u{1f}{}\u{1f}{day}",
        side.as_str()
    ));
    format!("boz-{}", &hex::encode(h.finalize())[..28])
}

/// The trade id of the same decision.
pub fn trade_id(client_order_id: &str) -> String {
    format!("t-{}", client_order_id.trim_start_matches("boz-"))
}

fn status_of(s: &OrderState) -> OrderStatus {
    match s.status.as_str() {
        "canceled" | "cancelled" => OrderStatus::Canceled,
        _ if s.remaining > Count::ZERO => OrderStatus::Resting,
        _ => OrderStatus::Executed,
    }
}

/// Refusals that mean the exchange did not take the order.
fn definitive(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::InvalidOrderError
            | ErrorKind::ValidationError
            | ErrorKind::InsufficientBalanceError
            | ErrorKind::PermissionError
            | ErrorKind::AuthenticationError
    )
}

/// What a reconciliation pass found and did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reconciliation {
    pub checked: usize,
    pub updated: usize,
    pub cancelled_before_close: usize,
    /// Differences between the exchange's positions and our fills, flagged for a human.
    pub mismatches: Vec<String>,
}

pub struct OrderManager {
    pub store: Arc<dyn Store>,
    pub exchange: Arc<dyn Exchange>,
    pub clock: Arc<dyn Clock>,
    pub timeout: std::time::Duration,
    pub cancel_before_close: chrono::Duration,
    /// A stored order the exchange does not know is sent (again) only once it is older than
    /// this: younger, it may be in flight from another cycle. Longer than `timeout`.
    pub unknown_grace: chrono::Duration,
}

impl OrderManager {
    /// Stores the order (with its trade and exposure, atomically), then sends it; a decision
    /// already stored is reconciled instead.
    pub async fn execute(
        &self,
        order: &OrderRecord,
        trade: Option<&StoredTrade>,
        limits: &ExposureLimits,
    ) -> Result<OrderRecord, BozError> {
        match self.store.open_order(order, trade, limits).await? {
            Opened::New => self.send(order).await,
            Opened::Existing(existing) => {
                tracing::info!(target: "ORDER", client_order_id = %existing.request.client_order_id,
                    status = existing.status.as_str(), "decision already stored: reconciling, not sending again");
                self.reconcile_one(&existing).await
            }
        }
    }

    async fn send(&self, o: &OrderRecord) -> Result<OrderRecord, BozError> {
        let coid = &o.request.client_order_id;
        tracing::info!(target: "ORDER", client_order_id = %coid, ticker = %o.request.ticker,
            side = o.request.side.as_str(), price = %o.request.price, count = %o.request.count, "sending order");
        let sent = tokio::time::timeout(self.timeout, self.exchange.place_order(&o.request)).await;
        let now = self.clock.now();
        match sent {
            Ok(Ok(state)) => {
                self.store
                    .update_order(coid, Some(&state), status_of(&state), None, now)
                    .await
            }
            Ok(Err(e)) if definitive(e.kind) => {
                tracing::warn!(target: "ORDER", client_order_id = %coid, error = %e.message, "order refused");
                self.store
                    .update_order(coid, None, OrderStatus::Rejected, Some(&e.message), now)
                    .await
            }
            outcome => {
                let why = match outcome {
                    Ok(Err(e)) => e.message,
                    _ => format!("no answer within {:?}", self.timeout),
                };
                tracing::warn!(target: "ORDER", client_order_id = %coid, reason = %why,
                    "order outcome unknown: reconciling by client order id");
                let o = self
                    .store
                    .update_order(coid, None, OrderStatus::Unknown, Some(&why), now)
                    .await?;
                self.lookup(&o).await
            }
        }
    }

    /// Records the exchange's view of an order.
    async fn record(&self, state: &OrderState) -> Result<OrderRecord, BozError> {
        self.store
            .update_order(
                &state.client_order_id,
                Some(state),
                status_of(state),
                None,
                self.clock.now(),
            )
            .await
    }

    /// Asks the exchange about a stored order and records what it says.
    async fn lookup(&self, o: &OrderRecord) -> Result<OrderRecord, BozError> {
        let coid = &o.request.client_order_id;
        match self.exchange.find_order(coid).await {
            Ok(Some(state)) => self.record(&state).await,
            Ok(None) => Ok(o.clone()),
            Err(e) => {
                tracing::warn!(target: "ORDER", client_order_id = %coid, error = %e.message, "lookup failed");
                Ok(o.clone())
            }
        }
    }

    /// Brings one stored order up to date: looks it up; one the exchange does not know, stored
    /// or last touched longer ago than `unknown_grace`, never arrived and is sent (unless its
    /// market has closed).
    pub async fn reconcile_one(&self, o: &OrderRecord) -> Result<OrderRecord, BozError> {
        if o.status.is_final() {
            return Ok(o.clone());
        }
        let coid = &o.request.client_order_id;
        match self.exchange.find_order(coid).await? {
            Some(state) => self.record(&state).await,
            None if o.status == OrderStatus::Resting => Ok(o.clone()),
            None if self.clock.now() - o.updated_at < self.unknown_grace => {
                // possibly in flight from another cycle: never race it
                Ok(o.clone())
            }
            None => {
                let closed = o.close_time.is_some_and(|c| c <= self.clock.now());
                if closed {
                    return self
                        .store
                        .update_order(
                            coid,
                            None,
                            OrderStatus::Rejected,
                            Some("never reached the exchange; market closed"),
                            self.clock.now(),
                        )
                        .await;
                }
                self.send(o).await
            }
        }
    }

    /// Reconciles the user's open orders (the exchange is the user's account), cancels resting
    /// orders near their market's close, and compares the exchange's positions with our fills
    /// of the last two trading days.
    pub async fn reconcile(
        &self,
        user_id: &str,
        today: NaiveDate,
    ) -> Result<Reconciliation, BozError> {
        let mut r = Reconciliation::default();
        let open: Vec<OrderRecord> = self
            .store
            .orders_in(&[OrderStatus::New, OrderStatus::Unknown, OrderStatus::Resting])
            .await?
            .into_iter()
            .filter(|o| o.user_id == user_id)
            .collect();
        let now = self.clock.now();
        for o in open {
            r.checked += 1;
            let before = o.status;
            let after = self.reconcile_one(&o).await?;
            if after.status != before {
                r.updated += 1;
            }
            if after.status == OrderStatus::Resting
                && after
                    .close_time
                    .is_some_and(|c| c - now <= self.cancel_before_close)
                && let Some(id) = &after.exchange_order_id
            {
                let state = self.exchange.cancel_order(id).await?;
                self.store
                    .update_order(
                        &after.request.client_order_id,
                        Some(&state),
                        OrderStatus::Canceled,
                        Some("cancelled before close"),
                        now,
                    )
                    .await?;
                r.cancelled_before_close += 1;
            }
        }
        // positions: our fills against the exchange's holdings
        let mut ours: BTreeMap<(String, &'static str), Count> = BTreeMap::new();
        for day in [today.pred_opt().unwrap_or(today), today] {
            for o in self.store.user_orders(user_id, day).await? {
                if o.filled > Count::ZERO {
                    let e = ours
                        .entry((o.request.ticker.clone(), o.request.side.as_str()))
                        .or_insert(Count::ZERO);
                    *e = e.checked_add(o.filled).unwrap_or(*e);
                }
            }
        }
        let theirs = self.exchange.positions().await?;
        for ((ticker, side), count) in &ours {
            let held = theirs
                .iter()
                .find(|p| &p.ticker == ticker)
                .map(|p| {
                    if *side == Side::Yes.as_str() {
                        p.yes
                    } else {
                        p.no
                    }
                })
                .unwrap_or(Count::ZERO);
            if held != *count {
                let m = format!("{ticker} {side}: our fills {count}, exchange holds {held}");
                tracing::warn!(target: "ORDER", mismatch = %m, "position differs from our fills");
                r.mismatches.push(m);
            }
        }
        Ok(r)
    }
}
