//! Strategy rotation after consecutive losing sales: when a bot's last `limit` sales all lost,
//! it switches to a strategy that has not lost in this cycle; after `max` rotations with the
//! losses continuing (or when no untried strategy is left) it pauses. A winning sale ends the
//! cycle.

use std::collections::BTreeSet;

use domain::strategy::{StrategyId, StrategyParams};

/// What a sale's result asks of the bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Switch to this strategy with these (validated) parameters.
    Rotate {
        /// The strategy to run next.
        to: StrategyId,
        /// Its parameters.
        params: StrategyParams,
        /// Why, for the rotation record.
        reason: String,
    },
    /// Rotations are exhausted: pause the bot.
    Pause {
        /// Why, for the alert.
        reason: String,
    },
}

/// A bot's rotation rule and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// Consecutive losing sales that trigger a rotation (0: never).
    limit: u32,
    /// Rotations allowed in a cycle.
    max: u32,
    /// Strategies it may rotate to, in order of preference, with their parameters.
    candidates: Vec<(StrategyId, StrategyParams)>,
    losses: u32,
    done: u32,
    lost: BTreeSet<StrategyId>,
}

impl Rotation {
    /// A rule rotating after `limit` losing sales in a row, at most `max` times a cycle, among
    /// `candidates`.
    #[must_use]
    pub const fn new(limit: u32, max: u32, candidates: Vec<(StrategyId, StrategyParams)>) -> Self {
        Self { limit, max, candidates, losses: 0, done: 0, lost: BTreeSet::new() }
    }

    /// The same rule, `losses` sales into a losing streak (rebuilt after a restart).
    #[must_use]
    pub const fn with_losses(mut self, losses: u32) -> Self {
        self.losses = if self.limit == 0 { 0 } else { losses % self.limit };
        self
    }

    /// No rotation at all.
    #[must_use]
    pub const fn off() -> Self {
        Self::new(0, 0, Vec::new())
    }

    /// A sale of `current` ended with a gain (`won`) or a loss.
    pub fn sale(&mut self, current: StrategyId, won: bool) -> Option<Step> {
        if won {
            self.losses = 0;
            self.done = 0;
            self.lost.clear();
            return None;
        }
        self.losses += 1;
        if self.limit == 0 || self.losses < self.limit {
            return None;
        }
        let streak = self.losses;
        self.losses = 0;
        self.lost.insert(current);
        let next = self.candidates.iter().find(|(id, _)| !self.lost.contains(id) && *id != current);
        match next {
            Some((to, params)) if self.done < self.max => {
                self.done += 1;
                let reason =
                    format!("{streak} losing sales in a row with {current}; rotation {} of {}", self.done, self.max);
                Some(Step::Rotate { to: *to, params: params.clone(), reason })
            }
            _ => Some(Step::Pause {
                reason: format!(
                    "{streak} losing sales in a row with {current} after {} rotations: paused for a person to look",
                    self.done
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rotation(limit: u32, max: u32) -> Rotation {
        let candidates = [StrategyId::MeanReversion, StrategyId::BreakdownMomentum, StrategyId::DcaAccumulator]
            .into_iter()
            .map(|id| (id, StrategyParams::new()))
            .collect();
        Rotation::new(limit, max, candidates)
    }

    #[test]
    fn rotates_after_the_streak_without_repeating_a_loser_then_pauses() {
        let mut r = rotation(2, 2);
        assert_eq!(r.sale(StrategyId::MeanReversion, false), None);
        let Some(Step::Rotate { to, reason, .. }) = r.sale(StrategyId::MeanReversion, false) else { panic!() };
        assert_eq!(to, StrategyId::BreakdownMomentum);
        assert_eq!(reason, "2 losing sales in a row with mean_reversion; rotation 1 of 2");
        r.sale(StrategyId::BreakdownMomentum, false);
        let Some(Step::Rotate { to, .. }) = r.sale(StrategyId::BreakdownMomentum, false) else { panic!() };
        assert_eq!(to, StrategyId::DcaAccumulator, "mean reversion lost in this cycle");
        r.sale(StrategyId::DcaAccumulator, false);
        assert!(matches!(r.sale(StrategyId::DcaAccumulator, false), Some(Step::Pause { .. })));
    }

    #[test]
    fn a_rebuilt_streak_continues_where_it_stood() {
        let mut r = rotation(3, 2).with_losses(2);
        assert!(
            matches!(r.sale(StrategyId::MeanReversion, false), Some(Step::Rotate { .. })),
            "the third loss rotates"
        );
        assert_eq!(rotation(0, 2).with_losses(5), rotation(0, 2), "no rule, no streak");
    }

    #[test]
    fn a_win_ends_the_cycle_and_a_zero_limit_never_rotates() {
        let mut r = rotation(2, 1);
        r.sale(StrategyId::MeanReversion, false);
        assert_eq!(r.sale(StrategyId::MeanReversion, true), None);
        assert_eq!(r.sale(StrategyId::MeanReversion, false), None, "the streak restarted");
        let mut off = rotation(0, 3);
        for _ in 0..10 {
            assert_eq!(off.sale(StrategyId::MeanReversion, false), None);
        }
    }
}
