//! The network boundary of a server without login (DESIGN.md, Security), as rules shared by
//! `tradingd`, the `gateway` and `tradingctl`, so each fact has one owner:
//!
//! * [`AllowedHosts`]: the `Host` (or HTTP/2 `:authority`) of a request must name this
//!   machine (loopback names, the address the server is bound to, names added on purpose).
//!   Defeats DNS rebinding: a page on a foreign domain that now resolves to 127.0.0.1 still
//!   sends its own domain as `Host`.
//! * [`check_origin`]: a request carrying an `Origin` must come from the server's own origin,
//!   compared as scheme, host and port exactly. Defeats cross-site requests from pages the
//!   user happens to visit.
//! * [`Token`]: an optional bearer token, required whenever a server binds beyond loopback,
//!   checked in constant time, never printed.
//!
//! **Architecture Invariant:** rules only. This crate decides whether a request may pass and
//! what to tell it; each server applies the rules in its own middleware and answers in its own
//! protocol (gRPC status, HTTP error). It depends on no other crate of the workspace.

mod hosts;
mod token;

pub use crate::{
    hosts::{AllowedHosts, Authority, Refusal, check_origin, check_request, request_authority},
    token::{AuthError, BearerInterceptor, TOKEN_ENV, Token, TokenError, readable_by_others, require_token},
};
