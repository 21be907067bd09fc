use std::{fs, path::PathBuf};

use domain::{alert::AlertKind, strategy::StrategyId};

use super::*;

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// A copy of the shipped configuration with `file` replaced by `text`.
fn with_file(file: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(shipped()).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    fs::write(dir.path().join(file), text).unwrap();
    dir
}

fn problems(dir: &tempfile::TempDir) -> Vec<String> {
    Config::load(dir.path()).unwrap_err().0.iter().map(ToString::to_string).collect()
}

#[test]
fn the_shipped_configuration_is_valid_and_targets_the_simulator() {
    let config = Config::load(&shipped()).unwrap();
    assert_eq!(config.exchanges.default, "sim");
    assert_eq!(config.exchanges.accounts["sim"].rest_url, "http://127.0.0.1:9090");
    assert!(!config.email.enabled);
    assert_eq!(config.defaults.strategies.len(), StrategyId::ALL.len());
    assert!(config.email.alerts[&AlertKind::KillSwitch]);
}

#[test]
fn every_problem_is_reported_with_file_path_and_expectation() {
    let dir = with_file(
        "exchanges.yaml",
        "default: nowhere\nvenues:\n  sim:\n    kind: binance\n    rest_url: ftp://x\n    ws_url: ws://127.0.0.1:9090/ws\n    recv_window_ms: 999999\n    colour: blue\nextra: 1\n",
    );
    let found = problems(&dir);
    let expected = [
        "exchanges.yaml: venues.sim.kind: unknown venue kind 'binance'; expected mexc",
        "exchanges.yaml: venues.sim.rest_url: 'ftp://x' is not such a URL; expected a URL starting with http:// or https://",
        "exchanges.yaml: venues.sim.recv_window_ms: 999999 is out of range; expected a whole number from 1 to 60000",
        "exchanges.yaml: venues.sim.colour: unknown key; expected one of:",
        "exchanges.yaml: extra: unknown key; expected one of: default, venues",
    ];
    for line in expected {
        assert!(found.iter().any(|p| p.starts_with(line)), "missing {line:?} in {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn problems_in_several_files_are_reported_together() {
    let dir = with_file("email.yaml", "enabled: true\nfrom: not-an-address\n");
    fs::write(
        dir.path().join("defaults.yaml"),
        "strategies:\n  mean_reversion:\n    period: 1\n    std_dev: lots\n  martingale: {}\n",
    )
    .unwrap();
    fs::remove_file(dir.path().join("data_sources.yaml")).unwrap();
    let found = problems(&dir);
    let expected = [
        "email.yaml: smtp: missing while email is enabled",
        "email.yaml: from: 'not-an-address' is not an email address",
        "email.yaml: to: no recipient while email is enabled",
        "data_sources.yaml: (top level): cannot read",
        "defaults.yaml: strategies.mean_reversion.period: 1 is out of range; expected a whole number from 2 to 500",
        "defaults.yaml: strategies.mean_reversion.std_dev: 'lots' is not a decimal number",
        "defaults.yaml: strategies.martingale: unknown key",
    ];
    for line in expected {
        assert!(found.iter().any(|p| p.starts_with(line)), "missing {line:?} in {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn yaml_syntax_errors_name_the_file() {
    let dir = with_file("defaults.yaml", "bot: [unclosed\n");
    let found = problems(&dir);
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("defaults.yaml: (top level): not valid YAML"), "{found:?}");
}

#[test]
fn secrets_are_masked_everywhere() {
    let config = Config::load(&shipped()).unwrap();
    let secret = config.exchanges.accounts["sim"].api_secret.expose().to_owned();
    assert!(!secret.is_empty());
    let shown = format!("{config:?} {}", serde_json::json!(config.redacted()));
    assert!(!shown.contains(&secret), "secret leaked: {shown}");
    assert!(shown.contains("********"));
}

#[test]
fn group_readable_secret_files_are_flagged() {
    use std::os::unix::fs::PermissionsExt;
    let dir = with_file("email.yaml", "enabled: false\n");
    let path = dir.path().join("exchanges.yaml");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let config = Config::load(dir.path()).unwrap();
    assert_eq!(config.exposed_secret_files(dir.path()), ["exchanges.yaml"]);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(config.exposed_secret_files(dir.path()).is_empty());
}
