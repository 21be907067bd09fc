//! Readers of validated strategy parameters (the schema guarantees presence and type; these
//! report the impossible case instead of panicking).

use domain::strategy::{ParamValue, StrategyParams};
use rust_decimal::Decimal;

fn missing(strategy: &str, name: &str, expected: &str, found: Option<&ParamValue>) -> String {
    format!("{strategy}.{name}: expected {expected}, found {found:?}")
}

/// A decimal parameter.
pub(crate) fn decimal(params: &StrategyParams, strategy: &str, name: &str) -> Result<Decimal, String> {
    match params.get(name) {
        Some(ParamValue::Decimal(d)) => Ok(*d),
        other => Err(missing(strategy, name, "a decimal", other)),
    }
}

/// An integer parameter.
pub(crate) fn integer(params: &StrategyParams, strategy: &str, name: &str) -> Result<i64, String> {
    match params.get(name) {
        Some(ParamValue::Integer(i)) => Ok(*i),
        other => Err(missing(strategy, name, "an integer", other)),
    }
}

/// A yes/no parameter.
pub(crate) fn boolean(params: &StrategyParams, strategy: &str, name: &str) -> Result<bool, String> {
    match params.get(name) {
        Some(ParamValue::Bool(b)) => Ok(*b),
        other => Err(missing(strategy, name, "true or false", other)),
    }
}

/// A choice or text parameter.
pub(crate) fn text<'p>(params: &'p StrategyParams, strategy: &str, name: &str) -> Result<&'p str, String> {
    match params.get(name) {
        Some(ParamValue::Text(t)) => Ok(t),
        other => Err(missing(strategy, name, "a text", other)),
    }
}

/// A list parameter.
pub(crate) fn list<'p>(params: &'p StrategyParams, strategy: &str, name: &str) -> Result<&'p [String], String> {
    match params.get(name) {
        Some(ParamValue::List(items)) => Ok(items),
        other => Err(missing(strategy, name, "a list", other)),
    }
}
