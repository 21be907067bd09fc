//! The gateway: the spec's REST + WebSocket API, translated one-to-one into gRPC calls to
//! `tradingd`, plus the built web UI.
//!
//! **Architecture Invariant:** no business logic here. Handlers read the HTTP request,
//! call one RPC and render its answer with `tradingbot_proto::json`; all validation of
//! values happens in the daemon, whose errors map to HTTP in `error`.
//! **Architecture Invariant:** browser protections (Host, Origin, JSON-only mutations) sit in
//! `guard` and wrap every route.

mod body;
pub mod error;
mod extract;
mod guard;
mod routes;

use std::path::PathBuf;

use axum::{Router, middleware};
use tonic::transport::Channel;

pub use crate::guard::AllowedHosts;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Channel to the daemon (lazy: reconnects by itself).
    pub daemon: Channel,
}

/// The whole HTTP application: API routes, `/ws`, and the UI from `web` when given.
pub fn app(state: AppState, hosts: AllowedHosts, web: Option<PathBuf>) -> Router {
    routes::router(state, web).layer(middleware::from_fn_with_state(hosts, guard::protect))
}
