//! The paper exchange: the same `Exchange` port as live Kalshi, filling against the books it is
//! given, deterministically (the same books and orders always give the same fills), so the
//! backtest can use it too.
//!
//! Rules (chosen to be no kinder than Kalshi):
//! - an order buys one side (`yes` or `no`) at a limit price of that side, on the market's tick
//!   grid (`price_ranges`; whole cents unless set);
//! - IOC and FOK orders take the asks level by level, best first, up to the limit, at each
//!   level's price; FOK fills all or nothing; IOC cancels what is left; partial fills happen;
//! - GTC orders take what crosses and rest the remainder; a resting order fills (as maker, at its
//!   own price) when a later book offers asks at or below it;
//! - each fill pays Kalshi's fee for the market's fee schedule, rounded up to the cent per fill
//!   (taker for immediate fills, maker for resting ones: zero on `quadratic` weather series);
//! - taken liquidity is removed from the book until the next book replaces it;
//! - the cash for a resting order (limit × remaining + its taker fee) is reserved, and an order
//!   the available balance cannot cover is refused;
//! - YES and NO holdings of a market are kept apart (they are not netted), and settlement pays
//!   $1 per winning contract.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use boz_common::error::BozError;
use boz_common::fees::{FeeSchedule, Liquidity};
use boz_common::money::{Count, Dollars, Price};
use boz_common::ports::{Clock, Exchange, ExchangePosition, OrderRequest, OrderState, TimeInForce};
use boz_common::schemas::Side;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::book::OrderBook;

/// One valid price range of a market: `start` to `end` in steps of `step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceRange {
    pub start: Decimal,
    pub end: Decimal,
    pub step: Decimal,
}

impl PriceRange {
    /// KXHIGHNY's grid: whole cents.
    pub const WHOLE_CENTS: PriceRange = PriceRange {
        start: Decimal::ZERO,
        end: Decimal::ONE,
        step: Decimal::from_parts(1, 0, 0, false, 2),
    };

    fn allows(&self, p: Decimal) -> bool {
        p >= self.start
            && p <= self.end
            && !self.step.is_zero()
            && ((p - self.start) % self.step).is_zero()
    }
}

/// A market's valid prices from its `price_ranges` (`[{"start","end","step"}]`, dollar strings);
/// whole cents when the market does not say.
pub fn price_ranges(market: &serde_json::Value) -> Result<Vec<PriceRange>, String> {
    let Some(list) = market
        .get("price_ranges")
        .and_then(serde_json::Value::as_array)
    else {
        return Ok(vec![PriceRange::WHOLE_CENTS]);
    };
    let ticker = market
        .get("ticker")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("?");
    list.iter()
        .enumerate()
        .map(|(i, r)| {
            let field = |k: &str| {
                r.get(k)
                    .and_then(serde_json::Value::as_str)
                    .and_then(|s| Decimal::from_str_exact(s).ok())
                    .ok_or_else(|| {
                        format!("{ticker}: price_ranges[{i}].{k} is not a decimal string")
                    })
            };
            let range = PriceRange {
                start: field("start")?,
                end: field("end")?,
                step: field("step")?,
            };
            if range.step <= Decimal::ZERO || range.end < range.start {
                return Err(format!(
                    "{ticker}: price_ranges[{i}] is empty or has no step"
                ));
            }
            Ok(range)
        })
        .collect()
}

/// Whether `price` is on one of the grids.
pub fn on_tick(ranges: &[PriceRange], price: Price) -> bool {
    ranges.iter().any(|r| r.allows(price.as_decimal()))
}

/// An order's life on the paper exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperStatus {
    Resting,
    Executed,
    Canceled,
}

/// One fill.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fill {
    pub order_id: String,
    pub ticker: String,
    pub side: Side,
    pub price: Price,
    pub count: Count,
    pub fee: Dollars,
    pub maker: bool,
    pub at: DateTime<Utc>,
}

