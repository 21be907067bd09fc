//! Adaptive Grid: limit orders resting on a ladder of price levels around the market.
//!
//! The grid spans a range centred on the price at the time it is laid: a fixed share of the
//! price either side (fixed mode), or a multiple of the standard deviation of the recent
//! closes (volatility mode; widened where needed so neighbouring levels are at least 0.3 %
//! apart, enough for a round trip to outearn two fees, and at most 50 % of the price either
//! side). Its levels are equally spaced in price (arithmetic) or in percentage (geometric).
//!
//! Levels sit on the symbol's price tick, at least two ticks apart (the range is widened
//! when needed). The level nearest the price is the anchor. Below it, every free level gets
//! a buy of the order amount, nearest first, while the free budget lasts. Holdings not yet
//! offered go on the free levels above the price, nearest first, one buy's worth per level:
//! what the last buy bought is offered from one level above the level it was bought at, any
//! older holdings from one level above their average cost. So a buy that fills at one level
//! is sold one level up: the grid earns a level's spacing on every round trip, and never
//! offers holdings below what they cost. A remainder too small to be an order is kept. Orders
//! are never moved while the price stays inside the range. When the price leaves it, every
//! resting order is cancelled and, once all are gone, the grid is laid again around the new
//! price (holdings then wait on the new levels above the price and their cost). After a
//! restart the grid is laid around the price of the moment, and the orders still resting are
//! adopted by the levels nearest them rather than cancelled.
// The volatility is an f64 reading (DESIGN.md, invariant 1); it becomes a Decimal range,
// rounded, before any level or size is derived from it.
#![allow(clippy::disallowed_types, clippy::float_arithmetic)]

use domain::{
    candle::Candle,
    money::{Price, Qty, Quote},
    order::Side,
    strategy::StrategyParams,
    symbol::SymbolRules,
};
use rust_decimal::{Decimal, prelude::FromPrimitive};
use rust_decimal_macros::dec;

use super::{
    Action, Desire, Holding,
    params::{decimal, integer, text},
};
use crate::{
    indicators::{RollingStats, to_f64},
    intent::{Reason, SignalValue},
};

const NAME: &str = "adaptive_grid";
/// Narrowest step between neighbouring levels of a volatility range, as a share of the price.
const MIN_STEP: Decimal = dec!(0.003);
/// Widest half-width of any range, as a share of the price (levels stay positive).
const MAX_HALF_WIDTH: Decimal = dec!(0.5);
/// Decimal places of computed level prices (the symbol's tick rounds them further).
const LEVEL_DP: u32 = 12;

/// How the levels are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// Equal price steps.
    Arithmetic,
    /// Equal percentage steps.
    Geometric,
}

/// How wide the range is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// This share of the price either side (0.05 = 5 %).
    Fixed(Decimal),
    /// This multiple of the standard deviation of the last `lookback` closes either side.
    Volatility {
        /// Closes measured.
        lookback: usize,
        /// Multiple of their standard deviation.
        multiplier: f64,
    },
}

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridParams {
    /// Number of levels (at least 2).
    pub levels: usize,
    /// Their spacing.
    pub spacing: Spacing,
    /// The range's width.
    pub range: Range,
    /// Quote amount of each buy.
    pub quote: Quote,
}

/// One of the bot's orders resting on the book, as the grid sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resting {
    /// Buy or sell.
    pub side: Side,
    /// Its limit price.
    pub price: Price,
}

/// What a strategy that keeps a book sees when it plans.
#[derive(Debug, Clone, Copy)]
pub struct BookView<'a> {
    /// The market price.
    pub price: Price,
    /// What the bot could sell.
    pub holding: Holding,
    /// Its orders resting on the book, each acknowledged by the venue.
    pub resting: &'a [Resting],
    /// Precision and minimums of the pair.
    pub rules: &'a SymbolRules,
}

/// What the grid wants done with the bot's resting orders.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Nothing to change.
    Keep,
    /// Place these limit orders (nearest the price first).
    Place(Vec<Desire>),
    /// Cancel every resting order, for this reason; the grid is laid again once they are gone.
    CancelAll(String),
}

/// Where holdings are offered: at what market price, under which rules, around which taken
/// levels, into which list.
struct Offer<'a> {
    price: Price,
    rules: &'a SymbolRules,
    taken: &'a mut [bool],
    wanted: &'a mut Vec<Desire>,
}

