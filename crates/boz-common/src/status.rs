//! `TradeStatus` as a state machine: only the legal transitions can be made.
//!
//! ```text
//! PENDING  -> APPROVED | REJECTED | EXPIRED
//! APPROVED -> EXECUTED | CANCELLED
//! EXECUTED -> WON | LOST | CANCELLED
//! ```
//! The seed's schema-side `OPEN` is `EXECUTED`; it is accepted on input and never written.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{BozError, ErrorKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TradeStatus {
    Pending,
    Approved,
    Rejected,
    Expired,
    Executed,
    Won,
    Lost,
    Cancelled,
}

impl TradeStatus {
    pub const ALL: [TradeStatus; 8] = [
        TradeStatus::Pending,
        TradeStatus::Approved,
        TradeStatus::Rejected,
        TradeStatus::Expired,
        TradeStatus::Executed,
        TradeStatus::Won,
        TradeStatus::Lost,
        TradeStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TradeStatus::Pending => "PENDING",
            TradeStatus::Approved => "APPROVED",
            TradeStatus::Rejected => "REJECTED",
            TradeStatus::Expired => "EXPIRED",
            TradeStatus::Executed => "EXECUTED",
            TradeStatus::Won => "WON",
            TradeStatus::Lost => "LOST",
            TradeStatus::Cancelled => "CANCELLED",
        }
    }

    /// Whether `self -> next` is a legal transition.
    pub fn can_become(self, next: TradeStatus) -> bool {
        use TradeStatus::*;
        matches!(
            (self, next),
            (Pending, Approved | Rejected | Expired)
                | (Approved, Executed | Cancelled)
                | (Executed, Won | Lost | Cancelled)
        )
    }

    /// The next state, or a `ConflictError` naming both states.
    pub fn transition(self, next: TradeStatus) -> Result<TradeStatus, BozError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(BozError::new(
                ErrorKind::ConflictError,
                format!("illegal trade status transition {self} -> {next}"),
                crate::context!("from" => self.as_str(), "to" => next.as_str()),
            ))
        }
    }

    /// No transition leads out of this state.
    pub fn is_final(self) -> bool {
        TradeStatus::ALL.iter().all(|n| !self.can_become(*n))
    }
}

impl fmt::Display for TradeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TradeStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "OPEN" => Ok(TradeStatus::Executed),
            _ => TradeStatus::ALL
                .into_iter()
                .find(|t| t.as_str() == s)
                .ok_or_else(|| format!("unknown trade status {s:?}")),
        }
    }
}

impl<'de> Deserialize<'de> for TradeStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::TradeStatus::*;
    use super::*;

    #[test]
    fn only_the_legal_transitions_exist() {
        let legal = [
            (Pending, Approved),
            (Pending, Rejected),
            (Pending, Expired),
            (Approved, Executed),
            (Approved, Cancelled),
            (Executed, Won),
            (Executed, Lost),
            (Executed, Cancelled),
        ];
        for from in TradeStatus::ALL {
            for to in TradeStatus::ALL {
                let ok = legal.contains(&(from, to));
                assert_eq!(from.can_become(to), ok, "{from} -> {to}");
                match from.transition(to) {
                    Ok(n) => assert_eq!(n, to),
                    Err(e) => {
                        assert!(!ok);
                        assert_eq!(e.kind, ErrorKind::ConflictError);
                        assert!(
                            e.message.contains(from.as_str()) && e.message.contains(to.as_str())
                        );
                        assert_eq!(e.context["from"], from.as_str());
                        assert_eq!(e.context["to"], to.as_str());
                    }
                }
            }
        }
        for s in [Rejected, Expired, Won, Lost, Cancelled] {
            assert!(s.is_final());
        }
    }

    #[test]
    fn open_reads_as_executed() {
        let s: TradeStatus = serde_json::from_str("\"OPEN\"").unwrap();
        assert_eq!(s, Executed);
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"EXECUTED\"");
        assert!(serde_json::from_str::<TradeStatus>("\"DONE\"").is_err());
    }
}
