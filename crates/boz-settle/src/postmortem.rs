//! Why a settled trade won or lost.
//!
//! Verdicts, in order: a basis mismatch or missing data is a BUG; a win is a WIN; a loss with
//! the forecast off by more than 2 σ is a BAD FORECAST; a loss where the market moved at least
//! 5¢ against our side before the close while the forecast was within 2 σ is a BAD PRICE (the
//! market knew better); any other loss is BAD LUCK (a sound forecast and price, and the
//! unlikely outcome happened).

use boz_common::error::ValidationError;
use boz_common::schemas::{PostMortem, PostMortemFields, Side, TradeRecord, Verdict};
use boz_common::{Dollars, Price};
use rust_decimal::Decimal;

/// What a post-mortem is made from.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub trade: &'a TradeRecord,
    pub actual_high_f: i32,
    pub fees: Dollars,
    pub pnl: Dollars,
    pub won: bool,
    /// Our side's last price before the close.
    pub closing_price: Option<Price>,
    pub issues: Vec<String>,
}

const BAD_FORECAST_SIGMA: f64 = 2.0;
const BAD_PRICE_MOVE: Decimal = Decimal::from_parts(5, 0, 0, false, 2);

pub fn postmortem(f: &Facts<'_>) -> Result<PostMortem, ValidationError> {
    let t = f.trade;
    let p = &t.prediction;
    let actual = f64::from(f.actual_high_f);
    let error = p.ensemble_forecast_f - actual;
    let sigma = error / p.error_std_f;
    let mut by_error: Vec<(&str, f64)> = t
        .weather_forecasts
        .iter()
        .map(|w| (w.source.as_str(), w.forecast_high_f))
        .collect();
    by_error.sort_by(|a, b| (a.1 - actual).abs().total_cmp(&(b.1 - actual).abs()));
    let closest = by_error.first().map(|(s, v)| format!("{s} ({v:.0}°F)"));
    let furthest = by_error
        .last()
        .filter(|_| by_error.len() > 1)
        .map(|(s, v)| format!("{s} ({v:.0}°F)"));
    let winning = p.brackets.iter().find(|b| {
        b.lower_bound_f.is_none_or(|l| actual >= l) && b.upper_bound_f.is_none_or(|u| actual <= u)
    });
    let winning_p = winning.map_or(0.0, |b| b.probability);
    let clv = f
        .closing_price
        .map(|c| c.as_decimal() - t.entry_price.as_decimal());
    let verdict = if f
        .issues
        .iter()
        .any(|i| i.starts_with("basis mismatch") || i.starts_with("missing"))
    {
        Verdict::Bug
    } else if f.won {
        Verdict::Win
    } else if sigma.abs() > BAD_FORECAST_SIGMA {
        Verdict::BadForecast
    } else if clv.is_some_and(|c| c <= -BAD_PRICE_MOVE) {
        Verdict::BadPrice
    } else {
        Verdict::BadLuck
    };
    let side = if t.side == Side::Yes { "YES" } else { "NO" };
    let mut n = format!(
        "{} ${} on {} {} {} {side} ({} at ${}, fees ${}). The high was {}°F; the model forecast {:.1}°F ± {:.1} (error {:+.1}°F, {:+.1}σ) and gave the winning bracket{} {:.1}%.",
        if f.won { "WON" } else { "LOST" },
        Dollars::new(f.pnl.as_decimal().abs()).unwrap_or(Dollars::ZERO),
        t.city,
        t.date,
        t.bracket_label,
        t.quantity,
        t.entry_price,
        f.fees,
        f.actual_high_f,
        p.ensemble_forecast_f,
        p.error_std_f,
        error,
        sigma,
        winning.map_or(String::new(), |b| format!(" ({})", b.bracket_label)),
        winning_p * 100.0
    );
    if let Some(c) = &closest {
        n.push_str(&format!(" Closest source: {c}"));
        if let Some(fu) = &furthest {
            n.push_str(&format!("; furthest: {fu}"));
        }
        n.push('.');
    }
    if let (Some(close), Some(v)) = (f.closing_price, clv) {
        n.push_str(&format!(
            " Entry ${} against ${close} at the close (closing-line value {}{}).",
            t.entry_price,
            if v.is_sign_negative() { "-$" } else { "+$" },
            v.abs().round_dp(4).normalize()
        ));
    }
    for i in &f.issues {
        n.push_str(&format!(" Settlement: {i}."));
    }
    n.push_str(match verdict {
        Verdict::Win => " Verdict: WIN, as the model expected.",
        Verdict::BadLuck => " Verdict: BAD LUCK. The forecast and the price were sound; the less likely outcome happened.",
        Verdict::BadForecast => " Verdict: BAD FORECAST. The forecast missed by more than two standard deviations.",
        Verdict::BadPrice => " Verdict: BAD PRICE. The forecast held up, but the market moved against the entry before the close: the price paid left no edge.",
        Verdict::Bug => " Verdict: BUG. Our data disagree with what settled the market; check the settlement source before trading this series again.",
    });
    PostMortem::new(PostMortemFields {
        trade_id: t.id.clone(),
        city: t.city.clone(),
        date: t.date,
        actual_high_f: actual,
        forecast_high_f: p.ensemble_forecast_f,
        forecast_error_f: error,
        forecast_error_sigma: sigma,
        closest_source: closest,
        furthest_source: furthest,
        winning_bracket_probability: winning_p,
        entry_price: t.entry_price,
        closing_price: f.closing_price,
        fees: f.fees,
        pnl: f.pnl,
        settlement_issues: f.issues.clone(),
        verdict,
        narrative: n,
    })
}