/// The strategy with its ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    params: GridParams,
    /// Closes of the volatility window.
    closes: RollingStats,
    /// Standard deviation of the last full window.
    sd: Option<f64>,
    /// Level prices, ascending; empty until the grid is first laid.
    levels: Vec<Price>,
    /// The midpoints between neighbouring levels, as floats: which level is nearest a price
    /// is a comparison, decided fast.
    midpoints: Vec<f64>,
    /// Which levels hold a resting order (rebuilt at every plan; kept to reuse its memory).
    taken: Vec<bool>,
    /// The level of the last buy that filled, and what it bought, until it is offered.
    bought: Option<(usize, Qty)>,
}

impl Grid {
    /// A grid not laid yet.
    #[must_use]
    pub fn new(params: GridParams) -> Self {
        let lookback = match params.range {
            Range::Volatility { lookback, .. } => lookback,
            Range::Fixed(_) => 1,
        };
        Self {
            params,
            closes: RollingStats::new(lookback),
            sd: None,
            levels: Vec::new(),
            midpoints: Vec::new(),
            taken: Vec::new(),
            bought: None,
        }
    }

    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<Self, String> {
        let levels = usize::try_from(integer(params, NAME, "grid_count")?).map_err(|e| e.to_string())?.max(2);
        let spacing =
            if text(params, NAME, "spacing")? == "geometric" { Spacing::Geometric } else { Spacing::Arithmetic };
        let range = if text(params, NAME, "range_mode")? == "fixed" {
            Range::Fixed(decimal(params, NAME, "range_percent")? / Decimal::ONE_HUNDRED)
        } else {
            let lookback = usize::try_from(integer(params, NAME, "volatility_lookback")?).map_err(|e| e.to_string())?;
            let multiplier = to_f64(Price::new(decimal(params, NAME, "volatility_multiplier")?));
            Range::Volatility { lookback, multiplier }
        };
        let quote = Quote::new(decimal(params, NAME, "order_quote_amount")?);
        Ok(Self::new(GridParams { levels, spacing, range, quote }))
    }

    /// Updates the volatility window with a closed candle.
    pub fn on_candle(&mut self, candle: &Candle) {
        if let Range::Volatility { .. } = self.params.range {
            self.sd = self.closes.push(to_f64(candle.close)).map(|stats| stats.sd()).or(self.sd);
        }
    }

    /// A buy resting at `limit` filled `qty` (partly).
    pub fn bought_at(&mut self, limit: Price, qty: Qty) {
        if self.levels.is_empty() {
            return;
        }
        let level = self.nearest(limit);
        let qty = match self.bought {
            Some((same, before)) if same == level => Qty::new(before.value() + qty.value()),
            _ => qty,
        };
        self.bought = Some((level, qty));
    }

    /// Candles needed before the grid can be laid.
    #[must_use]
    pub const fn history_needed(&self) -> usize {
        match self.params.range {
            Range::Volatility { lookback, .. } => lookback,
            Range::Fixed(_) => 0,
        }
    }

    /// The current levels, ascending (empty before the grid is laid).
    #[must_use]
    pub fn levels(&self) -> &[Price] {
        &self.levels
    }

    /// Half the range's width around `price`, once it can be measured.
    fn half_width(&self, price: Decimal) -> Option<Decimal> {
        let share = match self.params.range {
            Range::Fixed(share) => share.min(MAX_HALF_WIDTH),
            Range::Volatility { multiplier, .. } => {
                let half = Decimal::from_f64(self.sd? * multiplier)?.round_dp(LEVEL_DP);
                let narrowest = MIN_STEP * Decimal::from(self.params.levels - 1) / Decimal::TWO;
                (half / price).max(narrowest).min(MAX_HALF_WIDTH)
            }
        };
        Some(price * share)
    }

