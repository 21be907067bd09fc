//! Where a configuration file's values come from, so real keys need not sit in tracked files:
//!
//! 1. the tracked file itself, `config/<name>.yaml` (the shipped demo configuration);
//! 2. its untracked override `config/<name>.local.yaml` (git-ignored), merged key by key:
//!    a mapping in the override merges into the file's mapping, any other value replaces the
//!    file's;
//! 3. environment variables for the secrets only:
//!    `TRADINGBOT_EXCHANGES__<ACCOUNT>__API_KEY`, `TRADINGBOT_EXCHANGES__<ACCOUNT>__API_SECRET`,
//!    `TRADINGBOT_EMAIL__SMTP__PASSWORD` and `TRADINGBOT_DATA_SOURCES__<SOURCE>__API_KEY`
//!    (names in capitals, `-` written `_`).
//!
//! The merged document is then validated as one file, and every problem names the layer its
//! key came from. Any other `TRADINGBOT_` variable is a problem too, so a misspelt variable
//! never silently leaves a secret unset.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::reader::ConfigProblem;

/// Prefix of the environment variables read.
pub(crate) const ENV_PREFIX: &str = "TRADINGBOT_";

/// Keys whose values are secrets, wherever they appear.
const SECRET_KEYS: [&str; 3] = ["api_key", "api_secret", "password"];

/// Which layer set a key path, for problem messages: `(path, layer)`.
pub(crate) type Origins = Vec<(String, String)>;

