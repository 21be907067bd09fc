//! Starting, driving and stopping a simulator: shared state, the market ticker, the HTTP server.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use tokio::{net::TcpListener, sync::broadcast, sync::watch, task::JoinHandle};

use crate::{
    clock::{Clock, wall_ms},
    config::{Faults, MarketSource, SimConfig},
    error::Error,
    external::External,
    faults::Limiter,
    market::{MINUTE, Series, load_csv, mix, random_walk},
    rest,
    symbols::SymbolSpec,
    venue::{Event, Venue},
};

/// Wall time between two market ticks (the venue's 100 ms push aggregation).
const TICK: Duration = Duration::from_millis(100);
/// How long `shutdown` waits for open requests and connections before cutting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// State shared by the ticker, the REST handlers and the WebSocket connections.
#[derive(Debug)]
pub(crate) struct Shared {
    venue: Mutex<Venue>,
    pub(crate) clock: Clock,
    faults: RwLock<Faults>,
    external: RwLock<External>,
    pub(crate) requests: AtomicU64,
    pub(crate) limiter: Mutex<Limiter>,
    pub(crate) fault_rng: Mutex<ChaCha8Rng>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) shutdown: watch::Sender<bool>,
}

impl Shared {
    /// The venue, locked (never across an `.await`).
    pub(crate) fn venue(&self) -> MutexGuard<'_, Venue> {
        self.venue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The faults in force.
    pub(crate) fn faults(&self) -> Faults {
        self.faults.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = faults;
    }

    /// What the external data stand-ins say.
    pub(crate) fn external(&self) -> External {
        self.external.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub(crate) fn set_external(&self, external: External) {
        *self.external.write().unwrap_or_else(PoisonError::into_inner) = external;
    }

    /// The venue's clock as clients see it: wall clock plus the skew fault.
    pub(crate) fn server_time(&self) -> i64 {
        wall_ms() + self.faults().clock_skew_ms
    }

    /// Replays the market up to the market clock's now.
    pub(crate) fn tick(&self) {
        let faults = self.faults();
        let server_time = self.server_time();
        let mut venue = self.venue();
        venue.apply_faults(&faults);
        venue.advance(self.clock.now(), server_time);
    }
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Loads the market and serves the venue on `listener` (REST under `/api/v3`, WebSocket at
    /// `/ws`, admin at `/admin/faults`) until `SimHandle::shutdown`.
    ///
    /// # Panics
    ///
    /// If the configuration cannot run (see `try_start`): tests and demos want a loud failure.
    pub async fn start(config: SimConfig, listener: TcpListener) -> SimHandle {
        match Self::try_start(config, listener).await {
            Ok(handle) => handle,
            Err(e) => panic!("mexc-sim cannot start: {e}"),
        }
    }

    /// Like `start`, reporting why the simulator cannot start.
    ///
    /// # Errors
    ///
    /// A candles file that cannot be read or parsed, no symbol, a speed that is negative or not
    /// finite, two accounts with the same API key, or an unreadable listener address.
    pub async fn try_start(config: SimConfig, listener: TcpListener) -> Result<SimHandle, Error> {
        if !config.speed.is_finite() || config.speed < 0.0 || config.speed > 1e6 {
            return Err(Error::Config(format!("speed {} is not in 0..=1e6", config.speed)));
        }
        let mut keys: Vec<&str> = config.accounts.iter().map(|a| a.api_key.as_str()).collect();
        keys.sort_unstable();
        if keys.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::Config("two accounts share an API key".to_owned()));
        }
        let addr = listener.local_addr()?;
        let clock = Clock::new(config.speed);
        let anchor = clock.now().div_euclid(MINUTE) * MINUTE;
        let mut series = match &config.market {
            MarketSource::Replay(files) => files
                .iter()
                .enumerate()
                .map(|(i, (symbol, path))| {
                    let spec = SymbolSpec::for_symbol(symbol);
                    let candles = load_csv(path, &spec)?;
                    Ok(Series::new(spec, i, candles, anchor, config.seed))
                })
                .collect::<Result<Vec<_>, Error>>()?,
            MarketSource::RandomWalk { symbols } => symbols
                .iter()
                .enumerate()
                .map(|(i, (symbol, start_price))| {
                    let spec = SymbolSpec::for_symbol(symbol);
                    let candles = random_walk(config.seed, i, &spec, *start_price);
                    Series::new(spec, i, candles, anchor, config.seed)
                })
                .collect(),
        };
        let offset = series.len();
        series.extend(config.synthetic.iter().enumerate().map(|(i, symbol)| {
            let spec = SymbolSpec::for_symbol(symbol);
            let candles = random_walk(config.seed, offset + i, &spec, Decimal::from(100));
            Series::new(spec, offset + i, candles, anchor, config.seed)
        }));
        if series.is_empty() {
            return Err(Error::Config("no symbol to simulate".to_owned()));
        }
        let (events, _) = broadcast::channel(4096);
        let server_time = wall_ms() + config.faults.clock_skew_ms;
        let venue = Venue::new(config.seed, series, &config.accounts, events.clone(), clock.now(), server_time);
        let (shutdown, mut stop) = watch::channel(false);
        let shared = Arc::new(Shared {
            venue: Mutex::new(venue),
            clock,
            faults: RwLock::new(config.faults),
            external: RwLock::default(),
            requests: AtomicU64::new(0),
            limiter: Mutex::new(Limiter::default()),
            fault_rng: Mutex::new(ChaCha8Rng::seed_from_u64(mix(config.seed, &[-7]))),
            events,
            shutdown,
        });
        let ticker = {
            let shared = shared.clone();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                let mut interval = tokio::time::interval(TICK);
                interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    tokio::select! {
                        _ = stop.changed() => break,
                        _ = interval.tick() => shared.tick(),
                    }
                }
            })
        };
        let app = rest::router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            let graceful = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            });
            if let Err(e) = graceful.await {
                tracing::error!(error = %e, "mexc-sim server failed");
            }
        });
        tracing::info!(%addr, "mexc-sim listening");
        Ok(SimHandle { addr, shared, ticker, server })
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    ticker: JoinHandle<()>,
    server: JoinHandle<()>,
}

impl SimHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The REST base URL, e.g. `http://127.0.0.1:9090`.
    pub fn rest_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The WebSocket URL, e.g. `ws://127.0.0.1:9090/ws`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Replaces the faults in force (takes effect on the next request, tick or push).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Sets what the external data stand-ins say.
    pub fn set_external(&self, external: External) {
        self.shared.set_external(external);
    }

    /// REST requests received so far (`/api/...`, including refused ones).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Moves the market clock forward by `ms` and replays up to it before returning: with
    /// `speed` 0 this is the only way the market moves (tests).
    pub fn advance(&self, ms: u64) {
        self.shared.clock.advance(ms);
        self.shared.tick();
    }

    /// Stops the ticker, ends WebSocket connections and stops serving (open requests get
    /// `SHUTDOWN_GRACE`, then are cut).
    pub async fn shutdown(self) {
        let _ = self.shared.shutdown.send(true);
        let _ = self.ticker.await;
        let abort = self.server.abort_handle();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.server).await.is_err() {
            abort.abort();
        }
    }
}
