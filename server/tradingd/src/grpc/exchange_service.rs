//! `tradingbot.v1.ExchangeService`: read-only connectivity checks of venue accounts.

use std::collections::BTreeSet;

use exchange::Error;
use store::{BotFilter, Store};
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, exchange_service_server::ExchangeService};

use super::status::internal;
use crate::venues::Venues;

/// Serves `ExchangeService` from the configured venue adapters.
#[derive(Debug)]
pub(crate) struct ExchangeApi {
    pub(crate) venues: Venues,
    pub(crate) store: Store,
}

/// Most symbols listed when no bot narrows the check down.
const MAX_SYMBOLS: usize = 50;

fn explain(what: &str, error: &Error) -> String {
    match error {
        Error::Auth(e) => {
            format!("{what}: the API key was refused ({e}); check the key, its permissions and IP allow-list")
        }
        Error::Timestamp(e) => format!("{what}: request timestamps rejected ({e}); check the machine's clock"),
        other => format!("{what}: {other}"),
    }
}

#[tonic::async_trait]
impl ExchangeService for ExchangeApi {
    async fn check_exchange(
        &self,
        request: Request<pb::CheckExchangeRequest>,
    ) -> Result<Response<pb::ExchangeCheck>, Status> {
        let wanted = request.into_inner().exchange;
        let Some((name, venue, url)) = self.venues.get(&wanted) else {
            let known: Vec<&str> = self.venues.names().collect();
            return Err(Status::not_found(format!(
                "no exchange '{wanted}' in exchanges.yaml; configured: {}",
                known.join(", ")
            )));
        };
        let mut check = pb::ExchangeCheck { exchange: name.to_owned(), rest_url: url.to_owned(), ..Default::default() };
        match venue.sync_clock().await {
            Ok(offset) => {
                check.reachable = true;
                check.clock_offset_ms = offset;
                if offset.abs() > 1000 {
                    check
                        .problems
                        .push(format!("the clocks differ by {offset} ms; requests are corrected, but check NTP"));
                }
            }
            Err(e) => check.problems.push(explain("venue unreachable", &e)),
        }
        if check.reachable {
            let traded: BTreeSet<String> = self
                .store
                .bots(BotFilter::default())
                .await
                .map_err(|e| internal(&e))?
                .into_iter()
                .filter(|b| b.config.exchange == name)
                .map(|b| b.config.pair.to_string())
                .collect();
            match self.venues.symbols(name).await {
                Ok(symbols) => {
                    for s in symbols
                        .iter()
                        .filter(|s| traded.is_empty() || traded.contains(&s.rules.pair.to_string()))
                        .take(MAX_SYMBOLS)
                    {
                        if !s.api_trading_allowed {
                            check.problems.push(format!("{} cannot be traded through the API", s.rules.pair));
                        }
                        check.symbols.push(pb::SymbolPermission {
                            pair: s.rules.pair.to_string(),
                            api_trading_allowed: s.api_trading_allowed,
                            min_qty: s.rules.min_qty.to_string(),
                            min_notional: s.rules.min_notional.to_string(),
                        });
                    }
                    for pair in &traded {
                        if !symbols.iter().any(|s| &s.rules.pair.to_string() == pair) {
                            check.problems.push(format!("a bot trades {pair}, which the venue does not list"));
                        }
                    }
                }
                Err(e) => check.problems.push(explain("symbols", &e)),
            }
            match venue.balances().await {
                Ok(balances) => {
                    check.keys_valid = true;
                    check.balances = balances
                        .into_iter()
                        .filter(|b| !b.free.value().is_zero() || !b.locked.value().is_zero())
                        .map(|b| pb::AssetBalance {
                            asset: b.asset,
                            free: b.free.to_string(),
                            locked: b.locked.to_string(),
                        })
                        .collect();
                }
                Err(e) => check.problems.push(explain("balances", &e)),
            }
        }
        Ok(Response::new(check))
    }
}
