//! Arbitrage: one value with two prices. Around a triangle of three pairs on one venue, the
//! quote asset is turned into the bridge asset, the bridge into the target and the target back
//! into the quote, or the other way round; across two venues, one pair is bought where it is
//! cheap and sold where it is dear.
//!
//! Pure: the markets' best prices in, a [`Cycle`] of market orders out, or nothing. A cycle is
//! sized within the free budget, the largest cycle of the parameters and the quantity offered
//! at the best prices (and, across venues, the inventory held where it sells); every leg is
//! rounded down to its symbol's rules; and it is proposed only when what it returns, after the
//! fee of every leg and the rounding, beats what it spends by the minimum edge. When a leg
//! fails, [`Cycle::unwind`] names the order that sells what the filled legs bought back into
//! the asset the cycle started from.

use domain::{
    money::{Price, Qty, Quote},
    order::Side,
    pair::Pair,
    strategy::{ParamValue, StrategyParams},
    symbol::SymbolRules,
};
use rust_decimal::Decimal;

use super::params::{decimal, text};

const NAME: &str = "arbitrage";

/// Where the price difference is looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Three pairs of one venue: the bot's pair (target/quote), bridge/quote and target/bridge.
    Triangular {
        /// The intermediate asset (BTC for ETH/USDT through ETH/BTC and BTC/USDT).
        bridge: String,
    },
    /// The bot's pair on its venue and on a second venue account.
    CrossExchange {
        /// The second account's name in `exchanges.yaml`.
        second_exchange: String,
    },
}

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArbitrageParams {
    /// Triangle or two venues.
    pub mode: Mode,
    /// Smallest gain over the spend worth a cycle, as a fraction (0.002 = 0.2 %).
    pub min_edge: Decimal,
    /// Largest spend of one cycle, in the quote asset.
    pub max_trade: Quote,
}

impl ArbitrageParams {
    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type, or cross-exchange mode names no
    /// second venue.
    pub fn from_params(params: &StrategyParams) -> Result<Self, String> {
        let mode = match text(params, NAME, "mode")? {
            "cross_exchange" => match params.get("second_exchange") {
                Some(ParamValue::Text(name)) if !name.trim().is_empty() => {
                    Mode::CrossExchange { second_exchange: name.trim().to_owned() }
                }
                _ => return Err(format!("{NAME}.second_exchange: cross_exchange mode needs the second venue account")),
            },
            _ => Mode::Triangular { bridge: text(params, NAME, "bridge_asset")?.trim().to_ascii_uppercase() },
        };
        let min_edge = decimal(params, NAME, "min_edge_percent")? / Decimal::ONE_HUNDRED;
        let max_trade = Quote::new(decimal(params, NAME, "max_trade_quote")?);
        Ok(Self { mode, min_edge, max_trade })
    }
}

/// The three pairs of the triangle through `bridge` for the bot's `pair` (target/quote), in
/// the order [`triangular`] takes their markets: bridge/quote, target/bridge, target/quote.
///
/// # Errors
/// When the bridge is the pair's base or quote asset, or is not an asset symbol.
pub fn triangle(pair: &Pair, bridge: &str) -> Result<[Pair; 3], String> {
    if bridge.eq_ignore_ascii_case(pair.base()) || bridge.eq_ignore_ascii_case(pair.quote()) {
        return Err(format!("the bridge asset {bridge} must differ from both assets of {pair}"));
    }
    let make = |base: &str, quote: &str| format!("{base}/{quote}").parse::<Pair>();
    Ok([make(bridge, pair.quote())?, make(pair.base(), bridge)?, make(pair.base(), pair.quote())?])
}

/// The best prices of one market, with the base quantity offered at each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Top {
    /// Best bid.
    pub bid: Price,
    /// Base quantity bid at it.
    pub bid_qty: Qty,
    /// Best ask.
    pub ask: Price,
    /// Base quantity offered at it.
    pub ask_qty: Qty,
}

/// A market a cycle may trade: its symbol's rules, best prices, and fee per side (a fraction,
/// charged in the asset the order receives).
#[derive(Debug, Clone, Copy)]
pub struct Market<'a> {
    /// The symbol's precision and minimums.
    pub rules: &'a SymbolRules,
    /// Best prices.
    pub top: Top,
    /// Fee per side.
    pub fee_rate: Decimal,
}

