//! `tradingd`, the tradingbot daemon: the only process that trades or writes the database.
//!
//! Owns configuration loading and validation (`config`), bot management (`bots`), the event
//! bus (`events`) and the gRPC control plane (`grpc`). [`run`] wires them together; the binary
//! in `main.rs` only parses flags, sets up logging and waits for a signal.
//!
//! **Architecture Invariant:** business rules live in `domain` (validation, lifecycle table)
//! and persistence in `store`; this crate only orchestrates them and translates at the edge.

pub mod backtests;
pub mod bots;
pub mod candle_store;
mod clock;
pub mod config;
pub mod events;
mod files;
mod fresh;
mod grpc;
pub mod notify;
pub mod runtime;
pub mod venues;

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{bots::Bots, config::Config, events::EventBus, runtime::Runtime};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "tradingbot.db";

/// How long shutdown waits for open client connections before closing anyway.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Who may talk to the daemon: the rules of the `boundary` crate, applied to every request.
#[derive(Debug, Clone)]
pub struct Access {
    /// Host names the API answers to (DNS rebinding protection).
    pub hosts: boundary::AllowedHosts,
    /// The bearer token every request must carry, if one is set.
    pub token: Option<boundary::Token>,
}

/// Everything [`run`] needs besides the listener and the shutdown signal.
#[derive(Debug)]
pub struct Daemon {
    /// The validated configuration.
    pub config: Config,
    /// Who may use the API.
    pub access: Access,
    /// Directory holding the database, `logs/` and uploaded candle files (`candles/`).
    pub data_dir: PathBuf,
    /// Cancel every bot's open orders when shutting down (bots keep their status and resume
    /// at the next start).
    pub cancel_on_shutdown: bool,
    /// Largest candle file accepted by `UploadCandles`, in bytes
    /// ([`candle_store::DEFAULT_MAX_UPLOAD_BYTES`] unless told otherwise).
    pub max_upload_bytes: u64,
}

/// Runs the daemon on `listener` until `shutdown` is cancelled: opens (and migrates) the
/// database, resumes running bots, serves the API, then closes the database cleanly.
///
/// # Errors
/// When the data directory or database cannot be opened, or the server fails.
pub async fn run(daemon: Daemon, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
    let logs_dir = daemon.data_dir.join("logs");
    files::create_private_dir(&logs_dir)
        .with_context(|| format!("cannot create the data directory {}", daemon.data_dir.display()))?;
    files::make_private_tree(&logs_dir)
        .with_context(|| format!("cannot make the bot logs under {} private", logs_dir.display()))?;
    let db_path = daemon.data_dir.join(DATABASE_FILE);
    let store =
        Store::open(&db_path).await.with_context(|| format!("cannot open the database {}", db_path.display()))?;

    let events = EventBus::default();
    let daemon_cancel = daemon.cancel_on_shutdown;
    let config = Arc::new(daemon.config);
    let venues = venues::Venues::new(&config.exchanges).context("cannot set up the venue adapters")?;
    let mailer =
        notify::Mailer::new(&config.email).map_err(anyhow::Error::msg).context("cannot set up alert emails")?;
    let notifier = mailer.clone().map_or_else(notify::Notifier::off, |m| {
        notify::Notifier::start(m, store.clone(), notify::RetryPolicy::default())
    });
    let settings = runtime::RuntimeSettings {
        logs_dir,
        notifier,
        strategy_defaults: config.validation_context().strategy_defaults,
        feeds: config.data_sources.feeds(),
    };
    let runtime = Runtime::new(store.clone(), events.clone(), venues.clone(), settings);
    runtime.resume().await?;
    let bots = Arc::new(Bots::new(store.clone(), events.clone(), config.validation_context(), runtime.clone()));
    let candles = candle_store::CandleStore::open(&daemon.data_dir, daemon.max_upload_bytes).with_context(|| {
        format!("cannot open the candle store in {}", daemon.data_dir.join(candle_store::DIRECTORY).display())
    })?;
    let backtests = backtests::Backtests::new(runtime.clone(), config.validation_context(), candles);
    let services = grpc::Services { bots, store: store.clone(), config, events, venues, backtests, mailer };
    let address: SocketAddr = listener.local_addr()?;
    tracing::info!(%address, data_dir = %daemon.data_dir.display(), "tradingd serving gRPC (and gRPC-Web)");
    let server = grpc::serve(listener, services, daemon.access, shutdown.clone());
    tokio::pin!(server);
    let grace = async {
        shutdown.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let served = tokio::select! {
        served = &mut server => served,
        () = grace => {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "clients still connected after the grace period; closing anyway");
            Ok(())
        }
    };
    runtime.shutdown(daemon_cancel).await;
    store.close().await;
    tracing::info!("tradingd stopped; database closed");
    served
}
