//! The venue's state: markets advancing with the clock, accounts, orders, matching, fills and the
//! private events they produce. Synchronous and deterministic: time comes in as arguments.
//!
//! Matching model:
//! * taker orders (market, crossing limit/IOC/FOK) walk the generated book; what they take stays
//!   taken until the next replayed trade refreshes the book;
//! * resting limit orders fill as makers, at their limit price, when a replayed trade trades
//!   through it (strictly below a buy, strictly above a sell), up to that trade's quantity;
//! * our own fills never enter the public tape or the public book (the replay is the market);
//! * with the `partial_fill` fault, taker fills come in thirds, one part per market tick;
//! * with the `split_fills` fault, every fill is booked as many trades a millisecond apart.

use std::{
    collections::{BTreeMap, BTreeSet, VecDeque},
    sync::Arc,
    time::Instant,
};

use rand::{Rng, SeedableRng, distr::Alphanumeric};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};
use tokio::sync::broadcast;

use crate::{
    config::Account,
    market::{Bar, Level, MINUTE, Series, Trade, mix},
    pb,
    reject::Reject,
    symbols::{MAKER_FEE, SymbolSpec, TAKER_FEE},
};

/// Public trades kept for `GET /api/v3/trades` and `aggTrades`.
const RECENT_TRADES: usize = 1000;
/// The venue's open-order cap per account.
const MAX_OPEN_ORDERS: usize = 500;
/// How long a listen key lives without a keep-alive.
pub(crate) const LISTEN_KEY_TTL_MS: i64 = 60 * 60 * 1000;
/// Market orders by quantity reserve this much more than the book's current cost.
const MARKET_BUY_HEADROOM: Decimal = Decimal::from_parts(102, 0, 0, false, 2);

/// Order side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Buy,
    Sell,
}

impl Side {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "BUY",
            Self::Sell => "SELL",
        }
    }

    /// MEXC's `tradeType` in pushes: 1 buy, 2 sell.
    fn code(self) -> i32 {
        match self {
            Self::Buy => 1,
            Self::Sell => 2,
        }
    }
}

/// Order type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Limit,
    Market,
    LimitMaker,
    ImmediateOrCancel,
    FillOrKill,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Limit => "LIMIT",
            Self::Market => "MARKET",
            Self::LimitMaker => "LIMIT_MAKER",
            Self::ImmediateOrCancel => "IMMEDIATE_OR_CANCEL",
            Self::FillOrKill => "FILL_OR_KILL",
        }
    }

    /// MEXC's private `orderType`: 1 LIMIT, 2 POST_ONLY, 3 IOC, 4 FOK, 5 MARKET.
    fn code(self) -> i32 {
        match self {
            Self::Limit => 1,
            Self::LimitMaker => 2,
            Self::ImmediateOrCancel => 3,
            Self::FillOrKill => 4,
            Self::Market => 5,
        }
    }
}

/// Order status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    PartiallyCanceled,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::PartiallyFilled => "PARTIALLY_FILLED",
            Self::Filled => "FILLED",
            Self::Canceled => "CANCELED",
            Self::PartiallyCanceled => "PARTIALLY_CANCELED",
        }
    }

    /// MEXC's private `status`: 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled.
    fn code(self) -> i32 {
        match self {
            Self::New => 1,
            Self::Filled => 2,
            Self::PartiallyFilled => 3,
            Self::Canceled => 4,
            Self::PartiallyCanceled => 5,
        }
    }

    pub(crate) fn is_open(self) -> bool {
        matches!(self, Self::New | Self::PartiallyFilled)
    }
}

/// A validated order request.
#[derive(Debug, Clone)]
pub(crate) struct NewOrder {
    pub(crate) symbol: usize,
    pub(crate) side: Side,
    pub(crate) kind: Kind,
    pub(crate) quantity: Option<Decimal>,
    pub(crate) quote_quantity: Option<Decimal>,
    pub(crate) price: Option<Decimal>,
    pub(crate) client_id: Option<String>,
}

/// An order as the venue keeps it.
#[derive(Debug, Clone)]
pub(crate) struct Order {
    pub(crate) id: String,
    pub(crate) client_id: String,
    pub(crate) account: usize,
    pub(crate) symbol: usize,
    pub(crate) side: Side,
    pub(crate) kind: Kind,
    /// The limit price, or the reference (last) price of a market order.
    pub(crate) price: Decimal,
    /// Ordered base quantity (zero for a market order by quote amount).
    pub(crate) qty: Decimal,
    /// Ordered quote amount of a market order by quote amount (else zero).
    pub(crate) quote_qty: Decimal,
    pub(crate) executed: Decimal,
    pub(crate) cum_quote: Decimal,
    pub(crate) status: Status,
    pub(crate) time: i64,
    pub(crate) update_time: i64,
    /// Still reserved, in the asset the order spends.
    locked: Decimal,
    /// Taker fills still to come (partial-fill fault).
    taker_pending: bool,
    /// When it was created (wall clock), for the "does not exist" lag.
    pub(crate) created: Instant,
}

