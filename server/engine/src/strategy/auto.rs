//! Auto Mode: measures three factors over the recent candles and runs the strategy they point
//! to, switching with hysteresis.
//! * trend: the efficiency ratio (net move over the path travelled); a strong rise points to
//!   Breakdown Momentum, a choppy market (low ratio) to Mean Reversion;
//! * volume: recent volume over the window's average; a surge points to Event Filler;
//! * volatility: the recent spread of returns over the window's; calm points to DCA.
//!
//! Factors are asked in the configured precedence order (disabled ones skipped); the first
//! with a clear reading decides, and DCA runs when none has one. Each reading's strength is its
//! value over its threshold (1 at the threshold); a switch needs a strength of at least 1 plus
//! the hysteresis margin, and a minimum time since the last switch. Each switch is reported with its reason. The strategies it runs
//! use their built-in default parameters.

// Factor values are f64 (DESIGN.md, invariant 1): they choose a strategy, never a size.
#![allow(clippy::disallowed_types, clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::collections::{BTreeMap, VecDeque};

use domain::{
    candle::Candle,
    money::Price,
    strategy::{StrategyDefaults, StrategyId, StrategyParams, validate_params},
    time::Timestamp,
};

use super::{
    StrategyError, StrategyState,
    params::{decimal, integer, list},
    show,
};
use crate::indicators::to_f64;

const NAME: &str = "auto";
/// Efficiency ratio at or above which a rise is a trend.
const TRENDING: f64 = 0.3;
/// Efficiency ratio at or below which the market is choppy.
const CHOPPY: f64 = 0.1;
/// Recent volume over the average that counts as a surge.
const SURGE: f64 = 2.0;
/// Recent spread of returns over the window's that counts as calm.
const CALM: f64 = 0.6;

/// A market factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Factor {
    /// Direction and persistence of moves.
    Trend,
    /// Traded volume.
    Volume,
    /// Spread of returns.
    Volatility,
}

impl Factor {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "trend" => Some(Self::Trend),
            "volume" => Some(Self::Volume),
            "volatility" => Some(Self::Volatility),
            _ => None,
        }
    }
}

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, PartialEq)]
pub struct AutoParams {
    /// Enabled factors in precedence order.
    pub factors: Vec<Factor>,
    /// Candles the factors are measured over.
    pub lookback: usize,
    /// How much stronger a new reading must be to switch (fraction).
    pub hysteresis: f64,
    /// Least time between two switches.
    pub min_switch_ms: i64,
}

/// A factor's reading: the strategy it points to, how strongly (0 and up), and why.
#[derive(Debug, Clone, PartialEq)]
struct Reading {
    strategy: StrategyId,
    strength: f64,
    why: String,
}

/// Auto Mode with the strategy it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Auto {
    params: AutoParams,
    closes: VecDeque<f64>,
    volumes: VecDeque<f64>,
    /// The strategy running now.
    current: Box<StrategyState>,
    last_switch: Option<Timestamp>,
    /// A switch made on the last candle, to be reported: (from, to, reason).
    switched: Option<(StrategyId, StrategyId, String)>,
}

