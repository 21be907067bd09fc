//! Bots: identity, configuration and its validation, lifecycle.

use std::{collections::BTreeMap, fmt, str::FromStr};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::{
    macros::named_enum,
    money::{DecimalRange, Percent, Quote},
    pair::Pair,
    strategy::{RawParam, StrategyDefaults, StrategyId, StrategyParams, validate_params},
    time::Timestamp,
    validation::Violations,
};

/// Database id of a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BotId(pub i64);

impl fmt::Display for BotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

named_enum!(
    /// Lifecycle status of a bot, as in the spec.
    BotStatus, "bot status" {
        /// Configured, never started.
        Created => "created",
        /// Trading.
        Running => "running",
        /// No new orders; pending orders stay.
        Paused => "paused",
        /// Not trading; restartable.
        Stopped => "stopped",
    }
);

impl BotStatus {
    /// The status after `command`, or why the command is refused in this status.
    ///
    /// Kill is accepted in every status: an emergency stop must never fail.
    ///
    /// # Errors
    /// [`LifecycleError`] when the command makes no sense in this status.
    #[rustfmt::skip]
    pub fn apply(self, command: LifecycleCommand) -> Result<Self, LifecycleError> {
        use BotStatus::{Created, Paused, Running, Stopped};
        use LifecycleCommand::{Kill, Pause, Start, Stop};
        match (self, command) {
            (Created | Paused | Stopped, Start) => Ok(Running),
            (Running, Pause)                    => Ok(Paused),
            // Stopping a bot that never ran is allowed: it documents the decision.
            (Created | Running | Paused, Stop)  => Ok(Stopped),
            // A kill always lands, whatever the state; the bot then needs a person to start it.
            (_, Kill)                           => Ok(Stopped),
            (status, command)                   => Err(LifecycleError { status, command }),
        }
    }

    /// The command that leads to this status (none leads back to `created`): how a status a
    /// bot took itself is recorded.
    #[must_use]
    pub const fn command(self) -> Option<LifecycleCommand> {
        match self {
            Self::Running => Some(LifecycleCommand::Start),
            Self::Paused => Some(LifecycleCommand::Pause),
            Self::Stopped => Some(LifecycleCommand::Stop),
            Self::Created => None,
        }
    }
}

/// A person's (or the runtime's) lifecycle command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleCommand {
    /// Start, resume, or re-arm after a kill.
    Start,
    /// Stop placing new orders, keep pending ones.
    Pause,
    /// Stop trading.
    Stop,
    /// Emergency stop.
    Kill,
}

impl LifecycleCommand {
    /// Verb used in messages.
    #[must_use]
    pub const fn verb(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Pause => "pause",
            Self::Stop => "stop",
            Self::Kill => "kill",
        }
    }
}

/// A lifecycle command refused in the bot's current status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a bot that is {status}", command.verb())]
pub struct LifecycleError {
    /// Status the bot was in.
    pub status: BotStatus,
    /// Command refused.
    pub command: LifecycleCommand,
}

/// How long a bot runs once started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunningTime {
    /// Until a person stops it (the default).
    Forever,
    /// This many hours after it starts.
    Hours(u32),
}

impl RunningTime {
    /// Longest running time accepted: ten years.
    pub const MAX_HOURS: u32 = 87_600;

    /// Hours, or `None` for forever.
    #[must_use]
    pub const fn hours(self) -> Option<u32> {
        match self {
            Self::Forever => None,
            Self::Hours(h) => Some(h),
        }
    }
}

impl FromStr for RunningTime {
    type Err = String;

