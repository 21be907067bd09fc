//! Risk stops, checked on every mark of a running bot: the per-trade stop loss (percentage of
//! the entry or absolute loss), the drawdown limit from the equity peak (percentage or
//! absolute), and the daily and weekly loss limits (UTC calendar days and Monday-to-Sunday
//! weeks). A trip pauses the bot with an alert; a stop loss first sells the position. A paused
//! bot buys nothing until a person starts it, which re-arms the guard from the equity then.

use domain::{alert::AlertKind, bot::RiskLimits, time::Timestamp};
use rust_decimal::Decimal;

use crate::bot::PnlMark;

const DAY_MS: i64 = 86_400_000;

/// A risk stop that tripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip {
    /// The alert it raises.
    pub kind: AlertKind,
    /// Whether the position is sold (a stop loss) before the bot pauses.
    pub sell_position: bool,
    /// What happened, for a person.
    pub reason: String,
}

/// The equity at the start of the current period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Day (or week) number since the epoch.
    pub index: i64,
    /// Equity when the period began.
    pub start_equity: Decimal,
}

/// What the guard remembers, to be stored so that a restart cannot reset the stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuardMemory {
    /// The equity peak the drawdown counts from.
    pub peak: Decimal,
    /// The current UTC day.
    pub day: Option<Period>,
    /// The current week.
    pub week: Option<Period>,
}

impl Period {
    /// The loss since the period began, moving to a new period (from `equity`) when `index`
    /// changed.
    fn loss(period: &mut Option<Self>, index: i64, equity: Decimal) -> Decimal {
        let current = period.filter(|p| p.index == index).unwrap_or(Self { index, start_equity: equity });
        *period = Some(current);
        current.start_equity - equity
    }
}

/// A bot's risk stops with what they remember (the equity peak, the period starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskGuard {
    limits: RiskLimits,
    peak: Decimal,
    day: Option<Period>,
    week: Option<Period>,
}

fn percent_of(value: Decimal, percent: Decimal) -> Decimal {
    value * percent / Decimal::ONE_HUNDRED
}

impl RiskGuard {
    /// A guard for `limits`, with the equity peak starting at `equity` (the budget, or the
    /// wallet's value when rebuilt), or at what a stored `memory` says.
    #[must_use]
    pub fn new(limits: RiskLimits, equity: Decimal, memory: Option<GuardMemory>) -> Self {
        match memory {
            Some(m) => Self { limits, peak: m.peak.max(equity), day: m.day, week: m.week },
            None => Self { limits, peak: equity, day: None, week: None },
        }
    }

    /// What the guard remembers now.
    #[must_use]
    pub const fn memory(&self) -> GuardMemory {
        GuardMemory { peak: self.peak, day: self.day, week: self.week }
    }

    /// Whether any stop is configured (a guard without one checks nothing).
    #[must_use]
    pub const fn is_armed(&self) -> bool {
        let l = &self.limits;
        l.stop_loss_percent.is_some()
            || l.stop_loss_absolute.is_some()
            || l.drawdown_limit_percent.is_some()
            || l.drawdown_limit_absolute.is_some()
            || l.daily_loss_limit.is_some()
            || l.weekly_loss_limit.is_some()
    }

    /// A person started the bot again: the peak and the periods start from `equity`.
    pub fn rearm(&mut self, equity: Decimal) {
        self.peak = equity;
        self.day = None;
        self.week = None;
    }

