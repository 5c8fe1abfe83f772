//! The Kalshi module's integration tests: recorded events, and the REST client against a local
//! fake Kalshi server that verifies every signature with the public key as Kalshi does and checks
//! order bodies against the saved OpenAPI fragment.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

use std::io::{BufRead, BufReader};

mod recorded_events;
mod rest;
mod ws;

pub const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

pub fn gz_lines(path: &str) -> Vec<String> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .map(Result::unwrap)
        .collect()
}