fn defaults(id: StrategyId) -> Result<StrategyParams, StrategyError> {
    validate_params(id, &BTreeMap::new(), &StrategyDefaults::new()).map_err(|v| StrategyError::Params(v.to_string()))
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn spread(returns: &[f64]) -> f64 {
    let m = mean(returns.iter().copied());
    mean(returns.iter().map(|r| (r - m) * (r - m))).sqrt()
}

impl Auto {
    /// Auto Mode starting with DCA.
    ///
    /// # Errors
    /// When a built-in default parameter set does not validate (a bug).
    pub fn new(params: AutoParams) -> Result<Self, StrategyError> {
        let start = StrategyState::new(StrategyId::DcaAccumulator, &defaults(StrategyId::DcaAccumulator)?)?;
        Ok(Self {
            closes: VecDeque::with_capacity(params.lookback + 1),
            volumes: VecDeque::with_capacity(params.lookback + 1),
            current: Box::new(start),
            last_switch: None,
            switched: None,
            params,
        })
    }

    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<Self, StrategyError> {
        let disabled = list(params, NAME, "disabled_factors")?;
        let factors = list(params, NAME, "factor_order")?
            .iter()
            .filter(|f| !disabled.contains(f))
            .filter_map(|f| Factor::parse(f))
            .collect();
        let hysteresis = to_f64(Price::new(decimal(params, NAME, "hysteresis_percent")?)) / 100.0;
        Self::new(AutoParams {
            factors,
            lookback: usize::try_from(integer(params, NAME, "lookback_bars")?).map_err(|e| e.to_string())?,
            hysteresis,
            min_switch_ms: integer(params, NAME, "min_switch_minutes")?.saturating_mul(60_000),
        })
    }

    /// The strategy running now.
    #[must_use]
    pub const fn current(&self) -> &StrategyState {
        &self.current
    }

    /// The strategy running now, to feed it.
    pub fn current_mut(&mut self) -> &mut StrategyState {
        &mut self.current
    }

    /// Candles needed before the factors can be measured.
    #[must_use]
    pub const fn history_needed(&self) -> usize {
        self.params.lookback
    }

    /// A switch made on the last candle: (from, to, reason).
    pub const fn take_switch(&mut self) -> Option<(StrategyId, StrategyId, String)> {
        self.switched.take()
    }

    fn reading(&self, factor: Factor) -> Option<Reading> {
        let closes: Vec<f64> = self.closes.iter().copied().collect();
        let (first, last) = (*closes.first()?, *closes.last()?);
        let recent = (closes.len() / 4).max(2);
        match factor {
            Factor::Trend => {
                let path: f64 = closes.windows(2).map(|w| (w[1] - w[0]).abs()).sum();
                let ratio = if path > 0.0 { (last - first).abs() / path } else { 0.0 };
                if ratio >= TRENDING && last > first {
                    let why = format!("trend: efficiency ratio {} on a rise", show(ratio));
                    Some(Reading { strategy: StrategyId::BreakdownMomentum, strength: ratio / TRENDING, why })
                } else if ratio <= CHOPPY {
                    let why = format!("trend: efficiency ratio {}, a choppy market", show(ratio));
                    Some(Reading { strategy: StrategyId::MeanReversion, strength: CHOPPY / ratio.max(1e-9), why })
                } else {
                    None
                }
            }
            Factor::Volume => {
                let all = mean(self.volumes.iter().copied());
                let late = mean(self.volumes.iter().rev().take(recent).copied());
                let ratio = if all > 0.0 { late / all } else { 0.0 };
                (ratio >= SURGE).then(|| Reading {
                    strategy: StrategyId::EventFiller,
                    strength: ratio / SURGE,
                    why: format!("volume: the last {recent} bars trade {}x the average", show(ratio)),
                })
            }
            Factor::Volatility => {
                let returns: Vec<f64> =
                    closes.windows(2).map(|w| if w[0] > 0.0 { w[1] / w[0] - 1.0 } else { 0.0 }).collect();
                let all = spread(&returns);
                let late = spread(&returns[returns.len().saturating_sub(recent)..]);
                let ratio = if all > 0.0 { late / all } else { 1.0 };
                (ratio <= CALM).then(|| Reading {
                    strategy: StrategyId::DcaAccumulator,
                    strength: CALM / ratio.max(1e-9),
                    why: format!("volatility: recent moves {}x the window's, a calm market", show(ratio)),
                })
            }
        }
    }

    /// Measures the factors on a closed candle (after feeding it to the running strategy),
    /// switching when a clearly stronger reading points elsewhere.
    pub fn on_candle(&mut self, now: Timestamp, candle: &Candle) {
        self.current.on_candle(now, candle);
        self.measure(now, candle);
    }

    /// A past candle: warms the running strategy up (no decision on it) and the factors; a
    /// switch it leads to is no news.
    pub fn warm_up(&mut self, candle: &Candle) {
        self.current.warm_up(candle);
        self.measure(Timestamp::from_millis(0), candle);
        self.switched = None;
    }

    fn measure(&mut self, now: Timestamp, candle: &Candle) {
        self.closes.push_back(to_f64(candle.close));
        self.volumes.push_back(to_f64(Price::new(candle.volume.value())));
        if self.closes.len() > self.params.lookback {
            self.closes.pop_front();
            self.volumes.pop_front();
        }
        if self.closes.len() < self.params.lookback {
            return;
        }
        let Some(reading) = self.params.factors.iter().find_map(|f| self.reading(*f)) else { return };
        let from = self.current.id();
        let settled = self.last_switch.is_some_and(|at| now.millis() - at.millis() < self.params.min_switch_ms);
        if reading.strategy == from || settled || reading.strength < 1.0 + self.params.hysteresis {
            return;
        }
        let Ok(next) = defaults(reading.strategy).and_then(|p| StrategyState::new(reading.strategy, &p)) else {
            return;
        };
        *self.current = next;
        self.last_switch = Some(now);
        self.switched = Some((from, reading.strategy, format!("auto mode: {}", reading.why)));
    }
}

#[cfg(test)]
mod tests {
    use domain::money::Qty;
    use rust_decimal::Decimal;

    use super::*;

    fn candle(close: f64, volume: f64) -> Candle {
        let price = Price::new(Decimal::try_from(close).unwrap().round_dp(4));
        let volume = Qty::new(Decimal::try_from(volume).unwrap().round_dp(4));
        Candle { open_time: Timestamp::from_millis(0), open: price, high: price, low: price, close: price, volume }
    }

    fn auto(factors: Vec<Factor>) -> Auto {
        Auto::new(AutoParams { factors, lookback: 20, hysteresis: 0.1, min_switch_ms: 60 * 60_000 }).unwrap()
    }

    fn feed(a: &mut Auto, minute: i64, closes: impl IntoIterator<Item = (f64, f64)>) -> i64 {
        let mut m = minute;
        for (close, volume) in closes {
            a.on_candle(Timestamp::from_millis(m * 60_000), &candle(close, volume));
            m += 1;
        }
        m
    }

    #[test]
    fn a_steady_rise_switches_to_momentum_and_reports_why() {
        let mut a = auto(vec![Factor::Trend, Factor::Volume, Factor::Volatility]);
        feed(&mut a, 0, (0..20).map(|i| (100.0 + f64::from(i), 10.0)));
        assert_eq!(a.current().id(), StrategyId::BreakdownMomentum);
        let (from, to, why) = a.take_switch().unwrap();
        assert_eq!((from, to), (StrategyId::DcaAccumulator, StrategyId::BreakdownMomentum));
        assert!(why.starts_with("auto mode: trend: efficiency ratio 1 on a rise"), "{why}");
    }

    #[test]
    fn precedence_decides_between_factors_and_disabled_ones_are_skipped() {
        // A choppy market with a volume surge at the end.
        let path: Vec<(f64, f64)> =
            (0..20).map(|i| (if i % 2 == 0 { 100.0 } else { 101.0 }, if i >= 15 { 50.0 } else { 10.0 })).collect();
        let mut trend_first = auto(vec![Factor::Trend, Factor::Volume]);
        feed(&mut trend_first, 0, path.clone());
        assert_eq!(trend_first.current().id(), StrategyId::MeanReversion);
        let mut volume_first = auto(vec![Factor::Volume, Factor::Trend]);
        feed(&mut volume_first, 0, path.clone());
        assert_eq!(volume_first.current().id(), StrategyId::EventFiller);
        let mut none = auto(Vec::new());
        feed(&mut none, 0, path);
        assert_eq!(none.current().id(), StrategyId::DcaAccumulator, "no enabled factor: DCA stays");
    }

    #[test]
    fn hysteresis_and_the_minimum_time_hold_a_choice() {
        let mut a = auto(vec![Factor::Trend]);
        let m = feed(&mut a, 0, (0..20).map(|i| (100.0 + f64::from(i), 10.0)));
        assert_eq!(a.current().id(), StrategyId::BreakdownMomentum);
        a.take_switch();
        // Choppy right away: too soon to switch again.
        let m = feed(&mut a, m, (0..20).map(|i| (if i % 2 == 0 { 119.0 } else { 120.0 }, 10.0)));
        assert_eq!(a.current().id(), StrategyId::BreakdownMomentum, "within the minimum time");
        // An hour later the choppy reading is clearly stronger: switch.
        feed(&mut a, m + 60, (0..20).map(|i| (if i % 2 == 0 { 119.0 } else { 120.0 }, 10.0)));
        assert_eq!(a.current().id(), StrategyId::MeanReversion);
        assert!(a.take_switch().is_some());
    }
}
