//! Mean Reversion: buy when a candle closes below the lower Bollinger band (or below a z-score
//! threshold), optionally only while RSI is oversold; sell the position when a candle closes
//! above the middle band. Decisions are taken on closed candles only.
// Indicator values are f64 (DESIGN.md, invariant 1): they raise signals; the order size is the
// Decimal quote amount of the parameters.
#![allow(clippy::disallowed_types, clippy::float_arithmetic)]

use domain::{candle::Candle, money::Quote, strategy::StrategyParams};

use super::{
    Action, Desire, Holding,
    params::{boolean, decimal, integer, text},
};
use crate::{
    indicators::{MeanVariance, RollingStats, Rsi, to_f64},
    intent::Reason,
};

const NAME: &str = "mean_reversion";

/// When to enter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Entry {
    /// Close below mean - `k` standard deviations.
    Bollinger(f64),
    /// Z-score of the close below -`threshold`.
    ZScore(f64),
}

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanReversionParams {
    /// Bars of the moving average.
    pub period: usize,
    /// Entry rule.
    pub entry: Entry,
    /// RSI filter: period and oversold level.
    pub rsi: Option<(usize, f64)>,
    /// Quote amount of each entry.
    pub quote: Quote,
}

/// What the last closed candle said.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    close: f64,
    bands: MeanVariance,
    rsi: Option<f64>,
    enter: bool,
    exit: bool,
}

/// The strategy with its indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanReversion {
    params: MeanReversionParams,
    bands: RollingStats,
    rsi: Option<Rsi>,
    /// The reading of the last closed candle, until a decision consumes it.
    reading: Option<Reading>,
}

fn positive_f64(value: rust_decimal::Decimal) -> f64 {
    to_f64(domain::money::Price::new(value))
}

impl MeanReversion {
    /// A fresh strategy (its indicators warm up over the first `period` candles).
    #[must_use]
    pub fn new(params: MeanReversionParams) -> Self {
        let rsi = params.rsi.map(|(period, _)| Rsi::new(period));
        Self { bands: RollingStats::new(params.period), rsi, reading: None, params }
    }

    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<Self, String> {
        let period = usize::try_from(integer(params, NAME, "period")?).map_err(|e| e.to_string())?;
        let entry = match text(params, NAME, "entry_mode")? {
            "zscore" => Entry::ZScore(positive_f64(decimal(params, NAME, "zscore_entry")?)),
            _ => Entry::Bollinger(positive_f64(decimal(params, NAME, "std_dev")?)),
        };
        let rsi = if boolean(params, NAME, "rsi_filter")? {
            let rsi_period = usize::try_from(integer(params, NAME, "rsi_period")?).map_err(|e| e.to_string())?;
            Some((rsi_period, positive_f64(decimal(params, NAME, "rsi_oversold")?)))
        } else {
            None
        };
        let quote = Quote::new(decimal(params, NAME, "order_quote_amount")?);
        Ok(Self::new(MeanReversionParams { period, entry, rsi, quote }))
    }

    /// Updates the indicators with a closed candle and notes what it says.
    pub fn on_candle(&mut self, candle: &Candle) {
        let close = to_f64(candle.close);
        let rsi = self.rsi.as_mut().and_then(|r| r.push(close));
        let Some(bands) = self.bands.push(close) else { return };
        // `close < mean - k sd`, squared: the square root waits until a decision is taken.
        let under = bands.mean - close;
        let (k, needs_spread) = match self.params.entry {
            Entry::Bollinger(k) => (k, false),
            Entry::ZScore(t) => (t, true),
        };
        let below = under > 0.0 && under * under > k * k * bands.variance && (!needs_spread || bands.variance > 0.0);
        let oversold = match (self.params.rsi, rsi) {
            (None, _) => true,
            (Some((_, level)), Some(value)) => value < level,
            (Some(_), None) => false,
        };
        self.reading = Some(Reading { close, bands, rsi, enter: below && oversold, exit: close > bands.mean });
    }

    /// A past candle: updates the indicators only.
    pub fn warm_up(&mut self, candle: &Candle) {
        self.on_candle(candle);
        self.reading = None;
    }

    /// Candles needed before the first decision.
    #[must_use]
    pub fn history_needed(&self) -> usize {
        self.params.period.max(self.params.rsi.map_or(0, |(period, _)| period + 1))
    }

