//! `tradingd` binary: flags, logging, signals. Everything else is in the library.

use std::{io::Write as _, net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tradingd::{Access, Daemon, config::Config};

/// The tradingbot daemon: runs the bots and serves the gRPC API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Directory with exchanges.yaml, email.yaml, data_sources.yaml and defaults.yaml.
    #[arg(long, default_value = "config")]
    config: PathBuf,
    /// Directory for the database and the per-bot logs.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Address of the gRPC API. Binding anything but loopback exposes trading control, so it
    /// requires a token. Port 0 picks any free port; the bound address is printed to stdout as
    /// `listening on HOST:PORT`.
    #[arg(long, default_value = "127.0.0.1:50051")]
    grpc: SocketAddr,
    /// Extra host name the API answers to besides localhost and the bound address (repeatable),
    /// for clients that reach the daemon by a name of this machine.
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
    /// File holding the bearer token every request must carry (instead of TRADINGD_TOKEN).
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// On shutdown, cancel every bot's open orders first (bots resume at the next start).
    #[arg(long)]
    cancel_on_shutdown: bool,
    /// Largest candle file a client may upload for backtests, in bytes (default 1 GiB). The
    /// whole file is held in memory while it is checked.
    #[arg(long, default_value_t = tradingd::candle_store::DEFAULT_MAX_UPLOAD_BYTES, value_parser = clap::value_parser!(u64).range(1..))]
    max_upload_bytes: u64,
}

/// Exit code for an invalid configuration (as distinct from a runtime failure).
const EXIT_CONFIG: u8 = 78;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,sqlx=warn,h2=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(errors) => {
            eprintln!("tradingd: {errors}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    for file in config.exposed_secret_files() {
        tracing::warn!(file = %file.display(), "file holds secrets and is readable by other users; run chmod 600 on it");
    }
    let access = match access(&args) {
        Ok(access) => access,
        Err(e) => {
            eprintln!("tradingd: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match serve(config, access, args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tradingd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The boundary from the flags and the environment: allowed hosts and the token, required
/// beyond loopback.
fn access(args: &Args) -> anyhow::Result<Access> {
    let hosts = boundary::AllowedHosts::new(args.grpc, &args.allow_hosts)?;
    let token = boundary::Token::from_env_or_file(args.token_file.as_deref())?;
    boundary::require_token("tradingd", args.grpc, token.as_ref())?;
    if let Some(file) = args.token_file.as_deref().filter(|f| boundary::readable_by_others(f)) {
        tracing::warn!(file = %file.display(), "the token file is readable by other users; run chmod 600 on it");
    }
    if !args.grpc.ip().is_loopback() {
        tracing::warn!(address = %args.grpc, "gRPC API bound beyond loopback: anyone who can reach it and holds the token controls trading, and plain HTTP/2 carries the token unencrypted");
    }
    if args.grpc.ip().is_unspecified() {
        tracing::info!(hosts = %hosts.names().join(", "), "bound to every interface: clients must name one of these hosts (more with --allow-host)");
    }
    Ok(Access { hosts, token })
}

async fn serve(config: Config, access: Access, args: Args) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.grpc).await?;
    // One machine-readable line with the address actually bound (`--grpc 127.0.0.1:0` picks a
    // free port), for scripts and tests that start the daemon. Connections made from now on
    // wait in the listen queue until the API serves; the health service says when it does.
    // A closed or broken stdout is no reason to stop, so a failed write is ignored.
    let _ = writeln!(std::io::stdout(), "listening on {}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested");
        signal.cancel();
    });
    let daemon = Daemon {
        config,
        access,
        data_dir: args.data_dir,
        cancel_on_shutdown: args.cancel_on_shutdown,
        max_upload_bytes: args.max_upload_bytes,
    };
    tradingd::run(daemon, listener, shutdown).await
}

/// Resolves on SIGINT or SIGTERM.
async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            return interrupt.await.unwrap_or_default();
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    interrupt.await.unwrap_or_default();
}