/// The file name of the override of `name` (`exchanges.yaml` → `exchanges.local.yaml`).
pub(crate) fn local_name(name: &str) -> String {
    let stem = name.strip_suffix(".yaml").unwrap_or(name);
    format!("{stem}.local.yaml")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn key_text(key: &Value) -> String {
    key.as_str().map_or_else(|| format!("{key:?}"), str::to_owned)
}

/// Merges `over` into `base` key by key, recording in `origins` every path `over` set.
pub(crate) fn merge(base: &mut Value, over: Value, path: &str, layer: &str, origins: &mut Origins) {
    match (base, over) {
        (Value::Mapping(base), Value::Mapping(over)) => {
            for (key, value) in over {
                let child = join(path, &key_text(&key));
                match base.get_mut(&key) {
                    Some(existing) if existing.is_mapping() && value.is_mapping() => {
                        merge(existing, value, &child, layer, origins);
                    }
                    _ => {
                        base.insert(key, value);
                        origins.push((child, layer.to_owned()));
                    }
                }
            }
        }
        (base, over) => {
            *base = over;
            origins.push((path.to_owned(), layer.to_owned()));
        }
    }
}

/// Whether `value` holds a non-empty secret anywhere.
pub(crate) fn holds_secret(value: &Value) -> bool {
    match value {
        Value::Mapping(map) => map.iter().any(|(key, value)| {
            let secret = key.as_str().is_some_and(|k| SECRET_KEYS.contains(&k))
                && value.as_str().is_some_and(|s| !s.trim().is_empty());
            secret || holds_secret(value)
        }),
        Value::Sequence(items) => items.iter().any(holds_secret),
        _ => false,
    }
}

/// A name as an environment variable spells it.
fn env_form(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

/// The configuration file an environment variable's first part names.
const ENV_FILES: [(&str, &str); 3] =
    [("EXCHANGES", "exchanges.yaml"), ("EMAIL", "email.yaml"), ("DATA_SOURCES", "data_sources.yaml")];

/// What the environment variables may set, for messages.
const ENV_FORMS: &str = "TRADINGBOT_EXCHANGES__<ACCOUNT>__API_KEY, TRADINGBOT_EXCHANGES__<ACCOUNT>__API_SECRET, \
                         TRADINGBOT_EMAIL__SMTP__PASSWORD or TRADINGBOT_DATA_SOURCES__<SOURCE>__API_KEY";

/// A problem with an environment variable itself.
fn env_problem(name: &str, problem: impl Into<String>, expected: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        file: format!("environment variable {name}"),
        path: String::new(),
        problem: problem.into(),
        expected: expected.into(),
    }
}

/// The names of the mapping at `path` (dotted) in `document`.
fn names_at(document: &Value, path: &[&str]) -> Vec<String> {
    let mut value = document;
    for key in path {
        match value.get(*key) {
            Some(inner) => value = inner,
            None => return Vec::new(),
        }
    }
    value.as_mapping().map(|m| m.keys().map(key_text).collect()).unwrap_or_default()
}

/// Sets `value` at `path` in `document`, creating mappings on the way; returns how many keys
/// of `path` were there already (the rest was created).
fn set(document: &mut Value, path: &[String], value: Value) -> usize {
    let Some((last, parents)) = path.split_last() else { return 0 };
    let (mut existing, mut created) = (0, false);
    let mut node = document;
    for key in parents {
        if !node.is_mapping() {
            *node = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(map) = node else { return existing };
        let key = Value::String(key.clone());
        if !created && map.contains_key(&key) {
            existing += 1;
        } else {
            created = true;
        }
        node = map.entry(key).or_insert_with(|| Value::Mapping(Mapping::new()));
    }
    if !node.is_mapping() {
        *node = Value::Mapping(Mapping::new());
    }
    if let Value::Mapping(map) = node {
        map.insert(Value::String(last.clone()), value);
    }
    existing
}

/// Where the environment variable `name` (prefix removed: `rest`) puts its value in `file`'s
/// `document`.
fn env_path(file: &str, name: &str, parts: &[&str], document: &Value) -> Result<Vec<String>, ConfigProblem> {
    let unknown = || env_problem(name, "not a setting that can come from the environment", ENV_FORMS);
    match (file, parts) {
        ("exchanges.yaml", [account, key @ ("API_KEY" | "API_SECRET")]) => {
            let venues = names_at(document, &["venues"]);
            let matching: Vec<&String> = venues.iter().filter(|v| env_form(v) == *account).collect();
            match matching.as_slice() {
                [venue] => Ok(vec!["venues".to_owned(), (*venue).clone(), key.to_ascii_lowercase()]),
                [] => Err(env_problem(
                    name,
                    format!("no venue account of exchanges.yaml is named {account}"),
                    format!("one of: {}", venues.iter().map(|v| env_form(v)).collect::<Vec<_>>().join(", ")),
                )),
                several => Err(env_problem(
                    name,
                    format!(
                        "the accounts {} are all written {account}",
                        several.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    "account names that differ in more than case and '-'/'_'",
                )),
            }
        }
        ("email.yaml", ["SMTP", "PASSWORD"]) => Ok(vec!["smtp".to_owned(), "password".to_owned()]),
        ("data_sources.yaml", [source, "API_KEY"]) => {
            Ok(vec!["sources".to_owned(), source.to_ascii_lowercase(), "api_key".to_owned()])
        }
        _ => Err(unknown()),
    }
}

/// Applies the `TRADINGBOT_` variables of `env` that concern `file` to its `document`,
/// recording their origins; returns the problems of those variables.
pub(crate) fn apply_env(
    file: &str,
    document: &mut Value,
    env: &[(String, String)],
    origins: &mut Origins,
) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        let parts: Vec<&str> = rest.split("__").collect();
        let Some((_, target)) = ENV_FILES.iter().find(|(prefix, _)| *prefix == parts[0]) else { continue };
        if *target != file {
            continue;
        }
        match env_path(file, name, &parts[1..], document) {
            Ok(path) => {
                let layer = format!("environment variable {name}");
                let existing = set(document, &path, Value::String(value.clone()));
                // A mapping the variable created is the variable's, with what it misses.
                if existing + 1 < path.len() {
                    origins.push((path[..=existing].join("."), layer.clone()));
                }
                origins.push((path.join("."), layer));
            }
            Err(problem) => problems.push(problem),
        }
    }
    problems
}

/// Problems with `TRADINGBOT_` variables naming no configuration file.
pub(crate) fn unknown_env(env: &[(String, String)]) -> Vec<ConfigProblem> {
    env.iter()
        .filter_map(|(name, _)| {
            let rest = name.strip_prefix(ENV_PREFIX)?;
            let first = rest.split("__").next().unwrap_or_default();
            (!ENV_FILES.iter().any(|(prefix, _)| *prefix == first))
                .then(|| env_problem(name, "not a setting that can come from the environment", ENV_FORMS))
        })
        .collect()
}

/// This process's `TRADINGBOT_` variables (others are not configuration).
pub(crate) fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(name, value)| {
            let name = name.into_string().ok()?;
            name.starts_with(ENV_PREFIX).then(|| (name, value.to_string_lossy().into_owned()))
        })
        .collect()
}

