//! The risk engine's rules that do not need the database lock (the exposure caps are checked
//! atomically when an order is stored, see `OrderRepo::open_order`).
//!
//! - **Trading day**: midnight to midnight New York standard time (UTC−5), all year, the same
//!   day boundary as the climate reports of the eastern cities. Exposure and daily P&L reset on it.
//! - **HALTED** places nothing. The user's kill switch sets it, and so does the engine when the
//!   day's realised loss reaches `daily_loss_limit` or the losing streak reaches
//!   `consecutive_loss_limit`. Only the user resumes.
//! - **REDUCING** halves the Kelly fraction: the engine sets it when the streak is one loss short
//!   of the limit or the day's loss passes half the limit, and returns to ACTIVE when neither holds.
//! - **Cooldown**: no new trade within `cooldown_per_loss_minutes` of the last loss.

use boz_common::ports::{RiskStatus, TradingState};
use boz_common::schemas::UserSettings;
use boz_common::{BozError, Dollars};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

/// The trading day an instant belongs to.
pub fn trading_day(at: DateTime<Utc>) -> NaiveDate {
    (at - Duration::hours(5)).date_naive()
}

/// What the rules allow now.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Kelly multiplier (1 ACTIVE, 0.5 REDUCING), or why nothing may be traded.
    pub allowed: Result<f64, BozError>,
    /// A state change the engine makes itself (with the reason).
    pub transition: Option<(TradingState, String)>,
}

pub fn assess(status: &RiskStatus, settings: &UserSettings, now: DateTime<Utc>) -> Assessment {
    let loss = (-status.realized_pnl.as_decimal()).max(Decimal::ZERO);
    let limit = settings.daily_loss_limit.as_decimal();
    let streak = status.consecutive_losses;
    let max_streak = settings.consecutive_loss_limit;
    if status.state == TradingState::Halted {
        let why = status
            .state_reason
            .clone()
            .unwrap_or_else(|| "halted".into());
        return Assessment {
            allowed: Err(BozError::risk_refused(
                "trading_state",
                format!("HALTED ({why})"),
                "a new trade",
                "ACTIVE or REDUCING",
            )),
            transition: None,
        };
    }
    if loss >= limit {
        let reason = format!(
            "daily loss limit reached: lost {} of {}",
            loss.normalize(),
            settings.daily_loss_limit
        );
        return Assessment {
            allowed: Err(BozError::risk_refused(
                "daily_loss_limit",
                loss.normalize(),
                "a new trade",
                settings.daily_loss_limit,
            )),
            transition: Some((TradingState::Halted, reason)),
        };
    }
    if streak >= max_streak {
        let reason = format!("{streak} losses in a row (limit {max_streak})");
        return Assessment {
            allowed: Err(BozError::risk_refused(
                "consecutive_loss_limit",
                streak,
                "a new trade",
                max_streak,
            )),
            transition: Some((TradingState::Halted, reason)),
        };
    }
    if let Some(last) = status.last_loss_at {
        let until = last + Duration::minutes(i64::from(settings.cooldown_per_loss_minutes));
        if now < until {
            return Assessment {
                allowed: Err(BozError::cooldown_active(
                    until,
                    &format!(
                        "a loss at {} (cooldown {} minutes)",
                        last.to_rfc3339(),
                        settings.cooldown_per_loss_minutes
                    ),
                )),
                transition: None,
            };
        }
    }
    let reducing = (max_streak > 1 && streak + 1 >= max_streak) || loss * Decimal::TWO >= limit;
    let transition = match (status.state, reducing) {
        (TradingState::Active, true) => Some((
            TradingState::Reducing,
            format!(
                "{streak} losses in a row, lost {} today: half size",
                loss.normalize()
            ),
        )),
        (TradingState::Reducing, false) => {
            Some((TradingState::Active, "back within limits".into()))
        }
        _ => None,
    };
    Assessment {
        allowed: Ok(if reducing { 0.5 } else { 1.0 }),
        transition,
    }
}

