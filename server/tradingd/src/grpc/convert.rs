//! Conversions between the v1 wire types and domain types: the one place they meet.
//!
//! Conventions (see `common.proto`): money is a decimal string, timestamps are RFC 3339 UTC
//! strings with milliseconds, and an empty string means "not set".

use std::collections::BTreeMap;

use domain::{
    alert::Alert,
    bot::{Bot, BotConfigInput, BotStatus},
    money::Quote,
    order::{DecisionRecord, Order, OrderStatus, Position},
    strategy::{ParamValue, RawParam},
    time::Timestamp,
    validation::Violations,
};
use prost_types::{ListValue, Struct, Value, value::Kind};
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};
use tradingbot_proto::v1 as pb;

pub(crate) use crate::clock::rfc3339 as timestamp;

/// Formats an optional instant; `None` becomes the empty string.
pub(crate) fn opt_timestamp(at: Option<Timestamp>) -> String {
    at.map(timestamp).unwrap_or_default()
}

/// Parses an RFC 3339 timestamp, or a date (`2026-11-27`, meaning its midnight UTC); the
/// empty string is `None`.
///
/// # Errors
/// A message naming the accepted forms.
pub(crate) fn parse_timestamp(text: &str) -> Result<Option<Timestamp>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let instant = OffsetDateTime::parse(text, &Rfc3339).ok().or_else(|| {
        Date::parse(text, format_description!("[year]-[month]-[day]")).ok().map(|d| d.midnight().assume_utc())
    });
    let instant = instant.ok_or_else(|| {
        format!(
            "'{text}' is not a timestamp; expected RFC 3339 such as 2026-11-27T13:00:00Z, or a date such as 2026-11-27"
        )
    })?;
    let millis = instant.unix_timestamp_nanos() / 1_000_000;
    Ok(Some(Timestamp::from_millis(i64::try_from(millis).map_err(|_| format!("'{text}' is out of range"))?)))
}

fn param_value(value: &ParamValue) -> Value {
    let kind = match value {
        ParamValue::Decimal(d) => Kind::StringValue(d.normalize().to_string()),
        // Parameter integers are far below 2^53, so the float is exact.
        #[allow(clippy::cast_precision_loss)]
        ParamValue::Integer(i) => Kind::NumberValue(*i as f64),
        ParamValue::Bool(b) => Kind::BoolValue(*b),
        ParamValue::Text(t) => Kind::StringValue(t.clone()),
        ParamValue::List(items) => Kind::ListValue(ListValue {
            values: items.iter().map(|i| Value { kind: Some(Kind::StringValue(i.clone())) }).collect(),
        }),
    };
    Value { kind: Some(kind) }
}

/// Strategy parameters as a protobuf `Struct` (decimals as strings).
pub(crate) fn params_struct(params: &BTreeMap<String, ParamValue>) -> Struct {
    Struct { fields: params.iter().map(|(k, v)| (k.clone(), param_value(v))).collect() }
}

/// A JSON-like value as a raw parameter. Numbers keep their shortest exact text, so a
/// decimal sent as a number (`0.1`) arrives as the text "0.1", never as a float.
fn raw_param(value: &Value) -> Result<RawParam, String> {
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => RawParam::Null,
        Some(Kind::BoolValue(b)) => RawParam::Bool(*b),
        Some(Kind::NumberValue(n)) if n.is_finite() => RawParam::Number(n.to_string()),
        Some(Kind::NumberValue(_)) => return Err("not a finite number".to_owned()),
        Some(Kind::StringValue(s)) => RawParam::Text(s.clone()),
        Some(Kind::ListValue(list)) => RawParam::List(list.values.iter().map(raw_param).collect::<Result<_, _>>()?),
        Some(Kind::StructValue(_)) => {
            return Err("found an object; expected a number, string, boolean or list".to_owned());
        }
    })
}

/// Wire strategy parameters as raw domain parameters; structurally invalid ones are recorded.
pub(crate) fn raw_params(params: &Struct, violations: &mut Violations) -> BTreeMap<String, RawParam> {
    params
        .fields
        .iter()
        .filter_map(|(name, value)| {
            let raw = violations.check(&format!("strategy_params.{name}"), raw_param(value))?;
            Some((name.clone(), raw))
        })
        .collect()
}

