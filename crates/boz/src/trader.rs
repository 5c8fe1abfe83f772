//! The API's [`boz_api::trading::Trader`]: the trading engine on the configured venue, built
//! for the user it acts for (on the paper venue, that user's paper account). Signals (the
//! markets view) read Kalshi through a short-lived shared cache; approvals read the live book.

use std::sync::Arc;

use async_trait::async_trait;
use boz_common::ports::MarketData;
use boz_common::ports::OrderRecord;
use boz_common::{BozError, Price};
use boz_engine::market_cache::CachedMarketData;
use boz_engine::services::Services;
use boz_trading::TradingEngine;

pub struct EngineTrader {
    svc: Services,
    views: Arc<dyn MarketData>,
}

impl EngineTrader {
    pub fn new(svc: Services) -> EngineTrader {
        let live = Arc::new(boz_kalshi::market_data::KalshiMarketData::new(
            svc.kalshi.clone(),
        ));
        EngineTrader {
            svc,
            views: Arc::new(CachedMarketData::new(live)),
        }
    }

    fn engine(&self, user_id: &str) -> Result<TradingEngine, BozError> {
        Ok(boz_engine::trading::engine(&self.svc, user_id)?)
    }

    /// The engine for views: market data through the shared cache.
    fn view_engine(&self, user_id: &str) -> Result<TradingEngine, BozError> {
        Ok(boz_engine::trading::engine_with_market(
            &self.svc,
            user_id,
            self.views.clone(),
        )?)
    }
}

#[async_trait]
impl boz_api::trading::Trader for EngineTrader {
    async fn approve(
        &self,
        user_id: &str,
        id: &str,
        by: &str,
        limit_price: Option<Price>,
    ) -> Result<OrderRecord, BozError> {
        self.engine(user_id)?
            .approve(user_id, id, by, limit_price)
            .await
    }

    async fn reject(
        &self,
        user_id: &str,
        id: &str,
        by: &str,
        reason: Option<&str>,
    ) -> Result<(), BozError> {
        self.engine(user_id)?.reject(user_id, id, by, reason).await
    }

    async fn halt(&self, user_id: &str, by: &str, reason: &str) -> Result<(), BozError> {
        self.engine(user_id)?.halt(user_id, by, reason).await
    }

    async fn resume(&self, user_id: &str, by: &str) -> Result<(), BozError> {
        self.engine(user_id)?.resume(user_id, by).await
    }

    async fn signals(
        &self,
        user_id: &str,
    ) -> Result<(Vec<boz_trading::engine::Candidate>, Vec<String>), BozError> {
        self.view_engine(user_id)?.signals(Some(user_id)).await
    }
}
