//! The price screen of a market feed: what bots are never shown.
//!
//! A price that is not one (zero, negative) is dropped, and so is a print that jumps further
//! from the last price shown than any real market moves between two trades, unless the next
//! print confirms it (the market did move). Every drop is counted; the first drop after a
//! quiet spell is to be told to a person, once per spell.

use std::time::{Duration, Instant};

use domain::money::Price;
use rust_decimal::Decimal;

/// Largest move between two consecutive prints believed without confirmation (a fifth).
const MAX_JUMP: Decimal = Decimal::from_parts(20, 0, 0, false, 2);
/// How close the next print must come to a held outlier to confirm it (one percent).
const CONFIRM_WITHIN: Decimal = Decimal::from_parts(1, 0, 0, false, 2);
/// A drop this long after the previous one starts a new spell (and a new alert).
pub(crate) const QUIET_SPELL: Duration = Duration::from_secs(600);

/// A print dropped, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// Why it was dropped.
    pub(crate) reason: String,
    /// Whether a person should hear of it (the first drop of a spell).
    pub(crate) alert: bool,
}

/// One feed's screen.
#[derive(Debug, Default)]
pub(crate) struct PriceScreen {
    /// The last price shown.
    last: Option<Price>,
    /// An outlier waiting for the next print to confirm it.
    held: Option<Price>,
    /// Prints dropped so far.
    dropped: u64,
    /// When the last print was dropped.
    last_drop: Option<Instant>,
}

fn distance(a: Price, b: Price) -> Decimal {
    ((a.value() - b.value()) / b.value()).abs()
}

impl PriceScreen {
    /// Prints dropped so far.
    pub(crate) const fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Screens one print at `now`: `Ok` to show it to the bots.
    ///
    /// # Errors
    /// [`Dropped`] when the print must not be shown.
    pub(crate) fn check(&mut self, price: Price, now: Instant) -> Result<(), Dropped> {
        if price.value() <= Decimal::ZERO {
            return Err(self.drop(format!("price {price} is not a price"), now));
        }
        let Some(last) = self.last else {
            self.last = Some(price);
            return Ok(());
        };
        if distance(price, last) <= MAX_JUMP {
            self.held = None;
            self.last = Some(price);
            return Ok(());
        }
        if let Some(held) = self.held
            && distance(price, held) <= CONFIRM_WITHIN
        {
            // Two prints agree on the new level: the market moved.
            self.held = None;
            self.last = Some(price);
            return Ok(());
        }
        self.held = Some(price);
        Err(self.drop(format!("price {price} is more than 20 % from the last price {last}, unconfirmed"), now))
    }

    /// Records a drop for `reason` (the venue's push was unusable, or this screen's own).
    pub(crate) fn drop(&mut self, reason: String, now: Instant) -> Dropped {
        self.dropped += 1;
        let alert = self.last_drop.is_none_or(|at| now.duration_since(at) >= QUIET_SPELL);
        self.last_drop = Some(now);
        Dropped { reason, alert }
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    fn p(value: Decimal) -> Price {
        Price::new(value)
    }

    #[test]
    fn zero_negative_and_lone_outliers_are_dropped_a_confirmed_move_passes() {
        let t0 = Instant::now();
        let mut screen = PriceScreen::default();
        assert_eq!(screen.check(p(dec!(100)), t0), Ok(()));
        assert!(matches!(screen.check(p(dec!(0)), t0), Err(Dropped { alert: true, .. })));
        assert!(matches!(screen.check(p(dec!(-3)), t0), Err(Dropped { alert: false, .. })), "same spell");
        // A fat-finger print far away, then the market carries on where it was.
        assert!(matches!(screen.check(p(dec!(1)), t0), Err(Dropped { .. })));
        assert_eq!(screen.check(p(dec!(101)), t0), Ok(()));
        // A real gap: two prints agree on the new level.
        assert!(matches!(screen.check(p(dec!(150)), t0), Err(Dropped { .. })));
        assert_eq!(screen.check(p(dec!(150.5)), t0), Ok(()));
        assert_eq!(screen.check(p(dec!(149)), t0), Ok(()));
        assert_eq!(screen.dropped(), 4);
        // Quiet for a spell: the next drop is told again.
        let later = t0 + QUIET_SPELL;
        assert!(matches!(screen.check(p(dec!(0)), later), Err(Dropped { alert: true, .. })));
    }

    #[test]
    fn moves_within_a_fifth_pass_at_once() {
        let t0 = Instant::now();
        let mut screen = PriceScreen::default();
        for price in [dec!(100), dec!(81), dec!(97), dec!(116), dec!(93)] {
            assert_eq!(screen.check(p(price), t0), Ok(()), "{price}");
        }
    }
}