    /// Parses `forever`, `12h`, `3d`, `2mo` (a month counts 30 days), or plain hours `12`.
    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        if text == "forever" {
            return Ok(Self::Forever);
        }
        let expected =
            format!("expected 'forever' or a duration such as 12h, 3d or 2mo (1 hour to {} hours)", Self::MAX_HOURS);
        let (digits, hours_per_unit) = if let Some(d) = text.strip_suffix("mo") {
            (d, 720)
        } else if let Some(d) = text.strip_suffix('d') {
            (d, 24)
        } else if let Some(d) = text.strip_suffix('h') {
            (d, 1)
        } else {
            (text.as_str(), 1)
        };
        let count: u32 = digits.trim().parse().map_err(|_| format!("'{text}' is not a running time; {expected}"))?;
        match count.checked_mul(hours_per_unit) {
            Some(hours) if (1..=Self::MAX_HOURS).contains(&hours) => Ok(Self::Hours(hours)),
            _ => Err(format!("'{text}' is out of range; {expected}")),
        }
    }
}

/// A validated bot configuration: everything a person chooses about a bot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotConfig {
    /// Display name.
    pub name: String,
    /// Pair traded.
    pub pair: Pair,
    /// Venue account name from `exchanges.yaml`.
    pub exchange: String,
    /// Strategy run.
    pub strategy: StrategyId,
    /// The strategy's validated parameters, defaults filled in.
    pub strategy_params: StrategyParams,
    /// Virtual wallet cap in the quote asset.
    pub budget: Quote,
    /// Whether realised profits raise the budget.
    pub compound_enabled: bool,
    /// When the bot stops by itself.
    pub running_time: RunningTime,
    /// Risk limits.
    pub risk: RiskLimits,
    /// Simulated fills on real market data instead of live orders.
    pub is_dry_run: bool,
}

/// Risk limits of a bot; `None` means "no limit".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskLimits {
    /// Per-trade stop loss as a percentage of the entry.
    pub stop_loss_percent: Option<Percent>,
    /// Per-trade stop loss as a quote amount.
    pub stop_loss_absolute: Option<Quote>,
    /// Drawdown from the equity peak, as a percentage, that pauses the bot.
    pub drawdown_limit_percent: Option<Percent>,
    /// Drawdown from the equity peak, as a quote amount, that pauses the bot.
    pub drawdown_limit_absolute: Option<Quote>,
    /// Loss within a UTC day that pauses the bot.
    pub daily_loss_limit: Option<Quote>,
    /// Loss within a UTC week that pauses the bot.
    pub weekly_loss_limit: Option<Quote>,
    /// Strategy rotations allowed after consecutive losses before the bot pauses.
    pub max_strategy_rotations: u32,
    /// Consecutive losing trades that trigger a rotation.
    pub consecutive_loss_limit: u32,
}

/// A bot configuration as received from outside, before validation. Every field is
/// optional: on create, missing fields take defaults; on update, they keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BotConfigInput {
    /// See [`BotConfig::name`].
    pub name: Option<String>,
    /// Pair in either form.
    pub trading_pair: Option<String>,
    /// See [`BotConfig::exchange`].
    pub exchange: Option<String>,
    /// Strategy id.
    pub strategy: Option<String>,
    /// Raw parameters; on update they are merged over the current ones when the strategy
    /// stays the same.
    pub strategy_params: Option<BTreeMap<String, RawParam>>,
    /// Decimal text.
    pub budget: Option<String>,
    /// See [`BotConfig::compound_enabled`].
    pub compound_enabled: Option<bool>,
    /// Hours; `Some(0)` means forever.
    pub running_time_hours: Option<u32>,
    /// Decimal text; `Some("")` clears the limit.
    pub stop_loss_percent: Option<String>,
    /// Decimal text; `Some("")` clears the limit.
    pub stop_loss_absolute: Option<String>,
    /// Decimal text; `Some("")` clears the limit.
    pub drawdown_limit_percent: Option<String>,
    /// Decimal text; `Some("")` clears the limit.
    pub drawdown_limit_absolute: Option<String>,
    /// Decimal text; `Some("")` clears the limit.
    pub daily_loss_limit: Option<String>,
    /// Decimal text; `Some("")` clears the limit.
    pub weekly_loss_limit: Option<String>,
    /// See [`RiskLimits::max_strategy_rotations`].
    pub max_strategy_rotations: Option<u32>,
    /// See [`RiskLimits::consecutive_loss_limit`].
    pub consecutive_loss_limit: Option<u32>,
    /// See [`BotConfig::is_dry_run`].
    pub is_dry_run: Option<bool>,
}

