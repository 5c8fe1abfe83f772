//! One module per command.

pub mod backfill;
pub mod backtest;
pub mod book_logs;
pub mod config;
pub mod db;
pub mod history;
pub mod kalshi;
pub mod keys;
pub mod predict;
pub mod run;
pub mod score;
pub mod settle;
pub mod trade;
pub mod users;
pub mod weather;
