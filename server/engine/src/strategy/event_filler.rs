//! Event Filler: enters on market events — a candle with volume a multiple of the recent
//! average, or a rise of a given percentage within the window — on the external data feeds
//! (the Fear & Greed index falling into extreme fear, the pair's coin entering the trending
//! list) and on signals pushed in through the API; exits fast: take profit, stop, a maximum
//! holding time, the index rising into extreme greed, or a sell signal. Spot only: it buys and
//! never shorts.

// Indicator values are f64 (DESIGN.md, invariant 1): they raise signals; the order size is the
// Decimal quote amount of the parameters.
#![allow(clippy::disallowed_types, clippy::float_arithmetic, clippy::cast_precision_loss)]

use std::collections::VecDeque;

use domain::{
    candle::Candle,
    feed::ExternalData,
    money::{Price, Quote},
    order::Side,
    strategy::StrategyParams,
    time::Timestamp,
};

use super::{
    Action, Desire, Holding,
    params::{boolean, decimal, integer},
    show,
};
use crate::indicators::to_f64;

const NAME: &str = "event_filler";

/// A signal pushed in from outside (an API call, a script).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSignal {
    /// Buy (enter) or sell (exit).
    pub side: Side,
    /// What it is about, for the decision record.
    pub note: String,
}

/// Parameters, read from the validated `strategy_params`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFillerParams {
    /// Volume over its window average times this is a spike.
    pub volume_spike: f64,
    /// A rise of this fraction within the window is a spike.
    pub price_spike: f64,
    /// Candles of the window.
    pub window: usize,
    /// Act on signals pushed in through the API.
    pub react_to_signals: bool,
    /// Act on the external data feeds.
    pub react_to_feeds: bool,
    /// A Fear & Greed reading at or below this is extreme fear: enter.
    pub fear_greed_buy_at: u8,
    /// A Fear & Greed reading at or above this is extreme greed: exit.
    pub fear_greed_sell_at: u8,
    /// Exit at this gain (fraction of the entry).
    pub take_profit: f64,
    /// Exit at this loss (fraction of the entry).
    pub stop: f64,
    /// Exit after this long whatever the price.
    pub max_hold_ms: i64,
    /// Quote amount of each entry.
    pub quote: Quote,
}

/// The strategy with its window and position.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFiller {
    params: EventFillerParams,
    /// Previous candles: (close, volume).
    window: VecDeque<(f64, f64)>,
    /// An event waiting for a decision: (action wanted, reason).
    pending: Option<(Side, String)>,
    /// Entry price and time, while holding.
    entry: Option<(f64, Timestamp)>,
    /// The last Fear & Greed reading seen.
    fear_greed: Option<u8>,
    /// Whether the pair's coin was on the last trending list seen (none before the first).
    trending: Option<bool>,
}

impl EventFiller {
    /// A fresh strategy.
    #[must_use]
    pub fn new(params: EventFillerParams) -> Self {
        Self {
            window: VecDeque::with_capacity(params.window + 1),
            pending: None,
            entry: None,
            fear_greed: None,
            trending: None,
            params,
        }
    }

    /// Reads the parameters validated by the schema.
    ///
    /// # Errors
    /// When a parameter is missing or of the wrong type (the schema prevents both).
    pub fn from_params(params: &StrategyParams) -> Result<Self, String> {
        let number = |name: &str| decimal(params, NAME, name).map(|d| to_f64(Price::new(d)));
        let index = |name: &str| integer(params, NAME, name).and_then(|i| u8::try_from(i).map_err(|e| e.to_string()));
        Ok(Self::new(EventFillerParams {
            volume_spike: number("volume_spike_multiplier")?,
            price_spike: number("price_spike_percent")? / 100.0,
            window: usize::try_from(integer(params, NAME, "window_bars")?).map_err(|e| e.to_string())?,
            react_to_signals: boolean(params, NAME, "react_to_signals")?,
            react_to_feeds: boolean(params, NAME, "react_to_feeds")?,
            fear_greed_buy_at: index("fear_greed_buy_at")?,
            fear_greed_sell_at: index("fear_greed_sell_at")?,
            take_profit: number("take_profit_percent")? / 100.0,
            stop: number("stop_percent")? / 100.0,
            max_hold_ms: integer(params, NAME, "max_hold_minutes")?.saturating_mul(60_000),
            quote: Quote::new(decimal(params, NAME, "order_quote_amount")?),
        }))
    }

    /// Candles needed before the first spike can be measured.
    #[must_use]
    pub const fn history_needed(&self) -> usize {
        self.params.window
    }