impl Order {
    fn limited(&self) -> bool {
        self.kind != Kind::Market
    }

    fn by_quote(&self) -> bool {
        self.quote_qty > Decimal::ZERO
    }
}

/// One of an account's fills.
#[derive(Debug, Clone)]
pub(crate) struct MyTrade {
    pub(crate) id: String,
    pub(crate) account: usize,
    pub(crate) order: usize,
    pub(crate) price: Decimal,
    pub(crate) qty: Decimal,
    pub(crate) quote: Decimal,
    pub(crate) commission: Decimal,
    pub(crate) commission_asset: String,
    pub(crate) time: i64,
    pub(crate) is_maker: bool,
}

/// Free and locked amounts of one asset.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Balance {
    pub(crate) free: Decimal,
    pub(crate) locked: Decimal,
}

/// What the venue publishes to WebSocket connections.
#[derive(Debug, Clone)]
pub(crate) enum Event {
    /// A market tick: the replayed trades since the last tick (maybe none) and the book top.
    Market { symbol: usize, trades: Arc<[Trade]>, top: Option<(Level, Level)>, now: i64 },
    /// A private push for one account (order, deal or balance change).
    Private { account: usize, push: Arc<pb::PushDataV3ApiWrapper> },
}

/// One symbol's market: the series and how far it has been replayed.
#[derive(Debug)]
pub(crate) struct Market {
    pub(crate) series: Series,
    /// Clock time replayed so far.
    cursor: i64,
    pub(crate) last: Option<Trade>,
    pub(crate) recent: VecDeque<Trade>,
    /// Liquidity taken by our takers since the last replayed trade: (price, qty) per side.
    taken_bids: Vec<Level>,
    taken_asks: Vec<Level>,
    /// Book version (`lastUpdateId`): bumps with every replayed trade and every take.
    pub(crate) version: i64,
}

impl Market {
    /// The last traded price (the current minute's open before any trade).
    pub(crate) fn last_price(&self) -> Decimal {
        self.last.map_or(Decimal::ONE, |t| t.price)
    }

    /// The current book: generated levels minus what our takers took.
    pub(crate) fn book(&self) -> (Vec<Level>, Vec<Level>) {
        let salt = self.last.map_or(0, |t| t.id);
        let (bids, asks) =
            self.series.book(self.last_price(), salt, self.series.volume_near(self.cursor / MINUTE * MINUTE));
        let remove = |levels: Vec<Level>, taken: &[Level]| -> Vec<Level> {
            levels
                .into_iter()
                .filter_map(|(p, q)| {
                    let gone: Decimal = taken.iter().filter(|(tp, _)| *tp == p).map(|(_, tq)| *tq).sum();
                    (q > gone).then_some((p, q - gone))
                })
                .collect()
        };
        (remove(bids, &self.taken_bids), remove(asks, &self.taken_asks))
    }

    /// Best bid and best ask.
    pub(crate) fn top(&self) -> Option<(Level, Level)> {
        let (bids, asks) = self.book();
        Some((*bids.first()?, *asks.first()?))
    }
}

/// A listen key of the user data stream.
#[derive(Debug, Clone)]
struct ListenKey {
    account: usize,
    expires: i64,
}

/// The whole venue.
#[derive(Debug)]
pub(crate) struct Venue {
    seed: u64,
    pub(crate) markets: Vec<Market>,
    accounts: Vec<(Account, BTreeMap<String, Balance>)>,
    pub(crate) orders: Vec<Order>,
    by_id: BTreeMap<String, usize>,
    open: BTreeSet<usize>,
    pub(crate) trades: Vec<MyTrade>,
    listen_keys: BTreeMap<String, ListenKey>,
    rng: ChaCha8Rng,
    events: broadcast::Sender<Event>,
    /// Taker fills come in parts (the `partial_fill` fault).
    partial_fill: bool,
    /// Trades each fill is booked as (the `split_fills` fault).
    split_fills: u32,
}