    /// Checks `mark` taken at `now`; the first stop it trips, if any.
    pub fn check(&mut self, now: Timestamp, mark: &PnlMark) -> Option<Trip> {
        let equity = mark.equity.value();
        self.peak = self.peak.max(equity);
        let days = now.millis().div_euclid(DAY_MS);
        // 1970-01-01 was a Thursday: shifting by three days makes weeks start on Mondays.
        let (daily_loss, weekly_loss) =
            (Period::loss(&mut self.day, days, equity), Period::loss(&mut self.week, (days + 3).div_euclid(7), equity));
        let l = &self.limits;
        let holding = !mark.holdings.value().is_zero();
        let entry = mark.entry_price().value();
        let position_loss = -mark.unrealized.value();
        if holding && let Some(pct) = l.stop_loss_percent {
            let stop = entry - percent_of(entry, pct.value());
            if mark.price.value() <= stop {
                let reason = format!(
                    "stop loss: {} is {pct}% or more below the entry {}",
                    mark.price,
                    entry.round_dp(8).normalize()
                );
                return Some(Trip { kind: AlertKind::LossLimit, sell_position: true, reason });
            }
        }
        if holding
            && let Some(limit) = l.stop_loss_absolute
            && position_loss >= limit.value()
        {
            let reason =
                format!("stop loss: the position is down {} (limit {limit})", position_loss.round_dp(8).normalize());
            return Some(Trip { kind: AlertKind::LossLimit, sell_position: true, reason });
        }
        let drawdown = self.peak - equity;
        let over_percent = l
            .drawdown_limit_percent
            .is_some_and(|p| self.peak > Decimal::ZERO && drawdown * Decimal::ONE_HUNDRED >= p.value() * self.peak);
        let over_absolute = l.drawdown_limit_absolute.is_some_and(|a| drawdown >= a.value());
        if over_percent || over_absolute {
            let reason = format!(
                "drawdown limit: equity {} is {} below its peak {}",
                equity.round_dp(8).normalize(),
                drawdown.round_dp(8).normalize(),
                self.peak.round_dp(8).normalize()
            );
            return Some(Trip { kind: AlertKind::DrawdownLimit, sell_position: false, reason });
        }
        for (limit, loss, period) in
            [(l.daily_loss_limit, daily_loss, "daily"), (l.weekly_loss_limit, weekly_loss, "weekly")]
        {
            if let Some(limit) = limit
                && loss >= limit.value()
            {
                let reason = format!(
                    "{period} loss limit: down {} this {} (limit {limit})",
                    loss.round_dp(8),
                    if period == "daily" { "day" } else { "week" }
                );
                return Some(Trip { kind: AlertKind::LossLimit, sell_position: false, reason });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use domain::money::{Percent, Price, Qty, Quote};
    use rust_decimal_macros::dec;

    use super::*;

    /// A mark of 1 BTC bought at 100 (budget 1000) at `price`.
    fn mark(price: Decimal) -> PnlMark {
        let unrealized = price - dec!(100);
        PnlMark {
            price: Price::new(price),
            holdings: Qty::new(dec!(1)),
            cost: Quote::new(dec!(100)),
            unrealized: Quote::new(unrealized),
            realized: Quote::ZERO,
            total: Quote::new(unrealized),
            equity: Quote::new(dec!(1000) + unrealized),
        }
    }

    fn guard(limits: RiskLimits) -> RiskGuard {
        RiskGuard::new(limits, dec!(1000), None)
    }

    const NOON: Timestamp = Timestamp::from_millis(12 * 3_600_000);

    #[test]
    fn a_percentage_stop_loss_sells_and_an_absolute_one_counts_the_position_loss() {
        let mut g = guard(RiskLimits { stop_loss_percent: Some(Percent::new(dec!(5))), ..RiskLimits::default() });
        assert_eq!(g.check(NOON, &mark(dec!(95.01))), None);
        let trip = g.check(NOON, &mark(dec!(95))).unwrap();
        assert!(trip.sell_position && trip.kind == AlertKind::LossLimit, "{trip:?}");
        let mut g = guard(RiskLimits { stop_loss_absolute: Some(Quote::new(dec!(7))), ..RiskLimits::default() });
        assert_eq!(g.check(NOON, &mark(dec!(93.5))), None);
        assert!(g.check(NOON, &mark(dec!(93))).unwrap().reason.starts_with("stop loss: the position is down 7"));
    }

    #[test]
    fn the_drawdown_counts_from_the_peak_and_rearming_resets_it() {
        let limits = RiskLimits { drawdown_limit_percent: Some(Percent::new(dec!(2))), ..RiskLimits::default() };
        let mut g = guard(limits);
        assert_eq!(g.check(NOON, &mark(dec!(150))), None, "a new peak of 1050");
        assert_eq!(g.check(NOON, &mark(dec!(130))), None, "1030 is 1.9 % below");
        let trip = g.check(NOON, &mark(dec!(129))).unwrap();
        assert_eq!((trip.kind, trip.sell_position), (AlertKind::DrawdownLimit, false));
        g.rearm(dec!(1029));
        assert_eq!(g.check(NOON, &mark(dec!(129))), None);
    }

    #[test]
    fn a_guard_rebuilt_from_its_memory_keeps_counting() {
        let limits = RiskLimits { daily_loss_limit: Some(Quote::new(dec!(10))), ..RiskLimits::default() };
        let mut g = guard(limits.clone());
        let noon = Timestamp::from_millis(4 * DAY_MS + 12 * 3_600_000);
        assert_eq!(g.check(noon, &mark(dec!(100))), None);
        assert_eq!(g.check(noon, &mark(dec!(92))), None, "down 8 today");
        // A restart: the day's start is remembered, so 2 more trips the limit.
        let mut rebuilt = RiskGuard::new(limits, dec!(992), Some(g.memory()));
        assert!(rebuilt.check(noon, &mark(dec!(90))).is_some());
    }

    #[test]
    fn loss_limits_follow_utc_days_and_monday_weeks() {
        let limits = RiskLimits {
            daily_loss_limit: Some(Quote::new(dec!(10))),
            weekly_loss_limit: Some(Quote::new(dec!(15))),
            ..RiskLimits::default()
        };
        let mut g = guard(limits);
        let day = |d: i64| Timestamp::from_millis(d * DAY_MS + 3_600_000);
        // 1970-01-05 (day 4) was a Monday.
        assert_eq!(g.check(day(4), &mark(dec!(100))), None);
        assert_eq!(g.check(day(4), &mark(dec!(91))), None, "down 9 today");
        assert_eq!(g.check(day(5), &mark(dec!(91))), None, "a new day starts at 991");
        let weekly = g.check(day(5), &mark(dec!(85))).unwrap();
        assert!(weekly.reason.starts_with("weekly loss limit: down 15"), "{weekly:?}");
        let mut g = guard(RiskLimits { daily_loss_limit: Some(Quote::new(dec!(10))), ..RiskLimits::default() });
        g.check(day(11), &mark(dec!(100)));
        assert!(g.check(day(11), &mark(dec!(90))).unwrap().reason.starts_with("daily loss limit: down 10"));
    }
}
