//! `gateway` binary: flags, logging, signals. The application is in the library.

use std::{io::Write as _, net::SocketAddr, path::PathBuf};

use boundary::{AllowedHosts, BearerInterceptor, Token};
use clap::Parser;
use gateway::{Access, AppState, app};
use tonic::{service::interceptor::InterceptedService, transport::Channel};

/// REST + WebSocket gateway of tradingbot, serving the web UI.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address to listen on. Anything but loopback exposes trading control to the network, so
    /// it requires a token. Port 0 picks any free port; the bound address is printed to stdout
    /// as `listening on HOST:PORT`.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// gRPC address of tradingd.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    daemon: String,
    /// Directory of the built web UI (web/dist).
    #[arg(long)]
    web: Option<PathBuf>,
    /// Extra host name the gateway answers to besides localhost and the bound address
    /// (repeatable).
    #[arg(long = "allow-host")]
    allow_hosts: Vec<String>,
    /// File holding the token (instead of TRADINGD_TOKEN): sent to the daemon and required from
    /// every client of the gateway.
    #[arg(long)]
    token_file: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let args = Args::parse();
    let hosts = AllowedHosts::new(args.listen, &args.allow_hosts)?;
    let token = Token::from_env_or_file(args.token_file.as_deref())?;
    boundary::require_token("the gateway", args.listen, token.as_ref())?;
    if let Some(file) = args.token_file.as_deref().filter(|f| boundary::readable_by_others(f)) {
        tracing::warn!(file = %file.display(), "the token file is readable by other users; run chmod 600 on it");
    }
    if !args.listen.ip().is_loopback() {
        tracing::warn!(address = %args.listen, "gateway bound beyond loopback: anyone who can reach it and holds the token controls trading, and plain HTTP carries the token unencrypted");
    }
    let channel = Channel::from_shared(args.daemon.clone())?.connect_lazy();
    let daemon = InterceptedService::new(channel, BearerInterceptor::new(token.as_ref()));
    let web = args.web.filter(|dir| {
        let built = dir.join("index.html").is_file();
        if !built {
            tracing::warn!(dir = %dir.display(), "no index.html there; the UI will not be served");
        }
        built
    });
    let router = app(AppState { daemon }, Access::new(hosts, token), web);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let bound = listener.local_addr()?;
    tracing::info!(url = %format!("http://{bound}"), daemon = %args.daemon, "gateway listening");
    // One machine-readable line with the address actually bound (`--listen 127.0.0.1:0` picks a
    // free port), for scripts and tests that start the gateway.
    // A closed or broken stdout is no reason to stop, so a failed write is ignored.
    let _ = writeln!(std::io::stdout(), "listening on {bound}");
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let Ok(mut terminate) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.unwrap_or_default();
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await.unwrap_or_default();
}
