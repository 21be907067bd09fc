//! Candle files for backtests. Two layouts are read:
//! * CSV with the header `open_time_ms,open,high,low,close,volume` (the bundled real data);
//! * JSON arrays of `[open_time_ms, open, high, low, close, volume]` rows, as freqtrade and
//!   ccxt write them (numbers or strings).
//!
//! Parsing works on bytes already read (no I/O here) and reports the first bad row with its
//! line (CSV) or index (JSON). Rows must be in time order without duplicates.

use std::str::FromStr;

use domain::{
    candle::Candle,
    money::{Price, Qty},
    time::Timestamp,
};
use rust_decimal::Decimal;

/// The CSV header of the bundled layout.
pub const CSV_HEADER: &str = "open_time_ms,open,high,low,close,volume";

/// Why a candle file cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The CSV header is not the expected one.
    #[error("the header is {found:?}; expected {CSV_HEADER:?}")]
    Header {
        /// What the file has.
        found: String,
    },
    /// A row cannot be read.
    #[error("{at}: {reason}")]
    Row {
        /// `line N` (CSV) or `row N` (JSON).
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// The file is neither layout.
    #[error("not a candle file: {0}")]
    Format(String),
}

/// Parses a candle file in either layout, told apart by its first non-blank byte (`[` for JSON).
///
/// # Errors
/// [`Error`] naming the first problem.
pub fn parse(bytes: &[u8]) -> Result<Vec<Candle>, Error> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => parse_json(bytes),
        Some(_) => parse_csv(bytes),
        None => Err(Error::Format("the file is empty".to_owned())),
    }
}

fn row_error(at: String, reason: impl Into<String>) -> Error {
    Error::Row { at, reason: reason.into() }
}

fn decimal(field: &[u8], name: &str) -> Result<Decimal, String> {
    let text = std::str::from_utf8(field).map_err(|_| format!("{name} is not text"))?;
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| format!("{name} {text:?} is not a number"))
}

/// Checks one row's values and builds the candle.
fn candle(time: i64, values: [Decimal; 5], previous: Option<&Candle>) -> Result<Candle, String> {
    let [open, high, low, close, volume] = values;
    if open <= Decimal::ZERO || high <= Decimal::ZERO || low <= Decimal::ZERO || close <= Decimal::ZERO {
        return Err("prices must be positive".to_owned());
    }
    if volume < Decimal::ZERO {
        return Err("the volume is negative".to_owned());
    }
    if low > high || open > high || open < low || close > high || close < low {
        return Err(format!("open {open} and close {close} must lie within low {low} and high {high}"));
    }
    if let Some(previous) = previous
        && time <= previous.open_time.millis()
    {
        return Err(format!("open time {time} is not after the previous row's {}", previous.open_time.millis()));
    }
    Ok(Candle {
        open_time: Timestamp::from_millis(time),
        open: Price::new(open),
        high: Price::new(high),
        low: Price::new(low),
        close: Price::new(close),
        volume: Qty::new(volume),
    })
}

/// Parses the bundled CSV layout.
///
/// # Errors
/// [`Error`] naming the first problem.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<Candle>, Error> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let header = reader.byte_headers().map_err(|e| Error::Format(e.to_string()))?;
    let found: Vec<&[u8]> = header.iter().collect();
    let expected: Vec<&[u8]> = CSV_HEADER.split(',').map(str::as_bytes).collect();
    if found != expected {
        let found = found.iter().map(|f| String::from_utf8_lossy(f)).collect::<Vec<_>>().join(",");
        return Err(Error::Header { found });
    }
    let mut candles = Vec::with_capacity(bytes.len() / 48);
    let mut record = csv::ByteRecord::new();
    let mut line = 1;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(row_error(format!("line {}", line + 1), e.to_string())),
        }
        line += 1;
        let at = || format!("line {line}");
        if record.len() != 6 {
            return Err(row_error(at(), format!("{} fields; expected 6", record.len())));
        }
        let time = std::str::from_utf8(&record[0])
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| row_error(at(), "open_time_ms is not a whole number of milliseconds"))?;
        let mut values = [Decimal::ZERO; 5];
        for (slot, (field, name)) in
            values.iter_mut().zip(record.iter().skip(1).zip(["open", "high", "low", "close", "volume"]))
        {
            *slot = decimal(field, name).map_err(|reason| row_error(at(), reason))?;
        }
        let candle = candle(time, values, candles.last()).map_err(|reason| row_error(at(), reason))?;
        candles.push(candle);
    }
    Ok(candles)
}

