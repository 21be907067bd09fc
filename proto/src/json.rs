//! The JSON rendering of v1 messages used by the REST API and `tradingctl --json`.
//!
//! Field names are the spec's schema names in snake_case; enums are lowercase names
//! (`"running"`, `"partially_filled"`); money stays a decimal string; ids are numbers; empty
//! strings (unset timestamps, absent prices) become `null`. One rendering serves both clients
//! so a script sees the same document whichever way it asks.

use prost_types::{Struct, Value, value::Kind};
use serde_json::{Map, Value as Json, json};

use crate::v1 as pb;

/// `null` for the empty string, else the string.
fn text(value: &str) -> Json {
    if value.is_empty() { Json::Null } else { Json::String(value.to_owned()) }
}

/// Largest integer a float holds exactly (2^53).
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A protobuf number as JSON: whole numbers print without a fraction (`60`, not `60.0`).
fn number(n: f64) -> Json {
    if n.fract() == 0.0 && n.abs() <= MAX_EXACT_INTEGER {
        // Exact: a whole float within 2^53 converts to i64 without loss.
        #[allow(clippy::cast_possible_truncation)]
        return Json::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
}

/// A protobuf `Value` as JSON.
#[must_use]
pub fn value(value: &Value) -> Json {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Json::Null,
        Some(Kind::BoolValue(b)) => Json::Bool(*b),
        Some(Kind::NumberValue(n)) => number(*n),
        Some(Kind::StringValue(s)) => Json::String(s.clone()),
        Some(Kind::ListValue(list)) => Json::Array(list.values.iter().map(self::value).collect()),
        Some(Kind::StructValue(s)) => object(s),
    }
}

/// A protobuf `Struct` as a JSON object.
#[must_use]
pub fn object(value: &Struct) -> Json {
    Json::Object(value.fields.iter().map(|(k, v)| (k.clone(), self::value(v))).collect::<Map<_, _>>())
}

/// The lowercase name of an enum value: `BOT_STATUS_PARTIALLY_FILLED` → `partially_filled`.
fn enum_name(full: &str, prefix: &str) -> Json {
    match full.strip_prefix(prefix) {
        Some("UNSPECIFIED") | None => Json::Null,
        Some(name) => Json::String(name.to_ascii_lowercase()),
    }
}

/// A bot.
#[must_use]
pub fn bot(b: &pb::Bot) -> Json {
    json!({
        "id": b.id,
        "name": b.name,
        "trading_pair": b.trading_pair,
        "exchange": b.exchange,
        "strategy": b.strategy,
        "strategy_params": b.strategy_params.as_ref().map_or(json!({}), object),
        "budget": b.budget,
        "compound_enabled": b.compound_enabled,
        "running_time_hours": b.running_time_hours,
        "stop_loss_percent": b.stop_loss_percent,
        "stop_loss_absolute": b.stop_loss_absolute,
        "drawdown_limit_percent": b.drawdown_limit_percent,
        "drawdown_limit_absolute": b.drawdown_limit_absolute,
        "daily_loss_limit": b.daily_loss_limit,
        "weekly_loss_limit": b.weekly_loss_limit,
        "max_strategy_rotations": b.max_strategy_rotations,
        "consecutive_loss_limit": b.consecutive_loss_limit,
        "is_dry_run": b.is_dry_run,
        "status": enum_name(b.status().as_str_name(), "BOT_STATUS_"),
        "killed": b.killed,
        "current_balance": b.current_balance,
        "total_pnl": b.total_pnl,
        "created_at": text(&b.created_at),
        "updated_at": text(&b.updated_at),
        "started_at": text(&b.started_at),
        "paused_at": text(&b.paused_at),
        "stopped_at": text(&b.stopped_at),
        "killed_at": text(&b.killed_at),
    })
}

/// An order with its decision record.
#[must_use]
pub fn order(o: &pb::Order) -> Json {
    let decision = o.decision.as_ref().map(|d| {
        json!({
            "signals": d.signals,
            "checks": d.checks.iter().map(|c| json!({"name": c.name, "passed": c.passed, "detail": c.detail})).collect::<Vec<_>>(),
            "budget_before": d.budget_before,
            "budget_after": d.budget_after,
            "summary": d.summary,
        })
    });
    json!({
        "id": o.id,
        "bot_id": o.bot_id,
        "client_order_id": o.client_order_id,
        "exchange_order_id": text(&o.exchange_order_id),
        "order_type": o.order_type,
        "trading_pair": o.trading_pair,
        "amount": text(&o.amount),
        "price": text(&o.price),
        "quote_amount": text(&o.quote_amount),
        "filled_amount": o.filled_amount,
        "average_price": text(&o.average_price),
        "fees": o.fees,
        "fee_asset": text(&o.fee_asset),
        "status": enum_name(o.status().as_str_name(), "ORDER_STATUS_"),
        "strategy_used": o.strategy_used,
        "running_balance_after": text(&o.running_balance_after),
        "is_simulated": o.is_simulated,
        "created_at": text(&o.created_at),
        "updated_at": text(&o.updated_at),
        "filled_at": text(&o.filled_at),
        "decision": decision,
        "error": text(&o.error),
    })
}

