//! The API's [`boz_api::trading::Trader`]: the trading engine on the configured venue, built
//! for the user it acts for (on the paper venue, that user's paper account).

use async_trait::async_trait;
use boz_common::ports::OrderRecord;
use boz_common::{BozError, Price};
use boz_engine::services::Services;
use boz_trading::TradingEngine;

pub struct EngineTrader {
    pub svc: Services,
}

impl EngineTrader {
    fn engine(&self, user_id: &str) -> Result<TradingEngine, BozError> {
        boz_engine::trading::engine(&self.svc, user_id).map_err(|e| match e {
            boz_engine::EngineError::Boz(b) => b,
            other => BozError::internal(other.to_string()),
        })
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
        self.engine(user_id)?.signals(Some(user_id)).await
    }
}