    /// Looks for a spike in a closed candle.
    pub fn on_candle(&mut self, candle: &Candle) {
        let (close, volume) = (to_f64(candle.close), to_f64(Price::new(candle.volume.value())));
        if self.window.len() == self.params.window && self.params.window > 0 {
            let average = self.window.iter().map(|w| w.1).sum::<f64>() / self.window.len() as f64;
            let first = self.window.front().map_or(close, |w| w.0);
            let rise = if first > 0.0 { (close - first) / first } else { 0.0 };
            let event = if average > 0.0 && volume > average * self.params.volume_spike && close > first {
                Some(format!(
                    "volume spike: {}x the {}-bar average on a rise",
                    show(volume / average),
                    self.params.window
                ))
            } else if rise >= self.params.price_spike {
                Some(format!("price spike: up {}% in {} bars", show(rise * 100.0), self.params.window))
            } else {
                None
            };
            if let Some(reason) = event {
                self.pending = Some((Side::Buy, reason));
            }
            self.window.pop_front();
        }
        self.window.push_back((close, volume));
    }

    /// A past candle: fills the window only.
    pub fn warm_up(&mut self, candle: &Candle) {
        self.on_candle(candle);
        self.pending = None;
    }

    /// A signal pushed in from outside.
    pub fn on_signal(&mut self, signal: &ExternalSignal) {
        if self.params.react_to_signals {
            self.pending = Some((signal.side, format!("signal: {}", signal.note)));
        }
    }

    /// The latest external data about the market and `coin` (the pair's base asset): the Fear &
    /// Greed index falling into extreme fear enters, rising into extreme greed exits, and the
    /// coin entering the trending list enters. Each reacts once, as the condition begins: the
    /// first reading a bot sees (at its start, after a restart) only sets where things stand.
    /// An exit wins over an entry in the same snapshot.
    pub fn on_external(&mut self, data: &ExternalData, coin: &str) {
        if !self.params.react_to_feeds {
            return;
        }
        if let Some(rank) = data.trending.as_ref().map(|_| data.trending_rank(coin)) {
            let before = self.trending.replace(rank.is_some());
            if let (Some(rank), Some(false)) = (rank, before) {
                self.pending = Some((Side::Buy, format!("trending: {coin} entered the trending coins at #{rank}")));
            }
        }
        if let Some(reading) = &data.fear_greed {
            let (value, buy_at, sell_at) =
                (reading.value, self.params.fear_greed_buy_at, self.params.fear_greed_sell_at);
            let Some(before) = self.fear_greed.replace(value) else { return };
            let words = &reading.classification;
            if value >= sell_at && before < sell_at {
                let reason = format!(
                    "extreme greed: the Fear & Greed index is at {value} ({words}; exit at {sell_at} or higher)"
                );
                self.pending = Some((Side::Sell, reason));
            } else if value <= buy_at && before > buy_at && self.pending.is_none() {
                let reason =
                    format!("extreme fear: the Fear & Greed index is at {value} ({words}; enter at {buy_at} or lower)");
                self.pending = Some((Side::Buy, reason));
            }
        }
    }

    /// Exits first (take profit, stop, time, sell signal), then an entry on a pending event.
    pub fn desire(&mut self, now: Timestamp, price: Price, holding: Holding) -> Option<Desire> {
        let held = !holding.qty.value().is_zero();
        let pending = self.pending.take();
        if held {
            let p = to_f64(price);
            // A position it did not see bought (a restart, a switch from Auto Mode, a sale
            // that filled only partly): its average cost is the entry, and the clock starts now.
            if self.entry.is_none() {
                let average = to_f64(Price::new(holding.cost.value() / holding.qty.value()));
                self.entry = Some((average, now));
            }
            let exit = match (self.entry, pending) {
                (Some((entry, _)), _) if p >= entry * (1.0 + self.params.take_profit) => Some(format!(
                    "take profit: {} is {}% over the entry {}",
                    show(p),
                    show(self.params.take_profit * 100.0),
                    show(entry)
                )),
                (Some((entry, _)), _) if p <= entry * (1.0 - self.params.stop) => Some(format!(
                    "stop: {} is {}% under the entry {}",
                    show(p),
                    show(self.params.stop * 100.0),
                    show(entry)
                )),
                (Some((_, at)), _) if now.millis() - at.millis() >= self.params.max_hold_ms => {
                    Some(format!("held for {} minutes: time to go", self.params.max_hold_ms / 60_000))
                }
                (_, Some((Side::Sell, reason))) => Some(reason),
                _ => None,
            };
            return exit.map(|reason| Desire::new(Action::Sell(holding.qty), reason));
        }
        match pending {
            Some((Side::Buy, reason)) => Some(Desire::new(Action::Buy(self.params.quote), reason)),
            _ => None,
        }
    }