impl Venue {
    /// A venue over `series` (one market each), replayed from an hour before `now` to `now`.
    pub(crate) fn new(
        seed: u64,
        series: Vec<Series>,
        accounts: &[Account],
        events: broadcast::Sender<Event>,
        now: i64,
        server_time: i64,
    ) -> Self {
        let markets = series
            .into_iter()
            .map(|series| Market {
                series,
                cursor: now - 60 * MINUTE,
                last: None,
                recent: VecDeque::new(),
                taken_bids: Vec::new(),
                taken_asks: Vec::new(),
                version: 1,
            })
            .collect();
        let accounts = accounts
            .iter()
            .map(|a| {
                let mut balances: BTreeMap<String, Balance> = BTreeMap::new();
                for (asset, amount) in &a.balances {
                    balances.entry(asset.clone()).or_default().free += *amount;
                }
                (a.clone(), balances)
            })
            .collect();
        let mut venue = Self {
            seed,
            markets,
            accounts,
            orders: Vec::new(),
            by_id: BTreeMap::new(),
            open: BTreeSet::new(),
            trades: Vec::new(),
            listen_keys: BTreeMap::new(),
            rng: ChaCha8Rng::seed_from_u64(mix(seed, &[-3])),
            events,
            partial_fill: false,
            split_fills: 1,
        };
        for m in &mut venue.markets {
            // Before the first trade, the price is the open of the first minute replayed.
            let first = m.series.minute_trades(m.cursor / MINUTE * MINUTE);
            m.last = first.first().copied();
        }
        venue.advance(now, server_time);
        venue
    }

    /// The symbol index of `symbol`.
    pub(crate) fn symbol(&self, symbol: &str) -> Result<usize, Reject> {
        self.markets.iter().position(|m| m.series.spec.symbol == symbol).ok_or_else(Reject::bad_symbol)
    }

    pub(crate) fn spec(&self, symbol: usize) -> &SymbolSpec {
        &self.markets[symbol].series.spec
    }

    /// The account of `api_key` and its secret.
    pub(crate) fn account_by_key(&self, api_key: &str) -> Option<(usize, &str)> {
        self.accounts
            .iter()
            .position(|(a, _)| a.api_key == api_key)
            .map(|i| (i, self.accounts[i].0.api_secret.as_str()))
    }

    pub(crate) fn balances(&self, account: usize) -> &BTreeMap<String, Balance> {
        &self.accounts[account].1
    }

    // ----- market clock -----

    /// Replays every market up to clock time `now` (capped to the last 24 h), fills resting
    /// orders the tape trades through, continues partial takers and publishes one tick each.
    pub(crate) fn advance(&mut self, now: i64, server_time: i64) {
        for s in 0..self.markets.len() {
            let market = &self.markets[s];
            if now <= market.cursor {
                continue;
            }
            let from = market.cursor.max(now - 24 * 60 * MINUTE);
            let mut tape = Vec::new();
            let mut minute = from.div_euclid(MINUTE) * MINUTE;
            while minute <= now {
                tape.extend(market.series.minute_trades(minute).into_iter().filter(|t| t.time > from && t.time <= now));
                minute += MINUTE;
            }
            for trade in &tape {
                let market = &mut self.markets[s];
                market.last = Some(*trade);
                market.recent.push_back(*trade);
                if market.recent.len() > RECENT_TRADES {
                    market.recent.pop_front();
                }
                market.taken_bids.clear();
                market.taken_asks.clear();
                market.version += 1;
                self.trade_through(s, trade, server_time);
            }
            self.markets[s].cursor = now;
            let pending: Vec<usize> = self
                .open
                .iter()
                .copied()
                .filter(|&o| self.orders[o].symbol == s && self.orders[o].taker_pending)
                .collect();
            for o in pending {
                self.continue_taker(o, server_time);
            }
            let top = self.markets[s].top();
            self.publish(Event::Market { symbol: s, trades: tape.into(), top, now });
        }
    }

    fn publish(&self, event: Event) {
        // No receiver (no WebSocket connection) is fine.
        let _ = self.events.send(event);
    }

    /// Maker fills of the resting orders `trade` trades through.
    fn trade_through(&mut self, symbol: usize, trade: &Trade, time: i64) {
        let mut available = trade.qty;
        let resting: Vec<usize> = self
            .open
            .iter()
            .copied()
            .filter(|&o| {
                let order = &self.orders[o];
                order.symbol == symbol
                    && !order.taker_pending
                    && order.limited()
                    && match order.side {
                        Side::Buy => trade.price < order.price,
                        Side::Sell => trade.price > order.price,
                    }
            })
            .collect();
        for o in resting {
            let mut qty = (self.orders[o].qty - self.orders[o].executed).min(available);
            if self.partial_fill {
                qty = qty.min(self.part(o));
            }
            if qty <= Decimal::ZERO {
                break;
            }
            available -= qty;
            let price = self.orders[o].price;
            self.fill(o, price, qty, true, time);
        }
    }

    // ----- orders -----

