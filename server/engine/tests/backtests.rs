//! Strategies run on the bundled real market data (`server/mexc-sim/data`) through the
//! backtest driver; the summary and the trades are compared with reviewed snapshots in
//! `tests/backtests/` (`UPDATE_EXPECT=1` rewrites them). Beside each snapshot a few figures are
//! checked by hand, so a snapshot recorded from a wrong run cannot pass: the final equity is
//! booked again here from the trades and the last close, every market order fills at a candle's
//! open, and the DCA and TWAP runs' counts and first trades follow from their parameters.
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
    backtest::{
        self, Settings,
        arbitrage::{self, MarketData},
    },
    strategy::{StrategyState, arbitrage::ArbitrageParams},
};
use rust_decimal::Decimal;

/// Trades listed in a snapshot (the summary covers them all).
const LISTED: usize = 60;

/// The bundled one-minute candles of `symbol` (`BTCUSDT`).
fn bundled(symbol: &str) -> Vec<domain::candle::Candle> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../mexc-sim/data/binance_{symbol}_1m.csv"));
    candles::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn btc_usdt() -> (SymbolRules, Vec<domain::candle::Candle>) {
    (support::btc_usdt(), bundled("BTCUSDT"))
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
        let pair = t.pair.as_ref().map(|p| format!("{p} ")).unwrap_or_default();
        let _ = writeln!(text, "{} {pair}{} {} @ {}{realized} | {}", t.at.millis(), t.side, t.qty, t.price, t.reason);
    }
    text
}

/// Books `report`'s trades again, independently of the engine's wallet: a buy pays its quote
/// and its fee in base (`fee_rate` of the quantity), a sale receives its quote less `fee_rate`
/// of it; what is held is valued at the last close. Returns the equity so booked.
fn equity_booked_from_the_trades(
    report: &backtest::Report,
    budget: Decimal,
    fee_rate: Decimal,
    last_close: Decimal,
) -> Decimal {
    let (mut cash, mut base) = (budget, Decimal::ZERO);
    for t in &report.trades {
        match t.side {
            domain::order::Side::Buy => {
                assert_eq!(
                    t.quote.value(),
                    t.qty.value() * t.price.value(),
                    "a buy's quote is its price times quantity"
                );
                cash -= t.quote.value();
                base += t.qty.value() - t.qty.value() * fee_rate;
            }
            domain::order::Side::Sell => {
                cash += t.quote.value() - t.quote.value() * fee_rate;
                base -= t.qty.value();
            }
        }
        assert!(cash >= Decimal::ZERO && base >= Decimal::ZERO, "the trades spend or sell what was never held: {t:?}");
    }
    cash + base * last_close
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
        hand_checked(name, &report, &candles, settings.fee_rate);
        failures.extend(support::check(&dir.join(format!("{name}_btcusdt.snap")), &render(&report)));
    }
    assert!(failures.is_empty(), "backtest snapshots differ (UPDATE_EXPECT=1 rewrites them):\n{}", failures.join("\n"));
}