/// Defaults for fields a create request leaves out, from `config/defaults.yaml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotDefaults {
    /// New bots simulate unless told otherwise.
    pub is_dry_run: bool,
    /// Compounding is off unless asked for.
    pub compound_enabled: bool,
    /// Default rotation allowance.
    pub max_strategy_rotations: u32,
    /// Default consecutive-loss trigger.
    pub consecutive_loss_limit: u32,
}

impl Default for BotDefaults {
    fn default() -> Self {
        Self { is_dry_run: true, compound_enabled: false, max_strategy_rotations: 3, consecutive_loss_limit: 3 }
    }
}

/// What validation needs to know about the configuration around a bot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationContext {
    /// Names of the configured venue accounts.
    pub exchanges: Vec<String>,
    /// The account used when a bot names none.
    pub default_exchange: String,
    /// Field defaults.
    pub bot_defaults: BotDefaults,
    /// Strategy parameter defaults.
    pub strategy_defaults: StrategyDefaults,
}

/// Largest budget accepted, in quote units.
pub const MAX_BUDGET: Decimal = dec!(1_000_000_000);
/// Most strategy rotations: one to each other strategy.
pub const MAX_ROTATIONS: u32 = 8;
/// Highest consecutive-loss trigger.
pub const MAX_CONSECUTIVE_LOSSES: u32 = 100;
const PERCENT_LIMIT: DecimalRange = DecimalRange::above(dec!(0), dec!(100));
const BUDGET_RANGE: DecimalRange = DecimalRange::above(dec!(0), MAX_BUDGET);

/// Parses an optional limit; `""` clears it. Amount limits must also not exceed the budget.
fn optional_limit<T>(
    violations: &mut Violations,
    field: &str,
    text: Option<&str>,
    range: DecimalRange,
    wrap: fn(Decimal) -> T,
) -> Option<T> {
    let text = text.filter(|t| !t.trim().is_empty())?;
    violations.check(field, range.parse(text)).map(wrap)
}

/// The six risk-stop fields as text; `None` or empty means "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StopTexts<'a> {
    /// See [`RiskLimits::stop_loss_percent`].
    pub stop_loss_percent: Option<&'a str>,
    /// See [`RiskLimits::stop_loss_absolute`].
    pub stop_loss_absolute: Option<&'a str>,
    /// See [`RiskLimits::drawdown_limit_percent`].
    pub drawdown_limit_percent: Option<&'a str>,
    /// See [`RiskLimits::drawdown_limit_absolute`].
    pub drawdown_limit_absolute: Option<&'a str>,
    /// See [`RiskLimits::daily_loss_limit`].
    pub daily_loss_limit: Option<&'a str>,
    /// See [`RiskLimits::weekly_loss_limit`].
    pub weekly_loss_limit: Option<&'a str>,
}