    /// Validates and (unless `test`) places an order, running its taker part at once.
    pub(crate) fn place(
        &mut self,
        account: usize,
        req: NewOrder,
        now: i64,
        test: bool,
    ) -> Result<Option<usize>, Reject> {
        let spec = self.spec(req.symbol).clone();
        let step = spec.step();
        let check_scale = |name: &str, value: Decimal, dp: u32| -> Result<Decimal, Reject> {
            if value <= Decimal::ZERO {
                return Err(Reject::param(format!("{name} must be positive")));
            }
            if value.normalize().scale() > dp {
                return Err(Reject::param(format!("{name} scale is invalid")));
            }
            Ok(value)
        };
        let quantity = req.quantity.map(|q| check_scale("quantity", q, spec.base_precision)).transpose()?;
        let price = req.price.map(|p| check_scale("price", p, spec.quote_precision)).transpose()?;
        let quote_qty =
            req.quote_quantity.map(|q| check_scale("quoteOrderQty", q, spec.quote_precision)).transpose()?;
        let too_small = || {
            Reject::bad(
                30002,
                format!(
                    "The minimum transaction volume cannot be less than:{}{}",
                    spec.min_notional.normalize(),
                    spec.quote
                ),
            )
        };
        let too_large = |max: Decimal| {
            Reject::bad(
                30003,
                format!("The maximum transaction volume cannot be greater than:{}{}", max.normalize(), spec.quote),
            )
        };
        let market = &self.markets[req.symbol];
        let (bids, asks) = market.book();
        let (qty, quote_qty, price) = match req.kind {
            Kind::Market => {
                if bids.is_empty() || asks.is_empty() {
                    return Err(Reject::bad(30025, "no exist opponent order"));
                }
                let (qty, quote_qty) = match (quantity, quote_qty) {
                    (Some(q), None) => (q, Decimal::ZERO),
                    (None, Some(a)) => (Decimal::ZERO, a),
                    _ => return Err(Reject::param("MARKET orders need exactly one of quantity or quoteOrderQty")),
                };
                let notional = if qty > Decimal::ZERO { qty * market.last_price() } else { quote_qty };
                if qty > Decimal::ZERO && qty < step || notional < spec.min_notional {
                    return Err(too_small());
                }
                if notional > spec.max_notional_market {
                    return Err(too_large(spec.max_notional_market));
                }
                (qty, quote_qty, market.last_price())
            }
            _ => {
                let (Some(qty), Some(price)) = (quantity, price) else {
                    return Err(Reject::param(format!("{} orders need quantity and price", req.kind.as_str())));
                };
                if quote_qty.is_some() {
                    return Err(Reject::param("quoteOrderQty is for MARKET orders only"));
                }
                if qty < step || qty * price < spec.min_notional {
                    return Err(too_small());
                }
                if qty * price > spec.max_notional {
                    return Err(too_large(spec.max_notional));
                }
                (qty, Decimal::ZERO, price)
            }
        };
        if let Some(client_id) = &req.client_id
            && self.orders.iter().any(|o| o.account == account && &o.client_id == client_id)
        {
            return Err(Reject::bad(30026, "Duplicate clientOrderId"));
        }
        if self.open.iter().filter(|&&o| self.orders[o].account == account).count() >= MAX_OPEN_ORDERS {
            return Err(Reject::bad(30029, "Cannot exceed the maximum order limit"));
        }
        // What the order reserves, in the asset it spends.
        let (spend_asset, reserve) = match (req.side, req.kind) {
            (Side::Buy, Kind::Market) if quote_qty > Decimal::ZERO => (&spec.quote, quote_qty),
            (Side::Buy, Kind::Market) => {
                let cost: Decimal = walk(&asks, None, Some(qty), None, step).iter().map(|(p, q)| p * q).sum();
                (&spec.quote, cost)
            }
            (Side::Buy, _) => (&spec.quote, qty * price),
            (Side::Sell, Kind::Market) if quote_qty > Decimal::ZERO => {
                let base: Decimal = walk(&bids, None, None, Some(quote_qty), step).iter().map(|(_, q)| q).sum();
                (&spec.base, base)
            }
            (Side::Sell, _) => (&spec.base, qty),
        };
        let free = self.accounts[account].1.get(spend_asset).map_or(Decimal::ZERO, |b| b.free);
        if free < reserve {
            return Err(match req.side {
                Side::Buy => Reject::bad(10101, "Insufficient balance"),
                Side::Sell => Reject::bad(30004, "Insufficient position"),
            });
        }
        // Market orders sized by the other asset get some headroom for the book to move.
        let reserve = match (req.side, req.kind) {
            (Side::Buy, Kind::Market) if quote_qty.is_zero() => (reserve * MARKET_BUY_HEADROOM).min(free),
            (Side::Sell, Kind::Market) if quote_qty > Decimal::ZERO => (reserve * MARKET_BUY_HEADROOM).min(free),
            _ => reserve,
        };
        if test {
            return Ok(None);
        }
        let index = self.orders.len();
        let id = format!("C02__{}{:012}", mix(self.seed, &[-4]) % 1_000_000, index + 1);
        let client_id = req.client_id.unwrap_or_default();
        self.orders.push(Order {
            id: id.clone(),
            client_id,
            account,
            symbol: req.symbol,
            side: req.side,
            kind: req.kind,
            price,
            qty,
            quote_qty,
            executed: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status: Status::New,
            time: now,
            update_time: now,
            locked: reserve,
            taker_pending: false,
            created: Instant::now(),
        });
        self.by_id.insert(id, index);
        self.open.insert(index);
        let spend_asset = spend_asset.clone();
        self.adjust(account, &spend_asset, -reserve, reserve, "ENTRUST_PLACE", now);
        self.push_order(index, None);
        self.execute(index, now);
        Ok(Some(index))
    }