/// The figures of `name`'s run on `candles` that follow from the data and the parameters
/// without the engine: its final equity, where its market orders fill, and for DCA and TWAP
/// how many trades there are and what the first one is.
fn hand_checked(name: &str, report: &backtest::Report, candles: &[domain::candle::Candle], fee_rate: Decimal) {
    let last_close = candles.last().unwrap().close.value();
    let booked = equity_booked_from_the_trades(report, Decimal::from(1_000), fee_rate, last_close);
    assert_eq!(report.final_equity.value(), booked, "{name}: the final equity is not what its trades add up to");
    assert_eq!(report.total_pnl.value(), booked - Decimal::from(1_000), "{name}: total P&L");
    assert_eq!(report.candles, candles.len(), "{name}: every candle replayed");
    // A market order decided on a close fills at the next candle's open (the grid's limit
    // orders fill at their own price).
    if name != "adaptive_grid" {
        for t in &report.trades {
            let candle = candles
                .iter()
                .find(|c| c.open_time == t.at)
                .unwrap_or_else(|| panic!("{name}: {t:?} at no candle's open"));
            assert_eq!(t.price, candle.open, "{name}: a market order fills at the open");
            assert_ne!(t.at, candles[0].open_time, "{name}: nothing is decided before the first close");
        }
    }
    // The first candle of the file opens at 1618951320000 and its successor at 56813.98.
    let second = &candles[1];
    assert_eq!((second.open_time.millis(), second.open.value()), (1_618_951_380_000, Decimal::new(5_681_398, 2)));
    let first = &report.trades[0];
    match name {
        // 10 USDT each hour from the first close: 10 / 56813.98 rounded down to 0.000001 BTC;
        // the 1,000 USDT budget pays for 100 such buys (each costs just under 10), and the
        // file's 715 hours are more than enough for them, so 100 buys and nothing else.
        "dca_accumulator" => {
            assert_eq!(
                (first.at, first.side, first.qty.value()),
                (second.open_time, domain::order::Side::Buy, Decimal::new(176, 6))
            );
            assert_eq!(report.trades.len(), 100, "{name}: 1,000 USDT / 10 USDT");
            assert!(report.trades.iter().all(|t| t.side == domain::order::Side::Buy));
            let hours: Vec<i64> = report.trades.windows(2).map(|w| w[1].at.millis() - w[0].at.millis()).collect();
            assert!(hours.iter().all(|&ms| ms == 3_600_000), "{name}: one buy an hour");
        }
        // 0.01 BTC in slices of 0.01 / 12 = 0.00083333, rounded down to 0.000833: twelve
        // slices leave 0.000004 BTC, below the 1 USDT minimum, so twelve buys.
        "twap" => {
            assert_eq!(
                (first.at, first.side, first.qty.value()),
                (second.open_time, domain::order::Side::Buy, Decimal::new(833, 6))
            );
            assert_eq!(report.trades.len(), 12, "{name}: 0.01 in slices of 0.000833");
            assert!(report.trades.iter().all(|t| t.qty.value() == Decimal::new(833, 6)));
        }
        _ => {}
    }
}

#[test]
fn arbitrage_on_the_real_btc_eth_triangle_matches_its_snapshot() {
    let rules = |pair: &str, price_scale, qty_scale, min_notional| SymbolRules {
        pair: pair.parse().unwrap(),
        price_scale,
        qty_scale,
        min_qty: domain::money::Qty::new(Decimal::new(1, qty_scale)),
        min_notional: Quote::new(min_notional),
    };
    let (btc, eth_btc, eth) = (bundled("BTCUSDT"), bundled("ETHBTC"), bundled("ETHUSDT"));
    let markets = [
        MarketData { rules: support::btc_usdt(), candles: &btc },
        MarketData { rules: rules("ETH/BTC", 6, 4, Decimal::new(1, 4)), candles: &eth_btc },
        MarketData { rules: rules("ETH/USDT", 2, 5, Decimal::ONE), candles: &eth },
    ];
    let run = |fee_rate: Decimal, given: &[(&str, &str)]| {
        let given = given.iter().map(|(k, v)| ((*k).to_owned(), RawParam::Text((*v).to_owned()))).collect();
        let params = validate_params(StrategyId::Arbitrage, &given, &StrategyDefaults::new()).unwrap();
        let params = ArbitrageParams::from_params(&params).unwrap();
        let settings = Settings { fee_rate, candle_ms: 60_000, equity_curve: false };
        arbitrage::triangular(&markets, Quote::new(Decimal::from(1_000)), false, &params, &settings, |_| {})
    };
    // The real cross rates differ by 0.009 % at the median: at 0.1 % per leg only the crash
    // of 19 May opens gaps past the default 0.2 % edge. Fee-free with a 0.05 % minimum, the
    // gaps found at a close are traded at the next open, where many have closed.
    let costly = run(Decimal::new(1, 3), &[]);
    let free = run(Decimal::ZERO, &[("min_edge_percent", "0.05")]);
    assert!(!costly.trades.is_empty() && free.trades.len() > costly.trades.len());
    let text = format!(
        "default parameters, 0.1 % fee:\n{}\nfee-free, 0.05 % minimum edge:\n{}",
        render(&costly),
        render(&free)
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/backtests/arbitrage_btc_eth_triangle.snap");
    if let Some(failure) = support::check(&path, &text) {
        panic!("backtest snapshot differs (UPDATE_EXPECT=1 rewrites it):\n{failure}");
    }
}
