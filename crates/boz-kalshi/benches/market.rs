//! Bracket parsing of a recorded event and order book delta application. Results in
//! BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks may panic

use std::hint::black_box;
use std::io::{BufRead, BufReader};

use boz_common::money::Price;
use boz_common::schemas::Side;
use boz_kalshi::book::OrderBook;
use boz_kalshi::market::event_from_api;
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use rust_decimal::Decimal;
use serde_json::Value;

fn benches(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/history/cpratim-Kalshi-Weather-Trading/kxhighny_events.jsonl.gz"
    );
    let line = BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(path).unwrap(),
    ))
    .lines()
    .next()
    .unwrap()
    .unwrap();
    let v: Value = serde_json::from_str(&line).unwrap();
    let markets = v["markets"].as_array().unwrap().clone();
    c.bench_function("brackets/parse one event (6 markets)", |b| {
        b.iter(|| {
            event_from_api(black_box(&v["event"]), black_box(&markets))
                .unwrap()
                .brackets
                .len()
        })
    });

    let now = Utc::now();
    let prices: Vec<Price> = (1..=99)
        .map(|i| Price::from_micros(i * 10_000).unwrap())
        .collect();
    let mut book = OrderBook::empty("KXHIGHNY-26FEB17-B53.5", now);
    book.apply_snapshot(
        &serde_json::json!({"yes_dollars_fp": [], "no_dollars_fp": []}),
        0,
        now,
    )
    .unwrap();
    let mut seq = 0u64;
    let mut i = 0usize;
    c.bench_function("book/apply one delta (add then remove, 99 levels)", |b| {
        b.iter(|| {
            let price = prices[i % prices.len()];
            let side = if i.is_multiple_of(2) {
                Side::Yes
            } else {
                Side::No
            };
            seq += 1;
            book.apply_delta(seq, side, price, Decimal::TEN, now)
                .unwrap();
            seq += 1;
            book.apply_delta(seq, side, price, -Decimal::TEN, now)
                .unwrap();
            i += 1;
        })
    });
    c.bench_function("book/best YES ask and bid", |b| {
        b.iter(|| {
            (
                black_box(&book).best_ask(Side::Yes),
                book.best_bid(Side::Yes),
            )
        })
    });
}

criterion_group!(market, benches);
criterion_main!(market);