    /// Lays the ladder around `price` on the tick of `rules`; false while the range cannot be
    /// measured yet.
    fn lay(&mut self, price: Price, rules: &SymbolRules) -> bool {
        let centre = price.value();
        let Some(half) = self.half_width(centre) else { return false };
        // Neighbouring levels four ticks apart on average at the least, so that even the
        // narrowest step of a geometric ladder spans two.
        let tick = Decimal::new(1, rules.price_scale);
        let half =
            half.max(tick * Decimal::from(4 * (self.params.levels - 1)) / Decimal::TWO).min(centre / Decimal::TWO);
        let (low, high) = (centre - half, centre + half);
        self.bought = None;
        let steps = Decimal::from(self.params.levels - 1);
        self.levels = match self.params.spacing {
            Spacing::Arithmetic => {
                let step = (high - low) / steps;
                (0..self.params.levels)
                    .map(|i| Price::new((low + step * Decimal::from(i)).round_dp(LEVEL_DP)))
                    .collect()
            }
            Spacing::Geometric => {
                let ratio = to_f64(Price::new(high / low)).powf(1.0 / (self.params.levels - 1) as f64);
                let ratio = Decimal::from_f64(ratio).unwrap_or(Decimal::ONE).round_dp(LEVEL_DP);
                std::iter::successors(Some(low), |level| Some((level * ratio).round_dp(LEVEL_DP)))
                    .take(self.params.levels)
                    .map(Price::new)
                    .collect()
            }
        };
        for level in &mut self.levels {
            *level = Price::new(level.value().round_dp(rules.price_scale));
        }
        self.levels.dedup();
        self.midpoints = self.levels.windows(2).map(|pair| f64::midpoint(to_f64(pair[0]), to_f64(pair[1]))).collect();
        true
    }

    /// The level nearest `price` (the lower one at a midpoint).
    fn nearest(&self, price: Price) -> usize {
        let price = to_f64(price);
        self.midpoints.partition_point(|mid| *mid < price)
    }

    /// What to do with the bot's book as `view` shows it; `free` tells the free budget, asked
    /// only when a buy is wanted.
    pub fn plan(&mut self, view: &BookView<'_>, free: impl FnOnce() -> Quote) -> Plan {
        let BookView { price, holding, resting, rules } = *view;
        let (low, high) = match (self.levels.first(), self.levels.last()) {
            (Some(low), Some(high)) => (*low, *high),
            _ => (price, price),
        };
        if self.levels.is_empty() {
            // First laid, or laid again after a restart: orders already resting are adopted
            // by the levels nearest them.
            if !self.lay(price, rules) {
                return Plan::Keep;
            }
        } else if price < low || price > high {
            if !resting.is_empty() {
                return Plan::CancelAll(format!("price {price} left the grid {low} to {high}: laying it again"));
            }
            if !self.lay(price, rules) {
                return Plan::Keep;
            }
        }
        let anchor = self.nearest(price);
        let mut taken = std::mem::take(&mut self.taken);
        taken.clear();
        taken.resize(self.levels.len(), false);
        for order in resting {
            taken[self.nearest(order.price)] = true;
        }
        let mut wanted = Vec::new();
        let bought = self.bought.take();
        if !holding.qty.value().is_zero() {
            let held = holding.qty.value();
            let paid = self.nearest(Price::new(holding.cost.value() / held));
            let (level, fresh) = bought.map_or((paid, Decimal::ZERO), |(level, qty)| (level, qty.value().min(held)));
            let offer = Offer { price, rules, taken: &mut taken, wanted: &mut wanted };
            let kept = self.offer_holdings(offer, level, fresh);
            let offer = Offer { price, rules, taken: &mut taken, wanted: &mut wanted };
            self.offer_holdings(offer, paid, held - fresh + kept);
        }
        if taken[..anchor].contains(&false) {
            self.bid_below(anchor, &taken, free(), &mut wanted);
        }
        self.taken = taken;
        if wanted.is_empty() { Plan::Keep } else { Plan::Place(wanted) }
    }

    /// Offers `qty` on the free levels above the offer's price and above `floor`, one buy's
    /// worth per level (the last free level, or a remainder under two buys' worth, takes all
    /// that is left); returns what could not be offered (no level left, or too small to be an
    /// order).
    fn offer_holdings(&self, offer: Offer<'_>, floor: usize, qty: Decimal) -> Decimal {
        let Offer { price, rules, taken, wanted } = offer;
        let mut left = qty;
        let free: Vec<usize> =
            (floor + 1..self.levels.len()).filter(|&i| !taken[i] && self.levels[i] > price).collect();
        for (n, &level) in free.iter().enumerate() {
            let worth = self.params.quote.value() / self.levels[level - 1].value();
            let piece = if n + 1 == free.len() || left < worth * Decimal::TWO { left } else { worth };
            let piece = rules.round_qty_down(Qty::new(piece));
            if rules.check_qty(piece, self.levels[level]).is_err() {
                break;
            }
            left -= piece.value();
            taken[level] = true;
            wanted.push(self.desire(Side::Sell, level, piece));
        }
        left
    }

