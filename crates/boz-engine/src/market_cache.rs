//! Market data for views (the API's markets and signals, the dashboard): Kalshi's answers kept
//! for a few seconds and shared by every request, so a dashboard left open by many users, or a
//! burst of requests, costs Kalshi one call per event per [`BOOK_TTL`] instead of one per
//! request. Concurrent misses of one key wait for a single call (moka's `try_get_with`).
//!
//! Trading never reads through it: a cycle and an approval read the live book.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use boz_common::BozError;
use boz_common::city::City;
use boz_common::ports::{MarketData, MarketEvent, MarketResult, TopOfBook};
use moka::future::Cache;

/// How long a city's open events are reused.
pub const EVENTS_TTL: Duration = Duration::from_secs(60);
/// How long an event's top of book is reused.
pub const BOOK_TTL: Duration = Duration::from_secs(3);

pub struct CachedMarketData {
    inner: Arc<dyn MarketData>,
    events: Cache<String, Arc<Vec<MarketEvent>>>,
    books: Cache<String, Arc<Vec<TopOfBook>>>,
}

impl CachedMarketData {
    pub fn new(inner: Arc<dyn MarketData>) -> CachedMarketData {
        CachedMarketData::with_ttls(inner, EVENTS_TTL, BOOK_TTL)
    }

    pub fn with_ttls(
        inner: Arc<dyn MarketData>,
        events: Duration,
        books: Duration,
    ) -> CachedMarketData {
        CachedMarketData {
            inner,
            events: Cache::builder()
                .max_capacity(1_000)
                .time_to_live(events)
                .build(),
            books: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(books)
                .build(),
        }
    }
}

fn shared(e: Arc<BozError>) -> BozError {
    Arc::unwrap_or_clone(e)
}

#[async_trait]
impl MarketData for CachedMarketData {
    async fn open_events(&self, city: &City) -> Result<Vec<MarketEvent>, BozError> {
        let v = self
            .events
            .try_get_with(city.code.to_string(), async {
                self.inner.open_events(city).await.map(Arc::new)
            })
            .await
            .map_err(shared)?;
        Ok(v.as_ref().clone())
    }

    async fn top_of_book(&self, event_ticker: &str) -> Result<Vec<TopOfBook>, BozError> {
        let v = self
            .books
            .try_get_with(event_ticker.to_string(), async {
                self.inner.top_of_book(event_ticker).await.map(Arc::new)
            })
            .await
            .map_err(shared)?;
        Ok(v.as_ref().clone())
    }

    async fn market_result(&self, ticker: &str) -> Result<Option<MarketResult>, BozError> {
        self.inner.market_result(ticker).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Counts the calls that reach Kalshi's side of the cache; fails while `fail` is set.
    #[derive(Default)]
    struct Counting {
        books: AtomicU32,
        fail: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl MarketData for Counting {
        async fn open_events(&self, _city: &City) -> Result<Vec<MarketEvent>, BozError> {
            Ok(Vec::new())
        }
        async fn top_of_book(&self, event_ticker: &str) -> Result<Vec<TopOfBook>, BozError> {
            self.books.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            if self.fail.load(Ordering::SeqCst) {
                return Err(BozError::internal("kalshi down"));
            }
            Ok(vec![TopOfBook {
                ticker: format!("{event_ticker}-B1"),
                yes_bid: None,
                yes_bid_size: boz_common::Count::ZERO,
                no_bid: None,
                no_bid_size: boz_common::Count::ZERO,
                as_of: chrono::Utc::now(),
            }])
        }
        async fn market_result(&self, _t: &str) -> Result<Option<MarketResult>, BozError> {
            Ok(None)
        }
    }

    #[tokio::test]
    async fn concurrent_views_share_one_call_until_it_expires_and_errors_are_not_kept() {
        let inner = Arc::new(Counting::default());
        let cache = Arc::new(CachedMarketData::with_ttls(
            inner.clone(),
            Duration::from_secs(60),
            Duration::from_millis(300),
        ));
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.top_of_book("KXHIGHNY-26NOV29").await })
            })
            .collect();
        for c in calls {
            assert_eq!(c.await.unwrap().unwrap()[0].ticker, "KXHIGHNY-26NOV29-B1");
        }
        assert_eq!(
            inner.books.load(Ordering::SeqCst),
            1,
            "one call for 20 views"
        );
        cache.top_of_book("KXHIGHCHI-26NOV29").await.unwrap();
        assert_eq!(
            inner.books.load(Ordering::SeqCst),
            2,
            "another event: its own call"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        cache.top_of_book("KXHIGHNY-26NOV29").await.unwrap();
        assert_eq!(inner.books.load(Ordering::SeqCst), 3, "expired: read again");
        // a failure is passed on and not kept
        inner.fail.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let e = cache.top_of_book("KXHIGHNY-26NOV29").await.unwrap_err();
        assert_eq!(e.message, "kalshi down");
        inner.fail.store(false, Ordering::SeqCst);
        cache.top_of_book("KXHIGHNY-26NOV29").await.unwrap();
        assert_eq!(inner.books.load(Ordering::SeqCst), 5);
    }
}