/// Holdings in one market.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Position {
    pub yes: Count,
    pub no: Count,
    /// What the contracts cost, fees excluded.
    pub cost: Dollars,
    pub fees: Dollars,
}

/// The outcome of settling one market.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PaperSettlement {
    pub ticker: String,
    pub result: Side,
    pub payout: Dollars,
    pub cost: Dollars,
    pub fees: Dollars,
    /// payout − cost − fees.
    pub pnl: Dollars,
}

#[derive(Debug, Clone)]
struct PaperOrder {
    order_id: String,
    client_order_id: String,
    ticker: String,
    side: Side,
    limit: Price,
    count: Count,
    filled: Count,
    fill_cost: Dollars,
    fees: Dollars,
    status: PaperStatus,
    reserved: Dollars,
}

impl PaperOrder {
    fn state(&self) -> OrderState {
        OrderState {
            order_id: self.order_id.clone(),
            client_order_id: self.client_order_id.clone(),
            filled: self.filled,
            remaining: if self.status == PaperStatus::Resting {
                self.count.checked_sub(self.filled).unwrap_or(Count::ZERO)
            } else {
                Count::ZERO
            },
            fill_cost: self.fill_cost,
            fees: self.fees,
            status: match self.status {
                PaperStatus::Resting => "resting",
                PaperStatus::Executed => "executed",
                PaperStatus::Canceled => "canceled",
            }
            .to_string(),
        }
    }
}

#[derive(Debug, Default)]
struct State {
    cash: Dollars,
    reserved: Dollars,
    books: HashMap<String, OrderBook>,
    fees: HashMap<String, FeeSchedule>,
    ticks: HashMap<String, Vec<PriceRange>>,
    orders: BTreeMap<u64, PaperOrder>,
    by_client: HashMap<String, u64>,
    positions: BTreeMap<String, Position>,
    fills: Vec<Fill>,
    next_id: u64,
}

fn money_err(e: impl std::fmt::Display) -> BozError {
    BozError::invalid_order(format!("amount cannot be held exactly: {e}"))
}

impl State {
    fn fee_schedule(&self, ticker: &str) -> FeeSchedule {
        self.fees
            .get(ticker)
            .copied()
            .unwrap_or(FeeSchedule::WEATHER)
    }

    fn available(&self) -> Result<Dollars, BozError> {
        self.cash.checked_sub(self.reserved).map_err(money_err)
    }

    /// Records one fill and moves the cash (the caller takes the liquidity from the book).
    fn fill(
        &mut self,
        id: u64,
        price: Price,
        count: Count,
        maker: bool,
        at: DateTime<Utc>,
    ) -> Result<(), BozError> {
        let Some(order) = self.orders.get(&id).cloned() else {
            return Ok(());
        };
        let liquidity = if maker {
            Liquidity::Maker
        } else {
            Liquidity::Taker
        };
        let fee = self
            .fee_schedule(&order.ticker)
            .fee(price, count, liquidity)
            .map_err(|e| BozError::invalid_order(e.to_string()))?;
        let cost = price.cost(count).map_err(money_err)?;
        self.cash = self
            .cash
            .checked_sub(cost)
            .and_then(|c| c.checked_sub(fee))
            .map_err(money_err)?;
        let pos = self.positions.entry(order.ticker.clone()).or_default();
        match order.side {
            Side::Yes => pos.yes = pos.yes.checked_add(count).map_err(money_err)?,
            Side::No => pos.no = pos.no.checked_add(count).map_err(money_err)?,
        }
        pos.cost = pos.cost.checked_add(cost).map_err(money_err)?;
        pos.fees = pos.fees.checked_add(fee).map_err(money_err)?;
        if let Some(o) = self.orders.get_mut(&id) {
            o.filled = o.filled.checked_add(count).map_err(money_err)?;
            o.fill_cost = o.fill_cost.checked_add(cost).map_err(money_err)?;
            o.fees = o.fees.checked_add(fee).map_err(money_err)?;
        }
        self.fills.push(Fill {
            order_id: order.order_id,
            ticker: order.ticker,
            side: order.side,
            price,
            count,
            fee,
            maker,
            at,
        });
        Ok(())
    }

