//! The gateway: the spec's REST + WebSocket API, translated one-to-one into gRPC calls to
//! `tradingd`, plus the built web UI.
//!
//! **Architecture Invariant:** no business logic here. Handlers read the HTTP request,
//! call one RPC and render its answer with `tradingbot_proto::json`; all validation of
//! values happens in the daemon, whose errors map to HTTP in `error`.
//! **Architecture Invariant:** browser protections (Host, Origin, JSON-only mutations, the
//! token, anti-framing headers) sit in `guard` and wrap every route and every file of the UI.

mod body;
pub mod error;
mod extract;
mod guard;
mod routes;

use std::path::PathBuf;

use axum::{Router, middleware};
use boundary::BearerInterceptor;
use tonic::{service::interceptor::InterceptedService, transport::Channel};

pub use crate::guard::Access;

/// A connection to the daemon that carries the token, when one is set, on every call.
pub type Daemon = InterceptedService<Channel, BearerInterceptor>;

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Channel to the daemon (lazy: reconnects by itself).
    pub daemon: Daemon,
}

/// The whole HTTP application: API routes, `/ws`, and the UI from `web` when given, every
/// request through `guard` and every answer with its security headers.
pub fn app(state: AppState, access: Access, web: Option<PathBuf>) -> Router {
    routes::router(state, web)
        .layer(middleware::from_fn_with_state(access, guard::protect))
        .layer(middleware::map_response(guard::harden))
}

#[cfg(test)]
mod tests;
