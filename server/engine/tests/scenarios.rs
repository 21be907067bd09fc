//! Scenario tests of the sans-IO bot: `tests/scenarios/<name>.yaml` holds a bot and
//! timestamped inputs; the outputs of every step and the final wallet are compared with
//! `<name>.snap`. A missing snapshot fails the test; `UPDATE_EXPECT=1` (that value only) writes
//! them all.
//! Snapshot diffs are reviewed like code.
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

mod support;

use std::{collections::BTreeMap, fmt::Write as _, fs, path::PathBuf};

use domain::{
    bot::{BotId, BotStatus},
    money::{Percent, Price, Qty, Quote},
    order::OrderEvent,
    strategy::{RawParam, StrategyDefaults, StrategyId, validate_params},
    time::Timestamp,
};
use engine::{
    bot::{Bot, BotState, Command, FillReport, Input, Output, StrategyState},
    intent::{IntentKind, IntentSize},
    strategy::dca::{DcaMemory, DcaParams},
    wallet::Wallet,
};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    bot: BotSpec,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BotSpec {
    budget: Decimal,
    #[serde(default)]
    compound: bool,
    /// Another strategy than DCA, with its parameters (the schema's defaults fill the rest).
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, RawParam>,
    #[serde(default)]
    quote_amount: Decimal,
    #[serde(default)]
    interval_minutes: i64,
    #[serde(default)]
    drop_trigger_percent: Decimal,
    #[serde(default)]
    drop_extra_quote: Decimal,
    #[serde(default)]
    take_profit_percent: Decimal,
    #[serde(default)]
    ends_at: Option<i64>,
    #[serde(default)]
    stop_loss_percent: Option<Decimal>,
    #[serde(default)]
    drawdown_limit_percent: Option<Decimal>,
    #[serde(default)]
    daily_loss_limit: Option<Decimal>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    at: i64,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    price: Option<Decimal>,
    #[serde(default)]
    tick: bool,
    #[serde(default)]
    order: Option<OrderStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderStep {
    id: String,
    event: String,
    #[serde(default)]
    qty: Option<Decimal>,
    #[serde(default)]
    quote: Option<Decimal>,
    #[serde(default)]
    fee: Decimal,
    #[serde(default = "yes")]
    fee_in_quote: bool,
}

const fn yes() -> bool {
    true
}

fn event(name: &str) -> OrderEvent {
    match name {
        "accepted" => OrderEvent::Accepted,
        "rejected" => OrderEvent::Rejected,
        "outcome_unknown" => OrderEvent::OutcomeUnknown,
        "not_found" => OrderEvent::NotFound,
        "partially_filled" => OrderEvent::PartiallyFilled,
        "filled" => OrderEvent::Filled,
        "cancel_confirmed" => OrderEvent::CancelConfirmed,
        "expired" => OrderEvent::Expired,
        other => panic!("unknown order event {other}"),
    }
}

fn input(step: &Step) -> Input {
    if let Some(command) = &step.command {
        return Input::Command(match command.as_str() {
            "start" => Command::Start,
            "pause" => Command::Pause,
            "stop" => Command::Stop { cancel_pending: false },
            "stop_cancel" => Command::Stop { cancel_pending: true },
            "kill" => Command::Kill,
            other => panic!("unknown command {other}"),
        });
    }
    if let Some(price) = step.price {
        return Input::Price(Price::new(price));
    }
    if let Some(order) = &step.order {
        let fill = order.qty.map(|qty| FillReport {
            qty: Qty::new(qty),
            quote: Quote::new(order.quote.expect("a fill needs its quote")),
            fee: order.fee,
            fee_in_quote: order.fee_in_quote,
        });
        return Input::Order { client_order_id: order.id.clone(), event: event(&order.event), fill };
    }
    assert!(step.tick, "a step needs a command, a price, an order or tick: true");
    Input::Tick
}

fn render(output: &Output, bot: &Bot) -> String {
    match output {
        Output::Place(approved) => {
            let i = approved.get();
            let kind = match i.kind {
                IntentKind::Market => "market".to_owned(),
                IntentKind::Limit(p) => format!("limit {p}"),
            };
            let size = match i.size {
                IntentSize::Quote(q) => format!("{q} quote"),
                IntentSize::Base(q) => format!("{q} base"),
            };
            format!(
                "place {} {} {kind} {size} (budget {} -> {}; {})",
                i.client_order_id, i.side, i.decision.budget_before, i.decision.budget_after, i.decision.summary
            )
        }
        Output::Cancel { client_order_id, reason } => format!("cancel {client_order_id} ({reason})"),
        Output::Status { status, reason } => format!("status {status} ({reason})"),
        Output::Refused { intent, reason } => format!("refused {} {}: {reason}", intent.client_order_id, intent.side),
        Output::Alert { kind, message } => format!("alert {kind}: {message}"),
        Output::Rotated { from, to, reason, .. } => format!("rotated {from} -> {to}: {reason}"),
        Output::Switched { from, to, reason } => format!("switched {from} -> {to}: {reason}"),
        Output::PositionChanged => bot.mark().map_or_else(
            || "position changed (no price yet)".to_owned(),
            |m| {
                format!(
                    "mark at {}: holding {} (entry {}), unrealised {}, realised {}, equity {}",
                    m.price,
                    m.holdings,
                    m.entry_price(),
                    m.unrealized,
                    m.realized,
                    m.equity
                )
            },
        ),
    }
}

fn strategy(spec: &BotSpec) -> StrategyState {
    if let Some(id) = &spec.strategy {
        let id: StrategyId = id.parse().unwrap();
        let params = validate_params(id, &spec.params, &StrategyDefaults::new()).unwrap();
        return StrategyState::new(id, &params).unwrap();
    }
    let params = DcaParams {
        quote_amount: Quote::new(spec.quote_amount),
        interval_ms: spec.interval_minutes * 60_000,
        drop_trigger: Percent::new(spec.drop_trigger_percent),
        drop_extra: Quote::new(spec.drop_extra_quote),
        take_profit: Percent::new(spec.take_profit_percent),
    };
    StrategyState::Dca(params, DcaMemory::default())
}

fn run(scenario: &Scenario) -> String {
    let spec = &scenario.bot;
    let rules = support::btc_usdt();
    let mut bot = Bot::from_state(BotState {
        id: BotId(7),
        order_prefix: domain::order::BACKTEST_ORDER_PREFIX.into(),
        rules,
        strategy: strategy(spec),
        wallet: Wallet::new(Quote::new(spec.budget), spec.compound),
        status: BotStatus::Created,
        killed: false,
        next_seq: 1,
        ends_at: spec.ends_at.map(Timestamp::from_millis),
        open_orders: Vec::new(),
        risk: domain::bot::RiskLimits {
            stop_loss_percent: spec.stop_loss_percent.map(Percent::new),
            drawdown_limit_percent: spec.drawdown_limit_percent.map(Percent::new),
            daily_loss_limit: spec.daily_loss_limit.map(Quote::new),
            ..domain::bot::RiskLimits::default()
        },
        rotation: engine::rotation::Rotation::off(),
        kelly_sizing: true,
        guard_memory: None,
        record: engine::kelly::Record::default(),
    })
    .unwrap();
    let mut text = String::new();
    for step in &scenario.steps {
        let input = input(step);
        let outputs = bot.handle(Timestamp::from_millis(step.at), input.clone());
        let _ = writeln!(text, "t={} {input:?}", step.at);
        for output in &outputs {
            let _ = writeln!(text, "    -> {}", render(output, &bot));
        }
    }
    let w = bot.wallet();
    let _ = writeln!(
        text,
        "final: status {} killed {} | cap {} reserved {} cost {} holdings {} realized {} free {}",
        bot.status(),
        bot.killed(),
        w.cap(),
        w.reserved(),
        w.cost(),
        w.holdings(),
        w.realized_pnl(),
        w.free()
    );
    text
}

#[test]
fn scenarios_match_their_snapshots() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut names: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no scenarios in {}", dir.display());
    let mut failures = Vec::new();
    for path in names {
        let scenario: Scenario = serde_yaml::from_str(&fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let actual = run(&scenario);
        failures.extend(support::check(&path.with_extension("snap"), &actual));
    }
    assert!(failures.is_empty(), "scenario snapshots differ (UPDATE_EXPECT=1 rewrites them):\n{}", failures.join("\n"));
}