    /// Fills resting orders of `ticker` that the current book crosses, oldest first, at their
    /// own price (maker).
    fn match_resting(&mut self, ticker: &str, at: DateTime<Utc>) -> Result<(), BozError> {
        let ids: Vec<u64> = self
            .orders
            .iter()
            .filter(|(_, o)| o.ticker == ticker && o.status == PaperStatus::Resting)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(o) = self.orders.get(&id).cloned() else {
                continue;
            };
            let Some(book) = self.books.get(ticker) else {
                continue;
            };
            let remaining = o.count.checked_sub(o.filled).map_err(money_err)?;
            let available = book.depth_to(o.side, o.limit);
            let take = remaining.min(available);
            if take > Count::ZERO {
                // Taking at the resting price: walk the levels so the book loses what was taken.
                let levels: Vec<(Price, Count)> = book
                    .asks(o.side)
                    .into_iter()
                    .take_while(|(p, _)| *p <= o.limit)
                    .collect();
                let mut left = take;
                for (price, size) in levels {
                    let n = left.min(size);
                    if let Some(b) = self.books.get_mut(ticker) {
                        b.take(o.side, price, n);
                    }
                    left = left.checked_sub(n).map_err(money_err)?;
                    if left == Count::ZERO {
                        break;
                    }
                }
                self.fill_at_limit(id, take, at)?;
            }
        }
        Ok(())
    }

    fn fill_at_limit(&mut self, id: u64, count: Count, at: DateTime<Utc>) -> Result<(), BozError> {
        let Some(o) = self.orders.get(&id).cloned() else {
            return Ok(());
        };
        // Release the reservation for these contracts, then pay for them at the resting price.
        let release = self.reservation(&o.ticker, o.limit, count)?;
        self.reserved = self.reserved.checked_sub(release).map_err(money_err)?;
        self.fill(id, o.limit, count, true, at)?;
        if let Some(ord) = self.orders.get_mut(&id) {
            ord.reserved = ord.reserved.checked_sub(release).unwrap_or(Dollars::ZERO);
            if ord.filled >= ord.count {
                ord.status = PaperStatus::Executed;
            }
        }
        Ok(())
    }

    /// Cash held back for `count` contracts resting at `limit`: their cost and taker fee.
    fn reservation(&self, ticker: &str, limit: Price, count: Count) -> Result<Dollars, BozError> {
        let fee = self
            .fee_schedule(ticker)
            .fee(limit, count, Liquidity::Taker)
            .map_err(|e| BozError::invalid_order(e.to_string()))?;
        limit
            .cost(count)
            .and_then(|c| c.checked_add(fee))
            .map_err(money_err)
    }
}

