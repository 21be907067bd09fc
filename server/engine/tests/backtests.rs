//! Strategies run on the bundled real market data (`server/mexc-sim/data`) through the
//! backtest driver; the summary and the trades are compared with reviewed snapshots in
//! `tests/backtests/` (`UPDATE_EXPECT=1` rewrites them).
// Test code: a failed unwrap is a failed test with its location.
#![allow(clippy::unwrap_used)]

mod support;

use std::{fmt::Write as _, path::PathBuf};

use domain::{
    money::Quote,
    strategy::{RawParam, StrategyDefaults, StrategyId, validate_params},
    symbol::SymbolRules,
};
use engine::{
    backtest::{self, Settings},
    strategy::StrategyState,
};
use rust_decimal::Decimal;

/// Trades listed in a snapshot (the summary covers them all).
const LISTED: usize = 60;

fn btc_usdt() -> (SymbolRules, Vec<domain::candle::Candle>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../mexc-sim/data/binance_BTCUSDT_1m.csv");
    let rules = support::btc_usdt();
    (rules, candles::parse(&std::fs::read(path).unwrap()).unwrap())
}

fn render(report: &backtest::Report) -> String {
    let mut text = format!(
        "candles {}, trades {}, wins {}, losses {}, realised {}, total {}, fees {}, max drawdown {} ({}%), exposure {}%\n",
        report.candles,
        report.trades.len(),
        report.wins,
        report.losses,
        report.realized_pnl.value().round_dp(8),
        report.total_pnl.value().round_dp(8),
        report.fees.value().round_dp(8),
        report.max_drawdown.value().round_dp(8),
        report.max_drawdown_percent,
        report.exposure_percent,
    );
    for t in report.trades.iter().take(LISTED) {
        let realized = t.realized.map(|r| format!(" realised {}", r.value().round_dp(8))).unwrap_or_default();
        let _ = writeln!(text, "{} {} {} @ {}{realized} | {}", t.at.millis(), t.side, t.qty, t.price, t.reason);
    }
    text
}

#[test]
fn strategies_on_real_btc_data_match_their_snapshots() {
    let (rules, candles) = btc_usdt();
    let settings = Settings { fee_rate: Decimal::new(1, 3), candle_ms: 60_000, equity_curve: false };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/backtests");
    let mut failures = Vec::new();
    let twap_target: std::collections::BTreeMap<_, _> =
        [("target_amount".to_owned(), RawParam::Text("0.01".into()))].into();
    let runs = [
        (StrategyId::MeanReversion, "mean_reversion", Default::default()),
        (StrategyId::DcaAccumulator, "dca_accumulator", Default::default()),
        (StrategyId::BreakdownMomentum, "breakdown_momentum", Default::default()),
        (StrategyId::Twap, "twap", twap_target.clone()),
        (StrategyId::Vwap, "vwap", twap_target),
        (StrategyId::EventFiller, "event_filler", Default::default()),
        (StrategyId::Auto, "auto", Default::default()),
        (StrategyId::AdaptiveGrid, "adaptive_grid", Default::default()),
    ];
    for (id, name, given) in runs {
        let params = validate_params(id, &given, &StrategyDefaults::new()).unwrap();
        let strategy = StrategyState::new(id, &params).unwrap();
        let bot = backtest::bot(
            rules.clone(),
            strategy,
            Quote::new(Decimal::from(1_000)),
            false,
            domain::bot::RiskLimits::default(),
        );
        let report = backtest::run(bot, &candles, &settings, |_| {});
        assert!(!report.trades.is_empty(), "{name} never traded");
        failures.extend(support::check(&dir.join(format!("{name}_btcusdt.snap")), &render(&report)));
    }
    assert!(failures.is_empty(), "backtest snapshots differ (UPDATE_EXPECT=1 rewrites them):\n{}", failures.join("\n"));
}
