//! What a simulator run is made of: market source, accounts, faults.

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde::{Deserialize, Serialize};

/// The five pairs bundled with the crate (and their CSV file stems in the data directory).
pub const BUNDLED_SYMBOLS: [&str; 5] = ["BTCUSDT", "ETHUSDT", "ETHBTC", "LTCUSDT", "XRPUSDT"];

/// Everything a simulator run needs; the same config and seed give the same market.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seeds every random choice of the market model (trade paths, volumes, books, ids).
    pub seed: u64,
    /// Simulated seconds per wall second (60.0 replays one minute bar per second).
    /// `0.0` freezes the market clock: it then moves only through `SimHandle::advance`.
    pub speed: f64,
    /// Where prices come from.
    pub market: MarketSource,
    /// Extra symbols following a seeded random walk from 100 beside the market's own (for load
    /// tests with more pairs than the recorded data has).
    pub synthetic: Vec<String>,
    /// The API keys the venue accepts, each with its own balances.
    pub accounts: Vec<Account>,
    /// Faults injected from the start (switchable at run time).
    pub faults: Faults,
}

/// Where the simulated market's prices come from.
#[derive(Debug, Clone)]
pub enum MarketSource {
    /// Replay of recorded 1-minute candles: `(symbol, CSV path)` with the header
    /// `open_time_ms,open,high,low,close,volume`.
    Replay(Vec<(String, PathBuf)>),
    /// A seeded random walk for every symbol, from its own first price.
    RandomWalk {
        /// Symbols to simulate, e.g. `BTCUSDT`, each with the price of its first bar.
        symbols: Vec<(String, Decimal)>,
    },
}

/// One API key pair and its starting balances.
#[derive(Debug, Clone)]
pub struct Account {
    /// Sent by clients in the `X-MEXC-APIKEY` header.
    pub api_key: String,
    /// HMAC-SHA256 key of the request signatures.
    pub api_secret: String,
    /// Starting free balances, `(asset, amount)`.
    pub balances: Vec<(String, Decimal)>,
}

/// Faults the venue injects; `Faults::default()` injects none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Delay added before every REST answer.
    pub latency_ms: u64,
    /// Probability (0..1) that a REST request is answered 500/503 without being executed.
    pub error_5xx_rate: f64,
    /// Probability (0..1) that an accepted order create never gets its answer: the request hangs
    /// for `LOST_RESPONSE_HANG` and then gets a 504, while the order lives on.
    pub lose_create_response_rate: f64,
    /// For this long after creation, `GET /api/v3/order` answers -2013 "Order does not exist."
    /// and `DELETE /api/v3/order` -2011 "Unknown order sent.".
    pub order_not_found_lag_ms: u64,
    /// Rate limiting: too many requests are answered 429 (or 418) with `Retry-After`.
    pub rate_limit: Option<RateLimitFault>,
    /// Added to the venue's clock (server time, signature timestamp check, order times).
    pub clock_skew_ms: i64,
    /// Taker fills arrive in several parts (one part per market tick) instead of at once.
    pub partial_fill: bool,
    /// Every fill is booked as this many trades (0 or 1: as one), each a millisecond after the
    /// last: an order with hundreds of fills, as a large order has on a thin book.
    pub split_fills: u32,
    /// Every WebSocket connection is dropped (no close frame) after this many sent messages.
    pub ws_drop_after_messages: Option<u64>,
    /// WebSocket connections stay open but go silent: no pushes, no acks, no pongs.
    pub ws_stall: bool,
    /// Pushed public trades carry a price of "0" (a venue glitch a client must not believe).
    pub ws_zero_prices: bool,
}

/// The venue's request-rate limit, as the rate-limit fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFault {
    /// Requests accepted per window; the next one trips the limit (0 = every request trips it).
    pub max_requests: u32,
    /// Length of the sliding window.
    pub window_ms: u64,
    /// `Retry-After` header value; every request before it elapses is refused again.
    pub retry_after_secs: u64,
    /// 429 (rate limited) or 418 (IP banned).
    pub status: u16,
}

/// The demo account's API key (also in the shipped `config/exchanges.yaml`).
pub const DEMO_API_KEY: &str = "mx0vglDEMOKEY0000000000";
/// The demo account's API secret: a local, public secret for the simulator only.
pub const DEMO_API_SECRET: &str = "demo0secret0for0the0local0simulator0only";

impl SimConfig {
    /// The demo: the five bundled pairs replayed from `data_dir` at 60x, seed 1, one demo account
    /// (100000 USDT, 2 BTC, 20 ETH, 200 LTC, 20000 XRP), no faults.
    pub fn demo(data_dir: &Path) -> Self {
        let files =
            BUNDLED_SYMBOLS.iter().map(|s| ((*s).to_owned(), data_dir.join(format!("binance_{s}_1m.csv")))).collect();
        Self {
            seed: 1,
            speed: 60.0,
            market: MarketSource::Replay(files),
            synthetic: Vec::new(),
            accounts: vec![Account {
                api_key: DEMO_API_KEY.to_owned(),
                api_secret: DEMO_API_SECRET.to_owned(),
                balances: vec![
                    ("USDT".to_owned(), dec!(100000)),
                    ("BTC".to_owned(), dec!(2)),
                    ("ETH".to_owned(), dec!(20)),
                    ("LTC".to_owned(), dec!(200)),
                    ("XRP".to_owned(), dec!(20000)),
                ],
            }],
            faults: Faults::default(),
        }
    }
}
