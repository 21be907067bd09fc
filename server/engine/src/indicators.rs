//! Indicators over a stream of values. They compute in `f64` (fast, and exact enough for a
//! signal); their results are only compared with prices to raise signals, never turned into an
//! order size.
// Floats are allowed here and only here (DESIGN.md, money-safety invariant 1).
#![allow(clippy::float_arithmetic, clippy::disallowed_types, clippy::cast_precision_loss)]

use domain::money::Price;

/// Powers of ten a decimal's scale can reach.
const POW10: [f64; 29] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28,
];

/// A price as `f64`, for indicators: the mantissa over its power of ten (within a rounding
/// step of the exact value, and several times faster than a general conversion). A division,
/// not a multiplication by an inexact tenth, so every price converts to its nearest float and
/// a price on a threshold compares as written.
#[must_use]
pub fn to_f64(price: Price) -> f64 {
    let value = price.value();
    let scale = usize::try_from(value.scale()).unwrap_or(0).min(28);
    // The 96-bit mantissa as two halves: two hardware conversions instead of a software
    // 128-bit one (the sum is within a rounding step of the mantissa).
    let magnitude = value.mantissa().unsigned_abs();
    #[allow(clippy::cast_possible_truncation, reason = "a decimal's mantissa has 96 bits: both halves fit")]
    let (high, low) = ((magnitude >> 32) as u64, (magnitude & 0xFFFF_FFFF) as u32);
    let float = (high as f64 * 4_294_967_296.0 + f64::from(low)) / POW10[scale];
    if value.is_sign_negative() { -float } else { float }
}

/// Mean and population standard deviation of the last `period` values (as Bollinger bands
/// use them), updated in O(1) per value.
#[derive(Debug, Clone, PartialEq)]
pub struct RollingStats {
    /// Values less `shift`, which keeps the sums small and the variance exact.
    window: Vec<f64>,
    shift: Option<f64>,
    next: usize,
    filled: bool,
    sum: f64,
    sum_sq: f64,
    /// One over the window's length (a multiplication is faster than a division).
    inverse_len: f64,
}

/// The mean and variance of a full window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanVariance {
    /// The mean.
    pub mean: f64,
    /// The population variance.
    pub variance: f64,
}

impl MeanVariance {
    /// The population standard deviation (a square root: asked for only when needed).
    #[must_use]
    pub fn sd(&self) -> f64 {
        self.variance.sqrt()
    }
}

impl RollingStats {
    /// Statistics over the last `period` values (`period` at least 1).
    #[must_use]
    pub fn new(period: usize) -> Self {
        let len = period.max(1);
        let inverse_len = 1.0 / len as f64;
        Self { window: vec![0.0; len], shift: None, next: 0, filled: false, sum: 0.0, sum_sq: 0.0, inverse_len }
    }

    /// Adds a value; the statistics once the window is full.
    // Inlined: returned through memory, the two halves of the result stall the caller's load.
    #[inline]
    pub fn push(&mut self, value: f64) -> Option<MeanVariance> {
        let shift = *self.shift.get_or_insert(value);
        let value = value - shift;
        let old = std::mem::replace(&mut self.window[self.next], value);
        self.sum += value - old;
        self.sum_sq += value * value - old * old;
        self.next += 1;
        if self.next == self.window.len() {
            self.next = 0;
            self.filled = true;
            // Re-sum once per lap so rounding errors cannot accumulate.
            self.sum = self.window.iter().sum();
            self.sum_sq = self.window.iter().map(|v| v * v).sum();
        }
        if !self.filled {
            return None;
        }
        let mean = self.sum * self.inverse_len;
        let variance = (self.sum_sq * self.inverse_len - mean * mean).max(0.0);
        Some(MeanVariance { mean: mean + shift, variance })
    }
}

/// Wilder's relative strength index.
#[derive(Debug, Clone, PartialEq)]
pub struct Rsi {
    period: f64,
    previous: Option<f64>,
    seen: usize,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// An RSI over `period` changes (`period` at least 1).
    #[must_use]
    pub fn new(period: usize) -> Self {
        Self { period: period.max(1) as f64, previous: None, seen: 0, gain: 0.0, loss: 0.0 }
    }

