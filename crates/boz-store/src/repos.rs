//! The repository implementations, written once for both backends.
//!
//! The SQL is the same text on SQLite and PostgreSQL (both accept `$n` placeholders,
//! `RETURNING` and `ON CONFLICT`). What differs is how exact money is bound and read (decimal
//! text on SQLite, NUMERIC on PostgreSQL); each backend module provides `bind_money` and
//! `get_money` and then invokes [`impl_repositories!`] for its store type.

macro_rules! impl_repositories {
    ($store:ty, $db:ty) => {
        use async_trait::async_trait;
        use boz_common::city::CityCode;
        use boz_common::error::BozError;
        use boz_common::ports::{
            Inserted, LogFilter, LogRecord, LogRepo, LogSink, MarketSnapshot, MarketSnapshotRepo, MarketTrade,
            PredictionRepo, SettlementRepo,
            SettlementRow, Store, StoredForecast, StoredPrediction, StoredTrade, StoredUser,
            TradeFilter, TradeRepo, TradeSettlement, UserRepo, WeatherRepo,
        };
        use boz_common::schemas::{
            BracketPrediction, BracketPredictionFields, TradeRecord, TradeRecordFields,
            UserSettings, WeatherData, WeatherDataFields,
        };
        use boz_common::status::TradeStatus;
        use boz_common::{Count, Dollars, Price};
        use chrono::{DateTime, NaiveDate, Utc};
        use serde_json::Value;
        use sqlx::Row;
        use sqlx::types::Json;

        use $crate::error::{db_error, decode_error, invalid_row};

        type DbRow = <$db as sqlx::Database>::Row;

        fn col<'r, T>(row: &'r DbRow, name: &str) -> Result<T, BozError>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            row.try_get(name).map_err(|e| decode_error(name, e))
        }

        fn json_col<T: serde::de::DeserializeOwned>(
            row: &DbRow,
            name: &str,
        ) -> Result<T, BozError> {
            let Json(v): Json<Value> = col(row, name)?;
            serde_json::from_value(v).map_err(|e| invalid_row(name, e))
        }

        fn city_col(row: &DbRow, name: &str) -> Result<CityCode, BozError> {
            let s: String = col(row, name)?;
            CityCode::parse(&s).map_err(|e| invalid_row(name, e))
        }

        fn parsed<T: std::str::FromStr>(row: &DbRow, name: &str) -> Result<T, BozError>
        where
            T::Err: std::fmt::Display,
        {
            let s: String = col(row, name)?;
            s.parse().map_err(|e| invalid_row(name, e))
        }

        fn user_from_row(row: &DbRow) -> Result<StoredUser, BozError> {
            let Json(settings): Json<Value> = col(row, "settings")?;
            Ok(StoredUser {
                id: col(row, "id")?,
                api_key_id: col(row, "api_key_id")?,
                encrypted_private_key: col(row, "encrypted_private_key")?,
                settings,
                created_at: col(row, "created_at")?,
            })
        }

        fn forecast_from_row(row: &DbRow) -> Result<StoredForecast, BozError> {
            let raw_data: Option<Json<Value>> = col(row, "raw_data")?;
            let fields = WeatherDataFields {
                city: city_col(row, "city")?,
                date: col(row, "forecast_date")?,
                forecast_high_f: col(row, "forecast_high_f")?,
                source: col(row, "source")?,
                model_run_timestamp: col(row, "model_run_timestamp")?,
                variables: json_col(row, "variables")?,
                raw_data: raw_data.map(|j| j.0).unwrap_or_else(|| serde_json::json!({})),
                fetched_at: col(row, "fetched_at")?,
            };
            Ok(StoredForecast {
                id: col(row, "id")?,
                data: WeatherData::new(fields).map_err(|e| invalid_row("weather_forecasts", e))?,
            })
        }

        fn prediction_from_row(row: &DbRow) -> Result<StoredPrediction, BozError> {
            let fields = BracketPredictionFields {
                city: city_col(row, "city")?,
                date: col(row, "prediction_date")?,
                brackets: json_col(row, "bracket_probabilities")?,
                ensemble_forecast_f: col(row, "ensemble_forecast_f")?,
                confidence: parsed(row, "confidence")?,
                model_sources: json_col(row, "model_sources")?,
                forecast_spread_f: col(row, "forecast_spread_f")?,
                error_std_f: col(row, "error_std_f")?,
                generated_at: col(row, "generated_at")?,
            };
            let provenance: Option<Json<Value>> = col(row, "provenance")?;
            Ok(StoredPrediction {
                provenance: provenance.map_or(Value::Null, |j| j.0),
                id: col(row, "id")?,
                prediction: BracketPrediction::new(fields)
                    .map_err(|e| invalid_row("predictions", e))?,
            })
        }

        fn trade_insert(
            t: &StoredTrade,
        ) -> sqlx::query::Query<'_, $db, <$db as sqlx::Database>::Arguments> {
            let r = &t.record;
            sqlx::query(
                "INSERT INTO trades (id, user_id, city, trade_date, bracket_label, side, \
                 entry_price, quantity, model_probability, market_probability, ev_at_entry, \
                 confidence, kalshi_order_id, status, settlement_temp_f, settlement_source, \
                 pnl, postmortem_narrative, weather_snapshot, prediction_snapshot, \
                 created_at, settled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
                 $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
            )
            .bind(&r.id)
            .bind(&t.user_id)
            .bind(r.city.as_str())
            .bind(r.date)
            .bind(&r.bracket_label)
            .bind(r.side.as_str())
            .bind(bind_money(r.entry_price.as_decimal()))
            .bind(bind_money(r.quantity.as_decimal()))
            .bind(r.model_probability)
            .bind(r.market_probability)
            .bind(r.ev_at_entry)
            .bind(r.confidence.as_str())
            .bind(&t.kalshi_order_id)
            .bind(r.status.as_str())
            .bind(r.settlement_temp_f)
            .bind(&r.settlement_source)
            .bind(r.pnl.map(|p| bind_money(p.as_decimal())))
            .bind(&r.postmortem)
            .bind(Json(&r.weather_forecasts))
            .bind(Json(&r.prediction))
            .bind(r.created_at)
            .bind(r.settled_at)
        }

        fn trade_from_row(row: &DbRow) -> Result<StoredTrade, BozError> {
            let pnl = get_opt_money(row, "pnl")?
                .map(Dollars::new)
                .transpose()
                .map_err(|e| invalid_row("pnl", e))?;
            let fields = TradeRecordFields {
                id: col(row, "id")?,
                city: city_col(row, "city")?,
                date: col(row, "trade_date")?,
                bracket_label: col(row, "bracket_label")?,
                side: parsed(row, "side")?,
                entry_price: Price::new(get_money(row, "entry_price")?)
                    .map_err(|e| invalid_row("entry_price", e))?,
                quantity: Count::new(get_money(row, "quantity")?)
                    .map_err(|e| invalid_row("quantity", e))?,
                model_probability: col(row, "model_probability")?,
                market_probability: col(row, "market_probability")?,
                ev_at_entry: col(row, "ev_at_entry")?,
                confidence: parsed(row, "confidence")?,
                weather_forecasts: json_col(row, "weather_snapshot")?,
                prediction: json_col(row, "prediction_snapshot")?,
                status: parsed(row, "status")?,
                settlement_temp_f: col(row, "settlement_temp_f")?,
                settlement_source: col(row, "settlement_source")?,
                pnl,
                postmortem: col(row, "postmortem_narrative")?,
                created_at: col(row, "created_at")?,
                settled_at: col(row, "settled_at")?,
            };
            Ok(StoredTrade {
                user_id: col(row, "user_id")?,
                kalshi_order_id: col(row, "kalshi_order_id")?,
                record: TradeRecord::new(fields).map_err(|e| invalid_row("trades", e))?,
            })
        }

        fn settlement_from_row(row: &DbRow) -> Result<SettlementRow, BozError> {
            let source: Option<String> = col(row, "source")?;
            let raw: Option<Json<Value>> = col(row, "raw_report")?;
            Ok(SettlementRow {
                city: city_col(row, "city")?,
                settlement_date: col(row, "settlement_date")?,
                actual_high_f: col(row, "actual_high_f")?,
                source: source.unwrap_or_else(|| "NWS_CLI".to_string()),
                raw_report: raw.map(|j| j.0).unwrap_or(Value::Null),
                fetched_at: col(row, "fetched_at")?,
            })
        }

        fn log_from_row(row: &DbRow) -> Result<LogRecord, BozError> {
            let data: Option<Json<Value>> = col(row, "data")?;
            Ok(LogRecord {
                timestamp: col(row, "timestamp")?,
                level: col(row, "level")?,
                module: col(row, "module")?,
                message: col(row, "message")?,
                data: data.map(|j| j.0).unwrap_or(Value::Null),
            })
        }

        fn limit(n: u32, default: u32) -> i64 {
            i64::from(if n == 0 { default } else { n.min(1000) })
        }

        #[async_trait]
        impl UserRepo for $store {
            async fn create_user(&self, user: &StoredUser) -> Result<(), BozError> {
                sqlx::query(
                    "INSERT INTO users (id, api_key_id, encrypted_private_key, settings, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&user.id)
                .bind(&user.api_key_id)
                .bind(&user.encrypted_private_key)
                .bind(Json(&user.settings))
                .bind(user.created_at)
                .execute(&self.write)
                .await
                .map_err(|e| db_error("create user", e))?;
                Ok(())
            }

            async fn get_user(&self, id: &str) -> Result<StoredUser, BozError> {
                let row = sqlx::query("SELECT * FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("get user", e))?
                    .ok_or_else(|| BozError::not_found("user", id))?;
                user_from_row(&row)
            }

            async fn list_users(&self) -> Result<Vec<StoredUser>, BozError> {
                sqlx::query("SELECT * FROM users ORDER BY created_at, id")
                    .fetch_all(&self.read)
                    .await
                    .map_err(|e| db_error("list users", e))?
                    .iter()
                    .map(user_from_row)
                    .collect()
            }

            async fn update_user_settings(
                &self,
                id: &str,
                settings: &UserSettings,
            ) -> Result<(), BozError> {
                let value = serde_json::to_value(settings)
                    .map_err(|e| BozError::internal(format!("settings to JSON: {e}")))?;
                let done = sqlx::query("UPDATE users SET settings = $1 WHERE id = $2")
                    .bind(Json(value))
                    .bind(id)
                    .execute(&self.write)
                    .await
                    .map_err(|e| db_error("update settings", e))?;
                if done.rows_affected() == 0 {
                    return Err(BozError::not_found("user", id));
                }
                Ok(())
            }

            async fn replace_encrypted_keys(
                &self,
                changes: &[(String, String, String)],
            ) -> Result<(), BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                for (id, old, new) in changes {
                    let done = sqlx::query(
                        "UPDATE users SET encrypted_private_key = $1 \
                         WHERE id = $2 AND encrypted_private_key = $3",
                    )
                    .bind(new)
                    .bind(id)
                    .bind(old)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("replace key", e))?;
                    if done.rows_affected() != 1 {
                        // Dropping `tx` rolls every change back.
                        return Err(BozError::conflict(
                            format!("user {id}'s key changed or the user is gone; nothing was re-encrypted"),
                            boz_common::context!("user_id" => id),
                        ));
                    }
                }
                tx.commit().await.map_err(|e| db_error("commit", e))
            }
        }

        #[async_trait]
        impl WeatherRepo for $store {
            async fn insert_forecast(&self, data: &WeatherData) -> Result<Inserted, BozError> {
                let inserted: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO weather_forecasts (city, forecast_date, forecast_high_f, source, \
                     model_run_timestamp, raw_data, variables, fetched_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (city, forecast_date, source, model_run_timestamp) DO NOTHING \
                     RETURNING id",
                )
                .bind(data.city.as_str())
                .bind(data.date)
                .bind(data.forecast_high_f)
                .bind(&data.source)
                .bind(data.model_run_timestamp)
                .bind(Json(&data.raw_data))
                .bind(Json(&data.variables))
                .bind(data.fetched_at)
                .fetch_optional(&self.write)
                .await
                .map_err(|e| db_error("insert forecast", e))?;
                if let Some(id) = inserted {
                    return Ok(Inserted::New(id));
                }
                let id: i64 = sqlx::query_scalar(
                    "SELECT id FROM weather_forecasts WHERE city = $1 AND forecast_date = $2 \
                     AND source = $3 AND model_run_timestamp = $4",
                )
                .bind(data.city.as_str())
                .bind(data.date)
                .bind(&data.source)
                .bind(data.model_run_timestamp)
                .fetch_one(&self.write)
                .await
                .map_err(|e| db_error("find forecast", e))?;
                Ok(Inserted::Duplicate(id))
            }

            async fn forecasts_for(
                &self,
                city: &CityCode,
                date: NaiveDate,
            ) -> Result<Vec<StoredForecast>, BozError> {
                sqlx::query(
                    "SELECT * FROM weather_forecasts WHERE city = $1 AND forecast_date = $2 \
                     ORDER BY fetched_at, id",
                )
                .bind(city.as_str())
                .bind(date)
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("list forecasts", e))?
                .iter()
                .map(forecast_from_row)
                .collect()
            }

            async fn insert_forecasts(&self, batch: &[WeatherData]) -> Result<u64, BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let mut new = 0;
                for data in batch {
                    new += sqlx::query(
                        "INSERT INTO weather_forecasts (city, forecast_date, forecast_high_f, \
                         source, model_run_timestamp, raw_data, variables, fetched_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT (city, forecast_date, source, model_run_timestamp) DO NOTHING",
                    )
                    .bind(data.city.as_str())
                    .bind(data.date)
                    .bind(data.forecast_high_f)
                    .bind(&data.source)
                    .bind(data.model_run_timestamp)
                    .bind(Json(&data.raw_data))
                    .bind(Json(&data.variables))
                    .bind(data.fetched_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("insert forecasts", e))?
                    .rows_affected();
                }
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(new)
            }

            async fn forecasts_between(
                &self,
                city: &CityCode,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<StoredForecast>, BozError> {
                self.by_city_and_dates(
                    "SELECT * FROM weather_forecasts WHERE city = $1 AND forecast_date >= $2 \
                     AND forecast_date <= $3 ORDER BY forecast_date, fetched_at, id",
                    "list forecasts",
                    (city, from, to),
                    forecast_from_row,
                )
                .await
            }
        }

        #[async_trait]
        impl PredictionRepo for $store {
            async fn insert_prediction(
                &self,
                p: &BracketPrediction,
                provenance: &Value,
            ) -> Result<i64, BozError> {
                sqlx::query_scalar(
                    "INSERT INTO predictions (city, prediction_date, ensemble_forecast_f, \
                     bracket_probabilities, confidence, model_sources, forecast_spread_f, \
                     error_std_f, generated_at, provenance) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                )
                .bind(p.city.as_str())
                .bind(p.date)
                .bind(p.ensemble_forecast_f)
                .bind(Json(&p.brackets))
                .bind(p.confidence.as_str())
                .bind(Json(&p.model_sources))
                .bind(p.forecast_spread_f)
                .bind(p.error_std_f)
                .bind(p.generated_at)
                .bind(Json(provenance))
                .fetch_one(&self.write)
                .await
                .map_err(|e| db_error("insert prediction", e))
            }

            async fn latest_prediction(
                &self,
                city: &CityCode,
                date: NaiveDate,
            ) -> Result<Option<StoredPrediction>, BozError> {
                sqlx::query(
                    "SELECT * FROM predictions WHERE city = $1 AND prediction_date = $2 \
                     ORDER BY generated_at DESC, id DESC LIMIT 1",
                )
                .bind(city.as_str())
                .bind(date)
                .fetch_optional(&self.read)
                .await
                .map_err(|e| db_error("latest prediction", e))?
                .as_ref()
                .map(prediction_from_row)
                .transpose()
            }
        }

        impl $store {
            /// Rows of one city between two climate dates (inclusive): `sql` binds the city as
            /// $1 and the dates as $2 and $3.
            async fn by_city_and_dates<T>(
                &self,
                sql: &'static str,
                what: &str,
                (city, from, to): (&CityCode, NaiveDate, NaiveDate),
                map: fn(&DbRow) -> Result<T, BozError>,
            ) -> Result<Vec<T>, BozError> {
                sqlx::query(sql)
                    .bind(city.as_str())
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.read)
                    .await
                    .map_err(|e| db_error(what, e))?
                    .iter()
                    .map(map)
                    .collect()
            }

            async fn current_status(&self, user_id: &str, id: &str) -> Result<TradeStatus, BozError> {
                let s: Option<String> =
                    sqlx::query_scalar("SELECT status FROM trades WHERE id = $1 AND user_id = $2")
                        .bind(id)
                        .bind(user_id)
                        .fetch_optional(&self.write)
                        .await
                        .map_err(|e| db_error("read trade status", e))?;
                let s = s.ok_or_else(|| BozError::not_found("trade", id))?;
                s.parse().map_err(|e| invalid_row("status", e))
            }

            fn lost_race(id: &str, from: TradeStatus) -> BozError {
                BozError::conflict(
                    format!("trade {id} changed status concurrently (was {from})"),
                    boz_common::context!("trade_id" => id, "from" => from.as_str()),
                )
            }
        }

        #[async_trait]
        impl TradeRepo for $store {
            async fn insert_trade(&self, t: &StoredTrade) -> Result<(), BozError> {
                trade_insert(t)
                    .execute(&self.write)
                    .await
                    .map_err(|e| db_error("insert trade", e))?;
                Ok(())
            }

            async fn get_trade(&self, user_id: &str, id: &str) -> Result<StoredTrade, BozError> {
                let row = sqlx::query("SELECT * FROM trades WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("get trade", e))?
                    .ok_or_else(|| BozError::not_found("trade", id))?;
                trade_from_row(&row)
            }

            async fn list_trades(
                &self,
                user_id: &str,
                f: &TradeFilter,
            ) -> Result<Vec<StoredTrade>, BozError> {
                // only the filters given: a page without filters is read from the index alone
                let mut sql = String::from("SELECT * FROM trades WHERE user_id = $1");
                let mut n = 1;
                let mut clause = |sql: &mut String, c: &str| {
                    n += 1;
                    sql.push_str(&format!(" AND {c} ${n}"));
                };
                if f.city.is_some() {
                    clause(&mut sql, "city =");
                }
                if f.status.is_some() {
                    clause(&mut sql, "status =");
                }
                if f.from.is_some() {
                    clause(&mut sql, "trade_date >=");
                }
                if f.to.is_some() {
                    clause(&mut sql, "trade_date <=");
                }
                sql.push_str(&format!(
                    " ORDER BY created_at DESC, id DESC LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2
                ));
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(user_id);
                if let Some(c) = &f.city {
                    q = q.bind(c.as_str().to_string());
                }
                if let Some(s) = f.status {
                    q = q.bind(s.as_str());
                }
                if let Some(d) = f.from {
                    q = q.bind(d);
                }
                if let Some(d) = f.to {
                    q = q.bind(d);
                }
                q.bind(limit(f.limit, 100))
                    .bind(i64::from(f.offset))
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("list trades", e))?
                .iter()
                .map(trade_from_row)
                .collect()
            }

            async fn transition_trade(
                &self,
                user_id: &str,
                id: &str,
                to: TradeStatus,
            ) -> Result<TradeStatus, BozError> {
                let from = self.current_status(user_id, id).await?;
                from.transition(to)?;
                let done = sqlx::query(
                    "UPDATE trades SET status = $1 WHERE id = $2 AND user_id = $3 AND status = $4",
                )
                .bind(to.as_str())
                .bind(id)
                .bind(user_id)
                .bind(from.as_str())
                .execute(&self.write)
                .await
                .map_err(|e| db_error("transition trade", e))?;
                if done.rows_affected() != 1 {
                    return Err(Self::lost_race(id, from));
                }
                Ok(from)
            }

            async fn settle_trade(
                &self,
                user_id: &str,
                id: &str,
                o: &TradeSettlement,
            ) -> Result<(), BozError> {
                let from = self.current_status(user_id, id).await?;
                if from == o.status {
                    let t = self.get_trade(user_id, id).await?;
                    if t.record.pnl == o.pnl && t.record.settlement_temp_f == o.settlement_temp_f {
                        return Ok(()); // already settled this way: nothing changes
                    }
                }
                if !matches!(o.status, TradeStatus::Won | TradeStatus::Lost | TradeStatus::Cancelled) {
                    return Err(BozError::invalid_order(format!(
                        "{} is not a settlement outcome",
                        o.status
                    )));
                }
                from.transition(o.status)?;
                let done = sqlx::query(
                    "UPDATE trades SET status = $1, settlement_temp_f = $2, pnl = $3, \
                     settled_at = $4 WHERE id = $5 AND user_id = $6 AND status = $7",
                )
                .bind(o.status.as_str())
                .bind(o.settlement_temp_f)
                .bind(o.pnl.map(|p| bind_money(p.as_decimal())))
                .bind(o.settled_at)
                .bind(id)
                .bind(user_id)
                .bind(from.as_str())
                .execute(&self.write)
                .await
                .map_err(|e| db_error("settle trade", e))?;
                if done.rows_affected() != 1 {
                    return Err(Self::lost_race(id, from));
                }
                Ok(())
            }

            async fn get_postmortem(
                &self,
                user_id: &str,
                id: &str,
            ) -> Result<Option<Value>, BozError> {
                let row = sqlx::query("SELECT postmortem FROM trades WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("read post-mortem", e))?
                    .ok_or_else(|| BozError::not_found("trade", id))?;
                let v: Option<Json<Value>> = col(&row, "postmortem")?;
                Ok(v.map(|j| j.0))
            }

            async fn set_postmortem(
                &self,
                user_id: &str,
                id: &str,
                text: &str,
            ) -> Result<(), BozError> {
                let done = sqlx::query(
                    "UPDATE trades SET postmortem_narrative = $1 WHERE id = $2 AND user_id = $3",
                )
                .bind(text)
                .bind(id)
                .bind(user_id)
                .execute(&self.write)
                .await
                .map_err(|e| db_error("set post-mortem", e))?;
                if done.rows_affected() == 0 {
                    return Err(BozError::not_found("trade", id));
                }
                Ok(())
            }
        }

        #[async_trait]
        impl SettlementRepo for $store {
            async fn upsert_settlement(
                &self,
                row: &SettlementRow,
            ) -> Result<Option<SettlementRow>, BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let previous = sqlx::query(
                    "SELECT * FROM settlements WHERE city = $1 AND settlement_date = $2",
                )
                .bind(row.city.as_str())
                .bind(row.settlement_date)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| db_error("read settlement", e))?
                .as_ref()
                .map(settlement_from_row)
                .transpose()?;
                sqlx::query(
                    "INSERT INTO settlements (city, settlement_date, actual_high_f, source, \
                     raw_report, fetched_at) VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (city, settlement_date) DO UPDATE SET \
                     actual_high_f = excluded.actual_high_f, source = excluded.source, \
                     raw_report = excluded.raw_report, fetched_at = excluded.fetched_at",
                )
                .bind(row.city.as_str())
                .bind(row.settlement_date)
                .bind(row.actual_high_f)
                .bind(&row.source)
                .bind(Json(&row.raw_report))
                .bind(row.fetched_at)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_error("upsert settlement", e))?;
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(previous)
            }

            async fn get_settlement(
                &self,
                city: &CityCode,
                date: NaiveDate,
            ) -> Result<Option<SettlementRow>, BozError> {
                sqlx::query("SELECT * FROM settlements WHERE city = $1 AND settlement_date = $2")
                    .bind(city.as_str())
                    .bind(date)
                    .fetch_optional(&self.read)
                    .await
                    .map_err(|e| db_error("get settlement", e))?
                    .as_ref()
                    .map(settlement_from_row)
                    .transpose()
            }

            async fn settlements_between(
                &self,
                city: &CityCode,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<SettlementRow>, BozError> {
                self.by_city_and_dates(
                    "SELECT * FROM settlements WHERE city = $1 AND settlement_date >= $2 \
                     AND settlement_date <= $3 ORDER BY settlement_date",
                    "list settlements",
                    (city, from, to),
                    settlement_from_row,
                )
                .await
            }
        }

        fn snapshot_from_row(row: &DbRow) -> Result<MarketSnapshot, BozError> {
            let price = |name: &str| -> Result<Option<Price>, BozError> {
                get_opt_money(row, name)?
                    .map(Price::new)
                    .transpose()
                    .map_err(|e| invalid_row(name, e))
            };
            Ok(MarketSnapshot {
                city: city_col(row, "city")?,
                event_date: col(row, "event_date")?,
                event_ticker: col(row, "event_ticker")?,
                ticker: col(row, "ticker")?,
                lower_bound_f: col(row, "lower_bound_f")?,
                upper_bound_f: col(row, "upper_bound_f")?,
                as_of: col(row, "as_of")?,
                yes_bid: price("yes_bid")?,
                yes_ask: price("yes_ask")?,
                last_price: price("last_price")?,
                volume: get_opt_money(row, "volume")?
                    .map(Count::new)
                    .transpose()
                    .map_err(|e| invalid_row("volume", e))?,
                source: col(row, "source")?,
                depth: {
                    let d: Option<Json<Value>> = col(row, "depth")?;
                    d.map(|Json(v)| serde_json::from_value(v).map_err(|e| invalid_row("depth", e)))
                        .transpose()?
                },
            })
        }

        fn market_trade_from_row(row: &DbRow) -> Result<MarketTrade, BozError> {
            let money = |name: &str| -> Result<rust_decimal::Decimal, BozError> {
                get_opt_money(row, name)?.ok_or_else(|| invalid_row(name, "missing"))
            };
            Ok(MarketTrade {
                trade_id: col(row, "trade_id")?,
                city: city_col(row, "city")?,
                event_date: col(row, "event_date")?,
                ticker: col(row, "ticker")?,
                created_time: col(row, "created_time")?,
                yes_price: Price::new(money("yes_price")?)
                    .map_err(|e| invalid_row("yes_price", e))?,
                count: Count::new(money("count")?).map_err(|e| invalid_row("count", e))?,
                taker_side: col(row, "taker_side")?,
                source: col(row, "source")?,
            })
        }

        #[async_trait]
        impl MarketSnapshotRepo for $store {
            async fn insert_market_snapshots(
                &self,
                batch: &[MarketSnapshot],
            ) -> Result<u64, BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let mut new = 0;
                for m in batch {
                    let money = |p: Option<Price>| p.map(|p| bind_money(p.as_decimal()));
                    new += sqlx::query(
                        "INSERT INTO market_snapshots (city, event_date, event_ticker, ticker, \
                         lower_bound_f, upper_bound_f, as_of, yes_bid, yes_ask, last_price, \
                         volume, source, depth) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                         ON CONFLICT (ticker, as_of, source) DO NOTHING",
                    )
                    .bind(m.city.as_str())
                    .bind(m.event_date)
                    .bind(&m.event_ticker)
                    .bind(&m.ticker)
                    .bind(m.lower_bound_f)
                    .bind(m.upper_bound_f)
                    .bind(m.as_of)
                    .bind(money(m.yes_bid))
                    .bind(money(m.yes_ask))
                    .bind(money(m.last_price))
                    .bind(m.volume.map(|v| bind_money(v.as_decimal())))
                    .bind(&m.source)
                    .bind(m.depth.as_ref().map(Json))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("insert market snapshots", e))?
                    .rows_affected();
                }
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(new)
            }

            async fn market_snapshots_between(
                &self,
                city: &CityCode,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<MarketSnapshot>, BozError> {
                self.by_city_and_dates(
                    "SELECT * FROM market_snapshots WHERE city = $1 AND event_date >= $2 \
                     AND event_date <= $3 ORDER BY event_date, ticker, as_of, id",
                    "list market snapshots",
                    (city, from, to),
                    snapshot_from_row,
                )
                .await
            }

            async fn latest_market_snapshots(
                &self,
                city: &CityCode,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<MarketSnapshot>, BozError> {
                let mut rows = self
                    .by_city_and_dates(
                        "SELECT * FROM market_snapshots m WHERE m.city = $1 AND m.event_date >= $2 \
                         AND m.event_date <= $3 AND m.as_of = (SELECT MAX(s.as_of) FROM market_snapshots s \
                         WHERE s.ticker = m.ticker AND s.city = m.city AND s.event_date = m.event_date) \
                         ORDER BY m.event_date, m.ticker, m.id",
                        "list latest market snapshots",
                        (city, from, to),
                        snapshot_from_row,
                    )
                    .await?;
                // several sources recorded at the same instant: the first
                rows.dedup_by(|b, a| a.ticker == b.ticker);
                Ok(rows)
            }

            async fn insert_market_trades(&self, batch: &[MarketTrade]) -> Result<u64, BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                let mut new = 0;
                for t in batch {
                    new += sqlx::query(
                        "INSERT INTO market_trades (trade_id, city, event_date, ticker, \
                         created_time, yes_price, count, taker_side, source) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                         ON CONFLICT (trade_id) DO NOTHING",
                    )
                    .bind(&t.trade_id)
                    .bind(t.city.as_str())
                    .bind(t.event_date)
                    .bind(&t.ticker)
                    .bind(t.created_time)
                    .bind(bind_money(t.yes_price.as_decimal()))
                    .bind(bind_money(t.count.as_decimal()))
                    .bind(&t.taker_side)
                    .bind(&t.source)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("insert market trades", e))?
                    .rows_affected();
                }
                tx.commit().await.map_err(|e| db_error("commit", e))?;
                Ok(new)
            }

            async fn market_trades_between(
                &self,
                city: &CityCode,
                from: NaiveDate,
                to: NaiveDate,
            ) -> Result<Vec<MarketTrade>, BozError> {
                self.by_city_and_dates(
                    "SELECT * FROM market_trades WHERE city = $1 AND event_date >= $2 \
                     AND event_date <= $3 ORDER BY ticker, created_time, trade_id",
                    "list market trades",
                    (city, from, to),
                    market_trade_from_row,
                )
                .await
            }
        }

        #[async_trait]
        impl LogSink for $store {
            async fn insert_log_entries(&self, batch: &[LogRecord]) -> Result<(), BozError> {
                let mut tx = self.write.begin().await.map_err(|e| db_error("begin", e))?;
                for r in batch {
                    sqlx::query(
                        "INSERT INTO log_entries (timestamp, level, module, message, data) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(r.timestamp)
                    .bind(&r.level)
                    .bind(&r.module)
                    .bind(&r.message)
                    .bind(Json(&r.data))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| db_error("insert log entry", e))?;
                }
                tx.commit().await.map_err(|e| db_error("commit", e))
            }
        }

        #[async_trait]
        impl LogRepo for $store {
            async fn recent_logs(&self, f: &LogFilter) -> Result<Vec<LogRecord>, BozError> {
                let since: Option<DateTime<Utc>> = f.since;
                sqlx::query(
                    "SELECT * FROM log_entries WHERE ($1 IS NULL OR module = $1) \
                     AND ($2 IS NULL OR level = $2) AND ($3 IS NULL OR timestamp >= $3) \
                     ORDER BY timestamp DESC, id DESC LIMIT $4",
                )
                .bind(f.module.as_deref())
                .bind(f.level.as_deref())
                .bind(since)
                .bind(limit(f.limit, 200))
                .fetch_all(&self.read)
                .await
                .map_err(|e| db_error("read logs", e))?
                .iter()
                .map(log_from_row)
                .collect()
            }
        }

        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                BACKEND
            }

            async fn ping(&self) -> Result<(), BozError> {
                sqlx::query("SELECT 1")
                    .execute(&self.read)
                    .await
                    .map_err(|e| db_error("ping", e))?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_repositories;