    /// Bids the order amount on the free levels below the anchor, nearest first, while the
    /// free budget lasts.
    fn bid_below(&self, anchor: usize, taken: &[bool], free: Quote, wanted: &mut Vec<Desire>) {
        let amount = self.params.quote.value();
        let mut budget = free.value();
        for level in (0..anchor).rev().filter(|&i| !taken[i]) {
            if budget < amount {
                break;
            }
            budget -= amount;
            wanted.push(self.desire(Side::Buy, level, Qty::new(amount / self.levels[level].value())));
        }
    }

    fn desire(&self, side: Side, level: usize, qty: Qty) -> Desire {
        let price = self.levels[level];
        let (low, high) = (self.levels[0], self.levels[self.levels.len() - 1]);
        let word = if side == Side::Buy { "buy" } else { "sell" };
        let values = vec![
            SignalValue::Word(word),
            SignalValue::Count(level + 1),
            SignalValue::Count(self.levels.len()),
            low.value().into(),
            high.value().into(),
        ];
        let reason = Reason::Template("grid {} at level {} of {} ({} to {})", values);
        Desire {
            action: Action::Limit { side, qty, price },
            reason,
            signals: vec![("grid_level", price.value().into())],
        }
    }
}

#[cfg(test)]
mod tests {
    use domain::{
        strategy::{StrategyDefaults, StrategyId, validate_params},
        time::Timestamp,
    };

    use super::*;

    const FLAT: Holding = Holding { qty: Qty::ZERO, cost: Quote::ZERO };

    fn p(value: Decimal) -> Price {
        Price::new(value)
    }

    fn rules() -> SymbolRules {
        crate::testing::btc_usdt()
    }