    /// An order was placed at `price` and `now`.
    pub fn placed(&mut self, action: Action, now: Timestamp, price: Price) {
        self.entry = match action {
            Action::Buy(_) => Some((to_f64(price), now)),
            // A sale that fills only partly leaves a position: its exits start again from its cost.
            Action::Sell(_) | Action::Limit { .. } => None,
        };
    }
}

#[cfg(test)]
mod tests {
    use domain::money::Qty;
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;

    use super::*;

    fn bar(close: Decimal, volume: Decimal) -> Candle {
        let p = Price::new(close);
        Candle { open_time: Timestamp::from_millis(0), open: p, high: p, low: p, close: p, volume: Qty::new(volume) }
    }

    fn strategy() -> EventFiller {
        EventFiller::new(EventFillerParams {
            volume_spike: 3.0,
            price_spike: 0.02,
            window: 3,
            react_to_signals: true,
            react_to_feeds: true,
            fear_greed_buy_at: 20,
            fear_greed_sell_at: 80,
            take_profit: 0.01,
            stop: 0.005,
            max_hold_ms: 30 * 60_000,
            quote: Quote::new(dec!(20)),
        })
    }

    const FLAT: Holding = Holding { qty: Qty::ZERO, cost: Quote::ZERO };
    const HELD: Holding = Holding { qty: Qty::new(dec!(0.2)), cost: Quote::new(dec!(20)) };

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_millis(minutes * 60_000)
    }

    #[test]
    fn a_volume_spike_on_a_rise_enters_and_the_exits_are_tight() {
        let mut e = strategy();
        for close in [dec!(100), dec!(100.1), dec!(100)] {
            e.on_candle(&bar(close, dec!(10)));
        }
        e.on_candle(&bar(dec!(100.5), dec!(40)));
        let buy = e.desire(at(0), Price::new(dec!(100.5)), FLAT).unwrap();
        assert!(buy.reason.to_string().starts_with("volume spike: 4x"), "{}", buy.reason);
        e.placed(buy.action, at(0), Price::new(dec!(100)));
        assert_eq!(e.desire(at(1), Price::new(dec!(100.9)), HELD), None);
        assert!(e.desire(at(1), Price::new(dec!(101)), HELD).unwrap().reason.to_string().starts_with("take profit"));
        assert!(e.desire(at(1), Price::new(dec!(99.5)), HELD).unwrap().reason.to_string().starts_with("stop"));
        assert!(
            e.desire(at(30), Price::new(dec!(100.2)), HELD)
                .unwrap()
                .reason
                .to_string()
                .starts_with("held for 30 minutes")
        );
    }

    fn fear_greed(value: u8, words: &str) -> ExternalData {
        let reading = domain::feed::FearGreed { value, classification: words.into(), at: at(0) };
        ExternalData { fear_greed: Some(reading), trending: None }
    }

    fn trending(symbols: &[&str]) -> ExternalData {
        let coins = (1..)
            .zip(symbols)
            .map(|(rank, s)| domain::feed::TrendingCoin { symbol: (*s).into(), name: (*s).into(), rank })
            .collect();
        ExternalData { fear_greed: None, trending: Some(coins) }
    }

    #[test]
    fn extreme_fear_enters_extreme_greed_exits_each_once_as_it_begins() {
        let mut e = strategy();
        e.on_external(&fear_greed(10, "Extreme Fear"), "ETH");
        assert_eq!(e.desire(at(0), Price::new(dec!(100)), FLAT), None, "the first reading only sets the scene");
        e.on_external(&fear_greed(45, "Fear"), "ETH");
        assert_eq!(e.desire(at(0), Price::new(dec!(100)), FLAT), None, "no extreme");
        e.on_external(&fear_greed(12, "Extreme Fear"), "ETH");
        let buy = e.desire(at(0), Price::new(dec!(100)), FLAT).unwrap();
        assert_eq!(buy.action, Action::Buy(Quote::new(dec!(20))));
        assert_eq!(
            buy.reason.to_string(),
            "extreme fear: the Fear & Greed index is at 12 (Extreme Fear; enter at 20 or lower)"
        );
        e.placed(buy.action, at(0), Price::new(dec!(100)));
        e.on_external(&fear_greed(10, "Extreme Fear"), "ETH");
        assert_eq!(e.desire(at(1), Price::new(dec!(100)), FLAT), None, "still extreme fear: no second entry");
        e.on_external(&fear_greed(85, "Extreme Greed"), "ETH");
        let sell = e.desire(at(2), Price::new(dec!(100.2)), HELD).unwrap();
        assert_eq!(sell.action, Action::Sell(HELD.qty));
        assert!(
            sell.reason.to_string().starts_with("extreme greed: the Fear & Greed index is at 85"),
            "{}",
            sell.reason
        );
        e.on_external(&fear_greed(90, "Extreme Greed"), "ETH");
        assert_eq!(e.desire(at(3), Price::new(dec!(100.2)), HELD), None, "the exit was said once");
    }

    #[test]
    fn the_coin_entering_the_trending_list_enters_and_staying_on_it_does_not() {
        let mut e = strategy();
        e.on_external(&trending(&["ETH"]), "ETH");
        assert_eq!(e.desire(at(0), Price::new(dec!(100)), FLAT), None, "already trending when first seen");
        e.on_external(&trending(&["SOL", "PEPE"]), "ETH");
        assert_eq!(e.desire(at(0), Price::new(dec!(100)), FLAT), None);
        e.on_external(&trending(&["SOL", "PEPE", "ETH"]), "ETH");
        let buy = e.desire(at(0), Price::new(dec!(100)), FLAT).unwrap();
        assert_eq!(buy.reason.to_string(), "trending: ETH entered the trending coins at #3");
        e.on_external(&trending(&["ETH", "SOL"]), "ETH");
        assert_eq!(e.desire(at(1), Price::new(dec!(100)), FLAT), None, "still trending");
        e.on_external(&trending(&["SOL"]), "ETH");
        e.on_external(&trending(&["ETH"]), "ETH");
        assert!(e.desire(at(2), Price::new(dec!(100)), FLAT).is_some(), "back on the list");
    }

    #[test]
    fn an_exit_wins_over_an_entry_in_the_same_snapshot() {
        let mut e = strategy();
        e.on_external(&ExternalData { trending: Some(Vec::new()), ..fear_greed(50, "Neutral") }, "ETH");
        let both = ExternalData { trending: trending(&["ETH"]).trending, ..fear_greed(85, "Extreme Greed") };
        e.on_external(&both, "ETH");
        let sell = e.desire(at(0), Price::new(dec!(100)), HELD).unwrap();
        assert!(sell.reason.to_string().starts_with("extreme greed"), "{}", sell.reason);
    }

    #[test]
    fn feeds_are_ignored_when_the_bot_does_not_react_to_them() {
        let mut e = strategy();
        e.params.react_to_feeds = false;
        e.on_external(&fear_greed(50, "Neutral"), "ETH");
        e.on_external(&trending(&[]), "ETH");
        e.on_external(&fear_greed(5, "Extreme Fear"), "ETH");
        e.on_external(&trending(&["ETH"]), "ETH");
        assert_eq!(e.desire(at(0), Price::new(dec!(100)), FLAT), None);
    }

    #[test]
    fn a_position_it_did_not_see_bought_still_has_its_exits() {
        let mut e = strategy();
        let held = Holding { qty: Qty::new(dec!(0.2)), cost: Quote::new(dec!(20)) };
        assert_eq!(e.desire(at(0), Price::new(dec!(100.5)), held), None, "entry taken from the cost: 100");
        assert!(e.desire(at(1), Price::new(dec!(101)), held).unwrap().reason.to_string().starts_with("take profit"));
    }

    #[test]
    fn signals_enter_and_exit_when_the_bot_reacts_to_them() {
        let mut e = strategy();
        e.on_signal(&ExternalSignal { side: Side::Buy, note: "listing".into() });
        let buy = e.desire(at(0), Price::new(dec!(100)), FLAT).unwrap();
        assert_eq!(
            (buy.action, buy.reason.to_string().as_str()),
            (Action::Buy(Quote::new(dec!(20))), "signal: listing")
        );
        e.placed(buy.action, at(0), Price::new(dec!(100)));
        e.on_signal(&ExternalSignal { side: Side::Sell, note: "done".into() });
        assert_eq!(e.desire(at(1), Price::new(dec!(100.2)), HELD).unwrap().action, Action::Sell(Qty::new(dec!(0.2))));
        let mut deaf = strategy();
        deaf.params.react_to_signals = false;
        deaf.on_signal(&ExternalSignal { side: Side::Buy, note: "ignored".into() });
        assert_eq!(deaf.desire(at(0), Price::new(dec!(100)), FLAT), None);
    }
}