/// Which way round a cycle goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Triangle: quote, then bridge, then target, then quote again.
    ViaBridge,
    /// Triangle: quote, then target, then bridge, then quote again.
    ViaTarget,
    /// Buy on the first venue, sell on the second.
    FirstToSecond,
    /// Buy on the second venue, sell on the first.
    SecondToFirst,
}

impl Route {
    /// The legs: which market (by position) and which side, in order.
    const fn steps(self) -> &'static [(usize, Side)] {
        match self {
            Self::ViaBridge => &[(0, Side::Buy), (1, Side::Buy), (2, Side::Sell)],
            Self::ViaTarget => &[(2, Side::Buy), (1, Side::Sell), (0, Side::Sell)],
            Self::FirstToSecond => &[(0, Side::Buy), (1, Side::Sell)],
            Self::SecondToFirst => &[(1, Side::Buy), (0, Side::Sell)],
        }
    }

    /// Where what the legs before leg `failed` bought is sold back into the starting asset.
    const fn unwind_market(self, failed: usize) -> Option<usize> {
        match (self, failed) {
            (Self::ViaBridge, 1) | (Self::ViaTarget, 2) | (Self::FirstToSecond, 1) => Some(0),
            (Self::ViaBridge, 2) | (Self::ViaTarget, 1) => Some(2),
            (Self::SecondToFirst, 1) => Some(1),
            _ => None,
        }
    }
}

/// One order of a cycle: a market order of `qty` on the market at position `market`,
/// expected to fill at `price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leg {
    /// The market's position in the slice the cycle was evaluated on.
    pub market: usize,
    /// Buy or sell.
    pub side: Side,
    /// Base quantity, rounded to the market's rules.
    pub qty: Qty,
    /// The best price it was planned at.
    pub price: Price,
}

/// A cycle worth trading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    /// Which way round.
    pub route: Route,
    /// The orders, in the order they must be sent (each pays with what the previous received).
    pub legs: Vec<Leg>,
    /// Quote asset the first leg spends.
    pub spend: Quote,
    /// Quote asset the last leg returns, after every fee.
    pub returns: Quote,
}

impl Cycle {
    /// The gain over the spend, as a fraction.
    #[must_use]
    pub fn edge(&self) -> Decimal {
        if self.spend.value().is_zero() {
            Decimal::ZERO
        } else {
            (self.returns.value() - self.spend.value()) / self.spend.value()
        }
    }