    /// The taker part of a new order, by type.
    fn execute(&mut self, o: usize, now: i64) {
        let order = &self.orders[o];
        let (bids, asks) = self.markets[order.symbol].book();
        let crosses = match order.side {
            Side::Buy => asks.first().is_some_and(|(p, _)| *p <= order.price),
            Side::Sell => bids.first().is_some_and(|(p, _)| *p >= order.price),
        };
        match order.kind {
            Kind::LimitMaker => {
                if crosses {
                    // Post-only orders that would take are cancelled, never filled.
                    self.cancel(o, now);
                }
            }
            Kind::FillOrKill => {
                let levels = if order.side == Side::Buy { &asks } else { &bids };
                let step = self.spec(order.symbol).step();
                let fillable: Decimal = walk(levels, Some((order.side, order.price)), Some(order.qty), None, step)
                    .iter()
                    .map(|(_, q)| q)
                    .sum();
                if fillable == order.qty {
                    self.take(o, now, false);
                } else {
                    self.cancel(o, now);
                }
            }
            Kind::ImmediateOrCancel => {
                self.take(o, now, false);
                if self.orders[o].status.is_open() {
                    self.cancel(o, now);
                }
            }
            Kind::Limit | Kind::Market => {
                if crosses || order.kind == Kind::Market {
                    self.orders[o].taker_pending = self.partial_fill;
                    self.continue_taker(o, now);
                }
            }
        }
    }

    /// One taker pass of a market or crossing limit order: a part (fault) or all of it; a market
    /// order that finds no more liquidity is cancelled, a limit order that no longer crosses rests.
    fn continue_taker(&mut self, o: usize, now: i64) {
        let partial = self.orders[o].taker_pending;
        let filled = self.take(o, now, partial);
        let order = &mut self.orders[o];
        if !order.status.is_open() {
            return;
        }
        if !filled || !partial {
            order.taker_pending = false;
            if order.kind == Kind::Market {
                self.cancel(o, now);
            }
        }
    }

    /// Takes liquidity for order `o` (at most one part when `partial`); returns whether it filled.
    fn take(&mut self, o: usize, now: i64, partial: bool) -> bool {
        let order = &self.orders[o];
        let step = self.spec(order.symbol).step();
        let market = &self.markets[order.symbol];
        let (bids, asks) = market.book();
        let levels = if order.side == Side::Buy { asks } else { bids };
        let limit = order.limited().then_some((order.side, order.price));
        let part = if partial { Some(self.part(o)) } else { None };
        let (max_qty, mut max_quote) = if order.by_quote() {
            let left = order.quote_qty - order.cum_quote;
            (None, Some(part.map_or(left, |p| p.min(left))))
        } else {
            let left = order.qty - order.executed;
            (Some(part.map_or(left, |p| p.min(left))), None)
        };
        // Never spend more than the order reserved.
        let mut max_qty = max_qty;
        match order.side {
            Side::Buy if order.kind == Kind::Market => {
                max_quote = Some(max_quote.map_or(order.locked, |q| q.min(order.locked)));
            }
            Side::Sell => max_qty = Some(max_qty.map_or(order.locked, |q| q.min(order.locked))),
            Side::Buy => {}
        }
        let fills = walk(&levels, limit, max_qty, max_quote, step);
        let market = &mut self.markets[order.symbol];
        for (p, q) in &fills {
            let taken = if order.side == Side::Buy { &mut market.taken_asks } else { &mut market.taken_bids };
            taken.push((*p, *q));
            market.version += 1;
        }
        for (p, q) in &fills {
            self.fill(o, *p, *q, false, now);
        }
        !fills.is_empty()
    }