fn json_decimal(value: &serde_json::Value, name: &str) -> Result<Decimal, String> {
    match value {
        serde_json::Value::Number(n) => decimal(n.to_string().as_bytes(), name),
        serde_json::Value::String(s) => decimal(s.as_bytes(), name),
        other => Err(format!("{name} is {other}, not a number")),
    }
}

/// Parses freqtrade/ccxt-style JSON: `[[open_time_ms, open, high, low, close, volume], ...]`.
///
/// # Errors
/// [`Error`] naming the first problem.
pub fn parse_json(bytes: &[u8]) -> Result<Vec<Candle>, Error> {
    let rows: Vec<Vec<serde_json::Value>> =
        serde_json::from_slice(bytes).map_err(|e| Error::Format(format!("expected a JSON array of rows: {e}")))?;
    let mut candles = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let at = || format!("row {index}");
        if row.len() < 6 {
            return Err(row_error(at(), format!("{} values; expected 6", row.len())));
        }
        let time =
            row[0].as_i64().ok_or_else(|| row_error(at(), "the open time is not a whole number of milliseconds"))?;
        let mut values = [Decimal::ZERO; 5];
        for (slot, (value, name)) in
            values.iter_mut().zip(row[1..6].iter().zip(["open", "high", "low", "close", "volume"]))
        {
            *slot = json_decimal(value, name).map_err(|reason| row_error(at(), reason))?;
        }
        let candle = candle(time, values, candles.last()).map_err(|reason| row_error(at(), reason))?;
        candles.push(candle);
    }
    Ok(candles)
}

#[cfg(test)]
mod tests {
    use rust_decimal_macros::dec;

    use super::*;

    #[test]
    fn both_layouts_give_the_same_candles() {
        let csv = b"open_time_ms,open,high,low,close,volume\n60000,100,110,90,105.5,3.25\n120000,105.5,106,104,104,0\n";
        let json = br#"[[60000, 100, 110, 90, "105.5", 3.25], [120000, "105.5", 106, 104, 104, 0]]"#;
        let from_csv = parse(csv).unwrap();
        assert_eq!(from_csv, parse(json).unwrap());
        assert_eq!(from_csv[0].close, Price::new(dec!(105.5)));
        assert_eq!(from_csv[1].open_time, Timestamp::from_millis(120_000));
    }

    #[test]
    fn bad_files_are_explained_with_their_line() {
        let header = parse(b"time,o,h,l,c,v\n1,1,1,1,1,1\n").unwrap_err();
        assert!(header.to_string().starts_with("the header is \"time,o,h,l,c,v\""), "{header}");
        let outside =
            parse(b"open_time_ms,open,high,low,close,volume\n60000,100,110,90,105,1\n120000,100,101,99,102,1\n");
        assert_eq!(
            outside.unwrap_err().to_string(),
            "line 3: open 100 and close 102 must lie within low 99 and high 101"
        );
        let order = parse(b"open_time_ms,open,high,low,close,volume\n60000,1,1,1,1,1\n60000,1,1,1,1,1\n");
        assert_eq!(order.unwrap_err().to_string(), "line 3: open time 60000 is not after the previous row's 60000");
        let word = parse(br#"[[60000, "x", 1, 1, 1, 1]]"#).unwrap_err();
        assert_eq!(word.to_string(), "row 0: open \"x\" is not a number");
        assert!(parse(b"  ").is_err());
    }

    #[test]
    fn the_bundled_real_data_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../mexc-sim/data/binance_BTCUSDT_1m.csv");
        let candles = parse(&std::fs::read(path).unwrap()).unwrap();
        assert!(candles.len() > 40_000, "{}", candles.len());
        assert!(candles.windows(2).all(|w| w[1].open_time.millis() - w[0].open_time.millis() >= 60_000));
    }
}