/// Parses and checks risk stops: percentages in (0, 100], amounts in (0, budget] (a larger
/// limit could never trip), a weekly loss limit at least the daily one. Every problem is added
/// to `v` under its field; the rotation settings are left at zero.
pub fn risk_stops(texts: StopTexts<'_>, budget: Option<Quote>, v: &mut Violations) -> RiskLimits {
    let amount_range = DecimalRange::above(dec!(0), budget.map_or(MAX_BUDGET, Quote::value));
    let risk = RiskLimits {
        stop_loss_percent: optional_limit(v, "stop_loss_percent", texts.stop_loss_percent, PERCENT_LIMIT, Percent::new),
        stop_loss_absolute: optional_limit(v, "stop_loss_absolute", texts.stop_loss_absolute, amount_range, Quote::new),
        drawdown_limit_percent: optional_limit(
            v,
            "drawdown_limit_percent",
            texts.drawdown_limit_percent,
            PERCENT_LIMIT,
            Percent::new,
        ),
        drawdown_limit_absolute: optional_limit(
            v,
            "drawdown_limit_absolute",
            texts.drawdown_limit_absolute,
            amount_range,
            Quote::new,
        ),
        daily_loss_limit: optional_limit(v, "daily_loss_limit", texts.daily_loss_limit, amount_range, Quote::new),
        weekly_loss_limit: optional_limit(v, "weekly_loss_limit", texts.weekly_loss_limit, amount_range, Quote::new),
        max_strategy_rotations: 0,
        consecutive_loss_limit: 0,
    };
    if let (Some(daily), Some(weekly)) = (risk.daily_loss_limit, risk.weekly_loss_limit)
        && weekly < daily
    {
        v.add(
            "weekly_loss_limit",
            format!("{weekly} is below the daily loss limit {daily}; expected at least the daily limit"),
        );
    }
    risk
}

impl BotConfig {
    /// Validates a create request. Every problem is reported, each with its field.
    ///
    /// # Errors
    /// [`Violations`] listing each invalid or missing field.
    pub fn create(input: &BotConfigInput, ctx: &ValidationContext) -> Result<Self, Violations> {
        Self::validate(input, None, ctx)
    }

    /// Validates an edit of this configuration: fields not given keep their value.
    ///
    /// # Errors
    /// [`Violations`] listing each invalid field of the result.
    pub fn update(&self, patch: &BotConfigInput, ctx: &ValidationContext) -> Result<Self, Violations> {
        Self::validate(patch, Some(self), ctx)
    }

    /// The configuration as an input that validates back to itself.
    #[must_use]
    pub fn to_input(&self) -> BotConfigInput {
        let text = |v: Option<Decimal>| Some(v.map(|d| d.normalize().to_string()).unwrap_or_default());
        let r = &self.risk;
        BotConfigInput {
            name: Some(self.name.clone()),
            trading_pair: Some(self.pair.to_string()),
            exchange: Some(self.exchange.clone()),
            strategy: Some(self.strategy.as_str().to_owned()),
            strategy_params: Some(self.strategy_params.iter().map(|(k, v)| (k.clone(), v.to_raw())).collect()),
            budget: Some(self.budget.to_string()),
            compound_enabled: Some(self.compound_enabled),
            running_time_hours: Some(self.running_time.hours().unwrap_or(0)),
            stop_loss_percent: text(r.stop_loss_percent.map(Percent::value)),
            stop_loss_absolute: text(r.stop_loss_absolute.map(Quote::value)),
            drawdown_limit_percent: text(r.drawdown_limit_percent.map(Percent::value)),
            drawdown_limit_absolute: text(r.drawdown_limit_absolute.map(Quote::value)),
            daily_loss_limit: text(r.daily_loss_limit.map(Quote::value)),
            weekly_loss_limit: text(r.weekly_loss_limit.map(Quote::value)),
            max_strategy_rotations: Some(r.max_strategy_rotations),
            consecutive_loss_limit: Some(r.consecutive_loss_limit),
            is_dry_run: Some(self.is_dry_run),
        }
    }