/// A wire bot configuration as a domain input; structurally invalid parameters are
/// reported as violations.
pub(crate) fn config_input(config: Option<pb::BotConfig>) -> Result<BotConfigInput, Violations> {
    let c = config.unwrap_or_default();
    let mut violations = Violations::default();
    let strategy_params = c.strategy_params.map(|s| raw_params(&s, &mut violations));
    violations.into_result(BotConfigInput {
        name: c.name,
        trading_pair: c.trading_pair,
        exchange: c.exchange,
        strategy: c.strategy,
        strategy_params,
        budget: c.budget,
        compound_enabled: c.compound_enabled,
        running_time_hours: c.running_time_hours,
        stop_loss_percent: c.stop_loss_percent,
        stop_loss_absolute: c.stop_loss_absolute,
        drawdown_limit_percent: c.drawdown_limit_percent,
        drawdown_limit_absolute: c.drawdown_limit_absolute,
        daily_loss_limit: c.daily_loss_limit,
        weekly_loss_limit: c.weekly_loss_limit,
        max_strategy_rotations: c.max_strategy_rotations,
        consecutive_loss_limit: c.consecutive_loss_limit,
        is_dry_run: c.is_dry_run,
    })
}

/// The wire form of a bot status.
pub(crate) fn bot_status(status: BotStatus) -> pb::BotStatus {
    match status {
        BotStatus::Created => pb::BotStatus::Created,
        BotStatus::Running => pb::BotStatus::Running,
        BotStatus::Paused => pb::BotStatus::Paused,
        BotStatus::Stopped => pb::BotStatus::Stopped,
    }
}

/// A wire status filter; unspecified means "all".
pub(crate) fn bot_status_filter(status: pb::BotStatus) -> Option<BotStatus> {
    match status {
        pb::BotStatus::Unspecified => None,
        pb::BotStatus::Created => Some(BotStatus::Created),
        pb::BotStatus::Running => Some(BotStatus::Running),
        pb::BotStatus::Paused => Some(BotStatus::Paused),
        pb::BotStatus::Stopped => Some(BotStatus::Stopped),
    }
}

/// A bot as sent on the wire.
pub(crate) fn bot(bot: &Bot) -> pb::Bot {
    let c = &bot.config;
    let r = &c.risk;
    pb::Bot {
        id: bot.id.0,
        name: c.name.clone(),
        trading_pair: c.pair.to_string(),
        exchange: c.exchange.clone(),
        strategy: c.strategy.as_str().to_owned(),
        strategy_params: Some(params_struct(&c.strategy_params)),
        budget: c.budget.to_string(),
        compound_enabled: c.compound_enabled,
        running_time_hours: c.running_time.hours(),
        stop_loss_percent: r.stop_loss_percent.map(|v| v.to_string()),
        stop_loss_absolute: r.stop_loss_absolute.map(|v| v.to_string()),
        drawdown_limit_percent: r.drawdown_limit_percent.map(|v| v.to_string()),
        drawdown_limit_absolute: r.drawdown_limit_absolute.map(|v| v.to_string()),
        daily_loss_limit: r.daily_loss_limit.map(|v| v.to_string()),
        weekly_loss_limit: r.weekly_loss_limit.map(|v| v.to_string()),
        max_strategy_rotations: r.max_strategy_rotations,
        consecutive_loss_limit: r.consecutive_loss_limit,
        is_dry_run: c.is_dry_run,
        status: bot_status(bot.status).into(),
        killed: bot.killed_at.is_some(),
        current_balance: bot.current_balance.to_string(),
        total_pnl: bot.total_pnl.to_string(),
        created_at: timestamp(bot.created_at),
        updated_at: timestamp(bot.updated_at),
        started_at: opt_timestamp(bot.started_at),
        paused_at: opt_timestamp(bot.paused_at),
        stopped_at: opt_timestamp(bot.stopped_at),
        killed_at: opt_timestamp(bot.killed_at),
    }
}

fn text<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// The wire form of an order status.
pub(crate) fn order_status(status: OrderStatus) -> pb::OrderStatus {
    match status {
        OrderStatus::Pending => pb::OrderStatus::Pending,
        OrderStatus::Open => pb::OrderStatus::Open,
        OrderStatus::PartiallyFilled => pb::OrderStatus::PartiallyFilled,
        OrderStatus::Filled => pb::OrderStatus::Filled,
        OrderStatus::Cancelled => pb::OrderStatus::Cancelled,
        OrderStatus::Failed => pb::OrderStatus::Failed,
        OrderStatus::Unknown => pb::OrderStatus::Unknown,
        OrderStatus::Expired => pb::OrderStatus::Expired,
    }
}

