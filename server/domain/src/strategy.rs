//! Strategy ids and their parameter schemas.
//!
//! One schema per strategy drives everything that touches parameters: validation on bot
//! create and edit, validation of `config/defaults.yaml`, `GET /api/config/strategies`, the
//! CLI help and the UI forms. Defaults written here are the built-in ones; `defaults.yaml`
//! may override them (validated by the same schema).

use std::{collections::BTreeMap, fmt};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

use crate::{macros::named_enum, money::DecimalRange, validation::Violations};

named_enum!(
    /// Every strategy a bot can run.
    StrategyId, "strategy" {
        /// Grid of limit orders around the price, re-centred when the price leaves the range.
        AdaptiveGrid => "adaptive_grid",
        /// Buys a fixed quote amount at a fixed interval.
        DcaAccumulator => "dca_accumulator",
        /// Trades breakouts of a recent range confirmed by volume.
        BreakdownMomentum => "breakdown_momentum",
        /// Buys below the lower Bollinger band, sells back at the mean.
        MeanReversion => "mean_reversion",
        /// Reacts quickly to market events and pushed signals.
        EventFiller => "event_filler",
        /// Executes a target amount in even time slices.
        Twap => "twap",
        /// Executes a target amount along the historical volume profile.
        Vwap => "vwap",
        /// Exploits price differences across pairs or venues.
        Arbitrage => "arbitrage",
        /// Chooses among the other strategies from market factors.
        Auto => "auto",
    }
);

impl StrategyId {
    /// Display name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AdaptiveGrid => "Adaptive Grid",
            Self::DcaAccumulator => "DCA Accumulator",
            Self::BreakdownMomentum => "Breakdown Momentum",
            Self::MeanReversion => "Mean Reversion",
            Self::EventFiller => "Event Filler",
            Self::Twap => "TWAP",
            Self::Vwap => "VWAP",
            Self::Arbitrage => "Arbitrage",
            Self::Auto => "Auto Mode",
        }
    }

    /// One-paragraph description for help texts and forms.
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            Self::AdaptiveGrid => {
                "Places a grid of buy and sell limit orders around the price and re-grids when the price leaves the range."
            }
            Self::DcaAccumulator => {
                "Buys a fixed quote amount every interval, with optional extra buys on price drops and an optional take-profit exit."
            }
            Self::BreakdownMomentum => {
                "Enters on a breakout of the recent high/low range confirmed by above-average volume; exits on a trailing stop."
            }
            Self::MeanReversion => {
                "Buys when the close falls below the lower Bollinger band and sells when it returns above the middle band."
            }
            Self::EventFiller => {
                "Reacts to volume and price spikes, extreme external readings and pushed signals, with tight exits."
            }
            Self::Twap => "Buys or sells a target amount over a period in even time slices.",
            Self::Vwap => {
                "Buys or sells a target amount along the historical intraday volume profile, with a participation cap."
            }
            Self::Arbitrage => {
                "Trades price differences across three pairs of one venue (triangular) or across two venues, net of fees."
            }
            Self::Auto => {
                "Measures trend, volume and volatility and runs the strategy those factors select, switching with hysteresis."
            }
        }
    }

    /// The strategy's parameter schema.
    #[must_use]
    pub fn params(self) -> &'static [ParamSpec] {
        match self {
            Self::AdaptiveGrid => ADAPTIVE_GRID,
            Self::DcaAccumulator => DCA_ACCUMULATOR,
            Self::BreakdownMomentum => BREAKDOWN_MOMENTUM,
            Self::MeanReversion => MEAN_REVERSION,
            Self::EventFiller => EVENT_FILLER,
            Self::Twap => TWAP,
            Self::Vwap => VWAP,
            Self::Arbitrage => ARBITRAGE,
            Self::Auto => AUTO,
        }
    }

    /// The parameter called `name`, if the strategy has one.
    #[must_use]
    pub fn param(self, name: &str) -> Option<&'static ParamSpec> {
        self.params().iter().find(|p| p.name == name)
    }
}

