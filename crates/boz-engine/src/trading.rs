//! The trading engine on the configured venue: the paper venue (TRADING_VENUE=paper, the
//! default) or Kalshi's demo or live exchange, which need the installation's Kalshi
//! credentials (and live also TRADING_LIVE_CONFIRM, checked when the settings load).

use std::sync::Arc;

use boz_common::config::TradingVenue;
use boz_common::ports::Exchange;
use boz_kalshi::market_data::KalshiMarketData;
use boz_kalshi::paper::PaperExchange;
use boz_kalshi::rest::KalshiExchange;
use boz_trading::{TradingConfig, TradingEngine};

use crate::paper_venue::PaperVenue;
use crate::services::{LOCAL_USER, Services};
use crate::{EngineError, Result};

/// The engine for the installation's venue. On the paper venue the account is `paper_user`'s
/// (the store is its memory).
pub fn engine(svc: &Services, paper_user: &str) -> Result<TradingEngine> {
    engine_with_market(
        svc,
        paper_user,
        Arc::new(KalshiMarketData::new(svc.kalshi.clone())),
    )
}

/// The engine reading market data from `market` (views use a [`crate::market_cache`]).
pub fn engine_with_market(
    svc: &Services,
    paper_user: &str,
    market: Arc<dyn boz_common::ports::MarketData>,
) -> Result<TradingEngine> {
    let settings = &svc.settings;
    let exchange: Arc<dyn Exchange> = match settings.trading_venue {
        TradingVenue::Paper => Arc::new(PaperVenue {
            paper: PaperExchange::new(settings.paper_starting_balance, svc.clock.clone()),
            client: svc.kalshi.clone(),
            store: svc.store.clone(),
            user_id: paper_user.to_string(),
            starting_balance: settings.paper_starting_balance,
        }),
        TradingVenue::Demo | TradingVenue::Live => {
            if settings.kalshi_api_key_id.is_none() {
                return Err(EngineError::failed(format!(
                    "TRADING_VENUE={} needs KALSHI_API_KEY_ID and a private key",
                    settings.trading_venue.as_str()
                )));
            }
            Arc::new(KalshiExchange(svc.kalshi.clone()))
        }
    };
    Ok(TradingEngine {
        store: svc.store.clone(),
        market,
        exchange,
        clock: svc.clock.clone(),
        config: TradingConfig::from_settings(settings),
        cities: svc.cities.clone(),
        notifier: svc.notifier.clone(),
    })
}

/// The engine the pipeline trades with (the paper account is the local user's).
pub fn pipeline_engine(svc: &Services) -> Result<TradingEngine> {
    engine(svc, LOCAL_USER)
}