/// A wire order status filter; unspecified means "all".
pub(crate) fn order_status_filter(status: pb::OrderStatus) -> Option<OrderStatus> {
    OrderStatus::ALL.iter().copied().find(|s| order_status(*s) == status)
}

fn decision(record: &DecisionRecord) -> pb::DecisionRecord {
    pb::DecisionRecord {
        signals: record.signals.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        checks: record
            .checks
            .iter()
            .map(|c| pb::Check { name: c.name.clone(), passed: c.passed, detail: c.detail.clone() })
            .collect(),
        budget_before: record.budget_before.to_string(),
        budget_after: record.budget_after.to_string(),
        summary: record.summary.clone(),
    }
}

/// An order as sent on the wire.
pub(crate) fn order(order: &Order) -> pb::Order {
    pb::Order {
        id: order.id,
        bot_id: order.bot_id.0,
        client_order_id: order.client_order_id.clone(),
        exchange_order_id: order.exchange_order_id.clone().unwrap_or_default(),
        order_type: order.order_type.as_str().to_owned(),
        trading_pair: order.pair.to_string(),
        amount: text(order.amount),
        price: text(order.price),
        quote_amount: text(order.quote_amount),
        filled_amount: order.filled_amount.to_string(),
        average_price: text(order.average_price),
        fees: order.fees.to_string(),
        fee_asset: order.fee_asset.clone().unwrap_or_default(),
        status: order_status(order.status).into(),
        strategy_used: order.strategy_used.clone(),
        running_balance_after: text(order.running_balance_after),
        is_simulated: order.is_simulated,
        created_at: timestamp(order.created_at),
        updated_at: timestamp(order.updated_at),
        filled_at: opt_timestamp(order.filled_at),
        decision: Some(decision(&order.decision)),
        error: order.error.clone().unwrap_or_default(),
    }
}

/// A position as sent on the wire.
pub(crate) fn position(position: &Position) -> pb::Position {
    pb::Position {
        id: position.id,
        bot_id: position.bot_id.0,
        trading_pair: position.pair.to_string(),
        side: "long".to_owned(),
        entry_price: position.entry_price.to_string(),
        current_price: position.current_price.to_string(),
        amount: position.amount.to_string(),
        unrealized_pnl: position.unrealized_pnl.to_string(),
        created_at: timestamp(position.created_at),
        updated_at: timestamp(position.updated_at),
    }
}

/// An alert as sent on the wire.
pub(crate) fn alert(alert: &Alert) -> pb::Alert {
    pb::Alert {
        id: alert.id,
        bot_id: alert.bot_id.map_or(0, |b| b.0),
        alert_type: alert.kind.as_str().to_owned(),
        message: alert.message.clone(),
        email_sent: alert.email_sent,
        created_at: timestamp(alert.created_at),
    }
}

/// A quote amount as sent on the wire; `None` is the empty string.
pub(crate) fn quote(value: Option<Quote>) -> String {
    text(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_use_rfc3339_with_millis_and_parse_back() {
        let at = Timestamp::from_millis(1_795_786_073_123);
        assert_eq!(timestamp(at), "2026-11-27T13:27:53.123Z");
        assert_eq!(parse_timestamp("2026-11-27T13:27:53.123Z").unwrap(), Some(at));
        assert_eq!(parse_timestamp("2026-11-27T14:27:53.123+01:00").unwrap(), Some(at));
        assert_eq!(parse_timestamp("2026-11-27").unwrap(), Some(Timestamp::from_millis(1_795_737_600_000)));
        assert_eq!(parse_timestamp("").unwrap(), None);
        assert!(parse_timestamp("yesterday").is_err());
    }

    #[test]
    fn numbers_become_exact_decimal_text() {
        let number = |n: f64| Value { kind: Some(Kind::NumberValue(n)) };
        assert_eq!(raw_param(&number(0.1)).unwrap(), RawParam::Number("0.1".into()));
        assert_eq!(raw_param(&number(60.0)).unwrap(), RawParam::Number("60".into()));
        assert!(raw_param(&number(f64::NAN)).is_err());
    }
}