/// A position.
#[must_use]
pub fn position(p: &pb::Position) -> Json {
    json!({
        "id": p.id,
        "bot_id": p.bot_id,
        "trading_pair": p.trading_pair,
        "side": p.side,
        "entry_price": p.entry_price,
        "current_price": p.current_price,
        "amount": p.amount,
        "unrealized_pnl": p.unrealized_pnl,
        "created_at": text(&p.created_at),
        "updated_at": text(&p.updated_at),
    })
}

/// Dashboard statistics.
#[must_use]
pub fn stats(s: &pb::Stats) -> Json {
    json!({
        "total_pnl": s.total_pnl,
        "dry_run_pnl": s.dry_run_pnl,
        "bots_total": s.bots_total,
        "bots_created": s.bots_created,
        "bots_running": s.bots_running,
        "bots_paused": s.bots_paused,
        "bots_stopped": s.bots_stopped,
        "open_orders": s.open_orders,
        "trades_24h": s.trades_24h,
        "volume_24h": s.volume_24h,
    })
}

/// A P&L series as an array of points.
#[must_use]
pub fn pnl_series(s: &pb::PnlSeries) -> Json {
    Json::Array(s.points.iter().map(|p| json!({"at": p.at, "total_pnl": p.total_pnl})).collect())
}

fn pnl_row(r: &pb::PnlRow) -> Json {
    json!({
        "key": r.key,
        "realized_pnl": r.realized_pnl,
        "fees": r.fees,
        "trades": r.trades,
        "wins": r.wins,
        "losses": r.losses,
        "win_rate_percent": text(&r.win_rate_percent),
        "average_win": text(&r.average_win),
        "average_loss": text(&r.average_loss),
    })
}

/// A P&L report: grouped rows and their total.
#[must_use]
pub fn pnl_report(r: &pb::PnlReport) -> Json {
    json!({
        "rows": r.rows.iter().map(pnl_row).collect::<Vec<_>>(),
        "total": r.total.as_ref().map(pnl_row),
    })
}

/// A tax report.
#[must_use]
pub fn tax_report(r: &pb::TaxReport) -> Json {
    let rows: Vec<Json> = r
        .rows
        .iter()
        .map(|t| {
            json!({
                "date": t.date,
                "token": t.token,
                "amount": t.amount,
                "buy_price": t.buy_price,
                "sale_price": t.sale_price,
                "gain": t.gain,
                "bot_id": t.bot_id,
            })
        })
        .collect();
    json!({ "rows": rows, "total_gain": r.total_gain })
}

/// A fee report.
#[must_use]
pub fn fee_report(r: &pb::FeeReport) -> Json {
    let rows: Vec<Json> =
        r.rows.iter().map(|f| json!({"asset": f.asset, "total": f.total, "fills": f.fills})).collect();
    json!({ "rows": rows })
}

/// The strategies with their parameter schemas.
#[must_use]
pub fn strategies(r: &pb::ListStrategiesResponse) -> Json {
    let strategies: Vec<Json> = r
        .strategies
        .iter()
        .map(|s| {
            let params: Vec<Json> = s
                .params
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "kind": enum_name(p.kind().as_str_name(), "PARAM_KIND_"),
                        "description": p.description,
                        "default": p.default_value.as_ref().map_or(Json::Null, value),
                        "min": text(&p.min),
                        "min_exclusive": p.min_exclusive,
                        "max": text(&p.max),
                        "choices": p.choices,
                        "unit": text(&p.unit),
                        "required": p.required,
                    })
                })
                .collect();
            json!({ "id": s.id, "name": s.name, "description": s.description, "params": params })
        })
        .collect();
    Json::Array(strategies)
}

/// The venue's pairs.
#[must_use]
pub fn pairs(r: &pb::ListPairsResponse) -> Json {
    Json::Array(
        r.pairs.iter().map(|p| json!({"pair": p.pair, "base": p.base, "quote": p.quote, "symbol": p.symbol})).collect(),
    )
}

/// The redacted settings, one object per file name.
#[must_use]
pub fn settings(s: &pb::Settings) -> Json {
    Json::Object(
        s.files.iter().map(|f| (f.name.clone(), f.content.as_ref().map_or(Json::Null, object))).collect::<Map<_, _>>(),
    )
}

/// A venue connectivity check.
#[must_use]
pub fn exchange_check(c: &pb::ExchangeCheck) -> Json {
    json!({
        "exchange": c.exchange,
        "rest_url": c.rest_url,
        "reachable": c.reachable,
        "clock_offset_ms": c.clock_offset_ms,
        "keys_valid": c.keys_valid,
        "symbols": c.symbols.iter().map(|s| json!({
            "pair": s.pair,
            "api_trading_allowed": s.api_trading_allowed,
            "min_qty": s.min_qty,
            "min_notional": s.min_notional,
        })).collect::<Vec<_>>(),
        "balances": c.balances.iter().map(|b| json!({"asset": b.asset, "free": b.free, "locked": b.locked})).collect::<Vec<_>>(),
        "problems": c.problems,
    })
}