    fn validate(input: &BotConfigInput, base: Option<&Self>, ctx: &ValidationContext) -> Result<Self, Violations> {
        let base_input = base.map(Self::to_input).unwrap_or_default();
        let pick = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
        let mut v = Violations::default();

        let pair = match pick(&input.trading_pair, &base_input.trading_pair) {
            Some(text) => v.check("trading_pair", text.parse::<Pair>()),
            None => {
                v.add("trading_pair", "required; expected BASE/QUOTE such as BTC/USDT");
                None
            }
        };
        let strategy = match pick(&input.strategy, &base_input.strategy) {
            Some(text) => v.check("strategy", text.parse::<StrategyId>()),
            None => {
                let ids: Vec<&str> = StrategyId::ALL.iter().map(|s| s.as_str()).collect();
                v.add("strategy", format!("required; expected one of: {}", ids.join(", ")));
                None
            }
        };
        let strategy_params = strategy.and_then(|strategy| {
            // Current parameters carry over only while the strategy stays the same.
            let mut raw = match base {
                Some(old) if old.strategy == strategy => base_input.strategy_params.clone().unwrap_or_default(),
                _ => BTreeMap::new(),
            };
            raw.extend(input.strategy_params.clone().unwrap_or_default());
            match validate_params(strategy, &raw, &ctx.strategy_defaults) {
                Ok(params) => Some(params),
                Err(errors) => {
                    for e in errors.list() {
                        v.add(e.field.clone(), e.description.clone());
                    }
                    None
                }
            }
        });
        let name = pick(&input.name, &base_input.name)
            .map(|n| n.trim().to_owned())
            .or_else(|| Some(format!("{} {}", strategy?.as_str(), pair.as_ref()?)));
        let name = name.and_then(|n| {
            let ok = (1..=64).contains(&n.chars().count());
            v.check("name", if ok { Ok(n) } else { Err("expected 1 to 64 characters".to_owned()) })
        });
        let exchange = pick(&input.exchange, &base_input.exchange).unwrap_or_else(|| ctx.default_exchange.clone());
        let exchange = if ctx.exchanges.contains(&exchange) {
            Some(exchange)
        } else {
            v.add(
                "exchange",
                format!("unknown exchange '{exchange}'; configured in exchanges.yaml: {}", ctx.exchanges.join(", ")),
            );
            None
        };
        let budget = match pick(&input.budget, &base_input.budget) {
            Some(text) => v.check("budget", BUDGET_RANGE.parse(&text).map(Quote::new)),
            None => {
                v.add("budget", format!("required; expected a number {}", BUDGET_RANGE.describe()));
                None
            }
        };
        let running_time = match input.running_time_hours.or(base_input.running_time_hours) {
            None | Some(0) => Some(RunningTime::Forever),
            Some(h) if h <= RunningTime::MAX_HOURS => Some(RunningTime::Hours(h)),
            Some(h) => {
                let msg =
                    format!("{h} is out of range; expected 1 to {} hours, or null for forever", RunningTime::MAX_HOURS);
                v.add("running_time_hours", msg);
                None
            }
        };

        let text = |new: &Option<String>, old: &Option<String>| pick(new, old);
        let texts = [
            text(&input.stop_loss_percent, &base_input.stop_loss_percent),
            text(&input.stop_loss_absolute, &base_input.stop_loss_absolute),
            text(&input.drawdown_limit_percent, &base_input.drawdown_limit_percent),
            text(&input.drawdown_limit_absolute, &base_input.drawdown_limit_absolute),
            text(&input.daily_loss_limit, &base_input.daily_loss_limit),
            text(&input.weekly_loss_limit, &base_input.weekly_loss_limit),
        ];
        let stops = StopTexts {
            stop_loss_percent: texts[0].as_deref(),
            stop_loss_absolute: texts[1].as_deref(),
            drawdown_limit_percent: texts[2].as_deref(),
            drawdown_limit_absolute: texts[3].as_deref(),
            daily_loss_limit: texts[4].as_deref(),
            weekly_loss_limit: texts[5].as_deref(),
        };
        let risk = RiskLimits {
            max_strategy_rotations: input
                .max_strategy_rotations
                .or(base_input.max_strategy_rotations)
                .unwrap_or(ctx.bot_defaults.max_strategy_rotations),
            consecutive_loss_limit: input
                .consecutive_loss_limit
                .or(base_input.consecutive_loss_limit)
                .unwrap_or(ctx.bot_defaults.consecutive_loss_limit),
            ..risk_stops(stops, budget, &mut v)
        };
        if risk.max_strategy_rotations > MAX_ROTATIONS {
            v.add(
                "max_strategy_rotations",
                format!("{} is out of range; expected 0 to {MAX_ROTATIONS}", risk.max_strategy_rotations),
            );
        }
        if !(1..=MAX_CONSECUTIVE_LOSSES).contains(&risk.consecutive_loss_limit) {
            v.add(
                "consecutive_loss_limit",
                format!("{} is out of range; expected 1 to {MAX_CONSECUTIVE_LOSSES}", risk.consecutive_loss_limit),
            );
        }
        let (
            Some(name),
            Some(pair),
            Some(exchange),
            Some(strategy),
            Some(strategy_params),
            Some(budget),
            Some(running_time),
        ) = (name, pair, exchange, strategy, strategy_params, budget, running_time)
        else {
            return Err(v);
        };
        let config = Self {
            name,
            pair,
            exchange,
            strategy,
            strategy_params,
            budget,
            compound_enabled: input
                .compound_enabled
                .or(base_input.compound_enabled)
                .unwrap_or(ctx.bot_defaults.compound_enabled),
            running_time,
            risk,
            is_dry_run: input.is_dry_run.or(base_input.is_dry_run).unwrap_or(ctx.bot_defaults.is_dry_run),
        };
        v.into_result(config)
    }
}