    /// The order that undoes the cycle when leg `failed` did not fill but the legs before it
    /// did: `held` of what they bought, sold at the market's bid into the starting asset.
    /// None when no leg filled, or when the sale would break the symbol's rules (what is held
    /// is then kept, and shown in the wallet).
    #[must_use]
    pub fn unwind(&self, failed: usize, held: Qty, markets: &[Market<'_>]) -> Option<Leg> {
        sale(markets, self.route.unwind_market(failed)?, held)
    }
}

/// The sale of `held` at the bid of market `market` (at its position in `markets`), rounded
/// down to its rules; None when that is too small to be an order. It unwinds a failed cycle,
/// and sweeps back into the quote asset what the rounding of a triangle's legs leaves over
/// once it is worth an order, rather than leaving it to ride the market.
#[must_use]
pub fn sale(markets: &[Market<'_>], market: usize, held: Qty) -> Option<Leg> {
    leg_for(markets, market, Side::Sell, held.value())
}

/// The best cycle around the triangle of `markets` (bridge/quote, target/bridge, target/quote,
/// as [`triangle`] names them), spending at most `free` quote.
#[must_use]
pub fn triangular(markets: &[Market<'_>; 3], free: Quote, params: &ArbitrageParams) -> Option<Cycle> {
    let budget = free.min(params.max_trade);
    [Route::ViaBridge, Route::ViaTarget]
        .into_iter()
        .filter_map(|route| cycle(route, markets, budget, &[None, None, None], params.min_edge))
        .max_by_key(Cycle::edge)
}

/// The best cycle between the same pair on two venues: buy on one, sell on the other. `free`
/// is the quote each venue's account may spend, `held` the base each holds (a venue sells
/// from what it holds; the base bought on the other replaces it).
#[must_use]
pub fn cross_exchange(
    markets: &[Market<'_>; 2],
    free: [Quote; 2],
    held: [Qty; 2],
    params: &ArbitrageParams,
) -> Option<Cycle> {
    let first =
        cycle(Route::FirstToSecond, markets, free[0].min(params.max_trade), &[None, Some(held[1])], params.min_edge);
    let second =
        cycle(Route::SecondToFirst, markets, free[1].min(params.max_trade), &[None, Some(held[0])], params.min_edge);
    [first, second].into_iter().flatten().max_by_key(Cycle::edge)
}

/// The cycle of `route` from at most `budget` quote, each leg also within `caps` (a base
/// quantity beyond what the best price offers), if it gains at least `min_edge`.
fn cycle(
    route: Route,
    markets: &[Market<'_>],
    budget: Quote,
    caps: &[Option<Qty>],
    min_edge: Decimal,
) -> Option<Cycle> {
    let steps = route.steps();
    // What one unit of quote becomes at each leg, unrounded: the depth of every leg bounds
    // the spend, and the product of the legs is the best edge the route can give.
    let (mut unit, mut spend) = (Decimal::ONE, budget.value());
    for (&(position, side), cap) in steps.iter().zip(caps) {
        let Market { top, fee_rate, .. } = markets.get(position)?;
        let (price, offered) = match side {
            Side::Buy => (top.ask, top.ask_qty),
            Side::Sell => (top.bid, top.bid_qty),
        };
        if price.value() <= Decimal::ZERO {
            return None;
        }
        let offered = cap.map_or(offered, |cap| cap.min(offered)).value();
        let qty = match side {
            Side::Buy => unit.checked_div(price.value())?,
            Side::Sell => unit,
        };
        spend = spend.min(offered.checked_div(qty)?);
        let received = match side {
            Side::Buy => qty,
            Side::Sell => qty.checked_mul(price.value())?,
        };
        unit = received.checked_mul(Decimal::ONE - fee_rate)?;
    }
    if unit - Decimal::ONE < min_edge {
        return None;
    }
    let (legs, spent, returned) = walk(steps, markets, spend)?;
    let found = Cycle { route, legs, spend: Quote::new(spent), returns: Quote::new(returned) };
    (found.edge() >= min_edge).then_some(found)
}

/// The legs of `steps` from `spend` quote: each quantity rounded down to its symbol's rules,
/// what each receives after its fee paying the next. The quote spent and returned; None when
/// a leg breaks its symbol's rules.
fn walk(steps: &[(usize, Side)], markets: &[Market<'_>], spend: Decimal) -> Option<(Vec<Leg>, Decimal, Decimal)> {
    let (mut amount, mut spent) = (spend, None);
    let mut legs = Vec::with_capacity(steps.len());
    for &(market, side) in steps {
        let leg = leg_for(markets, market, side, amount)?;
        let value = leg.qty.value().checked_mul(leg.price.value())?;
        let received = match side {
            Side::Buy => leg.qty.value(),
            Side::Sell => value,
        };
        spent.get_or_insert(value);
        amount = received.checked_mul(Decimal::ONE - markets[market].fee_rate)?;
        legs.push(leg);
    }
    Some((legs, spent?, amount))
}

/// The order on market `market` that pays with `amount` of what the previous leg received
/// (the quote asset of a buy, the base of a sell) at the best price, rounded down to the
/// symbol's rules; None when it breaks them.
fn leg_for(markets: &[Market<'_>], market: usize, side: Side, amount: Decimal) -> Option<Leg> {
    let Market { rules, top, .. } = markets.get(market)?;
    let (qty, price) = match side {
        Side::Buy => (rules.round_qty_down(Qty::new(amount.checked_div(top.ask.value())?)), top.ask),
        Side::Sell => (rules.round_qty_down(Qty::new(amount)), top.bid),
    };
    rules.check_qty(qty, price).ok()?;
    Some(Leg { market, side, qty, price })
}

/// A cycle being carried out. Each leg is sent once the previous one has ended, sized by what
/// that one actually received (after its fee, at the prices of the moment), so a partial fill
/// or a moved price never makes a leg pay with more than the cycle holds. A leg that fails, or
/// a remainder too small for the next leg's rules, ends the cycle with the unwind of what is
/// held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleRun {
    cycle: Cycle,
    /// The position of the leg in flight.
    leg: usize,
    /// What the last filled leg received (the asset the leg in flight pays with).
    held: Qty,
}

/// What a cycle sends next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The next leg.
    Leg(Leg),
    /// The sale of what the legs so far bought, back into the starting asset; the cycle ends
    /// once it has.
    Unwind(Leg),
    /// Nothing: the cycle is over.
    Done,
}

impl CycleRun {
    /// Starts `cycle`: the run, and its first leg as planned.
    #[must_use]
    pub fn start(cycle: Cycle) -> (Self, Option<Leg>) {
        let first = cycle.legs.first().copied();
        (Self { cycle, leg: 0, held: Qty::ZERO }, first)
    }

    /// The cycle being carried out.
    #[must_use]
    pub const fn cycle(&self) -> &Cycle {
        &self.cycle
    }

    /// The position of the leg in flight (0 for the first).
    #[must_use]
    pub const fn leg(&self) -> usize {
        self.leg
    }

    /// The leg in flight ended having received `received`, after its fee (a partial fill
    /// received less): the next leg, sized by it at `markets`' best prices; the unwind when
    /// that is too small to trade; or nothing after the last leg.
    pub fn filled(&mut self, received: Qty, markets: &[Market<'_>]) -> Next {
        self.leg += 1;
        self.held = received;
        let Some(planned) = self.cycle.legs.get(self.leg) else { return Next::Done };
        match leg_for(markets, planned.market, planned.side, received.value()) {
            Some(leg) => Next::Leg(leg),
            None => self.failed(markets),
        }
    }

    /// The leg in flight failed without filling: the unwind of what the legs before it
    /// bought (nothing after a failed first leg, or when what is held is too small to sell).
    #[must_use]
    pub fn failed(&self, markets: &[Market<'_>]) -> Next {
        self.cycle.unwind(self.leg, self.held, markets).map_or(Next::Done, Next::Unwind)
    }
}

#[cfg(test)]
mod tests {
    use domain::strategy::{RawParam, StrategyDefaults, StrategyId, validate_params};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    use super::*;
    use crate::testing::rules;

    /// BTC/USDT, ETH/BTC and ETH/USDT with MEXC-like precision.
    fn triangle_rules() -> [SymbolRules; 3] {
        [rules("BTC/USDT", 2, 6, dec!(1)), rules("ETH/BTC", 6, 4, dec!(0.0001)), rules("ETH/USDT", 2, 5, dec!(1))]
    }

    fn top(price: Decimal, qty: Decimal) -> Top {
        Top { bid: Price::new(price), bid_qty: Qty::new(qty), ask: Price::new(price), ask_qty: Qty::new(qty) }
    }

    fn params(min_edge_percent: Decimal, max_trade: Decimal) -> ArbitrageParams {
        ArbitrageParams {
            mode: Mode::Triangular { bridge: "BTC".into() },
            min_edge: min_edge_percent / dec!(100),
            max_trade: Quote::new(max_trade),
        }
    }

    fn markets<'a>(rules: &'a [SymbolRules; 3], prices: [Decimal; 3], fee: Decimal) -> [Market<'a>; 3] {
        [0, 1, 2].map(|i| Market { rules: &rules[i], top: top(prices[i], dec!(1000)), fee_rate: fee })
    }

    #[test]
    fn the_defaults_read_and_the_triangle_is_named_from_the_pair() {
        let params = validate_params(StrategyId::Arbitrage, &Default::default(), &StrategyDefaults::new()).unwrap();
        let read = ArbitrageParams::from_params(&params).unwrap();
        assert_eq!(read.mode, Mode::Triangular { bridge: "BTC".into() });
        assert_eq!((read.min_edge, read.max_trade), (dec!(0.002), Quote::new(dec!(50))));
        let pairs = triangle(&"ETH/USDT".parse().unwrap(), "BTC").unwrap();
        assert_eq!(pairs.map(|p| p.to_string()), ["BTC/USDT", "ETH/BTC", "ETH/USDT"]);
        assert!(triangle(&"ETH/USDT".parse().unwrap(), "usdt").unwrap_err().contains("must differ"));
    }

    #[test]
    fn cross_exchange_mode_needs_its_second_venue() {
        let mut given = std::collections::BTreeMap::new();
        given.insert("mode".to_owned(), RawParam::Text("cross_exchange".into()));
        let params = validate_params(StrategyId::Arbitrage, &given, &StrategyDefaults::new()).unwrap();
        assert!(ArbitrageParams::from_params(&params).unwrap_err().contains("second_exchange"));
        given.insert("second_exchange".to_owned(), RawParam::Text("backup".into()));
        let params = validate_params(StrategyId::Arbitrage, &given, &StrategyDefaults::new()).unwrap();
        let read = ArbitrageParams::from_params(&params).unwrap();
        assert_eq!(read.mode, Mode::CrossExchange { second_exchange: "backup".into() });
    }

    #[test]
    fn a_cheap_bridge_is_bought_first_and_the_gain_is_counted_after_fees_and_rounding() {
        let rules = triangle_rules();
        // ETH/USDT 2000 against BTC/USDT 40000 × ETH/BTC 0.049 = 1960: ETH is cheap in BTC.
        let markets = markets(&rules, [dec!(40000), dec!(0.049), dec!(2000)], dec!(0.001));
        let cycle = triangular(&markets, Quote::new(dec!(1000)), &params(dec!(0.2), dec!(100))).unwrap();
        assert_eq!(cycle.route, Route::ViaBridge);
        let sides: Vec<_> = cycle.legs.iter().map(|l| (l.market, l.side)).collect();
        assert_eq!(sides, [(0, Side::Buy), (1, Side::Buy), (2, Side::Sell)]);
        // 100 USDT buys 0.0025 BTC; less 0.1 %, 0.0024975 BTC buys 0.0509 ETH (0.04 rounded
        // away); less 0.1 %, 0.0508491 ETH sells as 0.05084 for 101.68 USDT, less 0.1 %.
        assert_eq!(cycle.legs[0].qty, Qty::new(dec!(0.0025)));
        assert_eq!(cycle.legs[1].qty, Qty::new(dec!(0.0509)));
        assert_eq!(cycle.legs[2].qty, Qty::new(dec!(0.05084)));
        assert_eq!(cycle.spend, Quote::new(dec!(100)));
        assert_eq!(cycle.returns, Quote::new(dec!(101.57832)));
        assert_eq!(cycle.edge(), dec!(0.0157832));
    }

    #[test]
    fn a_dear_bridge_goes_round_the_other_way() {
        let rules = triangle_rules();
        // ETH/USDT 1900 against 40000 × 0.049 = 1960: buy ETH with USDT, sell it for BTC.
        let markets = markets(&rules, [dec!(40000), dec!(0.049), dec!(1900)], dec!(0.001));
        let cycle = triangular(&markets, Quote::new(dec!(1000)), &params(dec!(0.2), dec!(100))).unwrap();
        assert_eq!(cycle.route, Route::ViaTarget);
        let sides: Vec<_> = cycle.legs.iter().map(|l| (l.market, l.side)).collect();
        assert_eq!(sides, [(2, Side::Buy), (1, Side::Sell), (0, Side::Sell)]);
        assert!(cycle.edge() > dec!(0.02), "{}", cycle.edge());
    }

    #[test]
    fn no_cycle_when_fees_eat_the_difference_or_the_edge_is_below_the_minimum() {
        let rules = triangle_rules();
        // 0.15 % apart: three fees of 0.1 % eat it.
        let markets_with_fees = markets(&rules, [dec!(40000), dec!(0.049), dec!(1962.94)], dec!(0.001));
        assert_eq!(triangular(&markets_with_fees, Quote::new(dec!(1000)), &params(dec!(0.01), dec!(100))), None);
        // Without fees it is a 0.15 % edge: enough for a 0.1 % minimum, not for 0.2 %.
        let free_markets = markets(&rules, [dec!(40000), dec!(0.049), dec!(1962.94)], Decimal::ZERO);
        assert!(triangular(&free_markets, Quote::new(dec!(1000)), &params(dec!(0.1), dec!(100))).is_some());
        assert_eq!(triangular(&free_markets, Quote::new(dec!(1000)), &params(dec!(0.2), dec!(100))), None);
    }

    #[test]
    fn the_spend_is_bounded_by_budget_largest_cycle_and_depth() {
        let rules = triangle_rules();
        let mut markets = markets(&rules, [dec!(40000), dec!(0.049), dec!(2000)], Decimal::ZERO);
        let spend = |markets: &[Market<'_>; 3], free: Decimal| {
            triangular(markets, Quote::new(free), &params(dec!(0.2), dec!(100))).map(|c| c.spend.value())
        };
        assert_eq!(spend(&markets, dec!(1000)), Some(dec!(100)), "the largest cycle");
        assert_eq!(spend(&markets, dec!(60)), Some(dec!(60)), "the free budget");
        // Only 0.02 ETH bid: a cycle selling at most that spends 39.2 USDT at these prices.
        markets[2].top.bid_qty = Qty::new(dec!(0.02));
        let bounded = spend(&markets, dec!(1000)).unwrap();
        assert!(bounded <= dec!(39.2) && bounded > dec!(39), "0.02 ETH is worth 39.2 USDT via BTC: {bounded}");
        // Too shallow for the venue's minimum order: nothing.
        markets[2].top.bid_qty = Qty::new(dec!(0.0001));
        assert_eq!(spend(&markets, dec!(1000)), None);
    }

    #[test]
    fn a_failed_leg_is_unwound_into_the_starting_asset() {
        let rules = triangle_rules();
        let markets = markets(&rules, [dec!(40000), dec!(0.049), dec!(2000)], dec!(0.001));
        let cycle = triangular(&markets, Quote::new(dec!(1000)), &params(dec!(0.2), dec!(100))).unwrap();
        assert_eq!(cycle.unwind(0, Qty::new(dec!(1)), &markets), None, "nothing filled, nothing to undo");
        // The ETH/BTC leg failed: the BTC bought is sold for USDT.
        let undo = cycle.unwind(1, Qty::new(dec!(0.0024975)), &markets).unwrap();
        assert_eq!((undo.market, undo.side, undo.qty), (0, Side::Sell, Qty::new(dec!(0.002497))));
        // The last leg failed: the ETH bought is sold for USDT.
        let undo = cycle.unwind(2, Qty::new(dec!(0.0508491)), &markets).unwrap();
        assert_eq!((undo.market, undo.side, undo.qty), (2, Side::Sell, Qty::new(dec!(0.05084))));
        // Dust cannot be sold: it is kept.
        assert_eq!(cycle.unwind(1, Qty::new(dec!(0.00001)), &markets), None);
    }

    #[test]
    fn across_venues_it_buys_where_cheap_and_sells_only_what_the_other_venue_holds() {
        let btc = rules("BTC/USDT", 2, 6, dec!(1));
        let at = |price| Market { rules: &btc, top: top(price, dec!(10)), fee_rate: dec!(0.001) };
        let markets = [at(dec!(40000)), at(dec!(40400))];
        let params = ArbitrageParams {
            mode: Mode::CrossExchange { second_exchange: "backup".into() },
            min_edge: dec!(0.002),
            max_trade: Quote::new(dec!(1000)),
        };
        let free = [Quote::new(dec!(500)), Quote::new(dec!(500))];
        let cycle = cross_exchange(&markets, free, [Qty::ZERO, Qty::new(dec!(1))], &params).unwrap();
        assert_eq!(cycle.route, Route::FirstToSecond);
        assert_eq!(cycle.spend, Quote::new(dec!(500)), "the buying venue's free quote");
        assert_eq!(cycle.legs[1].qty, Qty::new(dec!(0.012487)), "0.0125 BTC less the fee, rounded down");
        // The dear venue holds only 0.005 BTC: the cycle shrinks to what it can sell.
        let small = cross_exchange(&markets, free, [Qty::ZERO, Qty::new(dec!(0.005))], &params).unwrap();
        assert!(small.legs[1].qty <= Qty::new(dec!(0.005)) && small.spend.value() < dec!(201), "{small:?}");
        // Holding nothing where it is dear, there is nothing to do.
        assert_eq!(cross_exchange(&markets, free, [Qty::new(dec!(1)), Qty::ZERO], &params), None);
    }

    #[test]
    fn a_run_sizes_each_leg_by_what_the_previous_one_received() {
        let rules = triangle_rules();
        let markets = markets(&rules, [dec!(40000), dec!(0.049), dec!(2000)], dec!(0.001));
        let cycle = triangular(&markets, Quote::new(dec!(1000)), &params(dec!(0.2), dec!(100))).unwrap();
        let (mut run, first) = CycleRun::start(cycle);
        assert_eq!(first.unwrap().qty, Qty::new(dec!(0.0025)));
        // Half the BTC filled: the ETH leg buys with what came in.
        let Next::Leg(second) = run.filled(Qty::new(dec!(0.00124875)), &markets) else { panic!("a second leg") };
        assert_eq!((second.market, second.side, second.qty), (1, Side::Buy, Qty::new(dec!(0.0254))));
        // ETH/BTC moved up 4 % meanwhile: the leg buys less, never more than is held.
        let mut moved = markets;
        moved[1].top.ask = Price::new(dec!(0.051));
        let (mut run, _) = CycleRun::start(run.cycle().clone());
        let Next::Leg(dearer) = run.filled(Qty::new(dec!(0.0024975)), &moved) else { panic!("a second leg") };
        assert!(dearer.qty.value() * dec!(0.051) <= dec!(0.0024975), "{dearer:?}");
        let Next::Leg(last) = run.filled(Qty::new(dec!(0.0488)), &moved) else { panic!("a third leg") };
        assert_eq!((last.market, last.side, last.qty), (2, Side::Sell, Qty::new(dec!(0.0488))));
        assert_eq!(run.filled(Qty::new(dec!(97.5)), &moved), Next::Done);
    }

    #[test]
    fn a_run_unwinds_after_a_failed_leg_or_a_remainder_too_small_to_trade() {
        let rules = triangle_rules();
        let markets = markets(&rules, [dec!(40000), dec!(0.049), dec!(2000)], dec!(0.001));
        let cycle = triangular(&markets, Quote::new(dec!(1000)), &params(dec!(0.2), dec!(100))).unwrap();
        let (run, _) = CycleRun::start(cycle.clone());
        assert_eq!(run.failed(&markets), Next::Done, "nothing bought, nothing to undo");
        let (mut run, _) = CycleRun::start(cycle.clone());
        let _ = run.filled(Qty::new(dec!(0.0024975)), &markets);
        let Next::Unwind(undo) = run.failed(&markets) else { panic!("an unwind") };
        assert_eq!((undo.market, undo.side, undo.qty), (0, Side::Sell, Qty::new(dec!(0.002497))));
        // A first leg that filled for a crumb: too little BTC to buy any ETH, and too little
        // to sell back, so the crumb is kept.
        let (mut run, _) = CycleRun::start(cycle);
        assert_eq!(run.filled(Qty::new(dec!(0.000001)), &markets), Next::Done);
    }

    /// Whatever the prices, fees and depth, a proposed cycle spends within the budget and
    /// the largest cycle, trades within the depth, chains its legs (each pays with what the
    /// previous received, after fees) and returns at least the minimum edge. The assertions
    /// hold only where a cycle is found, so the run counts those cases: the generated prices
    /// are far enough apart that nearly all do (252 of 256 when written), and fewer than three
    /// quarters fails the test, so a change that stops finding cycles cannot pass unexercised.
    #[test]
    fn a_cycle_never_overspends_and_always_clears_its_edge() {
        // `source_file` keeps the regression seeds, as `proptest!` does.
        let config = ProptestConfig { source_file: Some(file!()), ..ProptestConfig::default() };
        let (cases, cycles) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
        let inputs =
            (20_000u32..60_000, 30_000u32..90_000, 1_000u32..4_000, 0u32..30, 1u32..2_000, 1u32..5_000, 1u32..100);
        let mut runner = proptest::test_runner::TestRunner::new(config.clone());
        let outcome = runner.run(&inputs, |(btc, eth_btc, eth, fee_bps, depth, free, min_edge_bps)| {
            cases.set(cases.get() + 1);
            let rules = triangle_rules();
            let prices = [Decimal::from(btc), Decimal::new(i64::from(eth_btc), 6), Decimal::from(eth)];
            let fee = Decimal::new(i64::from(fee_bps), 4);
            let mut markets = markets(&rules, prices, fee);
            for market in &mut markets {
                let qty = Qty::new(Decimal::new(i64::from(depth), 3));
                (market.top.bid_qty, market.top.ask_qty) = (qty, qty);
            }
            let params = params(Decimal::new(i64::from(min_edge_bps), 2), dec!(100));
            if let Some(cycle) = triangular(&markets, Quote::new(Decimal::from(free)), &params) {
                cycles.set(cycles.get() + 1);
                prop_assert!(cycle.spend.value() <= Decimal::from(free).min(dec!(100)));
                prop_assert!(cycle.edge() >= params.min_edge);
                let mut held = cycle.spend.value();
                for leg in &cycle.legs {
                    let top = markets[leg.market].top;
                    let offered = if leg.side == Side::Buy { top.ask_qty } else { top.bid_qty };
                    prop_assert!(leg.qty <= offered, "{:?} beyond the {} offered", leg, offered);
                    let value = leg.qty.value() * leg.price.value();
                    let (paid, received) = match leg.side {
                        Side::Buy => (value, leg.qty.value()),
                        Side::Sell => (leg.qty.value(), value),
                    };
                    prop_assert!(paid <= held, "a leg pays {paid} out of {held}");
                    held = received * (Decimal::ONE - fee);
                }
                prop_assert_eq!(held, cycle.returns.value());
            }
            Ok(())
        });
        if let Err(e) = outcome {
            panic!("{e}");
        }
        assert_eq!(cases.get(), config.cases, "every case ran");
        assert!(cycles.get() * 4 >= cases.get() * 3, "only {} of {} cases found a cycle", cycles.get(), cases.get());
    }

    /// However the legs fill (in part, or at prices that moved), a run never sends a leg that
    /// pays with more than the previous leg received, and ends within one order more than it
    /// has legs. A leg can only be checked after one that filled, so the run counts the cases
    /// with such a check: a quarter of them fail their first leg, and fewer than half checked
    /// fails the test, so a change that stops reaching later legs cannot pass unexercised.
    #[test]
    fn a_run_never_pays_with_more_than_it_received() {
        // `source_file` keeps the regression seeds, as `proptest!` does.
        let config = ProptestConfig { source_file: Some(file!()), ..ProptestConfig::default() };
        let (cases, checked) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
        let inputs = (proptest::collection::vec(1u32..=100, 3), proptest::collection::vec(-300i64..300, 3), 0usize..4);
        let mut runner = proptest::test_runner::TestRunner::new(config.clone());
        let outcome = runner.run(&inputs, |(shares, moves, fail_at)| {
            cases.set(cases.get() + 1);
            let rules = triangle_rules();
            let planned = markets(&rules, [dec!(40000), dec!(0.049), dec!(2000)], dec!(0.001));
            let cycle = triangular(&planned, Quote::new(dec!(1000)), &params(dec!(0.2), dec!(100))).unwrap();
            // The prices of the moment: each moved by up to 3 %.
            let mut now = planned;
            for (market, step) in now.iter_mut().zip(&moves) {
                let price = Price::new(market.top.ask.value() * (Decimal::ONE + Decimal::new(*step, 4)));
                (market.top.ask, market.top.bid) = (price, price);
            }
            let (mut run, first) = CycleRun::start(cycle);
            let mut next = first.map_or(Next::Done, Next::Leg);
            let mut sent = 0;
            let mut paid_with: Option<Decimal> = None;
            let mut any_checked = false;
            while let Next::Leg(leg) | Next::Unwind(leg) = next {
                sent += 1;
                prop_assert!(sent <= 4, "a three-leg cycle sends four orders at most");
                let value = leg.qty.value() * leg.price.value();
                let paid = if leg.side == Side::Buy { value } else { leg.qty.value() };
                if let Some(held) = paid_with {
                    any_checked = true;
                    prop_assert!(paid <= held, "{leg:?} pays {paid} out of {held}");
                }
                if matches!(next, Next::Unwind(_)) {
                    break;
                }
                if sent - 1 == fail_at {
                    next = run.failed(&now);
                    continue;
                }
                // It filled in part: a share of what it asked, after the fee.
                let share = Decimal::from(shares[run.leg()]) / dec!(100);
                let gross = if leg.side == Side::Buy { leg.qty.value() } else { value };
                let received = gross * share * dec!(0.999);
                paid_with = Some(received);
                next = run.filled(Qty::new(received), &now);
            }
            if any_checked {
                checked.set(checked.get() + 1);
            }
            Ok(())
        });
        if let Err(e) = outcome {
            panic!("{e}");
        }
        assert_eq!(cases.get(), config.cases, "every case ran");
        assert!(checked.get() * 2 >= cases.get(), "only {} of {} cases checked a leg", checked.get(), cases.get());
    }
}
