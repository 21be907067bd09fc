//! Rebuilding a bot from the database: its wallet from its own fills, its next order sequence,
//! its strategy's memory, its open orders with what they still reserve, and the executor that
//! takes those orders over after reconciling them with the venue.

use std::{collections::BTreeMap, sync::Arc};

use tokio::sync::Notify;

use domain::{
    bot::Bot as BotRow,
    money::{Price, Qty, Quote},
    order::{Order, OrderType, Side},
    pair::Pair,
    strategy::{StrategyDefaults, StrategyId, validate_params},
    time::Timestamp,
};
use engine::{
    bot::{Bot, BotState, FillReport, OpenOrder, StrategyState},
    guard::{GuardMemory, Period},
    kelly::Record,
    rotation::Rotation,
    strategy::{StrategyError, dca::DcaMemory},
    wallet::{FillSide, Wallet, WalletFill},
};
use exchange::{Exchange, types::SymbolInfo};
use rust_decimal::Decimal;
use store::StoredFill;

use super::{
    Inner,
    executor::{BookSource, Executor, Live, Paper, Report},
    ledger::Progress,
};

/// A bot ready to run, with what reconciliation found.
pub(crate) struct Rebuilt {
    /// The engine's bot.
    pub(crate) bot: Bot,
    /// Its executor, following its open orders.
    pub(crate) executor: Executor,
    /// Rung when the account's feed has news of its live orders.
    pub(crate) wake: Arc<Notify>,
    /// What the venue reported about the open orders, still to be recorded.
    pub(crate) reports: Vec<Report>,
    /// Fills so far of the open orders.
    pub(crate) progress: BTreeMap<String, Progress>,
}

/// Why a bot cannot run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RebuildError {
    /// Its strategy has no engine yet; it stays as it is and places no orders.
    #[error("the {0} strategy cannot trade yet")]
    Unsupported(StrategyId),
    /// Its state could not be established; it must not trade until a person looks.
    #[error("{0}")]
    Unreconcilable(String),
}

fn unreconcilable(error: impl std::fmt::Display) -> RebuildError {
    RebuildError::Unreconcilable(error.to_string())
}

/// A fill as a bot books it on `pair`: a fee in neither of its assets (such as MX) changes
/// neither holding.
pub(crate) fn booked_fill(pair: &Pair, fill: (Qty, Quote, Decimal, &str)) -> FillReport {
    let (qty, quote, fee, fee_asset) = fill;
    let fee_in_quote = fee_asset == pair.quote();
    let counted = fee_in_quote || fee_asset == pair.base();
    FillReport { qty, quote, fee: if counted { fee } else { Decimal::ZERO }, fee_in_quote }
}

/// The wallet's view of a stored fill of the bot's pair.
pub(crate) fn wallet_fill<'a>(
    client_order_id: &'a str,
    side: Side,
    fill: (Qty, Quote, Decimal, &str),
    row: &BotRow,
) -> WalletFill<'a> {
    let FillReport { qty, quote, fee, fee_in_quote } = booked_fill(&row.config.pair, fill);
    WalletFill {
        client_order_id,
        side: if side == Side::Buy { FillSide::Buy } else { FillSide::Sell },
        qty,
        quote,
        fee,
        fee_in_quote,
    }
}

/// What an open order still reserves: its budget (or quantity) less what its fills used.
fn remaining(order: &Order, side: Side, progress: &Progress) -> Decimal {
    let reserved = match (side, order.quote_amount, order.amount, order.price) {
        (Side::Buy, Some(quote), _, _) => quote.value(),
        (Side::Buy, None, Some(qty), Some(price)) => qty.value() * price.value(),
        (Side::Sell, _, Some(qty), _) => qty.value(),
        _ => Decimal::ZERO,
    };
    let used = if side == Side::Buy { progress.quote.value() } else { progress.qty.value() };
    (reserved - used).max(Decimal::ZERO)
}

/// Buy or sell.
pub(crate) fn side_of(order: &Order) -> Side {
    if matches!(order.order_type, OrderType::MarketBuy | OrderType::LimitBuy) { Side::Buy } else { Side::Sell }
}

/// When the bot's running time is over, if it has one.
pub(crate) fn ends_at(row: &BotRow) -> Option<Timestamp> {
    match (row.config.running_time.hours(), row.started_at) {
        (Some(hours), Some(started)) => Some(Timestamp::from_millis(started.millis() + i64::from(hours) * 3_600_000)),
        _ => None,
    }
}