/// The paper exchange.
pub struct PaperExchange {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

impl PaperExchange {
    /// A paper account with `balance` dollars.
    pub fn new(balance: Dollars, clock: Arc<dyn Clock>) -> PaperExchange {
        PaperExchange {
            state: Mutex::new(State {
                cash: balance,
                next_id: 1,
                ..State::default()
            }),
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets a market's fee schedule (default: weather, quadratic × 1).
    pub fn set_fee_schedule(&self, ticker: &str, schedule: FeeSchedule) {
        self.lock().fees.insert(ticker.to_string(), schedule);
    }

    /// Sets a market's valid prices (default: whole cents).
    pub fn set_price_ranges(&self, ticker: &str, ranges: Vec<PriceRange>) {
        self.lock().ticks.insert(ticker.to_string(), ranges);
    }

    /// Replaces a market's book; resting orders it crosses fill.
    pub fn set_book(&self, book: OrderBook) -> Result<(), BozError> {
        let now = self.clock.now();
        let mut s = self.lock();
        let ticker = book.ticker.clone();
        s.books.insert(ticker.clone(), book);
        s.match_resting(&ticker, now)
    }

    pub fn book(&self, ticker: &str) -> Option<OrderBook> {
        self.lock().books.get(ticker).cloned()
    }

    pub fn fills(&self) -> Vec<Fill> {
        self.lock().fills.clone()
    }

    pub fn positions(&self) -> BTreeMap<String, Position> {
        self.lock().positions.clone()
    }

    /// Cash, including what resting orders hold back.
    pub fn cash(&self) -> Dollars {
        self.lock().cash
    }

    /// Settles a market on its result: resting orders are cancelled and every winning contract
    /// pays $1.
    pub fn settle(&self, ticker: &str, result: Side) -> Result<Option<PaperSettlement>, BozError> {
        let mut s = self.lock();
        let resting: Vec<u64> = s
            .orders
            .iter()
            .filter(|(_, o)| o.ticker == ticker && o.status == PaperStatus::Resting)
            .map(|(id, _)| *id)
            .collect();
        for id in resting {
            cancel(&mut s, id)?;
        }
        let Some(pos) = s.positions.remove(ticker) else {
            return Ok(None);
        };
        let winners = match result {
            Side::Yes => pos.yes,
            Side::No => pos.no,
        };
        let payout = Dollars::new(winners.as_decimal()).map_err(money_err)?;
        s.cash = s.cash.checked_add(payout).map_err(money_err)?;
        let pnl = payout
            .checked_sub(pos.cost)
            .and_then(|p| p.checked_sub(pos.fees))
            .map_err(money_err)?;
        Ok(Some(PaperSettlement {
            ticker: ticker.to_string(),
            result,
            payout,
            cost: pos.cost,
            fees: pos.fees,
            pnl,
        }))
    }
}

fn cancel(s: &mut State, id: u64) -> Result<OrderState, BozError> {
    let o = s
        .orders
        .get(&id)
        .cloned()
        .ok_or_else(|| BozError::not_found("order", id))?;
    if o.status != PaperStatus::Resting {
        return Err(BozError::conflict(
            format!("order {} is {:?}, not resting", o.order_id, o.status),
            boz_common::context!("order_id" => o.order_id),
        ));
    }
    s.reserved = s.reserved.checked_sub(o.reserved).map_err(money_err)?;
    let ord = s
        .orders
        .get_mut(&id)
        .ok_or_else(|| BozError::not_found("order", id))?;
    ord.reserved = Dollars::ZERO;
    ord.status = PaperStatus::Canceled;
    Ok(ord.state())
}

fn order_number(order_id: &str) -> Option<u64> {
    order_id.strip_prefix("paper-")?.parse().ok()
}

#[async_trait]
impl Exchange for PaperExchange {
    async fn place_order(&self, req: &OrderRequest) -> Result<OrderState, BozError> {
        let now = self.clock.now();
        let mut s = self.lock();
        if s.by_client.contains_key(&req.client_order_id) {
            return Err(BozError::conflict(
                format!("client_order_id {} was already used", req.client_order_id),
                boz_common::context!("client_order_id" => req.client_order_id),
            ));
        }
        if req.count == Count::ZERO {
            return Err(BozError::invalid_order("count must be positive"));
        }
        let ranges = s
            .ticks
            .get(&req.ticker)
            .cloned()
            .unwrap_or_else(|| vec![PriceRange::WHOLE_CENTS]);
        if !on_tick(&ranges, req.price) {
            return Err(BozError::invalid_order(format!(
                "price {} is not on {}'s tick grid",
                req.price, req.ticker
            )));
        }
        let Some(book) = s.books.get(&req.ticker) else {
            return Err(BozError::invalid_order(format!(
                "market {} has no book (not active)",
                req.ticker
            )));
        };
        let needed = s.reservation(&req.ticker, req.price, req.count)?;
        let available = s.available()?;
        if needed > available {
            return Err(BozError::insufficient_balance(needed, available));
        }
        let depth = book.depth_to(req.side, req.price);
        let asks: Vec<(Price, Count)> = book
            .asks(req.side)
            .into_iter()
            .take_while(|(p, _)| *p <= req.price)
            .collect();

        let id = s.next_id;
        s.next_id += 1;
        let order = PaperOrder {
            order_id: format!("paper-{id}"),
            client_order_id: req.client_order_id.clone(),
            ticker: req.ticker.clone(),
            side: req.side,
            limit: req.price,
            count: req.count,
            filled: Count::ZERO,
            fill_cost: Dollars::ZERO,
            fees: Dollars::ZERO,
            status: PaperStatus::Executed,
            reserved: Dollars::ZERO,
        };
        s.orders.insert(id, order);
        s.by_client.insert(req.client_order_id.clone(), id);

        let fill_now = req.time_in_force != TimeInForce::FillOrKill || depth >= req.count;
        if fill_now {
            let mut left = req.count;
            for (price, size) in asks {
                if left == Count::ZERO {
                    break;
                }
                let n = left.min(size);
                s.fill(id, price, n, false, now)?;
                if let Some(b) = s.books.get_mut(&req.ticker) {
                    b.take(req.side, price, n);
                }
                left = left.checked_sub(n).map_err(money_err)?;
            }
            if req.time_in_force == TimeInForce::GoodTillCanceled && left > Count::ZERO {
                let reserve = s.reservation(&req.ticker, req.price, left)?;
                s.reserved = s.reserved.checked_add(reserve).map_err(money_err)?;
                if let Some(o) = s.orders.get_mut(&id) {
                    o.status = PaperStatus::Resting;
                    o.reserved = reserve;
                }
            }
        }
        let state = s
            .orders
            .get_mut(&id)
            .ok_or_else(|| BozError::internal("order vanished"))?;
        if state.status == PaperStatus::Executed && state.filled < state.count {
            state.status = PaperStatus::Canceled; // IOC remainder, or FOK that could not fill
        }
        Ok(state.state())
    }

    async fn cancel_order(&self, order_id: &str) -> Result<OrderState, BozError> {
        let id = order_number(order_id).ok_or_else(|| BozError::not_found("order", order_id))?;
        cancel(&mut self.lock(), id)
    }

    async fn find_order(&self, client_order_id: &str) -> Result<Option<OrderState>, BozError> {
        let s = self.lock();
        Ok(s.by_client
            .get(client_order_id)
            .and_then(|id| s.orders.get(id))
            .map(PaperOrder::state))
    }

    async fn balance(&self) -> Result<Dollars, BozError> {
        self.lock().available()
    }

    async fn positions(&self) -> Result<Vec<ExchangePosition>, BozError> {
        Ok(self
            .positions()
            .into_iter()
            .filter(|(_, p)| p.yes > Count::ZERO || p.no > Count::ZERO)
            .map(|(ticker, p)| ExchangePosition {
                ticker,
                yes: p.yes,
                no: p.no,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boz_common::error::ErrorKind;
    use boz_common::ports::ManualClock;

    const T: &str = "KXHIGHNY-26FEB17-B53.5";

    fn p(s: &str) -> Price {
        Price::parse(s).unwrap()
    }
    fn c(n: u32) -> Count {
        Count::whole(n)
    }
    fn d(s: &str) -> Dollars {
        Dollars::parse(s).unwrap()
    }

    /// YES bids 0.20 × 10 and 0.22 × 5; NO bids 0.75 × 3, 0.70 × 8, 0.60 × 20, so YES asks are
    /// 0.25 × 3, 0.30 × 8, 0.40 × 20 and the NO ask is 0.78 × 5.
    fn book() -> OrderBook {
        OrderBook::from_levels(
            T,
            &[(p("0.20"), c(10)), (p("0.22"), c(5))],
            &[(p("0.75"), c(3)), (p("0.70"), c(8)), (p("0.60"), c(20))],
            Utc::now(),
        )
    }

    fn exchange(balance: &str) -> PaperExchange {
        let clock = Arc::new(ManualClock::new(
            DateTime::parse_from_rfc3339("2026-02-16T15:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        ));
        let x = PaperExchange::new(d(balance), clock);
        x.set_book(book()).unwrap();
        x
    }

    fn order(id: &str, side: Side, price: &str, count: u32, tif: TimeInForce) -> OrderRequest {
        OrderRequest {
            client_order_id: id.into(),
            ticker: T.into(),
            side,
            price: p(price),
            count: c(count),
            time_in_force: tif,
        }
    }

    #[tokio::test]
    async fn ioc_fills_level_by_level_with_fees_per_fill() {
        let x = exchange("100.00");
        let s = x
            .place_order(&order(
                "a",
                Side::Yes,
                "0.30",
                5,
                TimeInForce::ImmediateOrCancel,
            ))
            .await
            .unwrap();
        // 3 @ 0.25 (fee 0.07×3×0.25×0.75 = 0.039375 → 0.04) and 2 @ 0.30 (0.0294 → 0.03).
        assert_eq!(
            (s.filled, s.remaining, s.fees, s.status.as_str()),
            (c(5), Count::ZERO, d("0.07"), "executed")
        );
        let fills = x.fills();
        assert_eq!(
            fills
                .iter()
                .map(|f| (f.price, f.count, f.fee))
                .collect::<Vec<_>>(),
            vec![(p("0.25"), c(3), d("0.04")), (p("0.30"), c(2), d("0.03"))]
        );
        assert_eq!(x.balance().await.unwrap(), d("98.58")); // 100 − 1.35 − 0.07
        let pos = &x.positions()[T];
        assert_eq!((pos.yes, pos.cost, pos.fees), (c(5), d("1.35"), d("0.07")));
        // The taken liquidity is gone: the best YES ask is now 0.30 × 6.
        assert_eq!(
            x.book(T).unwrap().best_ask(Side::Yes),
            Some((p("0.30"), c(6)))
        );
        // Settling YES pays $5: P&L 5 − 1.35 − 0.07 = 3.58.
        let st = x.settle(T, Side::Yes).unwrap().unwrap();
        assert_eq!((st.payout, st.pnl), (d("5.00"), d("3.58")));
        assert_eq!(x.balance().await.unwrap(), d("103.58"));
    }

    #[tokio::test]
    async fn partial_fills_and_fill_or_kill() {
        let x = exchange("100.00");
        let s = x
            .place_order(&order(
                "a",
                Side::Yes,
                "0.30",
                20,
                TimeInForce::ImmediateOrCancel,
            ))
            .await
            .unwrap();
        // 3 @ 0.25 (0.04) + 8 @ 0.30 (0.07×8×0.21 = 0.1176 → 0.12); the other 9 are cancelled.
        assert_eq!(
            (s.filled, s.remaining, s.fees, s.status.as_str()),
            (c(11), Count::ZERO, d("0.16"), "canceled")
        );
        assert_eq!(x.balance().await.unwrap(), d("96.69")); // 100 − 3.15 − 0.16

        let y = exchange("100.00");
        let s = y
            .place_order(&order("b", Side::Yes, "0.30", 20, TimeInForce::FillOrKill))
            .await
            .unwrap();
        assert_eq!((s.filled, s.status.as_str()), (Count::ZERO, "canceled"));
        assert_eq!(y.balance().await.unwrap(), d("100.00"));
        assert!(y.fills().is_empty());
        let s = y
            .place_order(&order("c", Side::Yes, "0.30", 11, TimeInForce::FillOrKill))
            .await
            .unwrap();
        assert_eq!((s.filled, s.status.as_str()), (c(11), "executed"));
    }

    #[tokio::test]
    async fn buying_no_takes_the_yes_bids() {
        let x = exchange("100.00");
        let s = x
            .place_order(&order(
                "n",
                Side::No,
                "0.80",
                4,
                TimeInForce::ImmediateOrCancel,
            ))
            .await
            .unwrap();
        // NO ask = 1 − 0.22 = 0.78; fee 0.07×4×0.78×0.22 = 0.048048 → 0.05.
        assert_eq!((s.filled, s.fees), (c(4), d("0.05")));
        assert_eq!(x.fills()[0].price, p("0.78"));
        assert_eq!(x.balance().await.unwrap(), d("96.83")); // 100 − 3.12 − 0.05
        let st = x.settle(T, Side::Yes).unwrap().unwrap();
        assert_eq!((st.payout, st.pnl), (Dollars::ZERO, d("-3.17")));
    }

    #[tokio::test]
    async fn gtc_rests_reserves_and_fills_as_maker_when_the_book_crosses() {
        let x = exchange("100.00");
        let s = x
            .place_order(&order(
                "g",
                Side::Yes,
                "0.25",
                5,
                TimeInForce::GoodTillCanceled,
            ))
            .await
            .unwrap();
        assert_eq!(
            (s.filled, s.remaining, s.status.as_str()),
            (c(3), c(2), "resting")
        );
        // Reserved for the 2 resting: 0.50 + fee 0.07×2×0.25×0.75 = 0.02625 → 0.03.
        assert_eq!(x.balance().await.unwrap(), d("98.68")); // 100 − 0.75 − 0.04 − 0.53
        // A later book offers YES at 0.24: the resting bid fills at its own 0.25, as maker (no fee).
        let next =
            OrderBook::from_levels(T, &[(p("0.20"), c(10))], &[(p("0.76"), c(5))], Utc::now());
        x.set_book(next).unwrap();
        let s = x.find_order("g").await.unwrap().unwrap();
        assert_eq!(
            (s.filled, s.remaining, s.fees, s.status.as_str()),
            (c(5), Count::ZERO, d("0.04"), "executed")
        );
        let last = x.fills().last().unwrap().clone();
        assert_eq!(
            (last.price, last.count, last.fee, last.maker),
            (p("0.25"), c(2), Dollars::ZERO, true)
        );
        assert_eq!(x.balance().await.unwrap(), d("98.71")); // 100 − 0.79 − 0.50
        assert_eq!(
            x.book(T).unwrap().best_ask(Side::Yes),
            Some((p("0.24"), c(3)))
        );
    }

    #[tokio::test]
    async fn cancelling_a_resting_order_releases_its_cash() {
        let x = exchange("100.00");
        let s = x
            .place_order(&order(
                "g",
                Side::Yes,
                "0.21",
                10,
                TimeInForce::GoodTillCanceled,
            ))
            .await
            .unwrap();
        assert_eq!((s.filled, s.status.as_str()), (Count::ZERO, "resting"));
        assert!(x.balance().await.unwrap() < d("100.00"));
        let c1 = x.cancel_order(&s.order_id).await.unwrap();
        assert_eq!(c1.status, "canceled");
        assert_eq!(x.balance().await.unwrap(), d("100.00"));
        assert_eq!(
            x.cancel_order(&s.order_id).await.unwrap_err().kind,
            ErrorKind::ConflictError
        );
        assert_eq!(
            x.cancel_order("paper-99").await.unwrap_err().kind,
            ErrorKind::NotFoundError
        );
    }

    #[tokio::test]
    async fn bad_orders_are_refused_and_change_nothing() {
        let x = exchange("1.00");
        x.place_order(&order(
            "a",
            Side::Yes,
            "0.30",
            1,
            TimeInForce::ImmediateOrCancel,
        ))
        .await
        .unwrap();
        let dup = x
            .place_order(&order(
                "a",
                Side::Yes,
                "0.30",
                1,
                TimeInForce::ImmediateOrCancel,
            ))
            .await
            .unwrap_err();
        assert_eq!(
            dup.kind,
            ErrorKind::ConflictError,
            "a duplicate client_order_id is refused, as Kalshi's 409"
        );
        let before = x.balance().await.unwrap();
        let off_tick = x
            .place_order(&order(
                "b",
                Side::Yes,
                "0.255",
                1,
                TimeInForce::ImmediateOrCancel,
            ))
            .await;
        let off_tick = off_tick.unwrap_err();
        assert_eq!(off_tick.kind, ErrorKind::InvalidOrderError);
        assert!(off_tick.message.contains("tick"));
        let broke = x
            .place_order(&order(
                "c",
                Side::Yes,
                "0.30",
                10,
                TimeInForce::ImmediateOrCancel,
            ))
            .await
            .unwrap_err();
        assert_eq!(broke.kind, ErrorKind::InsufficientBalanceError);
        let mut none = order("d", Side::Yes, "0.30", 1, TimeInForce::ImmediateOrCancel);
        none.ticker = "KXHIGHNY-26FEB17-B99.5".into();
        assert_eq!(
            x.place_order(&none).await.unwrap_err().kind,
            ErrorKind::InvalidOrderError
        );
        assert_eq!(x.balance().await.unwrap(), before);
        assert_eq!(x.fills().len(), 1);
        // Sub-cent grids are honoured when the market has one.
        x.set_price_ranges(
            T,
            vec![PriceRange {
                start: Decimal::ZERO,
                end: Decimal::ONE,
                step: Decimal::new(1, 3),
            }],
        );
        assert!(on_tick(&x.lock().ticks[T], p("0.255")));
    }

    #[test]
    fn price_ranges_from_the_market() {
        let m = serde_json::json!({"ticker": "KXHIGHNY-X", "price_ranges": [{"start": "0.0000", "end": "1.0000", "step": "0.0100"}]});
        let r = price_ranges(&m).unwrap();
        assert_eq!(r, vec![PriceRange::WHOLE_CENTS]);
        assert!(on_tick(&r, p("0.56")) && !on_tick(&r, p("0.565")));
        let tapered = serde_json::json!({"price_ranges": [
            {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
            {"start": "0.1000", "end": "0.9000", "step": "0.0100"}
        ]});
        let r = price_ranges(&tapered).unwrap();
        assert!(on_tick(&r, p("0.055")) && !on_tick(&r, p("0.555")) && on_tick(&r, p("0.55")));
        assert_eq!(
            price_ranges(&serde_json::json!({})).unwrap(),
            vec![PriceRange::WHOLE_CENTS]
        );
        let bad = serde_json::json!({"ticker": "T", "price_ranges": [{"start": "0", "end": "1", "step": 0.01}]});
        assert!(
            price_ranges(&bad)
                .unwrap_err()
                .contains("price_ranges[0].step")
        );
    }

    #[tokio::test]
    async fn the_same_books_and_orders_give_the_same_fills() {
        let run = || async {
            let x = exchange("50.00");
            x.place_order(&order(
                "1",
                Side::Yes,
                "0.30",
                7,
                TimeInForce::GoodTillCanceled,
            ))
            .await
            .unwrap();
            x.place_order(&order(
                "2",
                Side::No,
                "0.80",
                2,
                TimeInForce::ImmediateOrCancel,
            ))
            .await
            .unwrap();
            x.set_book(OrderBook::from_levels(
                T,
                &[(p("0.25"), c(4))],
                &[(p("0.72"), c(9))],
                Utc::now(),
            ))
            .unwrap();
            (
                x.fills()
                    .into_iter()
                    .map(|f| (f.order_id, f.price, f.count, f.fee))
                    .collect::<Vec<_>>(),
                x.balance().await.unwrap(),
            )
        };
        assert_eq!(run().await, run().await);
    }
}
