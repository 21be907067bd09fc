//! The market model: 1-minute candles (replayed or random-walk) mapped onto the simulator's
//! clock, the seeded trades derived from each candle, and the order book around the last price.
//!
//! Time mapping: the first candle of the data opens at `anchor` (a minute boundary of the
//! simulator's clock) and the data repeats every `span` (first open to last close), backwards and
//! forwards, so there is history before the start and the replay never ends. Minutes missing in
//! the data (the recorded exchange downtime) have no candle and no trades: the price stays flat.
//! Every value here is a pure function of the seed and the minute, so it can be recomputed at will.

use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{error::Error, symbols::SymbolSpec};

/// One minute in milliseconds.
pub(crate) const MINUTE: i64 = 60_000;
/// Price levels generated on each side of the book.
pub(crate) const BOOK_LEVELS: usize = 100;

/// A 1-minute candle of the source data (source times).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candle {
    open_time: i64,
    open: Decimal,
    high: Decimal,
    low: Decimal,
    close: Decimal,
    volume: Decimal,
}

/// A candle on the simulator's clock (possibly still forming).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bar {
    pub(crate) open_time: i64,
    pub(crate) open: Decimal,
    pub(crate) high: Decimal,
    pub(crate) low: Decimal,
    pub(crate) close: Decimal,
    pub(crate) volume: Decimal,
}

impl Bar {
    /// The quote volume, estimated as the volume at the bar's typical price (OHLC average).
    pub(crate) fn quote_volume(&self, dp: u32) -> Decimal {
        (self.volume * (self.open + self.high + self.low + self.close) / Decimal::from(4)).round_dp(dp)
    }

    /// Merges the next bar of the same bucket into this one.
    pub(crate) fn merge(&mut self, next: &Self) {
        self.high = self.high.max(next.high);
        self.low = self.low.min(next.low);
        self.close = next.close;
        self.volume += next.volume;
    }
}

/// A public trade of the replayed tape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trade {
    /// Unique and stable: the minute number times 100 plus the index in the minute.
    pub(crate) id: i64,
    pub(crate) time: i64,
    pub(crate) price: Decimal,
    pub(crate) qty: Decimal,
    /// The taker bought (MEXC `tradeType` 1) rather than sold (2).
    pub(crate) buyer_is_taker: bool,
}

/// One price level: price and quantity.
pub(crate) type Level = (Decimal, Decimal);

/// Reads a candles CSV (`open_time_ms,open,high,low,close,volume`), rounding prices to the tick
/// and volumes down to the quantity step of `spec`.
pub(crate) fn load_csv(path: &Path, spec: &SymbolSpec) -> Result<Vec<Candle>, Error> {
    let fail = |reason: String| Error::Candles { path: path.to_owned(), reason };
    let mut reader = csv::Reader::from_path(path).map_err(|e| fail(e.to_string()))?;
    let mut candles: Vec<Candle> = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        let field = |i: usize| -> Result<&str, Error> {
            record.get(i).ok_or_else(|| fail(format!("row {}: missing column {}", line + 2, i + 1)))
        };
        let number = |i: usize| -> Result<Decimal, Error> {
            let text = field(i)?;
            text.parse::<Decimal>().map_err(|e| fail(format!("row {}: {text:?}: {e}", line + 2)))
        };
        let open_time: i64 = field(0)?.parse().map_err(|e| fail(format!("row {}: open time: {e}", line + 2)))?;
        if open_time % MINUTE != 0 || candles.last().is_some_and(|c| c.open_time >= open_time) {
            return Err(fail(format!("row {}: open times must be whole minutes, strictly increasing", line + 2)));
        }
        let price = |i: usize| number(i).map(|p| p.round_dp(spec.quote_precision));
        candles.push(Candle {
            open_time,
            open: price(1)?,
            high: price(2)?,
            low: price(3)?,
            close: price(4)?,
            volume: number(5)?.round_dp_with_strategy(spec.base_precision, RoundingStrategy::ToZero),
        });
    }
    if candles.is_empty() {
        return Err(fail("no candles".to_owned()));
    }
    Ok(candles)
}