/// What the stored fills of an open order add up to.
pub(crate) fn progress_of(order: &Order, fills: &[StoredFill]) -> Progress {
    let mut progress = Progress::new(side_of(order));
    for fill in fills.iter().filter(|f| f.client_order_id == order.client_order_id) {
        progress.add(fill.qty, fill.quote, fill.fee.value(), &fill.fee_asset);
    }
    progress
}

/// The executor of a bot's orders on `symbol` at `account`: paper fills for a dry run.
pub(crate) fn executor(
    inner: &Inner,
    account: &str,
    venue: Arc<dyn Exchange>,
    symbol: SymbolInfo,
    simulated: bool,
    wake: &Arc<Notify>,
) -> Executor {
    if simulated {
        let books = BookSource { hub: inner.hub.clone(), account: account.to_owned(), venue };
        Executor::Paper(Paper::new(books, symbol))
    } else {
        let pair = symbol.rules.pair.clone();
        let inbox = inner.accounts.join(account, &venue, pair.clone(), Arc::clone(wake));
        Executor::Live(Live::new(venue, pair, inbox))
    }
}

/// The DCA memory from the last buy: the next regular buy is due an interval after it.
fn dca_memory(fills: &[StoredFill]) -> DcaMemory {
    fills.iter().rev().find(|f| f.side == Side::Buy && !f.qty.value().is_zero()).map_or_else(DcaMemory::default, |f| {
        DcaMemory { last_buy_at: Some(f.at), last_buy_price: Some(Price::new(f.quote.value() / f.qty.value())) }
    })
}

/// The realised result of each of the bot's finished sales, oldest first (a sale's fills
/// summed; orders still open are not finished).
fn closed_sales(fills: &[StoredFill], open: &[Order]) -> Vec<Decimal> {
    let mut sales: Vec<(&str, Decimal)> = Vec::new();
    for fill in
        fills.iter().filter(|f| f.side == Side::Sell && !open.iter().any(|o| o.client_order_id == f.client_order_id))
    {
        let realized = fill.realized.map_or(Decimal::ZERO, Quote::value);
        match sales.iter_mut().find(|(id, _)| *id == fill.client_order_id) {
            Some((_, sum)) => *sum += realized,
            None => sales.push((&fill.client_order_id, realized)),
        }
    }
    sales.into_iter().map(|(_, realized)| realized).collect()
}

/// Losing sales since the last winning one.
fn trailing_losses(sales: &[Decimal]) -> u32 {
    u32::try_from(sales.iter().rev().take_while(|r| **r <= Decimal::ZERO).count()).unwrap_or(u32::MAX)
}

/// Signal strategies a bot may rotate to, in order of preference.
const ROTATION_TARGETS: [StrategyId; 3] =
    [StrategyId::MeanReversion, StrategyId::BreakdownMomentum, StrategyId::DcaAccumulator];

/// The bot's rotation rule, with the targets' default parameters. Execution algorithms
/// (TWAP, VWAP) never rotate: their losses say nothing about a strategy; Auto Mode chooses for
/// itself.
fn rotation(row: &BotRow, defaults: &StrategyDefaults) -> Rotation {
    if matches!(row.config.strategy, StrategyId::Twap | StrategyId::Vwap | StrategyId::Auto) {
        return Rotation::off();
    }
    let candidates = ROTATION_TARGETS
        .into_iter()
        .filter_map(|id| validate_params(id, &BTreeMap::new(), defaults).ok().map(|params| (id, params)))
        .collect();
    let risk = &row.config.risk;
    Rotation::new(risk.consecutive_loss_limit, risk.max_strategy_rotations, candidates)
}

/// The strategy's memory, from the bot's fills: DCA's last buy, TWAP's progress. Candle
/// strategies warm up from recent candles instead.
fn restore(mut strategy: StrategyState, fills: &[StoredFill]) -> StrategyState {
    for fill in fills {
        strategy.filled(fill.side, fill.qty);
    }
    match strategy {
        StrategyState::Dca(params, _) => StrategyState::Dca(params, dca_memory(fills)),
        other => other,
    }
}

