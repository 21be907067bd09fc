//! Request bodies and query strings: JSON → gRPC request messages, with a field error for
//! every problem. Only shapes are checked here; the daemon validates values.

use std::collections::{BTreeMap, HashMap};

use prost_types::{ListValue, Struct, Value, value::Kind};
use serde_json::{Map, Value as Json};
use tradingbot_proto::v1 as pb;

use crate::error::ApiError;

/// Collects field problems while reading a JSON object.
struct Fields<'a> {
    object: &'a Map<String, Json>,
    problems: Vec<(String, String)>,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    fn get(&mut self, name: &'static str) -> Option<&'a Json> {
        self.known.push(name);
        self.object.get(name)
    }

    fn problem(&mut self, field: &str, description: &str) {
        self.problems.push((field.to_owned(), description.to_owned()));
    }

    fn string(&mut self, name: &'static str) -> Option<String> {
        match self.get(name)? {
            Json::String(s) => Some(s.clone()),
            Json::Null => None,
            _ => {
                self.problem(name, "expected a string");
                None
            }
        }
    }

    /// A decimal given as a string or a number; `null` clears it (empty string).
    fn decimal(&mut self, name: &'static str, nullable: bool) -> Option<String> {
        match self.get(name)? {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            Json::Null if nullable => Some(String::new()),
            Json::Null => None,
            _ => {
                self.problem(name, "expected a decimal number as a string (\"10.5\") or a number");
                None
            }
        }
    }

    /// An object of names to strings (`null` or absent: empty).
    fn string_map(&mut self, name: &'static str) -> HashMap<String, String> {
        match self.get(name) {
            None | Some(Json::Null) => HashMap::new(),
            Some(Json::Object(entries)) if entries.values().all(Json::is_string) => {
                entries.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect()
            }
            Some(_) => {
                self.problem(name, "expected an object of names to strings");
                HashMap::new()
            }
        }
    }

    fn boolean(&mut self, name: &'static str) -> Option<bool> {
        match self.get(name)? {
            Json::Bool(b) => Some(*b),
            Json::Null => None,
            _ => {
                self.problem(name, "expected true or false");
                None
            }
        }
    }

    /// A whole number; `null` maps to `null_as` when given.
    fn count(&mut self, name: &'static str, null_as: Option<u32>) -> Option<u32> {
        match self.get(name)? {
            Json::Null => null_as,
            Json::Number(n) => {
                let value = n.as_u64().and_then(|v| u32::try_from(v).ok());
                if value.is_none() {
                    self.problem(name, "expected a whole number from 0 to 4294967295");
                }
                value
            }
            _ => {
                self.problem(name, "expected a whole number");
                None
            }
        }
    }

    fn finish(mut self) -> Result<(), ApiError> {
        for key in self.object.keys() {
            if !self.known.contains(&key.as_str()) {
                let accepted = self.known.join(", ");
                self.problems.push((key.clone(), format!("unknown field; accepted: {accepted}")));
            }
        }
        if self.problems.is_empty() { Ok(()) } else { Err(ApiError::invalid(self.problems)) }
    }
}

/// A JSON value as a protobuf `Value`.
pub(crate) fn proto_value(value: &Json) -> Value {
    let kind = match value {
        Json::Null => Kind::NullValue(0),
        Json::Bool(b) => Kind::BoolValue(*b),
        // Integers and short decimals are exact as floats; the daemon reads the number's
        // shortest text, so 0.1 arrives as "0.1". Send long decimals as strings.
        Json::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Json::String(s) => Kind::StringValue(s.clone()),
        Json::Array(items) => Kind::ListValue(ListValue { values: items.iter().map(proto_value).collect() }),
        Json::Object(map) => {
            Kind::StructValue(Struct { fields: map.iter().map(|(k, v)| (k.clone(), proto_value(v))).collect() })
        }
    };
    Value { kind: Some(kind) }
}

