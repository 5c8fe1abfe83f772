//! The paper venue: the deterministic paper exchange (`boz-kalshi`) filled against fresh Kalshi
//! order books, with the store as its memory between processes. Cash is
//! PAPER_STARTING_BALANCE, less what stored orders spent or hold, plus settled trades' P&L;
//! an order placed by an earlier process is found from its stored record (its fills were
//! recorded when it was placed); positions are the stored fills of unsettled trades.

use std::sync::Arc;

use async_trait::async_trait;
use boz_common::ports::{
    Exchange, ExchangePosition, OrderRequest, OrderState, OrderStatus, Store, TradeFilter,
};
use boz_common::schemas::Side;
use boz_common::status::TradeStatus;
use boz_common::{BozError, Count, Dollars};
use boz_kalshi::paper::PaperExchange;
use boz_kalshi::rest::KalshiClient;
use rust_decimal::Decimal;

pub struct PaperVenue {
    pub paper: PaperExchange,
    pub client: Arc<KalshiClient>,
    pub store: Arc<dyn Store>,
    pub user_id: String,
    pub starting_balance: Dollars,
}

const ALL: [OrderStatus; 6] = [
    OrderStatus::New,
    OrderStatus::Unknown,
    OrderStatus::Resting,
    OrderStatus::Executed,
    OrderStatus::Canceled,
    OrderStatus::Rejected,
];

impl PaperVenue {
    async fn settled_ids(&self) -> Result<Vec<(String, Decimal)>, BozError> {
        let mut out = Vec::new();
        for status in [TradeStatus::Won, TradeStatus::Lost, TradeStatus::Cancelled] {
            let filter = TradeFilter {
                status: Some(status),
                limit: 100_000,
                ..TradeFilter::default()
            };
            for t in self.store.list_trades(&self.user_id, &filter).await? {
                out.push((
                    t.record.id.clone(),
                    t.record.pnl.map_or(Decimal::ZERO, |p| p.as_decimal()),
                ));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Exchange for PaperVenue {
    async fn place_order(&self, order: &OrderRequest) -> Result<OrderState, BozError> {
        let book = self.client.orderbook(&order.ticker).await?;
        self.paper.set_book(book)?;
        self.paper.place_order(order).await
    }

    async fn cancel_order(&self, order_id: &str) -> Result<OrderState, BozError> {
        self.paper.cancel_order(order_id).await
    }

    async fn find_order(&self, client_order_id: &str) -> Result<Option<OrderState>, BozError> {
        if let Some(s) = self.paper.find_order(client_order_id).await? {
            return Ok(Some(s));
        }
        Ok(self
            .store
            .get_order(client_order_id)
            .await?
            .filter(|o| o.status.is_final())
            .map(|o| OrderState {
                order_id: o.exchange_order_id.unwrap_or_default(),
                client_order_id: client_order_id.to_string(),
                filled: o.filled,
                remaining: Count::ZERO,
                fill_cost: o.fill_cost,
                fees: o.fees,
                status: o.status.as_str().to_string(),
            }))
    }

    async fn balance(&self) -> Result<Dollars, BozError> {
        let settled = self.settled_ids().await?;
        let mut cash = self.starting_balance.as_decimal();
        for (_, pnl) in &settled {
            cash += pnl;
        }
        for o in self.store.orders_in(&ALL).await? {
            if o.user_id != self.user_id || settled.iter().any(|(id, _)| *id == o.trade_id) {
                continue;
            }
            cash -= if o.status.is_final() {
                o.fill_cost.as_decimal() + o.fees.as_decimal()
            } else {
                o.reserved.as_decimal()
            };
        }
        Dollars::new(cash.max(Decimal::ZERO)).map_err(|e| BozError::internal(e.to_string()))
    }

    async fn positions(&self) -> Result<Vec<ExchangePosition>, BozError> {
        let settled = self.settled_ids().await?;
        let mut out: Vec<ExchangePosition> = Vec::new();
        for o in self
            .store
            .orders_in(&[
                OrderStatus::Executed,
                OrderStatus::Resting,
                OrderStatus::Canceled,
            ])
            .await?
        {
            if o.user_id != self.user_id
                || o.filled == Count::ZERO
                || settled.iter().any(|(id, _)| *id == o.trade_id)
            {
                continue;
            }
            let i = match out.iter().position(|p| p.ticker == o.request.ticker) {
                Some(i) => i,
                None => {
                    out.push(ExchangePosition {
                        ticker: o.request.ticker.clone(),
                        yes: Count::ZERO,
                        no: Count::ZERO,
                    });
                    out.len() - 1
                }
            };
            let p = &mut out[i];
            let slot = if o.request.side == Side::Yes {
                &mut p.yes
            } else {
                &mut p.no
            };
            *slot = slot.checked_add(o.filled).unwrap_or(*slot);
        }
        Ok(out)
    }
}
