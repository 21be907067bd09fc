//! A YAML reader that collects every problem instead of stopping at the first.
//!
//! Each accessor records a [`ConfigProblem`] (file, key path, what is wrong, what is expected)
//! and returns `None` on failure, so a whole file is checked in one pass. Mapping keys that no
//! accessor asked for are reported as unknown when the mapping is finished.

use std::{collections::BTreeSet, fmt};

use domain::{money::DecimalRange, strategy::RawParam};
use rust_decimal::Decimal;
use serde_yaml::{Mapping, Value};

use super::{layers::Origins, secret::Secret};

/// One problem found in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// File name relative to the configuration directory.
    pub file: String,
    /// Key path inside the file, e.g. `venues.sim.rest_url`.
    pub path: String,
    /// What is wrong.
    pub problem: String,
    /// What is expected instead.
    pub expected: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(top level)" } else { &self.path };
        write!(f, "{}: {path}: {}; expected {}", self.file, self.problem, self.expected)
    }
}

/// Reads one file, collecting problems.
#[derive(Debug)]
pub(crate) struct Reader {
    file: String,
    /// Key paths set by another layer than `file` (an override file, the environment), so a
    /// problem names the place to fix.
    origins: Origins,
    problems: Vec<ConfigProblem>,
}

/// A mapping being read; remembers which keys were asked for.
#[derive(Debug)]
pub(crate) struct Map<'v> {
    path: String,
    entries: &'v Mapping,
    used: BTreeSet<String>,
}

/// The YAML name of a value's type, for messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing (null)",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

impl Map<'_> {
    /// The mapping's keys as strings, in file order (non-string keys in debug form).
    pub(crate) fn keys(&self) -> Vec<String> {
        self.entries.keys().map(|k| k.as_str().map_or_else(|| format!("{k:?}"), str::to_owned)).collect()
    }
}

impl Reader {
    /// A reader for `file`.
    pub(crate) fn new(file: &str) -> Self {
        Self { file: file.to_owned(), origins: Origins::new(), problems: Vec::new() }
    }

    /// Names `origins`' layers instead of the file in problems under their paths.
    pub(crate) fn set_origins(&mut self, origins: Origins) {
        self.origins = origins;
    }

    /// The layer that set `path`: the longest origin covering it, else the file.
    fn layer_of(&self, path: &str) -> &str {
        let covers = |origin: &str| {
            path == origin
                || path.strip_prefix(origin).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        };
        self.origins
            .iter()
            .filter(|(origin, _)| covers(origin))
            .max_by_key(|(origin, _)| origin.len())
            .map_or(&self.file, |(_, layer)| layer)
    }

    /// The problems found so far.
    pub(crate) fn into_problems(self) -> Vec<ConfigProblem> {
        self.problems
    }

    /// Records a problem at `path`.
    pub(crate) fn problem(&mut self, path: &str, problem: impl Into<String>, expected: impl Into<String>) {
        self.problems.push(ConfigProblem {
            file: self.layer_of(path).to_owned(),
            path: path.to_owned(),
            problem: problem.into(),
            expected: expected.into(),
        });
    }

    /// Parses the file's text; a syntax error is recorded with its location.
    pub(crate) fn parse(&mut self, text: &str) -> Option<Value> {
        match serde_yaml::from_str::<Value>(text) {
            Ok(value) => Some(value),
            Err(e) => {
                self.problem("", format!("not valid YAML: {e}"), "a YAML document");
                None
            }
        }
    }