    /// The part size of the partial-fill fault: a third of the order, at least one step.
    fn part(&self, o: usize) -> Decimal {
        let order = &self.orders[o];
        let spec = self.spec(order.symbol);
        if order.by_quote() {
            (order.quote_qty / Decimal::from(3))
                .round_dp_with_strategy(spec.quote_precision, RoundingStrategy::AwayFromZero)
        } else {
            (order.qty / Decimal::from(3))
                .round_dp_with_strategy(spec.base_precision, RoundingStrategy::ToZero)
                .max(spec.step())
        }
    }

    /// Books one fill: balances, fee (in the asset received), the order, the trade, the pushes.
    /// Takes on the fill faults in force.
    pub(crate) fn apply_faults(&mut self, faults: &crate::config::Faults) {
        self.partial_fill = faults.partial_fill;
        self.split_fills = faults.split_fills.max(1);
    }

    /// Fills `qty` of order `o`: one trade, or with the `split_fills` fault that many trades a
    /// millisecond apart (the parts rounded to the base precision, the last taking the rest).
    fn fill(&mut self, o: usize, price: Decimal, qty: Decimal, is_maker: bool, now: i64) {
        let step = self.spec(self.orders[o].symbol).step();
        let parts = Decimal::from(self.split_fills).min((qty / step).floor()).max(Decimal::ONE);
        let part = (qty / parts / step).floor() * step;
        let mut left = qty;
        let mut at = now;
        while left > Decimal::ZERO {
            let this = if part.is_zero() || left - part < part { left } else { part };
            self.fill_once(o, price, this, is_maker, at);
            left -= this;
            at += 1;
        }
    }

    fn fill_once(&mut self, o: usize, price: Decimal, qty: Decimal, is_maker: bool, now: i64) {
        let order = &self.orders[o];
        let spec = self.spec(order.symbol).clone();
        let (account, side) = (order.account, order.side);
        let rate = if is_maker { MAKER_FEE } else { TAKER_FEE };
        let quote = price * qty;
        let round_fee = |x: Decimal, dp: u32| x.round_dp_with_strategy(dp, RoundingStrategy::AwayFromZero);
        let (commission, commission_asset) = match side {
            Side::Buy => {
                let release = if order.limited() { qty * order.price } else { quote }.min(order.locked);
                let fee = round_fee(qty * rate, spec.base_precision);
                self.orders[o].locked -= release;
                self.adjust(account, &spec.quote, release - quote, -release, "ENTRUST", now);
                self.adjust(account, &spec.base, qty - fee, Decimal::ZERO, "ENTRUST", now);
                (fee, spec.base.clone())
            }
            Side::Sell => {
                let release = qty.min(order.locked);
                let fee = round_fee(quote * rate, spec.quote_precision);
                self.orders[o].locked -= release;
                self.adjust(account, &spec.base, release - qty, -release, "ENTRUST", now);
                self.adjust(account, &spec.quote, quote - fee, Decimal::ZERO, "ENTRUST", now);
                (fee, spec.quote.clone())
            }
        };
        let order = &mut self.orders[o];
        order.executed += qty;
        order.cum_quote += quote;
        order.update_time = now;
        let done = if order.by_quote() {
            // A quote-sized order is done when its rest cannot buy one more step.
            order.quote_qty - order.cum_quote < price * spec.step()
        } else {
            order.executed >= order.qty
        };
        order.status = if done { Status::Filled } else { Status::PartiallyFilled };
        let trade_id = format!(
            "{:016x}{:016x}",
            mix(self.seed, &[-5, self.trades.len() as i64]),
            mix(self.seed, &[-6, self.trades.len() as i64])
        );
        self.trades.push(MyTrade {
            id: trade_id.clone(),
            account,
            order: o,
            price,
            qty,
            quote,
            commission,
            commission_asset: commission_asset.clone(),
            time: now,
            is_maker,
        });
        let order = &self.orders[o];
        let deal = pb::PrivateDealsV3Api {
            price: price.normalize().to_string(),
            quantity: qty.normalize().to_string(),
            amount: quote.normalize().to_string(),
            trade_type: side.code(),
            is_maker,
            is_self_trade: false,
            trade_id,
            client_order_id: order.client_id.clone(),
            order_id: order.id.clone(),
            fee_amount: commission.normalize().to_string(),
            fee_currency: commission_asset,
            time: now,
        };
        self.push_private(
            account,
            "spot@private.deals.v3.api.pb",
            order.symbol,
            now,
            pb::push_data_v3_api_wrapper::Body::PrivateDeals(deal),
        );
        self.push_order(o, Some((qty, is_maker)));
        if done {
            self.finish(o, now);
        }
    }

    /// Cancels an open order (CANCELED, or PARTIALLY_CANCELED after fills).
    pub(crate) fn cancel(&mut self, o: usize, now: i64) {
        let order = &mut self.orders[o];
        if !order.status.is_open() {
            return;
        }
        order.status = if order.executed > Decimal::ZERO { Status::PartiallyCanceled } else { Status::Canceled };
        order.update_time = now;
        order.taker_pending = false;
        self.push_order(o, None);
        self.finish(o, now);
    }

