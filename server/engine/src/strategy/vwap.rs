//! VWAP: buy or sell a target base amount over a period along the market's intraday volume
//! profile. The profile (each UTC hour's share of a day's volume) is learnt from the last
//! `profile_days` of hourly candles; each closed minute of the period the schedule says how
//! much should be done by then, and the shortfall is traded, never more than the participation
//! cap of that minute's market volume. Without a profile (a backtest, a venue with no history)
//! the schedule is even, as TWAP's. Progress is counted from the bot's own fills, so a restart
//! continues; the period restarts from the restart.

// The profile is f64 (a schedule's shape); quantities are Decimal, rounded by risk approval.
#![allow(clippy::disallowed_types, clippy::float_arithmetic, clippy::cast_precision_loss)]

use domain::{
    candle::Candle,
    money::{Price, Qty, Quote},
    order::Side,
    strategy::StrategyParams,
    time::Timestamp,
};
use rust_decimal::{Decimal, prelude::FromPrimitive};

use super::{
    Action, Desire, Holding,
    params::{decimal, integer, text},
    show,
};
use crate::indicators::to_f64;

const NAME: &str = "vwap";
const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VwapParams {
    /// Buy or sell.
    pub side: Side,
    /// Base amount in total.
    pub target: Qty,
    /// Length of the period.
    pub duration_ms: i64,
    /// Largest share of a minute's market volume traded in it.
    pub participation: Decimal,
    /// Days of hourly history the profile is learnt from.
    pub profile_days: u32,
}

/// The strategy with its profile and progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Vwap {
    params: VwapParams,
    /// Volume per UTC hour of the day, summed over the history.
    hourly: [f64; 24],
    executed: Qty,
    /// When the period started (the first candle the bot ran on).
    start: Option<Timestamp>,
    /// The last closed minute's market volume and close time.
    minute: Option<(Qty, Timestamp)>,
    /// Share of the period's weight before each elapsed minute (built at the first decision).
    schedule: Vec<f64>,
}

fn hour_of_day(at: Timestamp) -> usize {
    usize::try_from(at.millis().rem_euclid(24 * HOUR_MS) / HOUR_MS).unwrap_or(0)
}

impl Vwap {
    /// A VWAP that has executed `executed` of its target already.
    #[must_use]
    pub const fn new(params: VwapParams, executed: Qty) -> Self {
        Self { params, hourly: [0.0; 24], executed, start: None, minute: None, schedule: Vec::new() }
    }

    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<VwapParams, String> {
        Ok(VwapParams {
            side: if text(params, NAME, "side")? == "sell" { Side::Sell } else { Side::Buy },
            target: Qty::new(decimal(params, NAME, "target_amount")?),
            duration_ms: integer(params, NAME, "duration_minutes")?.saturating_mul(MINUTE_MS),
            participation: decimal(params, NAME, "participation_cap_percent")? / Decimal::ONE_HUNDRED,
            profile_days: u32::try_from(integer(params, NAME, "profile_days")?).map_err(|e| e.to_string())?,
        })
    }

    /// The side it trades.
    #[must_use]
    pub const fn side(&self) -> Side {
        self.params.side
    }

    /// Hourly candles of history wanted for the profile.
    #[must_use]
    pub const fn history_hours(&self) -> usize {
        self.params.profile_days as usize * 24
    }

    /// An hourly candle of history: its volume counts towards its hour of the day.
    pub fn learn(&mut self, hourly: &Candle) {
        self.hourly[hour_of_day(hourly.open_time)] += to_f64(Price::new(hourly.volume.value()));
    }

    /// Counts a fill on the strategy's side.
    pub fn executed(&mut self, qty: Qty) {
        self.executed = Qty::new(self.executed.value() + qty.value());
    }

    /// A closed one-minute candle of the period.
    pub fn on_candle(&mut self, candle: &Candle) {
        let closed_at = Timestamp::from_millis(candle.open_time.millis() + MINUTE_MS);
        self.start.get_or_insert(candle.open_time);
        self.minute = Some((candle.volume, closed_at));
    }

    /// The share of the whole period's weight that lies before `at` (0 to 1).
    fn scheduled(&mut self, start: Timestamp, at: Timestamp) -> f64 {
        let minutes = (self.params.duration_ms / MINUTE_MS).max(1);
        if self.schedule.is_empty() {
            let even = self.hourly.iter().all(|h| *h == 0.0);
            let weights: Vec<f64> = (0..minutes)
                .map(|m| {
                    if even {
                        1.0
                    } else {
                        self.hourly[hour_of_day(Timestamp::from_millis(start.millis() + m * MINUTE_MS))]
                    }
                })
                .collect();
            let total: f64 = weights.iter().sum();
            let mut done = 0.0;
            self.schedule.push(0.0);
            for w in weights {
                done += w;
                self.schedule.push(if total > 0.0 { done / total } else { 1.0 });
            }
        }
        let elapsed = usize::try_from(((at.millis() - start.millis()) / MINUTE_MS).clamp(0, minutes)).unwrap_or(0);
        self.schedule.get(elapsed).copied().unwrap_or(1.0)
    }

