//! Breakdown Momentum: buy when a candle closes above the range of the previous N candles on
//! volume above a multiple of their average; exit on a trailing stop from the best price since
//! entry, or when a candle closes below the range (a breakdown). Spot only: no short side.

// Indicator values are f64 (DESIGN.md, invariant 1): they raise signals; the order size is the
// Decimal quote amount of the parameters.
#![allow(clippy::disallowed_types, clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::collections::VecDeque;

use domain::{candle::Candle, money::Quote, strategy::StrategyParams};

use super::{
    Action, Desire, Holding,
    params::{decimal, integer},
    show,
};
use crate::indicators::to_f64;

const NAME: &str = "breakdown_momentum";

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, PartialEq)]
pub struct MomentumParams {
    /// Bars forming the range.
    pub lookback: usize,
    /// Breakout volume must exceed the average volume times this.
    pub volume_multiplier: f64,
    /// Trailing exit distance, as a fraction of the best price.
    pub trailing: f64,
    /// Quote amount of each entry.
    pub quote: Quote,
}

/// What the last closed candle said.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Signal {
    Breakout { close: f64, range_high: f64, volume: f64, average_volume: f64 },
    TrailingStop { close: f64, best: f64 },
    Breakdown { close: f64, range_low: f64 },
}

/// The strategy with its range window.
#[derive(Debug, Clone, PartialEq)]
pub struct Momentum {
    params: MomentumParams,
    /// The previous candles: (high, low, volume).
    window: VecDeque<(f64, f64, f64)>,
    /// Best price since the entry, while holding.
    best: Option<f64>,
    /// The last close seen.
    last_close: Option<f64>,
    signal: Option<Signal>,
}

impl Momentum {
    /// A fresh strategy (its range fills over the first `lookback` candles).
    #[must_use]
    pub fn new(params: MomentumParams) -> Self {
        Self {
            window: VecDeque::with_capacity(params.lookback + 1),
            best: None,
            last_close: None,
            signal: None,
            params,
        }
    }

    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<Self, String> {
        let fraction = |d: rust_decimal::Decimal| to_f64(domain::money::Price::new(d));
        Ok(Self::new(MomentumParams {
            lookback: usize::try_from(integer(params, NAME, "lookback_bars")?).map_err(|e| e.to_string())?,
            volume_multiplier: fraction(decimal(params, NAME, "volume_multiplier")?),
            trailing: fraction(decimal(params, NAME, "trailing_stop_percent")?) / 100.0,
            quote: Quote::new(decimal(params, NAME, "order_quote_amount")?),
        }))
    }

    /// Candles needed before the first decision.
    #[must_use]
    pub const fn history_needed(&self) -> usize {
        self.params.lookback
    }

    /// Updates the range with a closed candle and notes what it says.
    pub fn on_candle(&mut self, candle: &Candle) {
        let (high, low, close, volume) = (
            to_f64(candle.high),
            to_f64(candle.low),
            to_f64(candle.close),
            to_f64(domain::money::Price::new(candle.volume.value())),
        );
        self.signal = None;
        self.last_close = Some(close);
        if let Some(best) = self.best.as_mut() {
            *best = best.max(high);
        }
        if self.window.len() == self.params.lookback {
            let range_high = self.window.iter().map(|w| w.0).fold(f64::MIN, f64::max);
            let range_low = self.window.iter().map(|w| w.1).fold(f64::MAX, f64::min);
            let average_volume = self.window.iter().map(|w| w.2).sum::<f64>() / self.window.len() as f64;
            self.signal = match self.best {
                Some(best) if close <= best * (1.0 - self.params.trailing) => {
                    Some(Signal::TrailingStop { close, best })
                }
                Some(_) if close < range_low => Some(Signal::Breakdown { close, range_low }),
                None if close > range_high && volume > average_volume * self.params.volume_multiplier => {
                    Some(Signal::Breakout { close, range_high, volume, average_volume })
                }
                _ => None,
            };
            self.window.pop_front();
        }
        self.window.push_back((high, low, volume));
    }

    /// A past candle: updates the range only.
    pub fn warm_up(&mut self, candle: &Candle) {
        self.on_candle(candle);
        self.signal = None;
    }