    /// Adds a close; the RSI (0 to 100) once `period` changes have been seen.
    pub fn push(&mut self, close: f64) -> Option<f64> {
        let previous = self.previous.replace(close)?;
        let change = close - previous;
        let (up, down) = (change.max(0.0), (-change).max(0.0));
        self.seen += 1;
        if (self.seen as f64) <= self.period {
            // The first average is a plain mean of the first `period` changes.
            self.gain += up / self.period;
            self.loss += down / self.period;
        } else {
            self.gain = (self.gain * (self.period - 1.0) + up) / self.period;
            self.loss = (self.loss * (self.period - 1.0) + down) / self.period;
        }
        if (self.seen as f64) < self.period {
            return None;
        }
        Some(if self.loss == 0.0 { 100.0 } else { 100.0 - 100.0 / (1.0 + self.gain / self.loss) })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn prices_convert_to_the_nearest_float_or_next_to_it() {
        for (text, expected) in
            [("29954.75", 29_954.75), ("0.00001234", 0.000_012_34), ("100", 100.0), ("1e-28", 1e-28)]
        {
            let price = Price::new(rust_decimal::Decimal::from_scientific(text).or_else(|_| text.parse()).unwrap());
            let got = to_f64(price);
            assert!((got - expected).abs() <= expected * 2.0 * f64::EPSILON, "{text}: {got}");
        }
    }

    #[test]
    fn rolling_stats_match_the_textbook_over_the_window() {
        let mut stats = RollingStats::new(4);
        assert_eq!(stats.push(2.0), None);
        stats.push(4.0);
        stats.push(4.0);
        let full = stats.push(4.0).unwrap();
        assert!((full.mean - 3.5).abs() < 1e-12 && (full.sd() - 0.75_f64.sqrt()).abs() < 1e-12);
        // The window slides: [4, 4, 4, 5].
        let slid = stats.push(5.0).unwrap();
        assert!((slid.mean - 4.25).abs() < 1e-12);
    }

    #[test]
    fn rsi_is_100_when_prices_only_rise_and_low_when_they_fall() {
        let mut rsi = Rsi::new(3);
        let rising: Vec<Option<f64>> = [1.0, 2.0, 3.0, 4.0, 5.0].iter().map(|&c| rsi.push(c)).collect();
        assert_eq!(rising[..3], [None, None, None]);
        assert_eq!(rising[3], Some(100.0));
        let mut rsi = Rsi::new(3);
        let last = [10.0, 9.0, 8.0, 7.5, 7.0, 7.2].iter().filter_map(|&c| rsi.push(c)).last().unwrap();
        assert!(last < 30.0, "{last}");
    }

    proptest! {
        /// Every decimal, up to the largest mantissa, converts to the nearest float.
        #[test]
        fn every_decimal_converts_to_its_nearest_float(mantissa in -(1i128 << 96) + 1..(1i128 << 96), scale in 0u32..=28) {
            let value = rust_decimal::Decimal::from_i128_with_scale(mantissa, scale);
            let expected: f64 = value.to_string().parse().unwrap();
            let got = to_f64(Price::new(value));
            prop_assert!((got - expected).abs() <= expected.abs() * 2.0 * f64::EPSILON, "{value}: {got} vs {expected}");
        }

        /// However long the stream, the rolling figures equal a direct computation.
        #[test]
        fn rolling_stats_never_drift(values in proptest::collection::vec(20_000.0f64..70_000.0, 30..3_000), period in 2usize..30) {
            let mut stats = RollingStats::new(period);
            let mut last = None;
            for &v in &values {
                last = stats.push(v);
            }
            let window = &values[values.len() - period..];
            let mean = window.iter().sum::<f64>() / period as f64;
            let sd = (window.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / period as f64).sqrt();
            let got = last.unwrap();
            prop_assert!((got.mean - mean).abs() < 1e-6 * mean);
            prop_assert!((got.sd() - sd).abs() < 1e-3 + 1e-6 * sd, "sd {} vs {}", got.sd(), sd);
        }
    }
}