    /// The shortfall against the schedule after the last closed minute, within the cap.
    pub fn desire(&mut self, price: Price, holding: Holding) -> Option<Desire> {
        let (volume, closed_at) = self.minute.take()?;
        let start = self.start?;
        let share = self.scheduled(start, closed_at);
        // The schedule's share becomes a Decimal, rounded, before it sizes anything; a share
        // that cannot be read asks for nothing.
        let share_decimal =
            Decimal::from_f64(share).map_or(Decimal::ZERO, |d| d.round_dp(12).clamp(Decimal::ZERO, Decimal::ONE));
        let due = self.params.target.value() * share_decimal;
        let shortfall = (due - self.executed.value()).max(Decimal::ZERO);
        let mut qty = shortfall.min(volume.value() * self.params.participation);
        if self.params.side == Side::Sell {
            qty = qty.min(holding.qty.value());
        }
        if qty <= Decimal::ZERO {
            return None;
        }
        let qty = qty.round_dp(8);
        let reason = format!(
            "vwap: {} due by now ({}% of the period's volume), {} done; {qty} now (cap {}% of {volume})",
            due.round_dp(8),
            show(share * 100.0),
            self.executed,
            (self.params.participation * Decimal::ONE_HUNDRED).normalize()
        );
        let action = match self.params.side {
            Side::Buy => Action::Buy(Quote::new(qty * price.value())),
            Side::Sell => Action::Sell(Qty::new(qty)),
        };
        Some(Desire { action, reason: reason.into(), signals: vec![("scheduled_share", share.into())] })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn vwap(profile: bool) -> Vwap {
        let params = VwapParams {
            side: Side::Buy,
            target: Qty::new(dec!(1)),
            duration_ms: 2 * HOUR_MS,
            participation: dec!(0.5),
            profile_days: 1,
        };
        let mut v = Vwap::new(params, Qty::ZERO);
        if profile {
            // Hour 0 trades three times as much as hour 1.
            for (hour, volume) in [(0, dec!(30)), (1, dec!(10))] {
                v.learn(&bar(hour * 60, volume));
            }
        }
        v
    }

    fn bar(minute: i64, volume: Decimal) -> Candle {
        let p = Price::new(dec!(100));
        Candle {
            open_time: Timestamp::from_millis(minute * MINUTE_MS),
            open: p,
            high: p,
            low: p,
            close: p,
            volume: Qty::new(volume),
        }
    }

    const FLAT: Holding = Holding { qty: Qty::ZERO, cost: Quote::ZERO };

    #[test]
    fn the_schedule_follows_the_volume_profile() {
        let mut v = vwap(true);
        v.on_candle(&bar(0, dec!(100)));
        // After the first of 120 minutes: 3 / (60 * 3 + 60 * 1) of the target is due.
        let first = v.desire(Price::new(dec!(100)), FLAT).unwrap();
        assert_eq!(first.action, Action::Buy(Quote::new(dec!(1.25))), "{}", first.reason);
        let mut even = vwap(false);
        even.on_candle(&bar(0, dec!(100)));
        let Some(Desire { action: Action::Buy(quote), .. }) = even.desire(Price::new(dec!(100)), FLAT) else {
            panic!()
        };
        assert_eq!(quote.value().round_dp(6), dec!(0.833333), "1/120 without a profile");
    }

    #[test]
    fn participation_caps_a_minute_and_progress_counts() {
        let mut v = vwap(false);
        v.on_candle(&bar(0, dec!(100)));
        v.executed(Qty::new(dec!(0.2)));
        for minute in 1..59 {
            v.on_candle(&bar(minute, dec!(100)));
        }
        // Half the period later 0.5 is due; 0.2 is done; the minute traded only 0.4.
        v.on_candle(&bar(59, dec!(0.4)));
        let capped = v.desire(Price::new(dec!(100)), FLAT).unwrap();
        assert_eq!(capped.action, Action::Buy(Quote::new(dec!(20))), "{}", capped.reason);
        assert_eq!(v.desire(Price::new(dec!(100)), FLAT), None, "one decision per minute");
    }
}
