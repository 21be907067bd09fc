//! `tradingbot.v1.ConfigService`: strategies with their schemas, pairs, redacted settings.

use std::sync::Arc;

use domain::strategy::{ParamDefault, ParamKind, ParamSpec, StrategyId};
use prost_types::{Struct, Value, value::Kind};
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, config_service_server::ConfigService};

use super::convert;
use crate::{config::Config, venues::Venues};

/// Serves `ConfigService` from the loaded configuration and the venues.
#[derive(Debug)]
pub(crate) struct ConfigApi {
    pub(crate) config: Arc<Config>,
    pub(crate) venues: Venues,
}

fn json_value(value: &serde_json::Value) -> Value {
    let kind = match value {
        serde_json::Value::Null => Kind::NullValue(0),
        serde_json::Value::Bool(b) => Kind::BoolValue(*b),
        serde_json::Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => Kind::StringValue(s.clone()),
        serde_json::Value::Array(items) => {
            Kind::ListValue(prost_types::ListValue { values: items.iter().map(json_value).collect() })
        }
        serde_json::Value::Object(map) => Kind::StructValue(json_struct(map)),
    };
    Value { kind: Some(kind) }
}

fn json_struct(map: &serde_json::Map<String, serde_json::Value>) -> Struct {
    Struct { fields: map.iter().map(|(k, v)| (k.clone(), json_value(v))).collect() }
}

impl ConfigApi {
    fn param(&self, strategy: StrategyId, spec: &ParamSpec) -> pb::ParamSpec {
        let configured = self.config.defaults.strategies.get(&strategy).and_then(|d| d.get(spec.name)).cloned();
        let default = configured.or_else(|| spec.builtin_default().ok().flatten());
        let (kind, min, max, min_exclusive, choices) = match spec.kind {
            ParamKind::Decimal(range) => {
                (pb::ParamKind::Decimal, range.min.to_string(), range.max.to_string(), !range.min_inclusive, vec![])
            }
            ParamKind::Integer { min, max } => {
                (pb::ParamKind::Integer, min.to_string(), max.to_string(), false, vec![])
            }
            ParamKind::Bool => (pb::ParamKind::Bool, String::new(), String::new(), false, vec![]),
            ParamKind::Choice(c) => (pb::ParamKind::Choice, String::new(), String::new(), false, c.to_vec()),
            ParamKind::ChoiceList(c) => (pb::ParamKind::ChoiceList, String::new(), String::new(), false, c.to_vec()),
            ParamKind::Text => (pb::ParamKind::Text, String::new(), String::new(), false, vec![]),
        };
        let default_value = default.map_or(Value { kind: Some(Kind::NullValue(0)) }, |d| {
            convert::params_struct(&[(spec.name.to_owned(), d)].into()).fields.remove(spec.name).unwrap_or_default()
        });
        pb::ParamSpec {
            name: spec.name.to_owned(),
            kind: kind.into(),
            description: spec.description.to_owned(),
            default_value: Some(default_value),
            min,
            max,
            choices: choices.into_iter().map(str::to_owned).collect(),
            unit: spec.unit.to_owned(),
            min_exclusive,
            required: spec.default == ParamDefault::Required,
        }
    }
}

#[tonic::async_trait]
impl ConfigService for ConfigApi {
    async fn list_strategies(
        &self,
        _request: Request<pb::ListStrategiesRequest>,
    ) -> Result<Response<pb::ListStrategiesResponse>, Status> {
        let strategies = StrategyId::ALL
            .iter()
            .map(|&s| pb::StrategyInfo {
                id: s.as_str().to_owned(),
                name: s.name().to_owned(),
                description: s.description().to_owned(),
                params: s.params().iter().map(|p| self.param(s, p)).collect(),
            })
            .collect();
        Ok(Response::new(pb::ListStrategiesResponse { strategies }))
    }

    async fn list_pairs(
        &self,
        request: Request<pb::ListPairsRequest>,
    ) -> Result<Response<pb::ListPairsResponse>, Status> {
        let wanted = request.into_inner().exchange;
        let (name, _, _) = self
            .venues
            .get(&wanted)
            .ok_or_else(|| Status::not_found(format!("no exchange '{wanted}' in exchanges.yaml")))?;
        // Not UNAVAILABLE: clients read that as "the daemon is unreachable".
        let symbols = self
            .venues
            .symbols(name)
            .await
            .map_err(|e| Status::failed_precondition(format!("the venue '{name}' did not answer: {e}")))?;
        let pairs = symbols
            .iter()
            .filter(|s| s.api_trading_allowed)
            .map(|s| pb::PairInfo {
                pair: s.rules.pair.to_string(),
                base: s.rules.pair.base().to_owned(),
                quote: s.rules.pair.quote().to_owned(),
                symbol: s.symbol.clone(),
            })
            .collect();
        Ok(Response::new(pb::ListPairsResponse { pairs }))
    }

    async fn get_settings(&self, _request: Request<pb::GetSettingsRequest>) -> Result<Response<pb::Settings>, Status> {
        let files = self
            .config
            .redacted()
            .into_iter()
            .map(|(name, content)| pb::SettingsFile {
                name: name.to_owned(),
                content: content.as_object().map(json_struct),
            })
            .collect();
        Ok(Response::new(pb::Settings { files }))
    }
}
