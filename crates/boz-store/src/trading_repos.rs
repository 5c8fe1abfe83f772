//! The trading repositories (risk accounting, orders, the approval queue), written once for
//! both backends like [`crate::repos`]. Each backend defines `FOR_UPDATE` (row locks on
//! PostgreSQL; SQLite has one writer at a time) and then invokes [`impl_trading_repositories!`]
//! after `impl_repositories!`, whose helpers it uses.

macro_rules! impl_trading_repositories {
    ($store:ty, $db:ty) => {
        use boz_common::ports::{
            ApprovalRepo, ExposureLimits, OrderRecord, OrderRepo, OrderRequest, OrderState, OrderStatus, Opened,
            RiskRepo, RiskStatus, StoredApproval, TradingState,
        };
        use boz_common::schemas::PendingTrade;

        type Conn = <$db as sqlx::Database>::Connection;

        fn money_or_zero(row: &DbRow, name: &str) -> Result<Decimal, BozError> {
            Ok(get_opt_money(row, name)?.unwrap_or(Decimal::ZERO))
        }

        fn order_from_row(row: &DbRow) -> Result<OrderRecord, BozError> {
            let tif: String = col(row, "time_in_force")?;
            let dollars = |name: &str| -> Result<Dollars, BozError> {
                Dollars::new(money_or_zero(row, name)?).map_err(|e| invalid_row(name, e))
            };
            let count = |name: &str| -> Result<Count, BozError> {
                Count::new(money_or_zero(row, name)?).map_err(|e| invalid_row(name, e))
            };
            Ok(OrderRecord {
                request: OrderRequest {
                    client_order_id: col(row, "client_order_id")?,
                    ticker: col(row, "ticker")?,
                    side: parsed(row, "side")?,
                    price: Price::new(get_money(row, "price")?).map_err(|e| invalid_row("price", e))?,
                    count: count("count")?,
                    time_in_force: serde_json::from_value(Value::String(tif))
                        .map_err(|e| invalid_row("time_in_force", e))?,
                },
                user_id: col(row, "user_id")?,
                trade_id: col(row, "trade_id")?,
                trading_day: col(row, "trading_day")?,
                reserved: dollars("reserved")?,
                status: parsed(row, "status")?,
                exchange_order_id: col(row, "exchange_order_id")?,
                filled: count("filled")?,
                fill_cost: dollars("fill_cost")?,
                fees: dollars("fees")?,
                close_time: col(row, "close_time")?,
                detail: col(row, "detail")?,
                created_at: col(row, "created_at")?,
                updated_at: col(row, "updated_at")?,
            })
        }

        fn tif_str(t: boz_common::ports::TimeInForce) -> String {
            serde_json::to_value(t)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        }

        async fn ensure_risk_rows(c: &mut Conn, user_id: &str, day: NaiveDate) -> Result<(), BozError> {
            sqlx::query(
                "INSERT INTO risk_days (user_id, trading_day, exposure, realized_pnl) \
                 VALUES ($1, $2, $3, $3) ON CONFLICT (user_id, trading_day) DO NOTHING",
            )
            .bind(user_id)
            .bind(day)
            .bind(bind_money(Decimal::ZERO))
            .execute(&mut *c)
            .await
            .map_err(|e| db_error("risk day", e))?;
            sqlx::query("INSERT INTO risk_state (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING")
                .bind(user_id)
                .execute(&mut *c)
                .await
                .map_err(|e| db_error("risk state", e))?;
            Ok(())
        }

        /// The day's exposure, locked for the transaction.
        async fn locked_exposure(c: &mut Conn, user_id: &str, day: NaiveDate) -> Result<Decimal, BozError> {
            let q = format!(
                "SELECT exposure FROM risk_days WHERE user_id = $1 AND trading_day = $2{FOR_UPDATE}"
            );
            let row = sqlx::query(sqlx::AssertSqlSafe(q))
                .bind(user_id)
                .bind(day)
                .fetch_one(&mut *c)
                .await
                .map_err(|e| db_error("read exposure", e))?;
            get_money(&row, "exposure")
        }

        async fn set_exposure(c: &mut Conn, user_id: &str, day: NaiveDate, v: Decimal) -> Result<(), BozError> {
            sqlx::query("UPDATE risk_days SET exposure = $3 WHERE user_id = $1 AND trading_day = $2")
                .bind(user_id)
                .bind(day)
                .bind(bind_money(v))
                .execute(&mut *c)
                .await
                .map_err(|e| db_error("update exposure", e))?;
            Ok(())
        }

        async fn read_risk(c: &mut Conn, user_id: &str, day: NaiveDate) -> Result<RiskStatus, BozError> {
            let d = sqlx::query("SELECT * FROM risk_days WHERE user_id = $1 AND trading_day = $2")
                .bind(user_id)
                .bind(day)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| db_error("read risk day", e))?;
            let s = sqlx::query("SELECT * FROM risk_state WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| db_error("read risk state", e))?;
            let dollars = |row: &Option<DbRow>, name: &str| -> Result<Dollars, BozError> {
                let v = match row {
                    Some(r) => money_or_zero(r, name)?,
                    None => Decimal::ZERO,
                };
                Dollars::new(v).map_err(|e| invalid_row(name, e))
            };
            let mut status = RiskStatus {
                exposure: dollars(&d, "exposure")?,
                realized_pnl: dollars(&d, "realized_pnl")?,
                ..RiskStatus::fresh(user_id, day)
            };
            if let Some(s) = &s {
                let losses: i64 = col(s, "consecutive_losses")?;
                status.consecutive_losses = u32::try_from(losses).unwrap_or(u32::MAX);
                status.last_loss_at = col(s, "last_loss_at")?;
                status.state = parsed(s, "state")?;
                status.state_reason = col(s, "reason")?;
                status.state_changed_by = col(s, "changed_by")?;
                status.state_changed_at = col(s, "changed_at")?;
            }
            Ok(status)
        }

        /// A trade's status, locked for the transaction; `what` names it in "not found".
        async fn locked_trade_status(c: &mut Conn, user_id: &str, id: &str, what: &str) -> Result<TradeStatus, BozError> {
            let q = format!("SELECT status FROM trades WHERE id = $1 AND user_id = $2{FOR_UPDATE}");
            let s: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(q))
                .bind(id)
                .bind(user_id)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| db_error("read trade", e))?;
            s.ok_or_else(|| BozError::not_found(what, id))?
                .parse()
                .map_err(|e| invalid_row("status", e))
        }

        /// Adds a settled result to the day's P&L and the losing streak (inside a transaction).
        async fn apply_result(c: &mut Conn, user_id: &str, day: NaiveDate, pnl: Dollars, at: DateTime<Utc>) -> Result<(), BozError> {
            let before = read_risk(&mut *c, user_id, day).await?;
            let total = before.realized_pnl.as_decimal() + pnl.as_decimal();
            sqlx::query("UPDATE risk_days SET realized_pnl = $3 WHERE user_id = $1 AND trading_day = $2")
                .bind(user_id)
                .bind(day)
                .bind(bind_money(total))
                .execute(&mut *c)
                .await
                .map_err(|e| db_error("record result", e))?;
            let (losses, last_loss): (i64, Option<DateTime<Utc>>) = if pnl.is_negative() {
                (i64::from(before.consecutive_losses) + 1, Some(at))
            } else if pnl.is_positive() {
                (0, before.last_loss_at)
            } else {
                (i64::from(before.consecutive_losses), before.last_loss_at)
            };
            sqlx::query("UPDATE risk_state SET consecutive_losses = $2, last_loss_at = $3 WHERE user_id = $1")
                .bind(user_id)
                .bind(losses)
                .bind(last_loss)
                .execute(&mut *c)
                .await
                .map_err(|e| db_error("record result", e))?;
            Ok(())
        }

        #[async_trait]
        impl RiskRepo for $store {
            async fn risk_status(&self, user_id: &str, day: NaiveDate) -> Result<RiskStatus, BozError> {
                let mut c = self.read.acquire().await.map_err(|e| db_error("connect", e))?;
                read_risk(&mut c, user_id, day).await
            }

            async fn record_result(
                &self,
                user_id: &str,
                day: NaiveDate,
                pnl: Dollars,
                at: DateTime<Utc>,
            ) -> Result<RiskStatus, BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                ensure_risk_rows(&mut tx, user_id, day).await?;
                apply_result(&mut tx, user_id, day, pnl, at).await?;
                let after = read_risk(&mut tx, user_id, day).await?;
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(after)
            }

            async fn settle_with_risk(
                &self,
                user_id: &str,
                trade_id: &str,
                o: &TradeSettlement,
                day: NaiveDate,
                narrative: &str,
                postmortem: &Value,
            ) -> Result<bool, BozError> {
                if !matches!(o.status, TradeStatus::Won | TradeStatus::Lost) {
                    return Err(BozError::invalid_order(format!("{} is not WON or LOST", o.status)));
                }
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let from = locked_trade_status(&mut tx, user_id, trade_id, "trade").await?;
                if matches!(from, TradeStatus::Won | TradeStatus::Lost) {
                    return Ok(false); // settled before: nothing changes
                }
                from.transition(o.status)?;
                sqlx::query(
                    "UPDATE trades SET status = $3, settlement_temp_f = $4, pnl = $5, settled_at = $6, \
                     postmortem_narrative = $7, postmortem = $8 WHERE id = $1 AND user_id = $2",
                )
                .bind(trade_id)
                .bind(user_id)
                .bind(o.status.as_str())
                .bind(o.settlement_temp_f)
                .bind(o.pnl.map(|p| bind_money(p.as_decimal())))
                .bind(o.settled_at)
                .bind(narrative)
                .bind(Json(postmortem))
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("settle trade", e))?;
                ensure_risk_rows(&mut tx, user_id, day).await?;
                apply_result(&mut tx, user_id, day, o.pnl.unwrap_or(Dollars::ZERO), o.settled_at).await?;
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(true)
            }

            async fn set_trading_state(
                &self,
                user_id: &str,
                state: TradingState,
                reason: &str,
                by: &str,
                at: DateTime<Utc>,
            ) -> Result<(), BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                sqlx::query("INSERT INTO risk_state (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("risk state", e))?;
                sqlx::query(
                    "UPDATE risk_state SET state = $2, reason = $3, changed_by = $4, changed_at = $5 \
                     WHERE user_id = $1",
                )
                .bind(user_id)
                .bind(state.as_str())
                .bind(reason)
                .bind(by)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("set trading state", e))?;
                tx.commit().await.map_err(|e| db_error("commit", e))
            }
        }

        async fn order_in(c: &mut Conn, coid: &str, lock: bool) -> Result<Option<OrderRecord>, BozError> {
            let q = format!(
                "SELECT * FROM orders WHERE client_order_id = $1{}",
                if lock { FOR_UPDATE } else { "" }
            );
            sqlx::query(sqlx::AssertSqlSafe(q))
                .bind(coid)
                .fetch_optional(&mut *c)
                .await
                .map_err(|e| db_error("read order", e))?
                .as_ref()
                .map(order_from_row)
                .transpose()
        }

        #[async_trait]
        impl OrderRepo for $store {
            async fn open_order(
                &self,
                o: &OrderRecord,
                trade: Option<&StoredTrade>,
                limits: &ExposureLimits,
            ) -> Result<Opened, BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let coid = &o.request.client_order_id;
                if let Some(existing) = order_in(&mut tx, coid, true).await? {
                    return Ok(Opened::Existing(Box::new(existing)));
                }
                ensure_risk_rows(&mut tx, &o.user_id, o.trading_day).await?;
                let current = locked_exposure(&mut tx, &o.user_id, o.trading_day).await?;
                let next = current + o.reserved.as_decimal();
                if next > limits.daily.as_decimal() {
                    return Err(BozError::risk_refused(
                        "max_daily_exposure",
                        current.normalize(),
                        o.reserved,
                        limits.daily,
                    ));
                }
                if let Some((event, cap)) = &limits.event {
                    // the day's lock on risk_days (above) serialises this read too
                    let rows = sqlx::query(
                        "SELECT * FROM orders WHERE user_id = $1 AND trading_day = $2 AND ticker LIKE $3",
                    )
                    .bind(&o.user_id)
                    .bind(o.trading_day)
                    .bind(format!("{event}-%"))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(|e| db_error("read event exposure", e))?;
                    let mut used = Decimal::ZERO;
                    for row in &rows {
                        let r = order_from_row(row)?;
                        used += if r.status.is_final() {
                            r.fill_cost.as_decimal() + r.fees.as_decimal()
                        } else {
                            r.reserved.as_decimal()
                        };
                    }
                    if used + o.reserved.as_decimal() > cap.as_decimal() {
                        return Err(BozError::risk_refused(
                            &format!("max_event_exposure ({event})"),
                            used.normalize(),
                            o.reserved,
                            cap,
                        ));
                    }
                }
                set_exposure(&mut tx, &o.user_id, o.trading_day, next).await?;
                match trade {
                    Some(t) => {
                        trade_insert(t)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| db_error("insert trade", e))?;
                    }
                    None => {
                        let s: Option<String> = sqlx::query_scalar(
                            "SELECT status FROM trades WHERE id = $1 AND user_id = $2",
                        )
                        .bind(&o.trade_id)
                        .bind(&o.user_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(|e| db_error("read trade", e))?;
                        if s.as_deref() != Some(TradeStatus::Approved.as_str()) {
                            return Err(BozError::conflict(
                                format!("trade {} is not APPROVED (it is {s:?})", o.trade_id),
                                boz_common::context!("trade_id" => o.trade_id.as_str()),
                            ));
                        }
                    }
                }
                let r = &o.request;
                sqlx::query(
                    "INSERT INTO orders (client_order_id, user_id, trade_id, ticker, side, price, \
                     count, time_in_force, trading_day, reserved, status, exchange_order_id, filled, \
                     fill_cost, fees, close_time, detail, created_at, updated_at) VALUES ($1, $2, $3, \
                     $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
                )
                .bind(coid)
                .bind(&o.user_id)
                .bind(&o.trade_id)
                .bind(&r.ticker)
                .bind(r.side.as_str())
                .bind(bind_money(r.price.as_decimal()))
                .bind(bind_money(r.count.as_decimal()))
                .bind(tif_str(r.time_in_force))
                .bind(o.trading_day)
                .bind(bind_money(o.reserved.as_decimal()))
                .bind(o.status.as_str())
                .bind(&o.exchange_order_id)
                .bind(bind_money(o.filled.as_decimal()))
                .bind(bind_money(o.fill_cost.as_decimal()))
                .bind(bind_money(o.fees.as_decimal()))
                .bind(o.close_time)
                .bind(&o.detail)
                .bind(o.created_at)
                .bind(o.updated_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("insert order", e))?;
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(Opened::New)
            }

            async fn update_order(
                &self,
                coid: &str,
                state: Option<&OrderState>,
                status: OrderStatus,
                detail: Option<&str>,
                at: DateTime<Utc>,
            ) -> Result<OrderRecord, BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let old = order_in(&mut tx, coid, true)
                    .await?
                    .ok_or_else(|| BozError::not_found("order", coid))?;
                if old.status.is_final() {
                    return Ok(old); // a final order never changes again
                }
                let mut new = old.clone();
                new.status = status;
                new.updated_at = at;
                if let Some(d) = detail {
                    new.detail = Some(d.to_string());
                }
                if let Some(s) = state {
                    if !s.order_id.is_empty() {
                        new.exchange_order_id = Some(s.order_id.clone());
                    }
                    new.filled = s.filled;
                    new.fill_cost = s.fill_cost;
                    new.fees = s.fees;
                }
                sqlx::query(
                    "UPDATE orders SET status = $2, exchange_order_id = $3, filled = $4, fill_cost = $5, \
                     fees = $6, detail = $7, updated_at = $8 WHERE client_order_id = $1",
                )
                .bind(coid)
                .bind(new.status.as_str())
                .bind(&new.exchange_order_id)
                .bind(bind_money(new.filled.as_decimal()))
                .bind(bind_money(new.fill_cost.as_decimal()))
                .bind(bind_money(new.fees.as_decimal()))
                .bind(&new.detail)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("update order", e))?;
                if new.status.is_final() {
                    if new.filled > Count::ZERO {
                        let avg = (new.fill_cost.as_decimal() / new.filled.as_decimal()).round_dp(6);
                        let price = Price::new(avg).map_err(|e| invalid_row("fill_cost", e))?;
                        sqlx::query(
                            "UPDATE trades SET status = 'EXECUTED', quantity = $3, entry_price = $4, \
                             kalshi_order_id = $5 WHERE id = $1 AND user_id = $2 AND status = 'APPROVED'",
                        )
                        .bind(&new.trade_id)
                        .bind(&new.user_id)
                        .bind(bind_money(new.filled.as_decimal()))
                        .bind(bind_money(price.as_decimal()))
                        .bind(&new.exchange_order_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| db_error("execute trade", e))?;
                    } else {
                        sqlx::query(
                            "UPDATE trades SET status = 'CANCELLED' WHERE id = $1 AND user_id = $2 \
                             AND status = 'APPROVED'",
                        )
                        .bind(&new.trade_id)
                        .bind(&new.user_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| db_error("cancel trade", e))?;
                    }
                    let used = new.fill_cost.as_decimal() + new.fees.as_decimal();
                    let unused = new.reserved.as_decimal() - used;
                    if unused > Decimal::ZERO {
                        let current = locked_exposure(&mut tx, &new.user_id, new.trading_day).await?;
                        set_exposure(&mut tx, &new.user_id, new.trading_day, (current - unused).max(Decimal::ZERO)).await?;
                    }
                }
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(new)
            }

            async fn get_order(&self, coid: &str) -> Result<Option<OrderRecord>, BozError> {
                let mut c = self.read.acquire().await.map_err(|e| db_error("connect", e))?;
                order_in(&mut c, coid, false).await
            }

            async fn orders_in(&self, statuses: &[OrderStatus]) -> Result<Vec<OrderRecord>, BozError> {
                if statuses.is_empty() {
                    return Ok(Vec::new());
                }
                let marks: Vec<String> = (1..=statuses.len()).map(|i| format!("${i}")).collect();
                let q = format!(
                    "SELECT * FROM orders WHERE status IN ({}) ORDER BY created_at, client_order_id",
                    marks.join(", ")
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(q));
                for s in statuses {
                    query = query.bind(s.as_str());
                }
                query
                    .fetch_all(&self.read)
                    .await
                    .map_err(|e| db_error("list orders", e))?
                    .iter()
                    .map(order_from_row)
                    .collect()
            }

            async fn user_orders_between(
                &self,
                user_id: &str,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<OrderRecord>, BozError> {
                sqlx::query(
                    "SELECT * FROM orders WHERE user_id = $1 AND trading_day >= $2 \
                     AND trading_day <= $3 ORDER BY created_at, client_order_id",
                )
                .bind(user_id)
                .bind(from)
                .bind(to)
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("list orders", e))?
                .iter()
                .map(order_from_row)
                .collect()
            }
        }

        fn approval_from_row(row: &DbRow) -> Result<StoredApproval, BozError> {
            let mut pending: PendingTrade = json_col(row, "pending")?;
            // the queue's state is the decision: a trade approved and then executed, won, lost
            // or cancelled reads as APPROVED
            let status = match parsed::<TradeStatus>(row, "trade_status")? {
                s @ (TradeStatus::Pending | TradeStatus::Rejected | TradeStatus::Expired) => s,
                _ => TradeStatus::Approved,
            };
            if pending.status != status {
                let mut f = pending.into_fields();
                f.status = status;
                pending = PendingTrade::new(f).map_err(|e| invalid_row("pending", e))?;
            }
            Ok(StoredApproval {
                pending,
                decided_by: col(row, "decided_by")?,
                decided_at: col(row, "decided_at")?,
                reason: col(row, "reason")?,
            })
        }

        #[async_trait]
        impl ApprovalRepo for $store {
            async fn queue_trade(&self, trade: &StoredTrade, pending: &PendingTrade) -> Result<(), BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                trade_insert(trade)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("insert trade", e))?;
                sqlx::query(
                    "INSERT INTO trade_approvals (trade_id, user_id, pending, expires_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&pending.id)
                .bind(&pending.user_id)
                .bind(Json(pending))
                .bind(pending.expires_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("queue trade", e))?;
                tx.commit().await.map_err(|e| db_error("commit", e))
            }

            async fn get_approval(&self, user_id: &str, id: &str) -> Result<StoredApproval, BozError> {
                let row = sqlx::query(
                    "SELECT a.*, t.status AS trade_status FROM trade_approvals a \
                     JOIN trades t ON t.id = a.trade_id WHERE a.trade_id = $1 AND a.user_id = $2",
                )
                .bind(id)
                .bind(user_id)
                .fetch_optional(&self.read)
                .await
                .map_err(|e| db_error("read approval", e))?
                .ok_or_else(|| BozError::not_found("pending trade", id))?;
                approval_from_row(&row)
            }

            async fn list_approvals(&self, user_id: &str, pending_only: bool) -> Result<Vec<StoredApproval>, BozError> {
                sqlx::query(
                    "SELECT a.*, t.status AS trade_status FROM trade_approvals a \
                     JOIN trades t ON t.id = a.trade_id WHERE a.user_id = $1 \
                     AND (NOT $2 OR t.status = 'PENDING') ORDER BY t.created_at DESC, a.trade_id",
                )
                .bind(user_id)
                .bind(pending_only)
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("list approvals", e))?
                .iter()
                .map(approval_from_row)
                .collect()
            }

            async fn decide_approval(
                &self,
                user_id: &str,
                id: &str,
                to: TradeStatus,
                by: &str,
                at: DateTime<Utc>,
                reason: Option<&str>,
            ) -> Result<(), BozError> {
                if !matches!(to, TradeStatus::Approved | TradeStatus::Rejected | TradeStatus::Expired) {
                    return Err(BozError::invalid_order(format!("{to} is not an approval decision")));
                }
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let s = locked_trade_status(&mut tx, user_id, id, "pending trade").await?;
                if s != TradeStatus::Pending {
                    return Err(BozError::conflict(
                        format!("trade {id} is no longer pending (it is {s})"),
                        boz_common::context!("trade_id" => id, "status" => s.as_str()),
                    ));
                }
                sqlx::query("UPDATE trades SET status = $3 WHERE id = $1 AND user_id = $2 AND status = 'PENDING'")
                    .bind(id)
                    .bind(user_id)
                    .bind(to.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("decide trade", e))?;
                sqlx::query(
                    "UPDATE trade_approvals SET decided_by = $2, decided_at = $3, reason = $4 WHERE trade_id = $1",
                )
                .bind(id)
                .bind(by)
                .bind(at)
                .bind(reason)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("decide approval", e))?;
                tx.commit().await.map_err(|e| db_error("commit", e))
            }
        }
    };
}

pub(crate) use impl_trading_repositories;