/// Rebuilds `row` and reconciles its open orders with the venue.
///
/// # Errors
/// [`RebuildError`] when the bot cannot trade.
pub(crate) async fn rebuild(inner: &Inner, row: &BotRow, now: Timestamp) -> Result<Rebuilt, RebuildError> {
    let strategy = match StrategyState::new(row.config.strategy, &row.config.strategy_params) {
        Ok(strategy) => strategy,
        Err(StrategyError::Unsupported(_)) => return Err(RebuildError::Unsupported(row.config.strategy)),
        Err(StrategyError::Params(message)) => return Err(unreconcilable(message)),
    };
    let (account, venue, _) = inner
        .venues
        .get(&row.config.exchange)
        .ok_or_else(|| unreconcilable(format!("no venue account named {:?}", row.config.exchange)))?;
    let symbol = inner.symbol(account, &row.config.pair).await.map_err(unreconcilable)?;
    let simulated = row.config.is_dry_run;
    let store = &inner.store;
    let fills = store.bot_fills(row.id, simulated).await.map_err(unreconcilable)?;
    let open = store.open_orders(row.id, simulated).await.map_err(unreconcilable)?;
    let next_seq = store.next_order_seq(row.id).await.map_err(unreconcilable)?;
    let guard_memory = store.risk_memory(row.id).await.map_err(unreconcilable)?.map(|m| GuardMemory {
        peak: m.peak,
        day: m.day.map(|(index, start_equity)| Period { index, start_equity }),
        week: m.week.map(|(index, start_equity)| Period { index, start_equity }),
    });

    let mut progress = BTreeMap::new();
    let mut open_orders = Vec::new();
    for order in &open {
        let side = side_of(order);
        let p = progress_of(order, &fills);
        open_orders.push(OpenOrder {
            client_order_id: order.client_order_id.clone(),
            side,
            status: order.status,
            remaining: remaining(order, side, &p),
            limit: order.price.filter(|_| matches!(order.order_type, OrderType::LimitBuy | OrderType::LimitSell)),
        });
        progress.insert(order.client_order_id.clone(), p);
    }
    let wake = Arc::new(Notify::new());
    let mut executor = executor(inner, account, venue, symbol.clone(), simulated, &wake);
    let reports = executor.reconcile(&open, &progress, now).await.map_err(unreconcilable)?;

    let sales = closed_sales(&fills, &open);
    let wallet_fills: Vec<WalletFill<'_>> = fills
        .iter()
        .map(|f| wallet_fill(&f.client_order_id, f.side, (f.qty, f.quote, f.fee.value(), &f.fee_asset), row))
        .collect();
    let wallet =
        Wallet::replay(row.config.budget, row.config.compound_enabled, &wallet_fills).map_err(unreconcilable)?;
    let order_prefix = inner.store.order_prefix().await.map_err(unreconcilable)?;
    let state = BotState {
        id: row.id,
        order_prefix: order_prefix.into(),
        rules: symbol.rules.clone(),
        strategy: restore(strategy, &fills),
        wallet,
        status: row.status,
        killed: row.killed_at.is_some(),
        next_seq,
        ends_at: ends_at(row),
        open_orders,
        risk: row.config.risk.clone(),
        rotation: rotation(row, &inner.strategy_defaults).with_losses(trailing_losses(&sales)),
        kelly_sizing: true,
        guard_memory,
        record: sales.iter().fold(Record::default(), |mut record, realized| {
            record.sale(*realized);
            record
        }),
    };
    let bot =
        Bot::from_state(state).map_err(|e| unreconcilable(format!("its open orders do not fit its wallet: {e}")))?;
    Ok(Rebuilt { bot, executor, wake, reports, progress })
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn sale(id: &str, realized: Decimal) -> StoredFill {
        StoredFill {
            client_order_id: id.to_owned(),
            side: Side::Sell,
            exchange: "sim".to_owned(),
            pair: "BTC/USDT".parse().unwrap(),
            qty: Qty::new(dec!(0.1)),
            quote: Quote::new(dec!(10)),
            fee: Qty::ZERO,
            fee_asset: "USDT".to_owned(),
            at: Timestamp::from_millis(0),
            realized: Some(Quote::new(realized)),
        }
    }

    #[test]
    fn finished_sales_are_summed_per_order_and_the_losing_streak_counted() {
        let fills = [sale("a", dec!(2)), sale("b", dec!(-1)), sale("b", dec!(-0.5)), sale("c", dec!(-3))];
        let sales = closed_sales(&fills, &[]);
        assert_eq!(sales, vec![dec!(2), dec!(-1.5), dec!(-3)]);
        assert_eq!(trailing_losses(&sales), 2, "two losing sales since the last win");
        assert_eq!(trailing_losses(&[dec!(-1), dec!(4)]), 0);
    }
}
