//! `mexc-sim`: a local MEXC-compatible spot venue, the default venue of the demo and of every test.
//!
//! It owns: the MEXC spot v3 REST API (public market data, HMAC-signed account and order
//! endpoints, listen keys), the protobuf WebSocket (public deals, klines, book tickers; private
//! orders, deals, account), a market replayed from recorded real 1-minute candles (or a seeded
//! random walk) with seeded trades and books derived from it, matching with balances and fees,
//! fault injection switchable at run time (`SimHandle::set_faults`, `POST /admin/faults`), and
//! stand-ins of the external market-data APIs (Fear & Greed, CoinGecko trending) whose readings
//! are set the same way (`SimHandle::set_external`, `POST /admin/external`).
//!
//! It never: talks to the real MEXC, persists anything, or lets the outside world reach the
//! admin endpoint (loopback only). Given a seed, the market it plays is always the same.

mod clock;
mod config;
mod error;
mod external;
mod faults;
mod market;
mod reject;
mod rest;
mod server;
mod symbols;
mod venue;
mod ws;

/// The MEXC push schema (`server/exchange/proto/mexc_push_v3.proto`), generated at build time.
#[allow(unreachable_pub, missing_docs, clippy::all, clippy::pedantic)]
mod pb {
    include!(concat!(env!("OUT_DIR"), "/mexc.push.v3.rs"));
}

pub use config::{
    Account, BUNDLED_SYMBOLS, DEMO_API_KEY, DEMO_API_SECRET, Faults, MarketSource, RateLimitFault, SimConfig,
};
pub use error::Error;
pub use external::External;
pub use server::{SimHandle, Simulator};
