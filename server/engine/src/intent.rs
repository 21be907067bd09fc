//! Order intents: what a bot wants sent, and why.

use domain::{
    money::{Price, Qty, Quote},
    order::{Check, DecisionRecord, Side},
    pair::Pair,
};
use rust_decimal::Decimal;

/// How an intent executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentKind {
    /// At the market.
    Market,
    /// Resting at this limit price.
    Limit(Price),
}

/// How much an intent trades.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentSize {
    /// Spend this much quote (market buys).
    Quote(Quote),
    /// Trade this base quantity.
    Base(Qty),
}

/// A signal value behind a decision. Values stay unformatted until the decision is recorded
/// (a backtest never records one, and formatting numbers costs more than deciding).
#[derive(Debug, Clone, Copy, PartialEq)]
#[allow(clippy::disallowed_types, reason = "indicator readings, shown to people, never sizes")]
pub enum SignalValue {
    /// An indicator reading.
    Number(f64),
    /// A price, quantity or amount.
    Decimal(Decimal),
    /// A count (a level's number, say).
    Count(usize),
    /// A word (a side, say).
    Word(&'static str),
}

impl std::fmt::Display for SignalValue {
    /// Readings with eight decimals at most, in the shortest form (exact fixed-point
    /// formatting of floats is slow); decimals without trailing zeros, as money is shown.
    #[allow(clippy::float_arithmetic, reason = "rounding a reading for display")]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(value) => write!(f, "{}", (value * 1e8).round() / 1e8),
            Self::Decimal(value) => write!(f, "{}", value.normalize()),
            Self::Count(count) => write!(f, "{count}"),
            Self::Word(word) => f.write_str(word),
        }
    }
}

#[allow(clippy::disallowed_types, reason = "indicator readings")]
impl From<f64> for SignalValue {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<Decimal> for SignalValue {
    fn from(value: Decimal) -> Self {
        Self::Decimal(value)
    }
}

/// Why a strategy wants something. A template with a `{}` for each value is written out only
/// when shown or stored, so a backtest pays for no formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Already written out.
    Text(String),
    /// A template and its values, in order.
    Template(&'static str, Vec<SignalValue>),
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(text) => f.write_str(text),
            Self::Template(template, values) => {
                let mut values = values.iter();
                for (i, part) in template.split("{}").enumerate() {
                    if i > 0 {
                        match values.next() {
                            Some(value) => write!(f, "{value}")?,
                            None => f.write_str("{}")?,
                        }
                    }
                    f.write_str(part)?;
                }
                Ok(())
            }
        }
    }
}

impl From<String> for Reason {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Reason {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl Default for Reason {
    fn default() -> Self {
        Self::Text(String::new())
    }
}

/// What the wallet reserved for an approved intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reservation {
    /// Quote budget for a buy, out of what was free.
    Budget {
        /// Reserved.
        reserved: Quote,
        /// Free before.
        free: Quote,
    },
    /// Base holdings for a sell, out of what was held and not promised.
    Holdings {
        /// Reserved.
        reserved: Qty,
        /// Sellable before.
        held: Qty,
    },
}

/// Why an intent exists, and what risk approval found: the decision record of its order,
/// kept in values until [`Decision::record`] formats it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    /// One-line explanation.
    pub summary: Reason,
    /// Signal values at the decision.
    pub signals: Vec<(&'static str, SignalValue)>,
    /// What the wallet reserved (set on approval).
    pub reservation: Option<Reservation>,
    /// Budget free before the order.
    pub budget_before: Quote,
    /// Budget free after reserving for it.
    pub budget_after: Quote,
}

impl Decision {
    /// The decision record stored with the order.
    #[must_use]
    pub fn record(&self) -> DecisionRecord {
        let signals = self.signals.iter().map(|(name, value)| ((*name).to_owned(), value.to_string())).collect();
        let checks = self
            .reservation
            .map(|reservation| {
                let detail = match reservation {
                    Reservation::Budget { reserved, free } => format!("reserved {reserved} of {free} free"),
                    Reservation::Holdings { reserved, held } => format!("reserved {reserved} of {held} held"),
                };
                vec![
                    Check {
                        name: "symbol_rules".to_owned(),
                        passed: true,
                        detail: "precision and minimums".to_owned(),
                    },
                    Check { name: "virtual_wallet".to_owned(), passed: true, detail },
                ]
            })
            .unwrap_or_default();
        DecisionRecord {
            signals,
            checks,
            budget_before: self.budget_before,
            budget_after: self.budget_after,
            summary: self.summary.to_string(),
        }
    }
}

/// An order a bot wants placed, with why it wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderIntent {
    /// Deterministic id, `order::client_order_id(bot, seq)`.
    pub client_order_id: String,
    /// Pair traded.
    pub pair: Pair,
    /// Buy or sell.
    pub side: Side,
    /// Market or limit.
    pub kind: IntentKind,
    /// Quote amount or base quantity.
    pub size: IntentSize,
    /// Signals and checks behind it; the risk checks are added on approval.
    pub decision: Decision,
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn a_decision_is_formatted_only_when_recorded() {
        let decision = Decision {
            summary: Reason::Template("entry below {} at {}", vec![SignalValue::Number(1.5), SignalValue::Count(3)]),
            signals: vec![("z_score", (-2.123_456_789_1).into()), ("price", dec!(100.50).into())],
            reservation: Some(Reservation::Budget { reserved: Quote::new(dec!(20)), free: Quote::new(dec!(100)) }),
            budget_before: Quote::new(dec!(100)),
            budget_after: Quote::new(dec!(80)),
        };
        let record = decision.record();
        assert_eq!(record.signals["z_score"], "-2.12345679");
        assert_eq!(record.signals["price"], "100.5");
        assert_eq!(record.checks[1].detail, "reserved 20 of 100 free");
        assert_eq!((record.summary.as_str(), record.budget_after), ("entry below 1.5 at 3", Quote::new(dec!(80))));
    }
}