/// The most dollars a new order may commit given `max_trade_size`, the exposure left today and
/// the balance.
pub fn budget(settings: &UserSettings, status: &RiskStatus, balance: Dollars) -> Decimal {
    let left = settings.max_daily_exposure.as_decimal() - status.exposure.as_decimal();
    settings
        .max_trade_size
        .as_decimal()
        .min(left)
        .min(balance.as_decimal())
        .max(Decimal::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use boz_common::ErrorKind;
    use boz_common::schemas::{TradingMode, UserSettingsFields};

    fn settings() -> UserSettings {
        UserSettings::new(UserSettingsFields {
            trading_mode: TradingMode::Auto,
            max_trade_size: Dollars::parse("5").unwrap(),
            daily_loss_limit: Dollars::parse("10").unwrap(),
            max_daily_exposure: Dollars::parse("25").unwrap(),
            min_ev_threshold: 0.03,
            cooldown_per_loss_minutes: 60,
            consecutive_loss_limit: 3,
            cities: vec![],
        })
        .unwrap()
    }

    fn status(pnl: &str, streak: u32, last_loss: Option<DateTime<Utc>>) -> RiskStatus {
        RiskStatus {
            user_id: "u".into(),
            trading_day: NaiveDate::from_ymd_opt(2026, 2, 16).unwrap(),
            exposure: Dollars::parse("20").unwrap(),
            realized_pnl: Dollars::parse(pnl).unwrap(),
            consecutive_losses: streak,
            last_loss_at: last_loss,
            state: TradingState::Active,
            state_reason: None,
            state_changed_by: None,
            state_changed_at: None,
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-02-16T18:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_trading_day_turns_at_new_york_standard_midnight() {
        let d = |s: &str| trading_day(s.parse().unwrap()).to_string();
        assert_eq!(d("2026-07-01T04:59:59Z"), "2026-06-30");
        assert_eq!(d("2026-07-01T05:00:00Z"), "2026-07-01");
    }

    #[test]
    fn daily_loss_limit_at_under_and_over() {
        let s = settings();
        assert_eq!(
            assess(&status("-4.99", 0, None), &s, now()).allowed,
            Ok(1.0)
        );
        let half = assess(&status("-5.00", 0, None), &s, now());
        assert_eq!(
            (half.allowed, half.transition.map(|t| t.0)),
            (Ok(0.5), Some(TradingState::Reducing))
        );
        let at = assess(&status("-10.00", 0, None), &s, now());
        let err = at.allowed.unwrap_err();
        assert_eq!(err.kind, ErrorKind::RiskLimitError);
        assert!(
            err.message.contains("daily_loss_limit: 10 used"),
            "{}",
            err.message
        );
        assert_eq!(at.transition.unwrap().0, TradingState::Halted);
        assert!(assess(&status("-9.99", 0, None), &s, now()).allowed.is_ok());
    }

    #[test]
    fn streak_and_cooldown_on_a_paused_clock() {
        let s = settings();
        let t0 = now() - Duration::minutes(90);
        assert_eq!(
            assess(&status("0", 1, Some(t0)), &s, now()).allowed,
            Ok(1.0)
        );
        assert_eq!(
            assess(&status("0", 2, Some(t0)), &s, now()).allowed,
            Ok(0.5)
        );
        let three = assess(&status("0", 3, Some(t0)), &s, now());
        assert_eq!(three.transition.unwrap().0, TradingState::Halted);
        // cooldown: 59 minutes after a loss refused, 60 minutes after allowed
        let loss = now() - Duration::minutes(59);
        let e = assess(&status("0", 1, Some(loss)), &s, now())
            .allowed
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::CooldownActiveError);
        let loss = now() - Duration::minutes(60);
        assert!(
            assess(&status("0", 1, Some(loss)), &s, now())
                .allowed
                .is_ok()
        );
    }

    #[test]
    fn the_kill_switch_refuses_everything_until_resumed() {
        let mut st = status("0", 0, None);
        st.state = TradingState::Halted;
        st.state_reason = Some("kill switch".into());
        let a = assess(&st, &settings(), now());
        assert!(
            a.allowed
                .unwrap_err()
                .message
                .contains("HALTED (kill switch)")
        );
        assert_eq!(a.transition, None, "automation never resumes");
    }

    #[test]
    fn budget_is_the_smallest_cap() {
        let s = settings();
        let st = status("0", 0, None); // 20 of 25 used
        assert_eq!(
            budget(&s, &st, Dollars::parse("100").unwrap()),
            Decimal::from(5)
        );
        let mut st2 = st.clone();
        st2.exposure = Dollars::parse("22").unwrap();
        assert_eq!(
            budget(&s, &st2, Dollars::parse("100").unwrap()),
            Decimal::from(3)
        );
        assert_eq!(
            budget(&s, &st2, Dollars::parse("1.5").unwrap()),
            Decimal::new(15, 1)
        );
    }
}