/// An alert.
#[must_use]
pub fn alert(a: &pb::Alert) -> Json {
    json!({
        "id": a.id,
        "bot_id": if a.bot_id == 0 { Json::Null } else { json!(a.bot_id) },
        "alert_type": a.alert_type,
        "message": a.message,
        "email_sent": a.email_sent,
        "created_at": text(&a.created_at),
    })
}

/// A backtest report; money and percentages as decimal strings, `null` for the unset.
#[must_use]
pub fn backtest_report(r: &pb::BacktestReport) -> Json {
    let trades: Vec<Json> = r
        .trades
        .iter()
        .map(|t| {
            json!({
                "at": t.at, "side": t.side, "price": t.price, "amount": t.amount, "quote_amount": t.quote_amount,
                "fee": t.fee, "realized_pnl": text(&t.realized_pnl), "reason": t.reason,
                "trading_pair": text(&t.trading_pair),
            })
        })
        .collect();
    let equity: Vec<Json> = r.equity.iter().map(|p| json!({"at": p.at, "equity": p.equity})).collect();
    json!({
        "candles": r.candles,
        "first_candle_at": r.first_candle_at,
        "last_candle_at": r.last_candle_at,
        "budget": r.budget,
        "fee_rate": r.fee_rate,
        "trades": trades,
        "trade_count": r.trades.len(),
        "fees": r.fees,
        "realized_pnl": r.realized_pnl,
        "total_pnl": r.total_pnl,
        "final_equity": r.final_equity,
        "wins": r.wins,
        "losses": r.losses,
        "win_rate": text(&r.win_rate),
        "average_win": r.average_win,
        "average_loss": r.average_loss,
        "max_drawdown": r.max_drawdown,
        "max_drawdown_percent": r.max_drawdown_percent,
        "exposure_percent": r.exposure_percent,
        "equity": equity,
    })
}

/// What the daemon made of an uploaded candle file: its id (the SHA-256 of its bytes) and a
/// summary.
#[must_use]
pub fn candle_upload(u: &pb::CandleUpload) -> Json {
    json!({
        "data_id": u.data_id,
        "candles": u.candles,
        "first_candle_at": text(&u.first_candle_at),
        "last_candle_at": text(&u.last_candle_at),
        "size": u.size,
        "already_held": u.already_held,
    })
}

/// A live event as `{"type": ..., "at": ..., <type>: ...}`.
#[must_use]
pub fn event(e: &pb::Event) -> Json {
    use pb::event::Kind as K;
    let (kind, body) = match &e.kind {
        Some(K::Bot(b)) => ("bot", bot(b)),
        Some(K::BotDeleted(id)) => ("bot_deleted", json!(id)),
        Some(K::Order(o)) => ("order", order(o)),
        Some(K::Position(p)) => ("position", position(p)),
        Some(K::Pnl(p)) => {
            ("pnl", json!({"bot_id": p.bot_id, "total_pnl": p.total_pnl, "current_balance": p.current_balance}))
        }
        Some(K::Alert(a)) => ("alert", alert(a)),
        None => ("unknown", Json::Null),
    };
    json!({ "type": kind, "at": e.at, kind: body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bots_render_with_spec_names_and_null_for_unset() {
        let b = pb::Bot {
            id: 7,
            status: pb::BotStatus::Running.into(),
            budget: "100.10".into(),
            started_at: String::new(),
            running_time_hours: None,
            ..pb::Bot::default()
        };
        let j = bot(&b);
        assert_eq!(j["id"], 7);
        assert_eq!(j["status"], "running");
        assert_eq!(j["budget"], "100.10");
        assert!(j["started_at"].is_null());
        assert!(j["running_time_hours"].is_null());
    }

    #[test]
    fn whole_numbers_have_no_fraction() {
        assert_eq!(number(60.0).to_string(), "60");
        assert_eq!(number(0.25).to_string(), "0.25");
    }

    #[test]
    fn enum_names_are_lowercase_and_unspecified_is_null() {
        assert_eq!(enum_name("ORDER_STATUS_PARTIALLY_FILLED", "ORDER_STATUS_"), "partially_filled");
        assert!(enum_name("ORDER_STATUS_UNSPECIFIED", "ORDER_STATUS_").is_null());
    }

    #[test]
    fn events_carry_their_type() {
        let e = pb::Event { at: "t".into(), kind: Some(pb::event::Kind::BotDeleted(3)) };
        assert_eq!(event(&e), json!({"type": "bot_deleted", "at": "t", "bot_deleted": 3}));
    }
}
