//! The seed's module tags for log lines, and how an event's target maps to one.

use std::fmt;

/// A log line's module tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogTag {
    Weather,
    Market,
    Model,
    Trading,
    Order,
    Risk,
    Cooldown,
    Auth,
    Settle,
    Postmortem,
    System,
}

impl LogTag {
    pub const ALL: [LogTag; 11] = [
        LogTag::Weather,
        LogTag::Market,
        LogTag::Model,
        LogTag::Trading,
        LogTag::Order,
        LogTag::Risk,
        LogTag::Cooldown,
        LogTag::Auth,
        LogTag::Settle,
        LogTag::Postmortem,
        LogTag::System,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogTag::Weather => "WEATHER",
            LogTag::Market => "MARKET",
            LogTag::Model => "MODEL",
            LogTag::Trading => "TRADING",
            LogTag::Order => "ORDER",
            LogTag::Risk => "RISK",
            LogTag::Cooldown => "COOLDOWN",
            LogTag::Auth => "AUTH",
            LogTag::Settle => "SETTLE",
            LogTag::Postmortem => "POSTMORTEM",
            LogTag::System => "SYSTEM",
        }
    }

    /// The tag for an event target: an explicit tag (`target: "RISK"`) wins; otherwise the module
    /// path decides (`boz_weather::...` is WEATHER, `boz_trading::risk::...` is RISK, ...); anything
    /// else is SYSTEM.
    pub fn from_target(target: &str) -> LogTag {
        if let Some(t) = LogTag::ALL.into_iter().find(|t| t.as_str() == target) {
            return t;
        }
        let mut parts = target.split("::");
        let krate = parts.next().unwrap_or_default();
        let module: Vec<&str> = parts.collect();
        let has = |m: &str| module.contains(&m);
        match krate {
            "boz_weather" => LogTag::Weather,
            "boz_kalshi" => LogTag::Market,
            "boz_model" => LogTag::Model,
            "boz_trading" if has("risk") => LogTag::Risk,
            "boz_trading" if has("cooldown") => LogTag::Cooldown,
            "boz_trading" if has("order") || has("orders") => LogTag::Order,
            "boz_trading" => LogTag::Trading,
            "boz_settle" if has("postmortem") => LogTag::Postmortem,
            "boz_settle" => LogTag::Settle,
            "boz_crypto" => LogTag::Auth,
            "boz_api" if has("auth") => LogTag::Auth,
            _ => LogTag::System,
        }
    }
}

impl fmt::Display for LogTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_tags() {
        assert_eq!(LogTag::from_target("RISK"), LogTag::Risk);
        assert_eq!(LogTag::from_target("boz_weather::nws"), LogTag::Weather);
        assert_eq!(
            LogTag::from_target("boz_trading::risk::limits"),
            LogTag::Risk
        );
        assert_eq!(
            LogTag::from_target("boz_trading::cooldown"),
            LogTag::Cooldown
        );
        assert_eq!(LogTag::from_target("boz_trading::orders"), LogTag::Order);
        assert_eq!(LogTag::from_target("boz_trading::ev"), LogTag::Trading);
        assert_eq!(
            LogTag::from_target("boz_settle::postmortem"),
            LogTag::Postmortem
        );
        assert_eq!(LogTag::from_target("boz_settle"), LogTag::Settle);
        assert_eq!(LogTag::from_target("boz_kalshi::ws"), LogTag::Market);
        assert_eq!(LogTag::from_target("sqlx::query"), LogTag::System);
    }
}
