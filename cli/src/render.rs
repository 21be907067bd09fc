//! Human-readable tables of the daemon's answers.

use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
use serde_json::Value;

/// A table with the given header and rows.
pub(crate) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(header.to_vec());
    for row in rows {
        table.add_row(row);
    }
    table.to_string()
}

/// A JSON field as table text: strings bare, null as "-".
pub(crate) fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSON object as a two-column KEY / VALUE table.
pub(crate) fn record(object: &Value) -> String {
    let rows = object.as_object().into_iter().flatten().map(|(k, v)| vec![k.clone(), cell(v)]);
    table(&["FIELD", "VALUE"], rows)
}

/// Rows of a JSON array of objects, one column per field name.
pub(crate) fn rows(array: &Value, fields: &[&str]) -> Vec<Vec<String>> {
    array.as_array().into_iter().flatten().map(|item| fields.iter().map(|f| cell(&item[*f])).collect()).collect()
}

/// Bots as a table.
pub(crate) fn bots(array: &Value) -> String {
    let rows = array.as_array().into_iter().flatten().map(|b| {
        let status = if b["killed"] == Value::Bool(true) {
            format!("{} (killed)", cell(&b["status"]))
        } else {
            cell(&b["status"])
        };
        let mode = if b["is_dry_run"] == Value::Bool(true) { "dry run" } else { "LIVE" };
        vec![
            cell(&b["id"]),
            cell(&b["name"]),
            cell(&b["trading_pair"]),
            cell(&b["strategy"]),
            status,
            mode.to_owned(),
            cell(&b["budget"]),
            cell(&b["current_balance"]),
            cell(&b["total_pnl"]),
        ]
    });
    table(&["ID", "NAME", "PAIR", "STRATEGY", "STATUS", "MODE", "BUDGET", "BALANCE", "P&L"], rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The display width of each line (box-drawing characters count one each).
    fn widths(text: &str) -> Vec<usize> {
        text.lines().map(|line| line.chars().count()).collect()
    }

    #[test]
    fn money_is_shown_as_the_daemon_wrote_it_and_missing_values_as_a_dash() {
        assert_eq!(cell(&json!("0.000123450000")), "0.000123450000", "never through a float");
        assert_eq!(cell(&json!(null)), "-");
        assert_eq!(cell(&json!(42)), "42");
        assert_eq!(cell(&json!(true)), "true");
    }

    #[test]
    fn tables_are_aligned_whatever_the_cell_widths() {
        let listed = json!([
            {"id": 1, "name": "btc dca", "trading_pair": "BTC/USDT", "strategy": "dca_accumulator",
             "status": "running", "killed": false, "is_dry_run": true, "budget": "100",
             "current_balance": "99.95", "total_pnl": "-0.05"},
            {"id": 12, "name": "a much longer name", "trading_pair": "ETH/BTC", "strategy": "adaptive_grid",
             "status": "paused", "killed": true, "is_dry_run": false, "budget": "2500.5",
             "current_balance": null, "total_pnl": "1234.123456"},
        ]);
        let shown = bots(&listed);
        let lines = widths(&shown);
        assert!(lines.windows(2).all(|w| w[0] == w[1]), "every line as wide as the others:\n{shown}");
        assert!(shown.contains("dry run") && shown.contains("LIVE"), "{shown}");
        assert!(shown.contains("paused (killed)"), "a kill is shown with the status:\n{shown}");
        assert!(shown.contains("1234.123456") && shown.contains("-0.05"), "{shown}");
        let header = shown.lines().nth(1).unwrap();
        for column in ["ID", "NAME", "PAIR", "STRATEGY", "STATUS", "MODE", "BUDGET", "BALANCE", "P&L"] {
            assert!(header.contains(column), "{header}");
        }
    }

    #[test]
    fn a_record_lists_each_field_once_and_rows_pick_the_fields_asked_for() {
        let shown = record(&json!({"exchange": "sim", "clock_offset_ms": -3, "problems": null}));
        assert_eq!(shown.matches("exchange").count(), 1, "{shown}");
        assert!(shown.contains("-3") && shown.contains('-'), "{shown}");
        let picked = rows(&json!([{"a": "1", "b": "2"}, {"a": "3"}]), &["b", "a"]);
        assert_eq!(picked, [vec!["2".to_owned(), "1".to_owned()], vec!["-".to_owned(), "3".to_owned()]]);
    }
}
