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
