//! `tradingbot.v1.ExchangeService`: read-only connectivity checks of venue accounts.
//!
//! A check costs the account about half a second of its request budget (the clock and the
//! balances; the symbols come from the venues' shared listing), so a check made within
//! [`CHECK_MAX_AGE`] of the last one of the same account is answered with that one: no caller,
//! not a page or a script in a loop, can spend the budget the bots trade with.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use exchange::{Error, Exchange};
use store::{BotFilter, Store};
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, exchange_service_server::ExchangeService};

use super::status::internal;
use crate::{fresh::Fresh, venues::Venues};

/// How long a check answers for its account.
pub(crate) const CHECK_MAX_AGE: Duration = Duration::from_secs(10);

/// Serves `ExchangeService` from the configured venue adapters.
#[derive(Debug)]
pub(crate) struct ExchangeApi {
    pub(crate) venues: Venues,
    pub(crate) store: Store,
    /// The last check of each account; callers checking at once share one.
    pub(crate) recent: Fresh<pb::ExchangeCheck>,
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

impl ExchangeApi {
    /// Checks account `name` at `url` on the venue: clock, symbols of its bots, balances.
    async fn check(&self, name: &str, venue: &Arc<dyn Exchange>, url: &str) -> Result<pb::ExchangeCheck, Status> {
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
        Ok(check)
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
        let check = self.recent.get(name, async || self.check(name, &venue, url).await).await?;
        Ok(Response::new(check))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::tests::venues_on_a_sim;

    #[tokio::test]
    async fn checks_in_a_row_cost_the_venue_one_check() {
        let (sim, venues) = venues_on_a_sim().await;
        let dir = tempfile::tempdir().unwrap();
        let api = ExchangeApi {
            venues,
            store: Store::open(&dir.path().join("t.db")).await.unwrap(),
            recent: Fresh::new(CHECK_MAX_AGE),
        };
        let ask = || Request::new(pb::CheckExchangeRequest { exchange: "sim".to_owned() });
        let first = api.check_exchange(ask()).await.unwrap().into_inner();
        assert!(first.reachable && first.keys_valid, "{first:?}");
        let spent = sim.request_count();
        for _ in 0..20 {
            assert_eq!(api.check_exchange(ask()).await.unwrap().into_inner(), first);
        }
        assert_eq!(sim.request_count(), spent, "twenty checks in a row cost nothing more");
    }
}