    /// The decision on the last closed candle. Each candle is decided once.
    pub fn desire(&mut self, holding: Holding) -> Option<Desire> {
        let held = !holding.qty.value().is_zero();
        // A position it did not see bought (a restart, a switch): trail from the last close.
        if held && self.best.is_none() {
            self.best = self.last_close;
        }
        let signal = self.signal.take()?;
        match signal {
            Signal::Breakout { close, range_high, volume, average_volume } if !held => Some(Desire {
                action: Action::Buy(self.params.quote),
                reason: format!(
                    "breakout: close {} above the {}-bar high {} on volume {}x its average",
                    show(close),
                    self.params.lookback,
                    show(range_high),
                    show(volume / average_volume)
                )
                .into(),
                signals: vec![("range_high", range_high.into()), ("volume_ratio", (volume / average_volume).into())],
            }),
            Signal::TrailingStop { close, best } if held => Some(Desire {
                action: Action::Sell(holding.qty),
                reason: format!(
                    "trailing stop: close {} is {}% or more below the best price {}",
                    show(close),
                    show(self.params.trailing * 100.0),
                    show(best)
                )
                .into(),
                signals: vec![("best_price", best.into())],
            }),
            Signal::Breakdown { close, range_low } if held => Some(Desire {
                action: Action::Sell(holding.qty),
                reason: format!(
                    "breakdown: close {} below the {}-bar low {}",
                    show(close),
                    self.params.lookback,
                    show(range_low)
                )
                .into(),
                signals: vec![("range_low", range_low.into())],
            }),
            _ => None,
        }
    }

    /// An entry was placed at `price`; a sale ends the trailing.
    pub fn placed(&mut self, action: Action, price: f64) {
        self.best = match action {
            Action::Buy(_) => Some(price),
            Action::Sell(_) | Action::Limit { .. } => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use domain::{
        money::{Price, Qty},
        time::Timestamp,
    };
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    fn bar(high: Decimal, low: Decimal, close: Decimal, volume: Decimal) -> Candle {
        Candle {
            open_time: Timestamp::from_millis(0),
            open: Price::new(close),
            high: Price::new(high),
            low: Price::new(low),
            close: Price::new(close),
            volume: Qty::new(volume),
        }
    }

    const FLAT: Holding = Holding { qty: Qty::ZERO, cost: Quote::ZERO };
    const HELD: Holding = Holding { qty: Qty::new(dec!(1)), cost: Quote::new(dec!(100)) };

    fn strategy() -> Momentum {
        Momentum::new(MomentumParams {
            lookback: 3,
            volume_multiplier: 1.5,
            trailing: 0.02,
            quote: Quote::new(dec!(20)),
        })
    }

    #[test]
    fn a_breakout_needs_volume_and_a_close_above_the_range() {
        let mut m = strategy();
        for _ in 0..3 {
            m.on_candle(&bar(dec!(101), dec!(99), dec!(100), dec!(10)));
        }
        m.on_candle(&bar(dec!(103), dec!(100), dec!(102), dec!(12)));
        assert_eq!(m.desire(FLAT), None, "above the range but on ordinary volume");
        m.on_candle(&bar(dec!(106), dec!(102), dec!(105), dec!(40)));
        let buy = m.desire(FLAT).unwrap();
        assert_eq!(buy.action, Action::Buy(Quote::new(dec!(20))));
        assert!(buy.reason.to_string().starts_with("breakout: close 105 above the 3-bar high 103"), "{}", buy.reason);
    }

    #[test]
    fn the_trailing_stop_follows_the_best_price() {
        let mut m = strategy();
        for _ in 0..3 {
            m.on_candle(&bar(dec!(101), dec!(99), dec!(100), dec!(10)));
        }
        m.placed(Action::Buy(Quote::new(dec!(20))), 100.0);
        m.on_candle(&bar(dec!(110), dec!(100), dec!(109), dec!(10)));
        assert_eq!(m.desire(HELD), None, "rising");
        m.on_candle(&bar(dec!(109), dec!(107), dec!(107.9), dec!(10)));
        assert_eq!(m.desire(HELD), None, "1.9 % off the best of 110");
        m.on_candle(&bar(dec!(108), dec!(107), dec!(107.8), dec!(10)));
        let sell = m.desire(HELD).unwrap();
        assert_eq!(sell.action, Action::Sell(Qty::new(dec!(1))));
        assert!(sell.reason.to_string().starts_with("trailing stop"), "{}", sell.reason);
    }
}