/// Three days of seeded random-walk candles starting at `start_price` (about 0.05 % per minute).
pub(crate) fn random_walk(seed: u64, index: usize, spec: &SymbolSpec, start_price: Decimal) -> Vec<Candle> {
    const BARS: i64 = 3 * 24 * 60;
    let mut rng = ChaCha8Rng::seed_from_u64(mix(seed, &[index as i64, -1]));
    let tick = spec.tick();
    let mut open = start_price.round_dp(spec.quote_precision).max(tick);
    (0..BARS)
        .map(|i| {
            let r: i64 = (0..3).map(|_| rng.random_range(-50..=50_i64)).sum();
            let close = (open * (Decimal::ONE + Decimal::new(r, 5))).round_dp(spec.quote_precision).max(tick);
            let up = Decimal::ONE + Decimal::new(rng.random_range(0..=30), 5);
            let down = Decimal::ONE - Decimal::new(rng.random_range(0..=30), 5);
            let high = (open.max(close) * up).round_dp(spec.quote_precision);
            let low = (open.min(close) * down).round_dp(spec.quote_precision).max(tick);
            let notional = spec.min_notional * Decimal::from(rng.random_range(20_000..=200_000_i64));
            let volume = (notional / close).round_dp_with_strategy(spec.base_precision, RoundingStrategy::ToZero);
            let candle =
                Candle { open_time: 1_700_000_000_000 / MINUTE * MINUTE + i * MINUTE, open, high, low, close, volume };
            open = close;
            candle
        })
        .collect()
}