    /// The book at `price`, holding `holding`, with `resting` orders, on BTC/USDT.
    fn view(price: Price, holding: Holding, resting: &[Resting]) -> BookView<'_> {
        static RULES: std::sync::LazyLock<SymbolRules> = std::sync::LazyLock::new(rules);
        BookView { price, holding, resting, rules: &RULES }
    }

    fn fixed(levels: usize, spacing: Spacing) -> Grid {
        Grid::new(GridParams { levels, spacing, range: Range::Fixed(dec!(0.05)), quote: Quote::new(dec!(10)) })
    }

    fn orders(plan: &Plan) -> Vec<(Side, Price, Qty)> {
        let Plan::Place(desires) = plan else { return Vec::new() };
        desires
            .iter()
            .map(|d| match d.action {
                Action::Limit { side, qty, price } => (side, price, qty),
                other => panic!("a grid places limit orders only: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn reads_the_schema_defaults() {
        let validated =
            validate_params(StrategyId::AdaptiveGrid, &Default::default(), &StrategyDefaults::new()).unwrap();
        let grid = Grid::from_params(&validated).unwrap();
        assert_eq!(
            grid.params,
            GridParams {
                levels: 10,
                spacing: Spacing::Arithmetic,
                range: Range::Volatility { lookback: 60, multiplier: 2.0 },
                quote: Quote::new(dec!(10)),
            }
        );
        assert_eq!(grid.history_needed(), 60);
    }

    #[test]
    fn lays_buys_below_the_price_within_the_budget_and_nothing_above_when_flat() {
        let mut grid = fixed(5, Spacing::Arithmetic);
        // 95, 97.5, 100, 102.5, 105 around 100; the anchor is 100.
        let plan = grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::new(dec!(15)));
        assert_eq!(grid.levels(), [p(dec!(95)), p(dec!(97.5)), p(dec!(100)), p(dec!(102.5)), p(dec!(105))]);
        assert_eq!(orders(&plan), [(Side::Buy, p(dec!(97.5)), Qty::new(dec!(10) / dec!(97.5)))], "one buy fits 15");
        let plan = grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::new(dec!(20)));
        assert_eq!(orders(&plan).iter().map(|o| o.1).collect::<Vec<_>>(), [p(dec!(97.5)), p(dec!(95))]);
    }

    #[test]
    fn a_filled_buy_is_offered_one_level_up_and_taken_levels_are_left_alone() {
        let mut grid = fixed(5, Spacing::Arithmetic);
        grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::new(dec!(100)));
        // The buy at 97.5 filled: the price is there, 0.1 is held, the buy at 95 still rests.
        grid.bought_at(p(dec!(97.5)), Qty::new(dec!(0.1)));
        let held = Holding { qty: Qty::new(dec!(0.1)), cost: Quote::new(dec!(9.75)) };
        let resting = [Resting { side: Side::Buy, price: p(dec!(95)) }];
        let plan = grid.plan(&view(p(dec!(97.6)), held, &resting), || Quote::new(dec!(80)));
        assert_eq!(orders(&plan), [(Side::Sell, p(dec!(100)), Qty::new(dec!(0.1)))]);
        // With the sell resting too, nothing changes at the same price.
        let resting = [resting[0], Resting { side: Side::Sell, price: p(dec!(100)) }];
        assert_eq!(grid.plan(&view(p(dec!(97.6)), FLAT, &resting), || Quote::new(dec!(0))), Plan::Keep);
        // The price rose back to 100 and the sell filled: the buy at 97.5 is laid again.
        let plan = grid.plan(&view(p(dec!(100.1)), FLAT, &resting[..1]), || Quote::new(dec!(90)));
        assert_eq!(orders(&plan).iter().map(|o| (o.0, o.1)).collect::<Vec<_>>(), [(Side::Buy, p(dec!(97.5)))]);
    }

    #[test]
    fn a_buy_is_sold_one_level_up_even_when_the_price_falls_below_it() {
        let mut grid = fixed(5, Spacing::Arithmetic);
        grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::ZERO);
        // Bought at 97.5, and the price fell to 95.6: the sale goes to 100, one level above
        // the buy, not to 97.5.
        grid.bought_at(p(dec!(97.5)), Qty::new(dec!(0.1)));
        let held = Holding { qty: Qty::new(dec!(0.1)), cost: Quote::new(dec!(9.76)) };
        let sells = orders(&grid.plan(&view(p(dec!(95.6)), held, &[]), || Quote::ZERO));
        assert_eq!(sells, [(Side::Sell, p(dec!(100)), Qty::new(dec!(0.1)))]);
        // Without a buy since the grid was laid (after a restart), the average cost decides.
        let mut fresh = fixed(5, Spacing::Arithmetic);
        fresh.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::ZERO);
        let sells = orders(&fresh.plan(&view(p(dec!(95.6)), held, &[]), || Quote::ZERO));
        assert_eq!(sells, [(Side::Sell, p(dec!(100)), Qty::new(dec!(0.1)))]);
    }

    #[test]
    fn older_holdings_are_offered_above_their_cost_and_the_last_buy_one_level_up() {
        let mut grid = fixed(5, Spacing::Arithmetic);
        grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::ZERO);
        // 0.2 held from before at 97 on average, and a buy at 95 just filled 0.1.
        grid.bought_at(p(dec!(95)), Qty::new(dec!(0.1)));
        let held = Holding { qty: Qty::new(dec!(0.3)), cost: Quote::new(dec!(28.9)) };
        let sells = orders(&grid.plan(&view(p(dec!(95.1)), held, &[]), || Quote::ZERO));
        assert_eq!(
            sells,
            [(Side::Sell, p(dec!(97.5)), Qty::new(dec!(0.1))), (Side::Sell, p(dec!(100)), Qty::new(dec!(0.2)))],
            "the new lot one level up, the older ones above their cost of 96.33"
        );
    }

    #[test]
    fn a_remainder_too_small_to_be_an_order_is_kept_and_the_buys_still_go() {
        let mut grid = fixed(5, Spacing::Arithmetic);
        let dust = Holding { qty: Qty::new(dec!(0.000001)), cost: Quote::new(dec!(0.0001)) };
        let plan = grid.plan(&view(p(dec!(100)), dust, &[]), || Quote::new(dec!(100)));
        assert!(orders(&plan).iter().all(|o| o.0 == Side::Buy) && !orders(&plan).is_empty(), "{plan:?}");
    }

    #[test]
    fn levels_sit_on_the_tick_at_least_two_ticks_apart() {
        let mut grid = Grid::new(GridParams {
            levels: 5,
            spacing: Spacing::Arithmetic,
            range: Range::Fixed(dec!(0.0001)),
            quote: Quote::new(dec!(10)),
        });
        grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::ZERO);
        assert_eq!(grid.levels(), [p(dec!(99.92)), p(dec!(99.96)), p(dec!(100)), p(dec!(100.04)), p(dec!(100.08))]);
    }

    #[test]
    fn large_holdings_spread_over_the_levels_above_one_buys_worth_each() {
        let mut grid = fixed(5, Spacing::Arithmetic);
        grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::ZERO);
        let held = Holding { qty: Qty::new(dec!(0.35)), cost: Quote::new(dec!(34)) };
        let sells = orders(&grid.plan(&view(p(dec!(100)), held, &[]), || Quote::ZERO));
        let levels: Vec<Price> = grid.levels().to_vec();
        assert_eq!(sells.len(), 2, "{sells:?}");
        assert_eq!(sells[0], (Side::Sell, levels[3], Qty::new(dec!(0.1))), "a buy's worth at the level below");
        assert_eq!(sells[1], (Side::Sell, levels[4], Qty::new(dec!(0.25))), "the last level takes the rest");
    }

    #[test]
    fn leaving_the_range_cancels_everything_then_lays_the_grid_again() {
        let mut grid = fixed(3, Spacing::Geometric);
        grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::new(dec!(100)));
        assert_eq!(grid.levels()[0], p(dec!(95)));
        assert!((to_f64(grid.levels()[2]) - 105.0).abs() < 1e-6, "{:?}", grid.levels());
        let ratio = grid.levels()[1].value() / grid.levels()[0].value();
        assert!((ratio - grid.levels()[2].value() / grid.levels()[1].value()).abs() < dec!(0.001), "on the cent tick");
        let resting = [Resting { side: Side::Buy, price: p(dec!(95)) }];
        let Plan::CancelAll(reason) = grid.plan(&view(p(dec!(110)), FLAT, &resting), || Quote::new(dec!(90))) else {
            panic!("expected a cancel")
        };
        assert!(reason.contains("left the grid 95 to"), "{reason}");
        let plan = grid.plan(&view(p(dec!(110)), FLAT, &[]), || Quote::new(dec!(100)));
        assert_eq!(grid.levels()[0], p(dec!(104.5)));
        assert_eq!(orders(&plan).len(), 1, "one level below the new anchor");
    }

    #[test]
    fn a_grid_laid_again_after_a_restart_adopts_the_orders_still_resting() {
        let mut grid = fixed(5, Spacing::Arithmetic);
        // Laid first around 100: buys at 97.5 and 95 rest. Now rebuilt at 100.4.
        let resting =
            [Resting { side: Side::Buy, price: p(dec!(97.5)) }, Resting { side: Side::Buy, price: p(dec!(95)) }];
        let plan = grid.plan(&view(p(dec!(100.4)), FLAT, &resting), || Quote::new(dec!(100)));
        assert_eq!(plan, Plan::Keep, "the levels nearest 97.5 and 95 are taken: {:?}", grid.levels());
    }

    #[test]
    fn a_volatility_range_waits_for_its_window_and_is_clamped() {
        let params = GridParams {
            levels: 5,
            spacing: Spacing::Arithmetic,
            range: Range::Volatility { lookback: 3, multiplier: 2.0 },
            quote: Quote::new(dec!(10)),
        };
        let mut grid = Grid::new(params);
        let candle = |close: Decimal| Candle {
            open_time: Timestamp::from_millis(0),
            open: p(close),
            high: p(close),
            low: p(close),
            close: p(close),
            volume: Qty::new(dec!(1)),
        };
        grid.on_candle(&candle(dec!(99)));
        assert_eq!(grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::new(dec!(100))), Plan::Keep, "no window yet");
        grid.on_candle(&candle(dec!(100)));
        grid.on_candle(&candle(dec!(101)));
        grid.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::new(dec!(100)));
        // sd of 99, 100, 101 is 0.8165; twice that either side, on the cent tick.
        assert_eq!(grid.levels()[0], p(dec!(98.37)));
        // A flat window is widened to 0.3 % between levels: 0.6 % either side of four steps.
        let mut flat = Grid::new(params);
        for _ in 0..3 {
            flat.on_candle(&candle(dec!(100)));
        }
        flat.plan(&view(p(dec!(100)), FLAT, &[]), || Quote::new(dec!(100)));
        assert_eq!(flat.levels()[0], p(dec!(99.4)));
        assert_eq!(flat.levels()[1], p(dec!(99.7)));
    }
}