/// A stored bot: its configuration plus lifecycle and wallet state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bot {
    /// Database id.
    pub id: BotId,
    /// What the person configured.
    pub config: BotConfig,
    /// Lifecycle status.
    pub status: BotStatus,
    /// Set by a kill switch; cleared only when a person starts the bot again. While set the
    /// bot sends no new order.
    pub killed_at: Option<Timestamp>,
    /// Virtual wallet balance available to the bot.
    pub current_balance: Quote,
    /// Realised plus unrealised P&L.
    pub total_pnl: Quote,
    /// When the bot was created.
    pub created_at: Timestamp,
    /// Last change of any kind.
    pub updated_at: Timestamp,
    /// Last start.
    pub started_at: Option<Timestamp>,
    /// Last pause.
    pub paused_at: Option<Timestamp>,
    /// Last stop (including kills).
    pub stopped_at: Option<Timestamp>,
}

impl Bot {
    /// Whether the configuration may be edited now: only while the bot is not running.
    ///
    /// # Errors
    /// A message telling the person what to do first.
    pub fn check_editable(&self) -> Result<(), String> {
        if self.status == BotStatus::Running {
            Err(format!("bot {} is running; pause or stop it before editing its configuration", self.id))
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ValidationContext {
        ValidationContext {
            exchanges: vec!["sim".into(), "mexc".into()],
            default_exchange: "sim".into(),
            ..ValidationContext::default()
        }
    }

    fn input() -> BotConfigInput {
        BotConfigInput {
            trading_pair: Some("BTCUSDT".into()),
            strategy: Some("dca_accumulator".into()),
            budget: Some("100.50".into()),
            ..BotConfigInput::default()
        }
    }

    #[test]
    fn create_fills_defaults() {
        let config = BotConfig::create(&input(), &ctx()).unwrap();
        assert_eq!(config.name, "dca_accumulator BTC/USDT");
        assert_eq!(config.exchange, "sim");
        assert_eq!(config.budget.to_string(), "100.5");
        assert_eq!(config.running_time, RunningTime::Forever);
        assert!(config.is_dry_run);
        assert_eq!(config.risk.max_strategy_rotations, 3);
        assert_eq!(config.strategy_params.len(), 5);
    }

    #[test]
    fn create_reports_every_problem() {
        let bad = BotConfigInput {
            trading_pair: Some("BTC-USDT".into()),
            strategy: Some("grid".into()),
            budget: Some("-5".into()),
            exchange: Some("binance".into()),
            stop_loss_percent: Some("150".into()),
            running_time_hours: Some(100_000),
            max_strategy_rotations: Some(9),
            ..BotConfigInput::default()
        };
        let err = BotConfig::create(&bad, &ctx()).unwrap_err();
        let fields: Vec<&str> = err.list().iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "trading_pair",
                "strategy",
                "exchange",
                "budget",
                "running_time_hours",
                "stop_loss_percent",
                "max_strategy_rotations"
            ]
        );
        assert!(
            err.to_string()
                .contains("budget: -5 is out of range; expected a number greater than 0 and at most 1000000000")
        );
    }

