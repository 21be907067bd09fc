//! External market data sources (filled in by the external-data issue).
//!
//! Will own: the CoinGecko, CoinMarketCap and Fear & Greed clients, source priority and
//! averaging of equal priorities, fallback on errors, the `market_data_cache`, trending coins,
//! and extreme-condition (crash) detection. Settings come from `config/data_sources.yaml`,
//! already validated by `tradingd::config`.