    /// Opens `value` as a mapping.
    pub(crate) fn map<'v>(&mut self, path: &str, value: &'v Value) -> Option<Map<'v>> {
        match value {
            Value::Mapping(entries) => Some(Map { path: path.to_owned(), entries, used: BTreeSet::new() }),
            other => {
                self.problem(path, format!("found {}", type_name(other)), "a mapping of keys to values");
                None
            }
        }
    }

    /// Reports every key of `map` that was not asked for.
    pub(crate) fn finish(&mut self, map: &Map<'_>) {
        for name in map.keys() {
            if !map.used.contains(&name) {
                let known: Vec<&str> = map.used.iter().map(String::as_str).collect();
                self.problem(&join(&map.path, &name), "unknown key", format!("one of: {}", known.join(", ")));
            }
        }
    }

    /// The value under `key`, marking the key as known. Missing or null gives `None`.
    pub(crate) fn get<'v>(&mut self, map: &mut Map<'v>, key: &str) -> Option<&'v Value> {
        map.used.insert(key.to_owned());
        map.entries.get(key).filter(|v| !v.is_null())
    }

    /// Like [`Self::get`], recording a problem when the key is missing.
    pub(crate) fn require<'v>(&mut self, map: &mut Map<'v>, key: &str, expected: &str) -> Option<&'v Value> {
        let value = self.get(map, key);
        if value.is_none() {
            self.problem(&join(&map.path, key), "missing", expected.to_owned());
        }
        value
    }

    /// The full path of `key` inside `map`.
    pub(crate) fn path(map: &Map<'_>, key: &str) -> String {
        join(&map.path, key)
    }

    /// A string under `key`; `None` when missing (recorded only if `required`).
    pub(crate) fn string(&mut self, map: &mut Map<'_>, key: &str, required: bool, expected: &str) -> Option<String> {
        let value = if required { self.require(map, key, expected)? } else { self.get(map, key)? };
        match value {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            other => {
                let found = if matches!(other, Value::String(_)) { "an empty string" } else { type_name(other) };
                self.problem(&join(&map.path, key), format!("found {found}"), expected.to_owned());
                None
            }
        }
    }

    /// A secret under `key`; missing or empty means "not set".
    pub(crate) fn secret(&mut self, map: &mut Map<'_>, key: &str) -> Secret {
        match self.get(map, key) {
            None => Secret::default(),
            Some(Value::String(s)) => Secret::new(s.clone()),
            Some(other) => {
                self.problem(&join(&map.path, key), format!("found {}", type_name(other)), "a string (quote it)");
                Secret::default()
            }
        }
    }

    /// A boolean under `key`, or `default` when missing.
    pub(crate) fn boolean(&mut self, map: &mut Map<'_>, key: &str, default: bool) -> bool {
        match self.get(map, key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(other) => {
                self.problem(&join(&map.path, key), format!("found {}", type_name(other)), "true or false");
                default
            }
        }
    }

    /// A whole number in `min..=max` under `key`, or `default` when missing.
    pub(crate) fn integer(&mut self, map: &mut Map<'_>, key: &str, min: u64, max: u64, default: u64) -> u64 {
        let expected = format!("a whole number from {min} to {max}");
        match self.get(map, key) {
            None => default,
            Some(Value::Number(n)) => match n.as_u64().filter(|v| (min..=max).contains(v)) {
                Some(v) => v,
                None => {
                    self.problem(&join(&map.path, key), format!("{n} is out of range"), expected);
                    default
                }
            },
            Some(other) => {
                self.problem(&join(&map.path, key), format!("found {}", type_name(other)), expected);
                default
            }
        }
    }

    /// A decimal in `range` under `key` (a string or a number), or `default` when missing.
    pub(crate) fn decimal(&mut self, map: &mut Map<'_>, key: &str, range: DecimalRange, default: Decimal) -> Decimal {
        let path = join(&map.path, key);
        let Some(value) = self.get(map, key) else { return default };
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                self.problem(&path, format!("found {}", type_name(other)), format!("a number {}", range.describe()));
                return default;
            }
        };
        match range.parse(&text) {
            Ok(v) => v,
            Err(e) => {
                self.problem(&path, e, format!("a number {}", range.describe()));
                default
            }
        }
    }
}

/// A YAML value as a raw strategy parameter (numbers keep their text).
///
/// # Errors
/// The type found, for values no parameter can take (mappings, tagged values).
pub(crate) fn raw_param(value: &Value) -> Result<RawParam, String> {
    Ok(match value {
        Value::Null => RawParam::Null,
        Value::Bool(b) => RawParam::Bool(*b),
        Value::Number(n) => RawParam::Number(n.to_string()),
        Value::String(s) => RawParam::Text(s.clone()),
        Value::Sequence(items) => RawParam::List(items.iter().map(raw_param).collect::<Result<_, _>>()?),
        other => return Err(format!("found {}", type_name(other))),
    })
}
