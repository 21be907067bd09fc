//! Kelly position sizing from the bot's own realised record: the fraction of the free budget
//! a buy may use is half the Kelly fraction `W - (1 - W) / R` (W the win rate, R the average
//! win over the average loss), capped at a quarter of the free budget. Until the bot has
//! closed enough sales to measure, the strategy's own amount stands. Sizing only ever
//! shrinks a buy; the virtual wallet still approves it.

use domain::money::Quote;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// Sales needed before the record sizes buys.
pub const MIN_SALES: u32 = 20;
/// Share of the Kelly fraction used (half Kelly).
const FRACTION: Decimal = dec!(0.5);
/// Largest share of the free budget one buy may take.
const CAP: Decimal = dec!(0.25);

/// A bot's realised record of closed sales.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Record {
    wins: u32,
    losses: u32,
    won: Decimal,
    lost: Decimal,
}

impl Record {
    /// Counts a closed sale with its realised result.
    pub fn sale(&mut self, realized: Decimal) {
        if realized > Decimal::ZERO {
            self.wins += 1;
            self.won += realized;
        } else {
            self.losses += 1;
            self.lost -= realized;
        }
    }

    /// The Kelly fraction (before halving and the cap), once enough sales are known.
    #[must_use]
    pub fn kelly(&self) -> Option<Decimal> {
        let sales = self.wins + self.losses;
        if sales < MIN_SALES {
            return None;
        }
        let win_rate = Decimal::from(self.wins) / Decimal::from(sales);
        if self.losses == 0 || self.lost.is_zero() {
            return Some(Decimal::ONE);
        }
        if self.wins == 0 || self.won.is_zero() {
            return Some(Decimal::ZERO);
        }
        let ratio = (self.won / Decimal::from(self.wins)) / (self.lost / Decimal::from(self.losses));
        Some(win_rate - (Decimal::ONE - win_rate) / ratio)
    }

    /// The buy size for a strategy asking `desired` with `free` budget: the desired amount
    /// until the record is long enough, then at most the capped half-Kelly share of `free`.
    #[must_use]
    pub fn size(&self, desired: Quote, free: Quote) -> Quote {
        let Some(kelly) = self.kelly() else { return desired };
        let share = (kelly * FRACTION).clamp(Decimal::ZERO, CAP);
        Quote::new(desired.value().min(free.value() * share))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(wins: u32, win: Decimal, losses: u32, loss: Decimal) -> Record {
        let mut r = Record::default();
        for _ in 0..wins {
            r.sale(win);
        }
        for _ in 0..losses {
            r.sale(-loss);
        }
        r
    }

    #[test]
    fn the_strategy_amount_stands_until_enough_sales() {
        let r = record(10, dec!(2), 9, dec!(1));
        assert_eq!(r.kelly(), None);
        assert_eq!(r.size(Quote::new(dec!(50)), Quote::new(dec!(1000))), Quote::new(dec!(50)));
    }

    #[test]
    fn a_good_record_caps_the_buy_and_a_bad_one_stops_it() {
        // W = 0.6, R = 2: Kelly = 0.6 - 0.4 / 2 = 0.4; half of it is 0.2 of the free budget.
        let good = record(12, dec!(2), 8, dec!(1));
        assert_eq!(good.kelly(), Some(dec!(0.4)));
        assert_eq!(good.size(Quote::new(dec!(500)), Quote::new(dec!(1000))), Quote::new(dec!(200)));
        assert_eq!(good.size(Quote::new(dec!(50)), Quote::new(dec!(1000))), Quote::new(dec!(50)), "only shrinks");
        // W = 0.25, R = 1: Kelly is negative, so nothing is bought.
        let bad = record(5, dec!(1), 15, dec!(1));
        assert_eq!(bad.size(Quote::new(dec!(50)), Quote::new(dec!(1000))), Quote::ZERO);
        // Never losing: capped at a quarter.
        let lucky = record(20, dec!(1), 0, dec!(1));
        assert_eq!(lucky.size(Quote::new(dec!(900)), Quote::new(dec!(1000))), Quote::new(dec!(250)));
    }
}
