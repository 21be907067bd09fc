//! `tradingbot.v1.ExchangeService`: read-only connectivity checks of venue accounts.
//!
//! A check costs the account about half a second of its request budget (the clock and the
//! balances; the symbols come from the venues' shared listing), so a check made within
//! [`CHECK_MAX_AGE`] of the last one of the same account is answered with that one: no caller,
//! not a page or a script in a loop, can spend the budget the bots trade with.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::{Duration, Instant},
};

use exchange::Error;
use store::{BotFilter, Store};
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, exchange_service_server::ExchangeService};

use super::status::internal;
use crate::venues::Venues;

/// How long a check answers for its account.
pub(crate) const CHECK_MAX_AGE: Duration = Duration::from_secs(10);

/// Serves `ExchangeService` from the configured venue adapters.
#[derive(Debug)]
pub(crate) struct ExchangeApi {
    pub(crate) venues: Venues,
    pub(crate) store: Store,
    /// The last check of each account and when it was made; callers checking at once share one.
    pub(crate) recent: Arc<tokio::sync::Mutex<BTreeMap<String, (Instant, pb::ExchangeCheck)>>>,
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
        let mut recent = self.recent.lock().await;
        if let Some((at, check)) = recent.get(name)
            && at.elapsed() < CHECK_MAX_AGE
        {
            return Ok(Response::new(check.clone()));
        }
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
        recent.insert(name.to_owned(), (Instant::now(), check.clone()));
        Ok(Response::new(check))
    }
}

#[cfg(test)]
mod tests {
    use mexc_sim::{SimConfig, Simulator};

    use super::*;
    use crate::{config::Config, runtime::tests::repo};

    #[tokio::test]
    async fn checks_in_a_row_cost_the_venue_one_check() {
        let sim = Simulator::start(
            SimConfig::demo(&repo().join("server/mexc-sim/data")),
            tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(),
        )
        .await;
        let mut config = Config::load(&repo().join("config")).unwrap();
        let account = config.exchanges.accounts.get_mut("sim").unwrap();
        (account.rest_url, account.ws_url) = (sim.rest_url(), sim.ws_url());
        let dir = tempfile::tempdir().unwrap();
        let api = ExchangeApi {
            venues: Venues::new(&config.exchanges).unwrap(),
            store: Store::open(&dir.path().join("t.db")).await.unwrap(),
            recent: Arc::default(),
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
