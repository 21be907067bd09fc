//! `defaults.yaml`: defaults for new bots and every strategy's parameters.

use std::collections::BTreeMap;

use domain::{
    bot::{BotDefaults, MAX_CONSECUTIVE_LOSSES, MAX_ROTATIONS},
    strategy::{StrategyDefaults, StrategyId, StrategyParams},
};
use serde_json::json;
use serde_yaml::Value;

use super::reader::{Reader, raw_param};

/// Defaults applied when a create request leaves fields out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DefaultsConfig {
    /// Bot-level defaults.
    pub bot: BotDefaults,
    /// Strategy parameter defaults overriding the built-in ones.
    pub strategies: StrategyDefaults,
}

fn read_strategy(reader: &mut Reader, strategy: StrategyId, value: &Value) -> StrategyParams {
    let path = format!("strategies.{strategy}");
    let mut params = StrategyParams::new();
    let Some(mut map) = reader.map(&path, value) else { return params };
    for spec in strategy.params() {
        let Some(value) = reader.get(&mut map, spec.name) else { continue };
        let field = Reader::path(&map, spec.name);
        match raw_param(value).and_then(|raw| spec.parse(&raw)) {
            Ok(parsed) => {
                params.insert(spec.name.to_owned(), parsed);
            }
            Err(e) => reader.problem(&field, e, spec.describe_accepted()),
        }
    }
    reader.finish(&map);
    params
}

impl DefaultsConfig {
    pub(super) fn read(reader: &mut Reader, value: &Value) -> Option<Self> {
        let mut top = reader.map("", value)?;
        let mut bot = BotDefaults::default();
        if let Some(value) = reader.get(&mut top, "bot")
            && let Some(mut map) = reader.map("bot", value)
        {
            bot.is_dry_run = reader.boolean(&mut map, "is_dry_run", bot.is_dry_run);
            bot.compound_enabled = reader.boolean(&mut map, "compound_enabled", bot.compound_enabled);
            let rotations = reader.integer(&mut map, "max_strategy_rotations", 0, u64::from(MAX_ROTATIONS), 3);
            bot.max_strategy_rotations = u32::try_from(rotations).unwrap_or(3);
            let losses = reader.integer(&mut map, "consecutive_loss_limit", 1, u64::from(MAX_CONSECUTIVE_LOSSES), 3);
            bot.consecutive_loss_limit = u32::try_from(losses).unwrap_or(3);
            reader.finish(&map);
        }
        let mut strategies = BTreeMap::new();
        if let Some(value) = reader.get(&mut top, "strategies")
            && let Some(mut map) = reader.map("strategies", value)
        {
            for &strategy in StrategyId::ALL {
                if let Some(value) = reader.get(&mut map, strategy.as_str()) {
                    strategies.insert(strategy, read_strategy(reader, strategy, value));
                }
            }
            reader.finish(&map);
        }
        reader.finish(&top);
        Some(Self { bot, strategies })
    }

    pub(super) fn redacted(&self) -> serde_json::Value {
        let strategies: serde_json::Map<String, serde_json::Value> =
            self.strategies.iter().map(|(id, params)| (id.as_str().to_owned(), json!(params))).collect();
        let b = &self.bot;
        json!({
            "bot": {
                "is_dry_run": b.is_dry_run,
                "compound_enabled": b.compound_enabled,
                "max_strategy_rotations": b.max_strategy_rotations,
                "consecutive_loss_limit": b.consecutive_loss_limit,
            },
            "strategies": strategies,
        })
    }
}
