//! Trading rules of the simulated symbols, in MEXC's terms (exchangeInfo).

use rust_decimal::Decimal;
use rust_decimal_macros::dec;

/// The rules of one symbol.
#[derive(Debug, Clone)]
pub(crate) struct SymbolSpec {
    pub(crate) symbol: String,
    pub(crate) base: String,
    pub(crate) quote: String,
    /// Decimals of a quantity (`baseAssetPrecision`).
    pub(crate) base_precision: u32,
    /// Decimals of a price (`quotePrecision`).
    pub(crate) quote_precision: u32,
    /// Minimum order notional in quote (`quoteAmountPrecision`, also for market orders).
    pub(crate) min_notional: Decimal,
    /// Maximum order notional in quote (`maxQuoteAmount`).
    pub(crate) max_notional: Decimal,
    /// Maximum market order notional in quote (`maxQuoteAmountMarket`).
    pub(crate) max_notional_market: Decimal,
    pub(crate) full_name: String,
}

/// Maker and taker commission: the values MEXC shows for BTCUSDT in ccxt's markets fixture.
pub(crate) const MAKER_FEE: Decimal = dec!(0);
/// See `MAKER_FEE`.
pub(crate) const TAKER_FEE: Decimal = dec!(0.0002);

impl SymbolSpec {
    /// The rules of `symbol`: realistic MEXC values for the bundled pairs, generic ones otherwise.
    pub(crate) fn for_symbol(symbol: &str) -> Self {
        let spec =
            |base: &str, quote: &str, precisions: (u32, u32), notional: (Decimal, Decimal, Decimal), name: &str| Self {
                symbol: symbol.to_owned(),
                base: base.to_owned(),
                quote: quote.to_owned(),
                base_precision: precisions.0,
                quote_precision: precisions.1,
                min_notional: notional.0,
                max_notional: notional.1,
                max_notional_market: notional.2,
                full_name: name.to_owned(),
            };
        match symbol {
            "BTCUSDT" => spec("BTC", "USDT", (6, 2), (dec!(1), dec!(2000000), dec!(200000)), "Bitcoin"),
            "ETHUSDT" => spec("ETH", "USDT", (5, 2), (dec!(1), dec!(2000000), dec!(200000)), "Ethereum"),
            "ETHBTC" => spec("ETH", "BTC", (4, 6), (dec!(0.0001), dec!(50), dec!(5)), "Ethereum"),
            "LTCUSDT" => spec("LTC", "USDT", (4, 2), (dec!(1), dec!(1000000), dec!(100000)), "Litecoin"),
            "XRPUSDT" => spec("XRP", "USDT", (2, 4), (dec!(1), dec!(1000000), dec!(100000)), "XRP"),
            _ => {
                let quote = ["USDT", "USDC", "BTC", "ETH"]
                    .into_iter()
                    .find(|q| symbol.len() > q.len() && symbol.ends_with(q))
                    .unwrap_or("USDT");
                let base = symbol.strip_suffix(quote).unwrap_or(symbol);
                spec(base, quote, (4, 4), (dec!(1), dec!(1000000), dec!(100000)), base)
            }
        }
    }

    /// The quantity step and minimum quantity (`baseSizePrecision`).
    pub(crate) fn step(&self) -> Decimal {
        Decimal::new(1, self.base_precision)
    }

    /// The price tick.
    pub(crate) fn tick(&self) -> Decimal {
        Decimal::new(1, self.quote_precision)
    }
}
