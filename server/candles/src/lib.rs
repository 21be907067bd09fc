//! Candle files for backtests. Two layouts are read:
//! * CSV with the header `open_time_ms,open,high,low,close,volume` (the bundled real data);
//! * JSON arrays of `[open_time_ms, open, high, low, close, volume]` rows, as freqtrade and
//!   ccxt write them (numbers or strings).
//!
//! Parsing works on bytes already read (no I/O here) and reports the first bad row with its
//! line (CSV) or row (JSON). Rows must be in time order without duplicates.
//!
//! **Invariant:** an error never quotes the file: it names a position, a column and a rule.
//! The daemon shows these errors to whoever uploaded the file, and a file's text may be
//! anything (an upload is not always what its sender thinks it is).

use std::str::FromStr;

use domain::{
    candle::Candle,
    money::{Price, Qty},
    time::Timestamp,
};
use rust_decimal::Decimal;

/// The CSV header of the bundled layout.
pub const CSV_HEADER: &str = "open_time_ms,open,high,low,close,volume";

/// The columns of a row after the open time, in order.
const VALUE_COLUMNS: [&str; 5] = ["open", "high", "low", "close", "volume"];

/// Where in a file a problem lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A line of a CSV file, counted from 1 (the header is line 1).
    Line(u64),
    /// A row of a JSON array, counted from 1.
    Row(usize),
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Row(n) => write!(f, "row {n}"),
        }
    }
}

/// What is wrong with one row. No variant carries the file's text: messages name columns and
/// rules only, so an error can be shown to anyone without revealing what the file holds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    /// The row has the wrong number of fields.
    #[error("{found} fields; expected 6")]
    FieldCount {
        /// How many the row has.
        found: usize,
    },
    /// The open time is not an integer.
    #[error("open_time_ms is not a whole number of milliseconds")]
    OpenTime,
    /// A value is not UTF-8 text.
    #[error("{column} is not text")]
    NotText {
        /// The column.
        column: &'static str,
    },
    /// A value is not a decimal number.
    #[error("{column} is not a number")]
    NotANumber {
        /// The column.
        column: &'static str,
    },
    /// A price is zero or negative.
    #[error("{column} must be positive")]
    NotPositive {
        /// The column.
        column: &'static str,
    },
    /// The volume is negative.
    #[error("the volume is negative")]
    NegativeVolume,
    /// The low is above the high.
    #[error("low is above high")]
    LowAboveHigh,
    /// The open or the close lies outside the candle's range.
    #[error("{column} must lie within low and high")]
    OutsideRange {
        /// `open` or `close`.
        column: &'static str,
    },
    /// The open time repeats or goes back.
    #[error("the open time is not after the previous row's")]
    OutOfOrder,
    /// The CSV reader could not read the row (for example an unterminated quote).
    #[error("not readable as CSV")]
    Unreadable,
}

/// Why a candle file cannot be used. The messages never quote the file's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The file holds nothing but blanks.
    #[error("the file is empty")]
    Empty,
    /// The CSV header is not the expected one.
    #[error("line 1: the header has {columns} columns; expected {CSV_HEADER}")]
    HeaderColumns {
        /// How many columns the header has.
        columns: usize,
    },
    /// A CSV header column is not the expected one.
    #[error("line 1: header column {index} should be {expected}; expected the header {CSV_HEADER}")]
    HeaderName {
        /// The column, counted from 1.
        index: usize,
        /// Its expected name.
        expected: &'static str,
    },
    /// A row cannot be used.
    #[error("{at}: {problem}")]
    Row {
        /// Where the row is.
        at: Position,
        /// What is wrong.
        problem: RowProblem,
    },
    /// The JSON layout is broken or is not an array of rows.
    #[error("line {line}, column {column}: {problem}")]
    Json {
        /// Line of the problem, counted from 1.
        line: usize,
        /// Column of the problem, counted from 1.
        column: usize,
        /// What is wrong, in words of our own.
        problem: &'static str,
    },
}

impl Error {
    /// The line (CSV, JSON syntax) or row (JSON) the problem is on, when it has one.
    #[must_use]
    pub fn position(&self) -> Option<Position> {
        match self {
            Self::Empty => None,
            Self::HeaderColumns { .. } | Self::HeaderName { .. } => Some(Position::Line(1)),
            Self::Row { at, .. } => Some(*at),
            Self::Json { line, .. } => Some(Position::Line(u64::try_from(*line).unwrap_or(u64::MAX))),
        }
    }
}

/// Parses a candle file in either layout, told apart by its first non-blank byte (`[` for JSON).
///
/// # Errors
/// [`Error`] naming the first problem and where it is.
pub fn parse(bytes: &[u8]) -> Result<Vec<Candle>, Error> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => parse_json(bytes),
        Some(_) => parse_csv(bytes),
        None => Err(Error::Empty),
    }
}