/// The type and accepted values of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An exact decimal in the range.
    Decimal(DecimalRange),
    /// A whole number from `min` to `max` inclusive.
    Integer {
        /// Smallest accepted value.
        min: i64,
        /// Largest accepted value.
        max: i64,
    },
    /// A flag.
    Bool,
    /// One of the listed values.
    Choice(&'static [&'static str]),
    /// A list of distinct values, each one of the listed values.
    ChoiceList(&'static [&'static str]),
    /// Free text of 1 to 64 characters.
    Text,
}

/// Schema of one strategy parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// Parameter name as used in `strategy_params`.
    pub name: &'static str,
    /// Type and range.
    pub kind: ParamKind,
    /// What the parameter does.
    pub description: &'static str,
    /// Unit shown next to the value ("minutes", "%", "quote"), or empty.
    pub unit: &'static str,
    /// Built-in default, or whether the parameter may be left out.
    pub default: ParamDefault,
}

/// What happens when a parameter is not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamDefault {
    /// This built-in value (in text form) applies, unless `defaults.yaml` sets another.
    Value(&'static str),
    /// The parameter stays unset.
    Optional,
    /// The parameter must be given.
    Required,
}

/// A parameter value as received from outside, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawParam {
    /// Explicitly unset.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number in its exact text form ("10", "0.25").
    Number(String),
    /// A string.
    Text(String),
    /// A list of values.
    List(Vec<Self>),
}

/// A validated parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    /// For [`ParamKind::Decimal`].
    Decimal(Decimal),
    /// For [`ParamKind::Integer`].
    Integer(i64),
    /// For [`ParamKind::Bool`].
    Bool(bool),
    /// For [`ParamKind::Choice`] and [`ParamKind::Text`].
    Text(String),
    /// For [`ParamKind::ChoiceList`].
    List(Vec<String>),
}

impl ParamValue {
    /// The value in raw form, as an edge would receive it back.
    #[must_use]
    pub fn to_raw(&self) -> RawParam {
        match self {
            Self::Decimal(d) => RawParam::Text(d.normalize().to_string()),
            Self::Integer(i) => RawParam::Number(i.to_string()),
            Self::Bool(b) => RawParam::Bool(*b),
            Self::Text(t) => RawParam::Text(t.clone()),
            Self::List(items) => RawParam::List(items.iter().cloned().map(RawParam::Text).collect()),
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Decimal(d) => d.normalize().fmt(f),
            Self::Integer(i) => i.fmt(f),
            Self::Bool(b) => b.fmt(f),
            Self::Text(t) => f.write_str(t),
            Self::List(items) => f.write_str(&items.join(",")),
        }
    }
}