    /// The decision on the last closed candle: exit a held position above the middle band,
    /// enter a flat one below the lower band. Each candle is decided once.
    pub fn desire(&mut self, holding: Holding) -> Option<Desire> {
        let reading = self.reading.take()?;
        let held = !holding.qty.value().is_zero();
        if !(held && reading.exit || !held && reading.enter) {
            return None;
        }
        let (mean, sd) = (reading.bands.mean, reading.bands.sd());
        let z = if sd > 0.0 { (reading.close - mean) / sd } else { 0.0 };
        let k = match self.params.entry {
            Entry::Bollinger(k) | Entry::ZScore(k) => k,
        };
        let lower = mean - k * sd;
        let (action, reason) = if held && reading.exit {
            let values = vec![reading.close.into(), mean.into()];
            (Action::Sell(holding.qty), Reason::Template("exit: close {} above the middle band {}", values))
        } else {
            let reason = match self.params.entry {
                Entry::Bollinger(_) => Reason::Template(
                    "entry: close {} below the lower band {}",
                    vec![reading.close.into(), lower.into()],
                ),
                Entry::ZScore(t) => Reason::Template(
                    "entry: close {} z-score {} below -{}",
                    vec![reading.close.into(), z.into(), t.into()],
                ),
            };
            (Action::Buy(self.params.quote), reason)
        };
        let mut signals = Vec::with_capacity(5);
        signals.extend([("middle_band", mean.into()), ("lower_band", lower.into()), ("z_score", z.into())]);
        if let Some(rsi) = reading.rsi {
            signals.push(("rsi", rsi.into()));
        }
        Some(Desire { action, reason, signals })
    }
}

#[cfg(test)]
mod tests {
    use domain::{
        money::{Price, Qty},
        strategy::{StrategyDefaults, StrategyId, validate_params},
        time::Timestamp,
    };
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    fn candle(close: Decimal) -> Candle {
        let p = Price::new(close);
        Candle { open_time: Timestamp::from_millis(0), open: p, high: p, low: p, close: p, volume: Qty::new(dec!(1)) }
    }

    const FLAT: Holding = Holding { qty: Qty::ZERO, cost: Quote::ZERO };

    fn strategy(entry: Entry, rsi: Option<(usize, f64)>) -> MeanReversion {
        MeanReversion::new(MeanReversionParams { period: 5, entry, rsi, quote: Quote::new(dec!(20)) })
    }

    #[test]
    fn reads_the_schema_defaults() {
        let validated =
            validate_params(StrategyId::MeanReversion, &Default::default(), &StrategyDefaults::new()).unwrap();
        let mr = MeanReversion::from_params(&validated).unwrap();
        assert_eq!(
            mr.params,
            MeanReversionParams { period: 20, entry: Entry::Bollinger(2.0), rsi: None, quote: Quote::new(dec!(20)) }
        );
    }

    #[test]
    fn buys_below_the_lower_band_and_sells_above_the_middle() {
        let mut mr = strategy(Entry::Bollinger(1.0), None);
        for close in [dec!(100), dec!(101), dec!(99), dec!(100), dec!(100)] {
            mr.on_candle(&candle(close));
            assert_eq!(mr.desire(FLAT), None, "inside the bands");
        }
        mr.on_candle(&candle(dec!(95)));
        let buy = mr.desire(FLAT).unwrap();
        assert_eq!(buy.action, Action::Buy(Quote::new(dec!(20))));
        assert!(buy.reason.to_string().starts_with("entry: close 95"), "{}", buy.reason);
        assert_eq!(mr.desire(FLAT), None, "each candle is decided once");
        let held = Holding { qty: Qty::new(dec!(0.2)), cost: Quote::new(dec!(19)) };
        mr.on_candle(&candle(dec!(97)));
        assert_eq!(mr.desire(held), None, "still below the middle band");
        mr.on_candle(&candle(dec!(104)));
        assert_eq!(mr.desire(held).unwrap().action, Action::Sell(Qty::new(dec!(0.2))));
    }

    #[test]
    fn the_rsi_filter_and_z_scores_gate_entries() {
        // A sharp fall after a rise: below the band, but RSI(3) has not reached 5.
        let mut filtered = strategy(Entry::Bollinger(1.0), Some((3, 5.0)));
        let mut plain = strategy(Entry::ZScore(1.5), None);
        for close in [dec!(100), dec!(102), dec!(104), dec!(106), dec!(108), dec!(96)] {
            filtered.on_candle(&candle(close));
            plain.on_candle(&candle(close));
        }
        assert_eq!(filtered.desire(FLAT), None);
        let buy = plain.desire(FLAT).unwrap();
        assert!(buy.reason.to_string().contains("z-score"), "{}", buy.reason);
        assert!(buy.signals.iter().any(|(name, _)| *name == "z_score"));
    }
}