fn decimal(field: &[u8], column: &'static str) -> Result<Decimal, RowProblem> {
    let text = std::str::from_utf8(field).map_err(|_| RowProblem::NotText { column })?;
    Decimal::from_str(text).or_else(|_| Decimal::from_scientific(text)).map_err(|_| RowProblem::NotANumber { column })
}

/// Checks one row's values and builds the candle.
fn candle(time: i64, values: [Decimal; 5], previous: Option<&Candle>) -> Result<Candle, RowProblem> {
    let [open, high, low, close, volume] = values;
    for (value, column) in [(open, "open"), (high, "high"), (low, "low"), (close, "close")] {
        if value <= Decimal::ZERO {
            return Err(RowProblem::NotPositive { column });
        }
    }
    if volume < Decimal::ZERO {
        return Err(RowProblem::NegativeVolume);
    }
    if low > high {
        return Err(RowProblem::LowAboveHigh);
    }
    for (value, column) in [(open, "open"), (close, "close")] {
        if value > high || value < low {
            return Err(RowProblem::OutsideRange { column });
        }
    }
    if previous.is_some_and(|p| time <= p.open_time.millis()) {
        return Err(RowProblem::OutOfOrder);
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

/// The line a record starting at `position` is on. The reader's position is where it began
/// reading, before any blank lines it skipped on the way to the record.
fn record_line(bytes: &[u8], position: Option<&csv::Position>) -> u64 {
    let Some(position) = position else { return 1 };
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = bytes.get(start..).unwrap_or_default().iter().take_while(|b| matches!(b, b'\n' | b'\r'));
    position.line() + skipped.filter(|b| **b == b'\n').count() as u64
}

/// Reads a CSV reader error without its text: only an unequal field count is worth naming.
fn csv_problem(error: &csv::Error) -> RowProblem {
    match error.kind() {
        csv::ErrorKind::UnequalLengths { len, .. } => {
            RowProblem::FieldCount { found: usize::try_from(*len).unwrap_or(usize::MAX) }
        }
        _ => RowProblem::Unreadable,
    }
}

/// Parses the bundled CSV layout.
///
/// # Errors
/// [`Error`] naming the first problem and its line.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<Candle>, Error> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes);
    let header = reader
        .byte_headers()
        .map_err(|e| Error::Row { at: Position::Line(record_line(bytes, e.position())), problem: csv_problem(&e) })?;
    let expected: Vec<&str> = CSV_HEADER.split(',').collect();
    if header.len() != expected.len() {
        return Err(Error::HeaderColumns { columns: header.len() });
    }
    if let Some(index) = header.iter().zip(&expected).position(|(found, name)| found != name.as_bytes()) {
        return Err(Error::HeaderName { index: index + 1, expected: expected[index] });
    }
    let mut candles = Vec::with_capacity(bytes.len() / 48);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = Position::Line(record_line(bytes, e.position()));
                return Err(Error::Row { at, problem: csv_problem(&e) });
            }
        }
        let at = Position::Line(record_line(bytes, record.position()));
        let row = |problem| Error::Row { at, problem };
        if record.len() != 6 {
            return Err(row(RowProblem::FieldCount { found: record.len() }));
        }
        let time = std::str::from_utf8(&record[0])
            .ok()
            .and_then(|t| t.parse::<i64>().ok())
            .ok_or_else(|| row(RowProblem::OpenTime))?;
        let mut values = [Decimal::ZERO; 5];
        for (slot, (field, column)) in values.iter_mut().zip(record.iter().skip(1).zip(VALUE_COLUMNS)) {
            *slot = decimal(field, column).map_err(row)?;
        }
        candles.push(candle(time, values, candles.last()).map_err(row)?);
    }
    Ok(candles)
}

fn json_decimal(value: &serde_json::Value, column: &'static str) -> Result<Decimal, RowProblem> {
    match value {
        serde_json::Value::Number(n) => decimal(n.to_string().as_bytes(), column),
        serde_json::Value::String(s) => decimal(s.as_bytes(), column),
        _ => Err(RowProblem::NotANumber { column }),
    }
}

/// Describes a JSON error in words of our own: serde's messages may quote the input.
fn json_error(error: &serde_json::Error) -> Error {
    let problem = match error.classify() {
        serde_json::error::Category::Eof => "the JSON ends early",
        serde_json::error::Category::Syntax | serde_json::error::Category::Io => "not valid JSON",
        serde_json::error::Category::Data => "expected an array of rows, each an array of 6 values",
    };
    Error::Json { line: error.line(), column: error.column(), problem }
}