    #[test]
    fn amount_limits_cannot_exceed_the_budget() {
        let over = BotConfigInput { stop_loss_absolute: Some("200".into()), ..input() };
        let err = BotConfig::create(&over, &ctx()).unwrap_err();
        assert_eq!(err.list()[0].field, "stop_loss_absolute");
        assert!(err.list()[0].description.contains("at most 100.5"));
    }

    #[test]
    fn weekly_limit_must_cover_the_daily_limit() {
        let bad =
            BotConfigInput { daily_loss_limit: Some("20".into()), weekly_loss_limit: Some("10".into()), ..input() };
        let err = BotConfig::create(&bad, &ctx()).unwrap_err();
        assert_eq!(err.list()[0].field, "weekly_loss_limit");
    }

    #[test]
    fn update_keeps_unset_fields_and_clears_empty_limits() {
        let config =
            BotConfig::create(&BotConfigInput { stop_loss_percent: Some("5".into()), ..input() }, &ctx()).unwrap();
        let patch = BotConfigInput {
            budget: Some("250".into()),
            stop_loss_percent: Some(String::new()),
            strategy_params: Some([("interval_minutes".to_owned(), RawParam::Number("5".into()))].into()),
            ..BotConfigInput::default()
        };
        let updated = config.update(&patch, &ctx()).unwrap();
        assert_eq!(updated.budget.to_string(), "250");
        assert_eq!(updated.risk.stop_loss_percent, None);
        assert_eq!(updated.pair, config.pair);
        assert_eq!(updated.strategy_params["interval_minutes"].to_string(), "5");
        assert_eq!(updated.strategy_params["quote_amount"], config.strategy_params["quote_amount"]);
    }

    #[test]
    fn config_round_trips_through_its_input_form() {
        let config = BotConfig::create(
            &BotConfigInput { daily_loss_limit: Some("10".into()), running_time_hours: Some(48), ..input() },
            &ctx(),
        )
        .unwrap();
        assert_eq!(BotConfig::create(&config.to_input(), &ctx()).unwrap(), config);
    }

    #[test]
    fn lifecycle_table() {
        use BotStatus::*;
        use LifecycleCommand::*;
        assert_eq!(Created.apply(Start), Ok(Running));
        assert_eq!(Running.apply(Pause), Ok(Paused));
        assert_eq!(Paused.apply(Start), Ok(Running));
        assert_eq!(Paused.apply(Stop), Ok(Stopped));
        assert_eq!(Stopped.apply(Start), Ok(Running));
        assert_eq!(Running.apply(Start).unwrap_err().to_string(), "cannot start a bot that is running");
        assert_eq!(Stopped.apply(Pause).unwrap_err().to_string(), "cannot pause a bot that is stopped");
        for &status in BotStatus::ALL {
            assert_eq!(status.apply(Kill), Ok(Stopped), "kill must land from {status}");
        }
    }

    #[test]
    fn running_time_units() {
        assert_eq!("forever".parse(), Ok(RunningTime::Forever));
        assert_eq!("12h".parse(), Ok(RunningTime::Hours(12)));
        assert_eq!("3d".parse(), Ok(RunningTime::Hours(72)));
        assert_eq!("2mo".parse(), Ok(RunningTime::Hours(1440)));
        assert_eq!("6".parse(), Ok(RunningTime::Hours(6)));
        assert!("0h".parse::<RunningTime>().is_err());
        assert!("200mo".parse::<RunningTime>().is_err());
        assert!("soon".parse::<RunningTime>().is_err());
    }
}
