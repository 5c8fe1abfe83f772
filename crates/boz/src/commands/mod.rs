//! One module per command.

pub mod config;
pub mod db;
pub mod kalshi;
pub mod keys;
pub mod run;
pub mod weather;