/// The override file of `name` in `dir`, when there is one.
pub(crate) fn local_file(dir: &Path, name: &str) -> Option<PathBuf> {
    let path = dir.join(local_name(name));
    path.exists().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml::from_str(text).unwrap()
    }

    #[test]
    fn overrides_merge_key_by_key_and_remember_what_they_set() {
        let mut base = yaml("a: 1\nm:\n  x: 1\n  y: [1, 2]\n");
        let mut origins = Origins::new();
        merge(&mut base, yaml("m:\n  y: [3]\n  z: {k: v}\nb: 2\n"), "", "o.yaml", &mut origins);
        assert_eq!(base, yaml("a: 1\nm:\n  x: 1\n  y: [3]\n  z: {k: v}\nb: 2\n"));
        let paths: Vec<&str> = origins.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["m.y", "m.z", "b"]);
    }

    #[test]
    fn secrets_are_found_at_any_depth_and_empty_ones_do_not_count() {
        assert!(holds_secret(&yaml("venues:\n  a:\n    api_secret: s\n")));
        assert!(holds_secret(&yaml("smtp:\n  password: p\n")));
        assert!(!holds_secret(&yaml("smtp:\n  password: ''\nsources:\n  x:\n    api_key: ' '\n")));
    }

    #[test]
    fn environment_variables_set_secrets_of_existing_accounts_only() {
        let env = |name: &str| vec![(name.to_owned(), "v".to_owned())];
        let mut doc = yaml("venues:\n  my-mexc:\n    kind: mexc\n");
        let mut origins = Origins::new();
        let problems =
            apply_env("exchanges.yaml", &mut doc, &env("TRADINGBOT_EXCHANGES__MY_MEXC__API_SECRET"), &mut origins);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(doc, yaml("venues:\n  my-mexc:\n    kind: mexc\n    api_secret: v\n"));
        assert_eq!(
            origins[0],
            (
                "venues.my-mexc.api_secret".into(),
                "environment variable TRADINGBOT_EXCHANGES__MY_MEXC__API_SECRET".into()
            )
        );

        for wrong in ["TRADINGBOT_EXCHANGES__OTHER__API_KEY", "TRADINGBOT_EXCHANGES__MY_MEXC__REST_URL"] {
            let problems = apply_env("exchanges.yaml", &mut doc, &env(wrong), &mut Origins::new());
            assert_eq!(problems.len(), 1, "{wrong}");
            assert!(problems[0].file.contains(wrong));
        }
        let mut email = yaml("enabled: false\n");
        assert!(
            apply_env("email.yaml", &mut email, &env("TRADINGBOT_EMAIL__SMTP__PASSWORD"), &mut Origins::new())
                .is_empty()
        );
        assert_eq!(email, yaml("enabled: false\nsmtp:\n  password: v\n"));
        assert_eq!(unknown_env(&env("TRADINGBOT_EXCHANGE__X__API_KEY")).len(), 1);
        assert!(unknown_env(&env("TRADINGBOT_EMAIL__SMTP__HOST")).is_empty(), "reported by the email file instead");
    }
}