/// A splitmix-style mix of the seed and some stable values, to seed one generator per purpose.
pub(crate) fn mix(seed: u64, values: &[i64]) -> u64 {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for v in values {
        h ^= u64::from_ne_bytes(v.to_ne_bytes());
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

/// One symbol's candles on the simulator's clock.
#[derive(Debug)]
pub(crate) struct Series {
    pub(crate) spec: SymbolSpec,
    /// The symbol's position in the configuration: part of every seed.
    index: usize,
    candles: Vec<Candle>,
    first: i64,
    span: i64,
    anchor: i64,
    seed: u64,
}

impl Series {
    /// `candles` must be non-empty and sorted; the first one opens at `anchor`.
    pub(crate) fn new(spec: SymbolSpec, index: usize, candles: Vec<Candle>, anchor: i64, seed: u64) -> Self {
        let first = candles.first().map_or(0, |c| c.open_time);
        let span = candles.last().map_or(MINUTE, |c| c.open_time + MINUTE - first);
        Self { spec, index, candles, first, span, anchor, seed }
    }

    /// The source candle of the minute opening at `open` (clock time) and its cycle number.
    fn locate(&self, open: i64) -> Option<(usize, &Candle, i64)> {
        let rel = open - self.anchor;
        let source = self.first + rel.rem_euclid(self.span);
        let i = self.candles.binary_search_by_key(&source, |c| c.open_time).ok()?;
        Some((i, &self.candles[i], rel.div_euclid(self.span)))
    }

    /// The volume of the minute opening at `open`, or of the last minute before it that traded.
    pub(crate) fn volume_near(&self, open: i64) -> Decimal {
        (0..600).find_map(|k| self.locate(open - k * MINUTE).map(|(_, c, _)| c.volume)).unwrap_or_default()
    }

    /// All trades of the minute opening at `open`: a seeded path open → high/low → close whose
    /// quantities add up to the candle's volume. Empty for a missing minute.
    pub(crate) fn minute_trades(&self, open: i64) -> Vec<Trade> {
        let Some((i, c, cycle)) = self.locate(open) else { return Vec::new() };
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, &[self.index as i64, i as i64, cycle]));
        let step = self.spec.step();
        let total = (c.volume / step).trunc().mantissa();
        if total <= 0 {
            return Vec::new();
        }
        let n = usize::try_from(total.min(rng.random_range(8..=16))).unwrap_or(1);
        let prices = self.path(c, n, &mut rng);
        // Quantities: one step each, the rest shared by random weights, the remainder last.
        let weights: Vec<i128> = (0..n).map(|_| rng.random_range(1..=100)).collect();
        let weight_sum: i128 = weights.iter().sum();
        let extra = total - i128::try_from(n).unwrap_or(0);
        let mut steps: Vec<i128> = weights.iter().map(|w| 1 + extra * w / weight_sum).collect();
        let allocated: i128 = steps.iter().sum();
        if let Some(last) = steps.last_mut() {
            *last += total - allocated;
        }
        let mut offsets: Vec<i64> = (0..n).map(|k| if k == 0 { 0 } else { rng.random_range(1..MINUTE) }).collect();
        offsets.sort_unstable();
        let mut previous = c.open;
        let minute_number = open / MINUTE;
        (0..n)
            .map(|k| {
                let price = prices[k];
                let buyer_is_taker = match price.cmp(&previous) {
                    std::cmp::Ordering::Greater => true,
                    std::cmp::Ordering::Less => false,
                    std::cmp::Ordering::Equal => rng.random_bool(0.5),
                };
                previous = price;
                Trade {
                    id: minute_number * 100 + k as i64,
                    time: open + offsets[k],
                    price,
                    qty: Decimal::from_i128_with_scale(steps[k], 0) * step,
                    buyer_is_taker,
                }
            })
            .collect()
    }

    /// `n` prices: the open, the two extremes (low first on a rising candle), the close, and
    /// noisy interpolations between them, all on the tick and inside [low, high].
    fn path(&self, c: &Candle, n: usize, rng: &mut ChaCha8Rng) -> Vec<Decimal> {
        let (first, second) = if c.close >= c.open { (c.low, c.high) } else { (c.high, c.low) };
        let keys: Vec<(usize, Decimal)> = match n {
            1 => vec![(0, c.close)],
            2 => vec![(0, c.open), (1, c.close)],
            3 => vec![(0, c.open), (1, first), (2, c.close)],
            _ => {
                let i1 = rng.random_range(1..=n - 3);
                let i2 = rng.random_range(i1 + 1..=n - 2);
                vec![(0, c.open), (i1, first), (i2, second), (n - 1, c.close)]
            }
        };
        let range = c.high - c.low;
        let mut prices = Vec::with_capacity(n);
        for pair in keys.windows(2) {
            let ((a_i, a), (b_i, b)) = (pair[0], pair[1]);
            for k in a_i..b_i {
                let linear = a + (b - a) * Decimal::from(k - a_i) / Decimal::from(b_i - a_i);
                let noise = if k == a_i { Decimal::ZERO } else { range * Decimal::new(rng.random_range(-10..=10), 2) };
                prices.push((linear + noise).clamp(c.low, c.high).round_dp(self.spec.quote_precision));
            }
        }
        prices.push(keys.last().map_or(c.close, |k| k.1));
        prices
    }

    /// The 1-minute bars opening in `[from, to)` and no later than `now`; the bar containing
    /// `now` is the one formed by its trades so far.
    pub(crate) fn bars(&self, from: i64, to: i64, now: i64) -> Vec<Bar> {
        let end = to.min(now / MINUTE * MINUTE + 1);
        let mut t = from.div_euclid(MINUTE) * MINUTE;
        if t < from {
            t += MINUTE;
        }
        let mut bars = Vec::new();
        while t < end {
            let cycle_start = self.anchor + (t - self.anchor).div_euclid(self.span) * self.span;
            let segment_end = end.min(cycle_start + self.span);
            let lo = self.candles.partition_point(|c| c.open_time < self.first + (t - cycle_start));
            let hi = self.candles.partition_point(|c| c.open_time < self.first + (segment_end - cycle_start));
            for c in &self.candles[lo..hi] {
                let open = c.open_time - self.first + cycle_start;
                if open + MINUTE <= now {
                    bars.push(Bar {
                        open_time: open,
                        open: c.open,
                        high: c.high,
                        low: c.low,
                        close: c.close,
                        volume: c.volume,
                    });
                } else if let Some(bar) = self.forming_bar(open, now) {
                    bars.push(bar);
                }
            }
            t = segment_end;
        }
        bars
    }

    /// The bar of the minute opening at `open` as formed by its trades up to `now`.
    fn forming_bar(&self, open: i64, now: i64) -> Option<Bar> {
        let trades = self.minute_trades(open);
        let mut done = trades.iter().filter(|t| t.time <= now);
        let first = done.next()?;
        let mut bar = Bar {
            open_time: open,
            open: first.price,
            high: first.price,
            low: first.price,
            close: first.price,
            volume: first.qty,
        };
        for t in done {
            bar.merge(&Bar {
                open_time: open,
                open: t.price,
                high: t.price,
                low: t.price,
                close: t.price,
                volume: t.qty,
            });
        }
        Some(bar)
    }

    /// The generated book around `last` (bids best first, asks best first), a pure function of
    /// the seed and `salt` (the last trade id): liquidity refreshes with every replayed trade.
    pub(crate) fn book(&self, last: Decimal, salt: i64, volume: Decimal) -> (Vec<Level>, Vec<Level>) {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, &[self.index as i64, salt, -2]));
        let tick = self.spec.tick();
        let step = self.spec.step();
        let ticks_of = |fraction: Decimal| (last * fraction / tick).round().max(Decimal::ONE);
        let spread_unit = ticks_of(Decimal::new(2, 6));
        let gap_unit = ticks_of(Decimal::new(5, 5));
        let spread = spread_unit * Decimal::from(rng.random_range(1..=3)) * tick;
        let below = spread_unit * Decimal::from(rng.random_range(0..=1)) * tick;
        let best_bid =
            (last - below).round_dp_with_strategy(self.spec.quote_precision, RoundingStrategy::ToNegativeInfinity);
        let best_ask = best_bid + spread;
        let typical = if volume > Decimal::ZERO {
            volume / Decimal::from(200)
        } else {
            self.spec.min_notional * Decimal::from(100) / last
        };
        let level_qty = |rng: &mut ChaCha8Rng| {
            (typical * Decimal::new(rng.random_range(20..=300), 2))
                .round_dp_with_strategy(self.spec.base_precision, RoundingStrategy::ToZero)
                .max(step * Decimal::from(10))
        };
        let mut bids = Vec::with_capacity(BOOK_LEVELS);
        let mut asks = Vec::with_capacity(BOOK_LEVELS);
        let (mut bid, mut ask) = (best_bid, best_ask);
        for _ in 0..BOOK_LEVELS {
            if bid > Decimal::ZERO {
                bids.push((bid, level_qty(&mut rng)));
            }
            asks.push((ask, level_qty(&mut rng)));
            bid -= gap_unit * Decimal::from(rng.random_range(1..=4)) * tick;
            ask += gap_unit * Decimal::from(rng.random_range(1..=4)) * tick;
        }
        (bids, asks)
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn series() -> Series {
        let spec = SymbolSpec::for_symbol("BTCUSDT");
        let c =
            |t: i64, o, h, l, cl, v| Candle { open_time: t * MINUTE, open: o, high: h, low: l, close: cl, volume: v };
        let candles = vec![
            c(10, dec!(100), dec!(110), dec!(95), dec!(105), dec!(3.5)),
            c(11, dec!(105), dec!(106), dec!(90), dec!(91), dec!(1.25)),
            // Minute 12 is missing (downtime).
            c(13, dec!(91), dec!(93), dec!(91), dec!(92), dec!(0.000002)),
        ];
        Series::new(spec, 0, candles, 1000 * MINUTE, 7)
    }

    #[test]
    fn minute_trades_follow_the_candle_and_add_up_to_its_volume() {
        let s = series();
        let trades = s.minute_trades(1000 * MINUTE);
        assert!(trades.len() >= 8);
        assert_eq!(trades[0].price, dec!(100));
        assert_eq!(trades.last().map(|t| t.price), Some(dec!(105)));
        assert_eq!(trades.iter().map(|t| t.price).max(), Some(dec!(110)));
        assert_eq!(trades.iter().map(|t| t.price).min(), Some(dec!(95)));
        assert_eq!(trades.iter().map(|t| t.qty).sum::<Decimal>(), dec!(3.5));
        assert!(trades.windows(2).all(|w| w[0].time <= w[1].time));
        assert_eq!(s.minute_trades(1000 * MINUTE), trades, "deterministic");
        assert!(s.minute_trades(1002 * MINUTE).is_empty(), "the hole has no trades");
        assert_eq!(s.minute_trades(1003 * MINUTE).len(), 2, "tiny volume: as many trades as steps");
    }

    #[test]
    fn the_data_wraps_around_in_both_directions() {
        let s = series();
        let now = 1010 * MINUTE + 1;
        let bars = s.bars(990 * MINUTE, 1010 * MINUTE, now);
        // Cycles of 4 minutes (3 bars and the hole) from 1000 backwards and forwards:
        // 990 is a hole, 991 the last bar, then 4 whole cycles, then 1008 and 1009.
        assert_eq!(bars.len(), 15);
        assert_eq!((bars[0].open_time, bars[0].open), (991 * MINUTE, dec!(91)));
        assert_eq!((bars[1].open_time, bars[1].open), (992 * MINUTE, dec!(100)));
        let forming = s.bars(1008 * MINUTE, 1009 * MINUTE, 1008 * MINUTE);
        assert_eq!(forming.len(), 1);
        assert_eq!(forming[0].volume, s.minute_trades(1008 * MINUTE)[0].qty);
    }

    #[test]
    fn the_book_brackets_the_last_price() {
        let s = series();
        let (bids, asks) = s.book(dec!(56000.37), 42, dec!(50));
        assert_eq!(bids.len(), BOOK_LEVELS);
        assert!(bids[0].0 <= dec!(56000.37) && asks[0].0 > bids[0].0);
        assert!(bids.windows(2).all(|w| w[0].0 > w[1].0));
        assert!(asks.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(s.book(dec!(56000.37), 42, dec!(50)), (bids, asks));
    }
}