/// The `strategy_params` object, each value as the daemon's `Struct` takes it.
fn strategy_params(f: &mut Fields<'_>) -> Option<Struct> {
    match f.get("strategy_params") {
        None | Some(Json::Null) => None,
        Some(Json::Object(params)) => {
            let fields: BTreeMap<String, Value> = params.iter().map(|(k, v)| (k.clone(), proto_value(v))).collect();
            Some(Struct { fields })
        }
        Some(_) => {
            f.problem("strategy_params", "expected an object of parameter names to values");
            None
        }
    }
}

/// Reads a bot configuration object (create, update and copy bodies).
///
/// # Errors
/// 400 listing every field of the wrong type and every unknown field.
pub(crate) fn bot_config(body: &Json) -> Result<pb::BotConfig, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::invalid(vec![("body".to_owned(), "expected a JSON object".to_owned())]));
    };
    let mut f = Fields { object, problems: Vec::new(), known: Vec::new() };
    let strategy_params = strategy_params(&mut f);
    let config = pb::BotConfig {
        name: f.string("name"),
        trading_pair: f.string("trading_pair"),
        exchange: f.string("exchange"),
        strategy: f.string("strategy"),
        strategy_params,
        budget: f.decimal("budget", false),
        compound_enabled: f.boolean("compound_enabled"),
        // null means "run until stopped", which the API spells 0.
        running_time_hours: f.count("running_time_hours", Some(0)),
        stop_loss_percent: f.decimal("stop_loss_percent", true),
        stop_loss_absolute: f.decimal("stop_loss_absolute", true),
        drawdown_limit_percent: f.decimal("drawdown_limit_percent", true),
        drawdown_limit_absolute: f.decimal("drawdown_limit_absolute", true),
        daily_loss_limit: f.decimal("daily_loss_limit", true),
        weekly_loss_limit: f.decimal("weekly_loss_limit", true),
        max_strategy_rotations: f.count("max_strategy_rotations", None),
        consecutive_loss_limit: f.count("consecutive_loss_limit", None),
        is_dry_run: f.boolean("is_dry_run"),
    };
    f.finish()?;
    Ok(config)
}

/// Reads `{"cancel_pending": bool}`; the caller must decide, so the field is required.
///
/// # Errors
/// 400 when the field is missing or not a boolean.
pub(crate) fn cancel_pending(body: &Json) -> Result<bool, ApiError> {
    let object = body.as_object().cloned().unwrap_or_default();
    let mut f = Fields { object: &object, problems: Vec::new(), known: Vec::new() };
    let cancel = f.boolean("cancel_pending");
    if cancel.is_none() && f.problems.is_empty() {
        f.problem("cancel_pending", "required: true to cancel the bot's pending orders, false to keep them");
    }
    f.finish()?;
    Ok(cancel.unwrap_or_default())
}

/// Reads an optional `{"reason": "..."}` body.
///
/// # Errors
/// 400 when `reason` is not a string or other fields are present.
pub(crate) fn reason(body: &Json) -> Result<String, ApiError> {
    let object = body.as_object().cloned().unwrap_or_default();
    let mut f = Fields { object: &object, problems: Vec::new(), known: Vec::new() };
    let reason = f.string("reason").unwrap_or_default();
    f.finish()?;
    Ok(reason)
}

/// The body of a signal: `{"side": "buy" | "sell", "note": "..."}` (the daemon checks values).
///
/// # Errors
/// [`ApiError`] listing wrong types and unknown fields.
pub(crate) fn signal(body: &Json) -> Result<(String, String), ApiError> {
    let object = body.as_object().cloned().unwrap_or_default();
    let mut f = Fields { object: &object, problems: Vec::new(), known: Vec::new() };
    let side = f.string("side").unwrap_or_default();
    let note = f.string("note").unwrap_or_default();
    f.finish()?;
    Ok((side, note))
}