/// Parses freqtrade/ccxt-style JSON: `[[open_time_ms, open, high, low, close, volume], ...]`.
///
/// # Errors
/// [`Error`] naming the first problem and its row (or, for broken JSON, its line).
pub fn parse_json(bytes: &[u8]) -> Result<Vec<Candle>, Error> {
    let rows: Vec<Vec<serde_json::Value>> = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    let mut candles = Vec::with_capacity(rows.len());
    for (index, values_in_row) in rows.iter().enumerate() {
        let at = Position::Row(index + 1);
        let row = |problem| Error::Row { at, problem };
        if values_in_row.len() < 6 {
            return Err(row(RowProblem::FieldCount { found: values_in_row.len() }));
        }
        let time = values_in_row[0].as_i64().ok_or_else(|| row(RowProblem::OpenTime))?;
        let mut values = [Decimal::ZERO; 5];
        for (slot, (value, column)) in values.iter_mut().zip(values_in_row[1..6].iter().zip(VALUE_COLUMNS)) {
            *slot = json_decimal(value, column).map_err(row)?;
        }
        candles.push(candle(time, values, candles.last()).map_err(row)?);
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
        assert_eq!(header.position(), Some(Position::Line(1)));
        assert_eq!(
            header.to_string(),
            "line 1: header column 1 should be open_time_ms; expected the header open_time_ms,open,high,low,close,volume"
        );
        let short = parse(b"open_time_ms,open\n").unwrap_err();
        assert_eq!(short, Error::HeaderColumns { columns: 2 });
        let outside =
            parse(b"open_time_ms,open,high,low,close,volume\n60000,100,110,90,105,1\n120000,100,101,99,102,1\n");
        assert_eq!(outside.unwrap_err().to_string(), "line 3: close must lie within low and high");
        let order = parse(b"open_time_ms,open,high,low,close,volume\n60000,1,1,1,1,1\n60000,1,1,1,1,1\n");
        assert_eq!(order.unwrap_err().to_string(), "line 3: the open time is not after the previous row's");
        let word = parse(br#"[[60000, "x", 1, 1, 1, 1]]"#).unwrap_err();
        assert_eq!(word.to_string(), "row 1: open is not a number");
        assert_eq!(parse(b"  "), Err(Error::Empty));
    }

    #[test]
    fn lines_are_the_files_own_even_past_blank_lines_and_quoted_breaks() {
        let file = b"open_time_ms,open,high,low,close,volume\n\n60000,1,1,1,1,1\n\n\n120000,1,1,1,1,-1\n";
        let error = parse(file).unwrap_err();
        assert_eq!(error, Error::Row { at: Position::Line(6), problem: RowProblem::NegativeVolume });
        let quoted = parse(b"open_time_ms,open,high,low,close,volume\n60000,1,1,1,1,\"1\n2\"\n").unwrap_err();
        assert_eq!(quoted, Error::Row { at: Position::Line(2), problem: RowProblem::NotANumber { column: "volume" } });
        let fields = parse(b"open_time_ms,open,high,low,close,volume\n60000,1,1,1,1,1,7\n").unwrap_err();
        assert_eq!(fields.to_string(), "line 2: 7 fields; expected 6");
    }

    #[test]
    fn no_error_quotes_the_files_content() {
        // What a file named by mistake (or by malice) might hold, in every place a parser looks.
        let secret = "hunter2SECRET";
        let files: Vec<Vec<u8>> = vec![
            format!("{secret}=1\nPATH=/usr/bin\n").into_bytes(),
            format!("{secret}\0OTHER=2\0").into_bytes(),
            format!("open_time_ms,open,high,low,close,{secret}\n").into_bytes(),
            format!("open_time_ms,open,high,low,close,volume\n{secret},1,1,1,1,1\n").into_bytes(),
            format!("open_time_ms,open,high,low,close,volume\n60000,{secret},1,1,1,1\n").into_bytes(),
            format!("open_time_ms,open,high,low,close,volume\n60000,1,1,1,1,\"{secret}").into_bytes(),
            b"open_time_ms,open,high,low,close,volume\n60000,7,9,8,7,1\n".to_vec(),
            format!("[[60000, \"{secret}\", 1, 1, 1, 1]]").into_bytes(),
            format!("[[60000, {{\"{secret}\": 1}}, 1, 1, 1, 1]]").into_bytes(),
            format!("[\"{secret}\"]").into_bytes(),
            format!("[{{\"{secret}\": 1}}]").into_bytes(),
            format!("[[60000, 1, 1, 1, 1, 1] {secret}").into_bytes(),
            format!("[[\"{secret}").into_bytes(),
            vec![b'o', 0xff, 0xfe, b'\n'],
        ];
        for file in files {
            let error = parse(&file).expect_err("not a candle file").to_string();
            assert!(!error.contains(secret) && !error.contains("PATH") && !error.contains('9'), "{error}");
            assert!(error.starts_with("line ") || error.starts_with("row "), "a position first: {error}");
        }
    }

    #[test]
    fn the_bundled_real_data_loads() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../mexc-sim/data/binance_BTCUSDT_1m.csv");
        let candles = parse(&std::fs::read(path).unwrap()).unwrap();
        assert!(candles.len() > 40_000, "{}", candles.len());
        assert!(candles.windows(2).all(|w| w[1].open_time.millis() - w[0].open_time.millis() >= 60_000));
    }
}