    /// Releases what a closed order still reserves.
    fn finish(&mut self, o: usize, now: i64) {
        self.open.remove(&o);
        let order = &mut self.orders[o];
        let rest = std::mem::take(&mut order.locked);
        if rest > Decimal::ZERO {
            let (account, spec) = (order.account, self.markets[order.symbol].series.spec.clone());
            let asset = if order.side == Side::Buy { &spec.quote } else { &spec.base };
            self.adjust(account, asset, rest, -rest, "ENTRUST_CANCEL", now);
        }
    }

    /// Changes a balance and pushes the change to the account channel.
    fn adjust(&mut self, account: usize, asset: &str, free: Decimal, locked: Decimal, kind: &str, now: i64) {
        if free.is_zero() && locked.is_zero() {
            return;
        }
        let balance = self.accounts[account].1.entry(asset.to_owned()).or_default();
        balance.free += free;
        balance.locked += locked;
        let push = pb::PrivateAccountV3Api {
            vcoin_name: asset.to_owned(),
            coin_id: asset.to_owned(),
            balance_amount: balance.free.normalize().to_string(),
            balance_amount_change: free.normalize().to_string(),
            frozen_amount: balance.locked.normalize().to_string(),
            frozen_amount_change: locked.normalize().to_string(),
            r#type: kind.to_owned(),
            time: now,
        };
        let wrapper = pb::PushDataV3ApiWrapper {
            channel: "spot@private.account.v3.api.pb".to_owned(),
            send_time: Some(now),
            create_time: Some(now),
            body: Some(pb::push_data_v3_api_wrapper::Body::PrivateAccount(push)),
            ..Default::default()
        };
        self.publish(Event::Private { account, push: Arc::new(wrapper) });
    }

    /// Pushes the order's state; `deal` is the last fill's quantity and maker flag.
    fn push_order(&self, o: usize, deal: Option<(Decimal, bool)>) {
        let order = &self.orders[o];
        let avg = if order.executed.is_zero() { Decimal::ZERO } else { order.cum_quote / order.executed };
        let spec = self.spec(order.symbol);
        let push = pb::PrivateOrdersV3Api {
            id: order.id.clone(),
            client_id: order.client_id.clone(),
            price: order.price.normalize().to_string(),
            quantity: order.qty.normalize().to_string(),
            amount: if order.by_quote() { order.quote_qty } else { order.qty * order.price }.normalize().to_string(),
            avg_price: avg.round_dp(spec.quote_precision).normalize().to_string(),
            order_type: order.kind.code(),
            trade_type: order.side.code(),
            is_maker: deal.is_some_and(|(_, m)| m),
            remain_amount: if order.by_quote() {
                order.quote_qty - order.cum_quote
            } else {
                (order.qty - order.executed) * order.price
            }
            .normalize()
            .to_string(),
            remain_quantity: if order.by_quote() { Decimal::ZERO } else { order.qty - order.executed }
                .normalize()
                .to_string(),
            last_deal_quantity: deal.map(|(q, _)| q.normalize().to_string()),
            cumulative_quantity: order.executed.normalize().to_string(),
            cumulative_amount: order.cum_quote.normalize().to_string(),
            status: order.status.code(),
            create_time: order.time,
        };
        self.push_private(
            order.account,
            "spot@private.orders.v3.api.pb",
            order.symbol,
            order.update_time,
            pb::push_data_v3_api_wrapper::Body::PrivateOrders(push),
        );
    }

    fn push_private(
        &self,
        account: usize,
        channel: &str,
        symbol: usize,
        now: i64,
        body: pb::push_data_v3_api_wrapper::Body,
    ) {
        let wrapper = pb::PushDataV3ApiWrapper {
            channel: channel.to_owned(),
            symbol: Some(self.spec(symbol).symbol.clone()),
            send_time: Some(now),
            create_time: Some(now),
            body: Some(body),
            ..Default::default()
        };
        self.publish(Event::Private { account, push: Arc::new(wrapper) });
    }

    /// Finds an account's order by id or client id (`-2013`/`-2011` style refusal left to the caller).
    pub(crate) fn find(
        &self,
        account: usize,
        symbol: usize,
        order_id: Option<&str>,
        client_id: Option<&str>,
    ) -> Option<usize> {
        let found = match (order_id, client_id) {
            (Some(id), _) => self.by_id.get(id).copied(),
            (None, Some(cid)) => self.orders.iter().rposition(|o| o.account == account && o.client_id == cid),
            (None, None) => None,
        }?;
        let order = &self.orders[found];
        (order.account == account && order.symbol == symbol).then_some(found)
    }