impl Serialize for ParamValue {
    /// Canonical JSON form: decimals as strings, integers as numbers.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Decimal(d) => serializer.serialize_str(&d.normalize().to_string()),
            Self::Integer(i) => serializer.serialize_i64(*i),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Text(t) => serializer.serialize_str(t),
            Self::List(items) => items.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for RawParam {
    /// Reads the canonical JSON form written by [`ParamValue`]'s `Serialize`. Fractional
    /// numbers are refused: decimals travel as strings.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RawVisitor;
        impl<'de> de::Visitor<'de> for RawVisitor {
            type Value = RawParam;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a parameter value (string, whole number, boolean, list or null)")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawParam, E> {
                Ok(RawParam::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawParam, E> {
                Ok(RawParam::Number(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawParam, E> {
                Ok(RawParam::Number(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawParam, E> {
                Ok(RawParam::Text(v.to_owned()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawParam, E> {
                Ok(RawParam::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<RawParam, E> {
                Ok(RawParam::Null)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RawParam, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(RawParam::List(items))
            }
        }
        deserializer.deserialize_any(RawVisitor)
    }
}

fn number_text(raw: &RawParam) -> Option<&str> {
    match raw {
        RawParam::Number(t) | RawParam::Text(t) => Some(t),
        _ => None,
    }
}

fn choice(choices: &[&str], text: &str) -> Result<String, String> {
    if choices.contains(&text) {
        Ok(text.to_owned())
    } else {
        Err(format!("'{text}' is not accepted; expected one of: {}", choices.join(", ")))
    }
}

impl ParamSpec {
    /// Validates a raw value against this schema.
    ///
    /// # Errors
    /// What is wrong and what is accepted.
    pub fn parse(&self, raw: &RawParam) -> Result<ParamValue, String> {
        match (self.kind, raw) {
            (ParamKind::Decimal(range), raw) => {
                let text = number_text(raw).ok_or_else(|| format!("expected a number {}", range.describe()))?;
                range.parse(text).map(ParamValue::Decimal)
            }
            (ParamKind::Integer { min, max }, raw) => {
                let expected = format!("expected a whole number from {min} to {max}");
                let value: i64 =
                    number_text(raw).and_then(|t| t.trim().parse().ok()).ok_or_else(|| expected.clone())?;
                if (min..=max).contains(&value) {
                    Ok(ParamValue::Integer(value))
                } else {
                    Err(format!("{value} is out of range; {expected}"))
                }
            }
            (ParamKind::Bool, RawParam::Bool(b)) => Ok(ParamValue::Bool(*b)),
            (ParamKind::Bool, RawParam::Text(t)) if t == "true" || t == "false" => Ok(ParamValue::Bool(t == "true")),
            (ParamKind::Bool, _) => Err("expected true or false".to_owned()),
            (ParamKind::Choice(choices), RawParam::Text(t)) => choice(choices, t).map(ParamValue::Text),
            (ParamKind::Choice(choices), _) => Err(format!("expected one of: {}", choices.join(", "))),
            (ParamKind::ChoiceList(choices), raw) => {
                let items: Vec<String> = match raw {
                    RawParam::List(items) => items
                        .iter()
                        .map(|item| match item {
                            RawParam::Text(t) => Ok(t.clone()),
                            _ => Err(format!("expected a list of: {}", choices.join(", "))),
                        })
                        .collect::<Result<_, _>>()?,
                    RawParam::Text(t) if t.trim().is_empty() => Vec::new(),
                    RawParam::Text(t) => t.split(',').map(|s| s.trim().to_owned()).collect(),
                    _ => return Err(format!("expected a list of: {}", choices.join(", "))),
                };
                let mut seen = Vec::new();
                for item in items {
                    let item = choice(choices, &item)?;
                    if seen.contains(&item) {
                        return Err(format!("'{item}' is listed twice"));
                    }
                    seen.push(item);
                }
                Ok(ParamValue::List(seen))
            }
            (ParamKind::Text, RawParam::Text(t)) if !t.trim().is_empty() && t.chars().count() <= 64 => {
                Ok(ParamValue::Text(t.trim().to_owned()))
            }
            (ParamKind::Text, _) => Err("expected text of 1 to 64 characters".to_owned()),
        }
    }

    /// The accepted values in words, e.g. "expected a whole number from 2 to 200".
    #[must_use]
    pub fn describe_accepted(&self) -> String {
        match self.kind {
            ParamKind::Decimal(range) => format!("expected a number {}", range.describe()),
            ParamKind::Integer { min, max } => format!("expected a whole number from {min} to {max}"),
            ParamKind::Bool => "expected true or false".to_owned(),
            ParamKind::Choice(choices) => format!("expected one of: {}", choices.join(", ")),
            ParamKind::ChoiceList(choices) => format!("expected a list of: {}", choices.join(", ")),
            ParamKind::Text => "expected text of 1 to 64 characters".to_owned(),
        }
    }

    /// The built-in default, validated.
    ///
    /// # Errors
    /// When the built-in default does not satisfy the schema (a bug caught by the tests).
    pub fn builtin_default(&self) -> Result<Option<ParamValue>, String> {
        let ParamDefault::Value(text) = self.default else { return Ok(None) };
        let raw = match self.kind {
            ParamKind::Bool => RawParam::Bool(text == "true"),
            _ => RawParam::Text(text.to_owned()),
        };
        self.parse(&raw).map(Some)
    }
}

/// Validated parameters of one strategy, by name; every parameter with a default is present.
pub type StrategyParams = BTreeMap<String, ParamValue>;

/// Default overrides per strategy, as loaded from `config/defaults.yaml`.
pub type StrategyDefaults = BTreeMap<StrategyId, StrategyParams>;

/// Validates `provided` against `strategy`'s schema and fills every missing parameter from
/// `defaults` or the built-in default. Problems are reported under `strategy_params.<name>`.
///
/// # Errors
/// Every unknown parameter, invalid value and missing required parameter.
pub fn validate_params(
    strategy: StrategyId,
    provided: &BTreeMap<String, RawParam>,
    defaults: &StrategyDefaults,
) -> Result<StrategyParams, Violations> {
    let mut violations = Violations::default();
    let mut params = StrategyParams::new();
    for name in provided.keys() {
        if strategy.param(name).is_none() {
            let known: Vec<&str> = strategy.params().iter().map(|p| p.name).collect();
            violations.add(
                format!("strategy_params.{name}"),
                format!("unknown parameter for {strategy}; accepted: {}", known.join(", ")),
            );
        }
    }
    for spec in strategy.params() {
        let field = format!("strategy_params.{}", spec.name);
        let value = match provided.get(spec.name) {
            Some(RawParam::Null) | None => {
                let configured = defaults.get(&strategy).and_then(|d| d.get(spec.name)).cloned();
                match (configured, spec.default) {
                    (Some(value), _) => Some(value),
                    (None, ParamDefault::Required) => {
                        violations.add(&field, format!("required for {strategy}; {}", spec.describe_accepted()));
                        None
                    }
                    (None, _) => violations.check(&field, spec.builtin_default()).flatten(),
                }
            }
            Some(raw) => violations.check(&field, spec.parse(raw)),
        };
        if let Some(value) = value {
            params.insert(spec.name.to_owned(), value);
        }
    }
    violations.into_result(params)
}

const QUOTE_AMOUNT: DecimalRange = DecimalRange::above(dec!(0), dec!(1_000_000_000));
const PERCENT_OPTIONAL: DecimalRange = DecimalRange::between(dec!(0), dec!(1000));
const PERCENT_POSITIVE: DecimalRange = DecimalRange::above(dec!(0), dec!(100));
const TARGET_AMOUNT: DecimalRange = DecimalRange::above(dec!(0), dec!(1_000_000_000));
const SIDES: &[&str] = &["buy", "sell"];
const FACTORS: &[&str] = &["trend", "volume", "volatility"];

const fn spec(
    name: &'static str,
    kind: ParamKind,
    unit: &'static str,
    default: ParamDefault,
    description: &'static str,
) -> ParamSpec {
    ParamSpec { name, kind, description, unit, default }
}

const fn int(min: i64, max: i64) -> ParamKind {
    ParamKind::Integer { min, max }
}

const ADAPTIVE_GRID: &[ParamSpec] = &[
    spec("grid_count", int(2, 200), "levels", ParamDefault::Value("10"), "Number of grid levels."),
    spec(
        "spacing",
        ParamKind::Choice(&["arithmetic", "geometric"]),
        "",
        ParamDefault::Value("arithmetic"),
        "Equal price steps, or equal percentage steps.",
    ),
    spec(
        "range_mode",
        ParamKind::Choice(&["fixed", "volatility"]),
        "",
        ParamDefault::Value("volatility"),
        "Fixed range around the start price, or re-centred from recent volatility.",
    ),
    spec(
        "range_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("5"),
        "Half-width of the grid range around the centre price (fixed mode).",
    ),
    spec(
        "volatility_lookback",
        int(10, 10_000),
        "bars",
        ParamDefault::Value("60"),
        "Bars used to measure volatility (volatility mode).",
    ),
    spec(
        "volatility_multiplier",
        ParamKind::Decimal(DecimalRange::above(dec!(0), dec!(20))),
        "x",
        ParamDefault::Value("2"),
        "Range half-width as a multiple of the measured volatility.",
    ),
    spec(
        "order_quote_amount",
        ParamKind::Decimal(QUOTE_AMOUNT),
        "quote",
        ParamDefault::Value("10"),
        "Quote amount of each grid order.",
    ),
];

const DCA_ACCUMULATOR: &[ParamSpec] = &[
    spec(
        "quote_amount",
        ParamKind::Decimal(QUOTE_AMOUNT),
        "quote",
        ParamDefault::Value("10"),
        "Quote amount bought every interval.",
    ),
    spec("interval_minutes", int(1, 525_600), "minutes", ParamDefault::Value("60"), "Time between regular buys."),
    spec(
        "drop_trigger_percent",
        ParamKind::Decimal(PERCENT_OPTIONAL),
        "%",
        ParamDefault::Value("0"),
        "Extra buy when the price drops this much below the last buy (0 = off).",
    ),
    spec(
        "drop_extra_quote",
        ParamKind::Decimal(DecimalRange::between(dec!(0), dec!(1_000_000_000))),
        "quote",
        ParamDefault::Value("0"),
        "Quote amount of each extra buy on a drop.",
    ),
    spec(
        "take_profit_percent",
        ParamKind::Decimal(PERCENT_OPTIONAL),
        "%",
        ParamDefault::Value("0"),
        "Sell the position when it gains this much over its average cost (0 = never).",
    ),
];

const BREAKDOWN_MOMENTUM: &[ParamSpec] = &[
    spec(
        "lookback_bars",
        int(2, 1000),
        "bars",
        ParamDefault::Value("20"),
        "Bars forming the range whose breakout is traded.",
    ),
    spec(
        "volume_multiplier",
        ParamKind::Decimal(DecimalRange::between(dec!(1), dec!(20))),
        "x",
        ParamDefault::Value("1.5"),
        "Breakout volume must exceed the average volume times this.",
    ),
    spec(
        "trailing_stop_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("2"),
        "Trailing exit distance from the best price since entry.",
    ),
    spec(
        "order_quote_amount",
        ParamKind::Decimal(QUOTE_AMOUNT),
        "quote",
        ParamDefault::Value("20"),
        "Quote amount of each entry.",
    ),
];

const MEAN_REVERSION: &[ParamSpec] = &[
    spec("period", int(2, 500), "bars", ParamDefault::Value("20"), "Moving-average period of the bands."),
    spec(
        "std_dev",
        ParamKind::Decimal(DecimalRange::between(dec!(0.5), dec!(5))),
        "σ",
        ParamDefault::Value("2"),
        "Band width in standard deviations.",
    ),
    spec(
        "entry_mode",
        ParamKind::Choice(&["bollinger", "zscore"]),
        "",
        ParamDefault::Value("bollinger"),
        "Enter below the lower band, or below a z-score threshold.",
    ),
    spec(
        "zscore_entry",
        ParamKind::Decimal(DecimalRange::between(dec!(0.5), dec!(5))),
        "σ",
        ParamDefault::Value("2"),
        "Z-score below which to enter (zscore mode).",
    ),
    spec("rsi_filter", ParamKind::Bool, "", ParamDefault::Value("false"), "Only enter when RSI is oversold."),
    spec("rsi_period", int(2, 100), "bars", ParamDefault::Value("14"), "RSI period (with the RSI filter)."),
    spec(
        "rsi_oversold",
        ParamKind::Decimal(DecimalRange::above(dec!(0), dec!(50))),
        "",
        ParamDefault::Value("30"),
        "RSI level counted as oversold.",
    ),
    spec(
        "order_quote_amount",
        ParamKind::Decimal(QUOTE_AMOUNT),
        "quote",
        ParamDefault::Value("20"),
        "Quote amount of each entry.",
    ),
];

const EVENT_FILLER: &[ParamSpec] = &[
    spec(
        "volume_spike_multiplier",
        ParamKind::Decimal(DecimalRange::between(dec!(1), dec!(100))),
        "x",
        ParamDefault::Value("3"),
        "Volume over its recent average times this counts as a spike.",
    ),
    spec(
        "price_spike_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("2"),
        "Price move within the window that counts as a spike.",
    ),
    spec("window_bars", int(1, 240), "bars", ParamDefault::Value("5"), "Window in which spikes are measured."),
    spec(
        "react_to_signals",
        ParamKind::Bool,
        "",
        ParamDefault::Value("true"),
        "Act on signals pushed in through the API.",
    ),
    spec(
        "react_to_feeds",
        ParamKind::Bool,
        "",
        ParamDefault::Value("false"),
        "Act on the external data feeds (opt in): extreme Fear & Greed readings, and the pair's coin entering the trending list.",
    ),
    spec(
        "fear_greed_buy_at",
        int(0, 49),
        "index",
        ParamDefault::Value("20"),
        "Enter when the Fear & Greed index falls to this or lower (extreme fear); 0 only at 0.",
    ),
    spec(
        "fear_greed_sell_at",
        int(51, 100),
        "index",
        ParamDefault::Value("80"),
        "Exit when the Fear & Greed index rises to this or higher (extreme greed).",
    ),
    spec(
        "take_profit_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("1"),
        "Exit when the position gains this much.",
    ),
    spec(
        "stop_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("0.5"),
        "Exit when the position loses this much.",
    ),
    spec(
        "max_hold_minutes",
        int(1, 10_080),
        "minutes",
        ParamDefault::Value("30"),
        "Exit after this long whatever the price.",
    ),
    spec(
        "order_quote_amount",
        ParamKind::Decimal(QUOTE_AMOUNT),
        "quote",
        ParamDefault::Value("20"),
        "Quote amount of each entry.",
    ),
];

const TWAP: &[ParamSpec] = &[
    spec("side", ParamKind::Choice(SIDES), "", ParamDefault::Value("buy"), "Buy or sell the target amount."),
    spec(
        "target_amount",
        ParamKind::Decimal(TARGET_AMOUNT),
        "base",
        ParamDefault::Required,
        "Base amount to buy or sell in total.",
    ),
    spec("duration_minutes", int(1, 43_200), "minutes", ParamDefault::Value("60"), "Period over which to execute."),
    spec("slices", int(1, 10_000), "slices", ParamDefault::Value("12"), "Number of even slices."),
];

const VWAP: &[ParamSpec] = &[
    spec("side", ParamKind::Choice(SIDES), "", ParamDefault::Value("buy"), "Buy or sell the target amount."),
    spec(
        "target_amount",
        ParamKind::Decimal(TARGET_AMOUNT),
        "base",
        ParamDefault::Required,
        "Base amount to buy or sell in total.",
    ),
    spec("duration_minutes", int(1, 43_200), "minutes", ParamDefault::Value("240"), "Period over which to execute."),
    spec(
        "participation_cap_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("10"),
        "Never trade more than this share of the market's volume in a slice.",
    ),
    spec(
        "profile_days",
        int(1, 30),
        "days",
        ParamDefault::Value("7"),
        "Days of history used for the intraday volume profile.",
    ),
];

const ARBITRAGE: &[ParamSpec] = &[
    spec(
        "mode",
        ParamKind::Choice(&["triangular", "cross_exchange"]),
        "",
        ParamDefault::Value("triangular"),
        "Three pairs on one venue, or one pair on two venues.",
    ),
    spec(
        "bridge_asset",
        ParamKind::Text,
        "",
        ParamDefault::Value("BTC"),
        "Intermediate asset of the triangle (triangular mode).",
    ),
    spec(
        "second_exchange",
        ParamKind::Text,
        "",
        ParamDefault::Optional,
        "Name of the other venue account in exchanges.yaml (cross-exchange mode).",
    ),
    spec(
        "min_edge_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("0.2"),
        "Smallest edge net of fees and depth worth trading.",
    ),
    spec(
        "max_trade_quote",
        ParamKind::Decimal(QUOTE_AMOUNT),
        "quote",
        ParamDefault::Value("50"),
        "Largest quote amount per arbitrage cycle.",
    ),
];

const AUTO: &[ParamSpec] = &[
    spec(
        "factor_order",
        ParamKind::ChoiceList(FACTORS),
        "",
        ParamDefault::Value("trend,volume,volatility"),
        "Factor precedence when factors disagree.",
    ),
    spec(
        "disabled_factors",
        ParamKind::ChoiceList(FACTORS),
        "",
        ParamDefault::Value(""),
        "Factors ignored in the selection.",
    ),
    spec("lookback_bars", int(10, 10_000), "bars", ParamDefault::Value("240"), "Bars used to measure the factors."),
    spec(
        "hysteresis_percent",
        ParamKind::Decimal(PERCENT_POSITIVE),
        "%",
        ParamDefault::Value("10"),
        "How much stronger a new reading must be before switching.",
    ),
    spec(
        "min_switch_minutes",
        int(1, 10_080),
        "minutes",
        ParamDefault::Value("60"),
        "Least time between two switches.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, RawParam)]) -> BTreeMap<String, RawParam> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    #[test]
    fn every_builtin_default_satisfies_its_schema() {
        for &strategy in StrategyId::ALL {
            for spec in strategy.params() {
                assert!(spec.builtin_default().is_ok(), "{strategy}.{}", spec.name);
            }
        }
    }

    #[test]
    fn strategy_ids_round_trip_and_unknown_ids_list_the_accepted_ones() {
        for &strategy in StrategyId::ALL {
            assert_eq!(strategy.as_str().parse::<StrategyId>().unwrap(), strategy);
        }
        let err = "grid".parse::<StrategyId>().unwrap_err();
        assert!(err.contains("adaptive_grid, dca_accumulator"), "{err}");
    }

    #[test]
    fn fills_defaults_and_prefers_configured_ones() {
        let mut defaults = StrategyDefaults::new();
        defaults.insert(StrategyId::DcaAccumulator, [("interval_minutes".to_owned(), ParamValue::Integer(15))].into());
        let params = validate_params(
            StrategyId::DcaAccumulator,
            &raw(&[("quote_amount", RawParam::Number("25.5".into()))]),
            &defaults,
        )
        .unwrap();
        assert_eq!(params["quote_amount"], ParamValue::Decimal(dec!(25.5)));
        assert_eq!(params["interval_minutes"], ParamValue::Integer(15));
        assert_eq!(params["take_profit_percent"], ParamValue::Decimal(dec!(0)));
    }

    #[test]
    fn reports_every_problem_with_its_field() {
        let err = validate_params(
            StrategyId::AdaptiveGrid,
            &raw(&[
                ("grid_count", RawParam::Number("1".into())),
                ("spacing", RawParam::Text("log".into())),
                ("bogus", RawParam::Bool(true)),
            ]),
            &StrategyDefaults::new(),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("strategy_params.bogus: unknown parameter for adaptive_grid"), "{text}");
        assert!(
            text.contains("strategy_params.grid_count: 1 is out of range; expected a whole number from 2 to 200"),
            "{text}"
        );
        assert!(
            text.contains("strategy_params.spacing: 'log' is not accepted; expected one of: arithmetic, geometric"),
            "{text}"
        );
        assert_eq!(err.list().len(), 3);
    }

    #[test]
    fn required_parameters_without_default_are_reported() {
        let err = validate_params(StrategyId::Twap, &BTreeMap::new(), &StrategyDefaults::new()).unwrap_err();
        assert_eq!(err.list().len(), 1);
        assert_eq!(err.list()[0].field, "strategy_params.target_amount");
    }

    #[test]
    fn choice_lists_accept_arrays_or_comma_text_and_refuse_repeats() {
        let spec = StrategyId::Auto.param("factor_order").unwrap();
        let from_text = spec.parse(&RawParam::Text("volume, trend".into())).unwrap();
        assert_eq!(from_text, ParamValue::List(vec!["volume".into(), "trend".into()]));
        assert!(spec.parse(&RawParam::Text("trend,trend".into())).is_err());
    }
}
