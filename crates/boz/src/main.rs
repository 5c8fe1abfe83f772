//! `boz`: the Boz Weather Trader binary, the composition root (layer L3).
//!
//! Log tag: SYSTEM. May depend on: every crate of the workspace.
//! It reads the settings, picks SQLite or PostgreSQL, wires the stores and services together,
//! and runs the command asked for. `anyhow` is used here only.

mod accounts;
mod cli;
mod commands;
mod setup;
mod trader;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{
    Cli, Command, ConfigCommand, DbCommand, HistoryCommand, KalshiCommand, KeysCommand,
    SettleCommand, TradeCommand, UserCommand, WeatherCommand,
};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Run => commands::run::run(commands::run::Role::All).await,
            Command::Serve => commands::run::run(commands::run::Role::Serve).await,
            Command::Worker => commands::run::run(commands::run::Role::Worker).await,
            Command::Config(ConfigCommand::Check) => commands::config::check(),
            Command::Db(DbCommand::Migrate) => commands::db::migrate().await,
            Command::Db(DbCommand::Status) => commands::db::status().await,
            Command::Db(DbCommand::Revert) => commands::db::revert().await,
            Command::Weather(WeatherCommand::Fetch { cities, date, json }) => {
                commands::weather::fetch(&cities, date, json).await
            }
            Command::Weather(WeatherCommand::Observe { cities, json }) => {
                commands::weather::observe(&cities, json).await
            }
            Command::Markets {
                cities,
                date,
                json,
                record,
            } => commands::kalshi::markets(&cities, date, json, record).await,
            Command::Kalshi(KalshiCommand::Check { user }) => {
                commands::kalshi::check(user.as_deref()).await
            }
            Command::Predict { cities, date, json } => {
                commands::predict::predict(&cities, date, json).await
            }
            Command::Score {
                from,
                to,
                cities,
                decision_hour,
                days_before,
                json,
            } => {
                let decision = commands::score::Decision {
                    days_before,
                    hour: decision_hour,
                };
                commands::score::score(&cities, from, to, decision, json).await
            }
            Command::Backtest {
                from,
                to,
                cities,
                data,
                report,
                json,
                decision_hour,
                days_before,
                window_minutes,
                include_reserved,
                model,
                sweeps,
                recorded,
                book,
                quotes_from,
            } => {
                commands::backtest::backtest(&commands::backtest::Args {
                    recorded,
                    book,
                    quotes_from: &quotes_from,
                    sweeps: &sweeps,
                    model: if model == "original" {
                        boz_engine::backtest::Model::Original
                    } else {
                        boz_engine::backtest::Model::Model
                    },
                    codes: &cities,
                    from,
                    to,
                    data: &data,
                    report: report.as_deref(),
                    json,
                    hours: decision_hour,
                    days_before,
                    window_minutes,
                    include_reserved,
                })
                .await
            }
            Command::Backfill {
                from,
                to,
                cities,
                sources,
                models,
                decision_hour,
                days_before,
                rate_per_second,
                include_reserved,
            } => {
                commands::backfill::backfill(&commands::backfill::Args {
                    codes: &cities,
                    from,
                    to,
                    sources: &sources,
                    models: &models,
                    hours: &decision_hour,
                    days_before,
                    rate_per_second,
                    include_reserved,
                })
                .await
            }
            Command::History(HistoryCommand::Import {
                dir,
                cities,
                decision_hour,
                include_reserved,
            }) => {
                let opts = commands::history::Options {
                    dir: &dir,
                    decision_hour,
                    include_reserved,
                };
                commands::history::import(&cities, &opts).await
            }
            Command::History(HistoryCommand::ImportBookLogs {
                dir,
                zone,
                include_reserved,
            }) => {
                commands::book_logs::import(&commands::book_logs::Args {
                    dir: &dir,
                    zone: &zone,
                    include_reserved,
                })
                .await
            }
            Command::Signals { user, cities, json } => {
                commands::trade::signals(&user, &cities, json).await
            }
            Command::Trade(TradeCommand::Cycle { dry_run, json }) => {
                commands::trade::cycle(dry_run, json).await
            }
            Command::Trade(TradeCommand::Pending { user, json }) => {
                commands::trade::pending(&user, json).await
            }
            Command::Trade(TradeCommand::Approve {
                id,
                user,
                limit_price,
            }) => commands::trade::approve(&user, &id, limit_price).await,
            Command::Trade(TradeCommand::Reject { id, user, reason }) => {
                commands::trade::reject(&user, &id, reason.as_deref()).await
            }
            Command::Settle {
                command: Some(SettleCommand::Parse { file, json }),
                ..
            } => commands::settle::parse_file(&file, json),
            Command::Settle {
                command: None,
                date,
                cities,
            } => commands::settle::settle(&cities, date).await,
            Command::Postmortem { trade_id, user } => {
                commands::settle::show_postmortem(&user, &trade_id).await
            }
            Command::Halt { user, reason } => commands::trade::halt(&user, &reason).await,
            Command::Resume { user } => commands::trade::resume(&user).await,
            Command::Keygen => commands::keys::keygen(),
            Command::User(UserCommand::Add { name, admin }) => {
                commands::users::add(&name, admin).await
            }
            Command::User(UserCommand::List) => commands::users::list().await,
            Command::User(UserCommand::SetPassword { name, generate }) => {
                commands::users::set_password(&name, generate).await
            }
            Command::User(UserCommand::Token { name, label }) => {
                commands::users::token(&name, &label).await
            }
            Command::Keys(KeysCommand::Rotate { new_key_file }) => {
                commands::keys::rotate(new_key_file.as_deref()).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Redacted: an error chain must never print a secret.
            let settings = boz_common::config::Settings::load().ok();
            let text = format!("{e:#}");
            eprintln!(
                "error: {}",
                setup::redactor(settings.as_ref()).redact_str(&text)
            );
            ExitCode::from(2)
        }
    }
}