/// Reads a backtest request. Candles are named by the id an upload returned (`data_id`,
/// `market_data_ids`); `data_path` and `market_data_paths` are passed on for the daemon to
/// refuse with its explanation.
///
/// # Errors
/// 400 listing every field of the wrong type and every unknown field.
pub(crate) fn backtest_request(body: &Json) -> Result<pb::RunBacktestRequest, ApiError> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::invalid(vec![("body".to_owned(), "expected a JSON object".to_owned())]));
    };
    let mut f = Fields { object, problems: Vec::new(), known: Vec::new() };
    let strategy_params = strategy_params(&mut f);
    let market_data_ids = f.string_map("market_data_ids");
    let market_data_paths = f.string_map("market_data_paths");
    let request = pb::RunBacktestRequest {
        strategy: f.string("strategy").unwrap_or_default(),
        trading_pair: f.string("trading_pair").unwrap_or_default(),
        strategy_params,
        budget: f.decimal("budget", true).unwrap_or_default(),
        fee: f.decimal("fee", true).unwrap_or_default(),
        data_path: f.string("data_path").unwrap_or_default(),
        compound: f.boolean("compound").unwrap_or_default(),
        candle_minutes: f.count("candle_minutes", Some(0)).unwrap_or_default(),
        exchange: f.string("exchange").unwrap_or_default(),
        equity_curve: f.boolean("equity_curve").unwrap_or_default(),
        from: f.string("from").unwrap_or_default(),
        to: f.string("to").unwrap_or_default(),
        stop_loss_percent: f.decimal("stop_loss_percent", true).unwrap_or_default(),
        stop_loss_absolute: f.decimal("stop_loss_absolute", true).unwrap_or_default(),
        drawdown_limit_percent: f.decimal("drawdown_limit_percent", true).unwrap_or_default(),
        drawdown_limit_absolute: f.decimal("drawdown_limit_absolute", true).unwrap_or_default(),
        daily_loss_limit: f.decimal("daily_loss_limit", true).unwrap_or_default(),
        weekly_loss_limit: f.decimal("weekly_loss_limit", true).unwrap_or_default(),
        market_data_paths,
        data_id: f.string("data_id").unwrap_or_default(),
        market_data_ids,
    };
    f.finish()?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_every_field_and_keeps_money_exact() {
        let config = bot_config(&json!({
            "trading_pair": "BTC/USDT", "strategy": "dca_accumulator", "budget": 100.10,
            "strategy_params": {"quote_amount": "5", "interval_minutes": 30},
            "running_time_hours": null, "stop_loss_percent": null, "is_dry_run": false
        }))
        .unwrap();
        assert_eq!(config.budget.as_deref(), Some("100.1"));
        assert_eq!(config.running_time_hours, Some(0));
        assert_eq!(config.stop_loss_percent.as_deref(), Some(""));
        assert_eq!(config.is_dry_run, Some(false));
        assert_eq!(config.strategy_params.unwrap().fields.len(), 2);
    }

    #[test]
    fn lists_every_shape_problem() {
        let err =
            bot_config(&json!({"budget": true, "name": 5, "colour": "red", "max_strategy_rotations": -1})).unwrap_err();
        let text = format!("{err:?}");
        for field in ["budget", "name", "colour", "max_strategy_rotations"] {
            assert!(text.contains(&format!("\"{field}\"")), "{field} missing in {text}");
        }
    }

    #[test]
    fn a_backtest_names_its_candles_by_id() {
        let request = backtest_request(&json!({
            "strategy": "arbitrage", "trading_pair": "ETH/USDT", "fee": 0.001, "data_id": "ab",
            "market_data_ids": {"BTC/USDT": "cd"}, "equity_curve": true
        }))
        .unwrap();
        assert_eq!((request.data_id.as_str(), request.fee.as_str(), request.equity_curve), ("ab", "0.001", true));
        assert_eq!(request.market_data_ids["BTC/USDT"], "cd");
        let err = backtest_request(&json!({"market_data_ids": {"BTC/USDT": 1}, "data": "x"})).unwrap_err();
        let text = format!("{err:?}");
        assert!(text.contains("\"market_data_ids\"") && text.contains("\"data\""), "{text}");
    }

    #[test]
    fn stop_requires_an_explicit_choice() {
        assert!(cancel_pending(&json!({})).is_err());
        assert!(cancel_pending(&json!({"cancel_pending": "yes"})).is_err());
        assert!(cancel_pending(&json!({"cancel_pending": true})).unwrap());
    }
}