    /// An account's open orders, on one symbol or all.
    pub(crate) fn open_orders(&self, account: usize, symbol: Option<usize>) -> Vec<usize> {
        self.open
            .iter()
            .copied()
            .filter(|&o| self.orders[o].account == account && symbol.is_none_or(|s| self.orders[o].symbol == s))
            .collect()
    }

    // ----- listen keys -----

    /// A new listen key for `account`, valid an hour.
    pub(crate) fn new_listen_key(&mut self, account: usize, now: i64) -> String {
        let key: String = (&mut self.rng).sample_iter(Alphanumeric).take(64).map(char::from).collect();
        self.listen_keys.insert(key.clone(), ListenKey { account, expires: now + LISTEN_KEY_TTL_MS });
        key
    }

    /// Extends (`keep`) or deletes a listen key of `account`; false if unknown or expired.
    pub(crate) fn touch_listen_key(&mut self, account: usize, key: &str, now: i64, keep: bool) -> bool {
        match self.listen_keys.get_mut(key) {
            Some(k) if k.account == account && k.expires > now => {
                if keep {
                    k.expires = now + LISTEN_KEY_TTL_MS;
                } else {
                    self.listen_keys.remove(key);
                }
                true
            }
            _ => false,
        }
    }

    /// The valid listen keys of `account`.
    pub(crate) fn listen_keys(&self, account: usize, now: i64) -> Vec<String> {
        self.listen_keys
            .iter()
            .filter(|(_, k)| k.account == account && k.expires > now)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// The account of a valid listen key.
    pub(crate) fn listen_key_account(&self, key: &str, now: i64) -> Option<usize> {
        self.listen_keys.get(key).filter(|k| k.expires > now).map(|k| k.account)
    }

    // ----- market data -----

    /// Candles of `interval_ms` (a multiple of a minute) whose bucket opens in `[from, to)`,
    /// formed from the 1-minute bars (the last one may still be forming).
    pub(crate) fn klines(&self, symbol: usize, interval_ms: i64, from: i64, to: i64, now: i64) -> Vec<Bar> {
        let mut out: Vec<Bar> = Vec::new();
        let from = from.div_euclid(interval_ms) * interval_ms;
        for bar in self.markets[symbol].series.bars(from, to.saturating_add(interval_ms - 1).min(now + 1), now) {
            let bucket = bar.open_time.div_euclid(interval_ms) * interval_ms;
            if bucket >= to {
                break;
            }
            match out.last_mut() {
                Some(last) if last.open_time == bucket => last.merge(&bar),
                _ => out.push(Bar { open_time: bucket, ..bar }),
            }
        }
        out
    }
}

/// Walks `levels` (best first): what a taker gets within `limit` (side, price), up to `max_qty`
/// base and `max_quote` quote, in whole steps.
fn walk(
    levels: &[Level],
    limit: Option<(Side, Decimal)>,
    max_qty: Option<Decimal>,
    max_quote: Option<Decimal>,
    step: Decimal,
) -> Vec<Level> {
    let mut fills = Vec::new();
    let (mut qty_left, mut quote_left) = (max_qty, max_quote);
    for &(price, available) in levels {
        let within = match limit {
            Some((Side::Buy, limit)) => price <= limit,
            Some((Side::Sell, limit)) => price >= limit,
            None => true,
        };
        if !within {
            break;
        }
        let mut q = available;
        if let Some(left) = qty_left {
            q = q.min(left);
        }
        if let Some(left) = quote_left {
            q = q.min((left / price / step).trunc() * step);
        }
        if q <= Decimal::ZERO {
            break;
        }
        fills.push((price, q));
        qty_left = qty_left.map(|l| l - q);
        quote_left = quote_left.map(|l| l - q * price);
    }
    fills
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn walk_respects_limit_quantity_and_quote() {
        let asks = [(dec!(10), dec!(1)), (dec!(11), dec!(2)), (dec!(12), dec!(5))];
        let step = dec!(0.01);
        assert_eq!(walk(&asks, None, Some(dec!(2.5)), None, step), vec![(dec!(10), dec!(1)), (dec!(11), dec!(1.5))]);
        assert_eq!(
            walk(&asks, Some((Side::Buy, dec!(11))), Some(dec!(9)), None, step),
            vec![(dec!(10), dec!(1)), (dec!(11), dec!(2))]
        );
        assert_eq!(walk(&asks, None, None, Some(dec!(21)), step), vec![(dec!(10), dec!(1)), (dec!(11), dec!(1))]);
        assert!(walk(&asks, Some((Side::Buy, dec!(9))), Some(dec!(1)), None, step).is_empty());
    }
}
