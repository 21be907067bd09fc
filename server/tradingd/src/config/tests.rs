use std::{fs, path::PathBuf};

use domain::{alert::AlertKind, strategy::StrategyId};

use super::*;

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// The tracked files of the shipped configuration (never a developer's own overrides).
const TRACKED: [&str; 4] = ["exchanges.yaml", "email.yaml", "data_sources.yaml", "defaults.yaml"];

/// A copy of the shipped configuration with `file` replaced by `text`.
fn with_file(file: &str, text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in TRACKED {
        fs::copy(shipped().join(name), dir.path().join(name)).unwrap();
    }
    fs::write(dir.path().join(file), text).unwrap();
    dir
}

fn problems_with_env(dir: &tempfile::TempDir, env: &[(&str, &str)]) -> Vec<String> {
    let env: Vec<(String, String)> = env.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    Config::load_with_env(dir.path(), &env).unwrap_err().0.iter().map(ToString::to_string).collect()
}

fn problems(dir: &tempfile::TempDir) -> Vec<String> {
    problems_with_env(dir, &[])
}

fn load(dir: &tempfile::TempDir, env: &[(&str, &str)]) -> Config {
    let env: Vec<(String, String)> = env.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    Config::load_with_env(dir.path(), &env).unwrap()
}

#[test]
fn the_shipped_configuration_is_valid_and_targets_the_simulator() {
    let config = load(&with_file("email.yaml", &fs::read_to_string(shipped().join("email.yaml")).unwrap()), &[]);
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
    let dir = with_file("email.yaml", "enabled: false\nsmtp:\n  host: smtp.example.com\n  password: hunter2-smtp\n");
    let config = load(&dir, &[]);
    assert!(!format!("{config:?}").contains("hunter2-smtp"));
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
    let config = load(&dir, &[]);
    assert_eq!(config.exposed_secret_files(), [path.as_path()]);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(config.exposed_secret_files().is_empty());
}

#[test]
fn a_local_override_is_merged_key_by_key_over_the_tracked_file() {
    let dir = with_file("email.yaml", "enabled: false\n");
    fs::write(
        dir.path().join("exchanges.local.yaml"),
        "venues:\n  sim:\n    api_secret: real-secret\n    rate_limits:\n      weight_per_second: 5\n",
    )
    .unwrap();
    fs::write(dir.path().join("defaults.local.yaml"), "bot:\n  consecutive_loss_limit: 5\n").unwrap();
    let config = load(&dir, &[]);
    let sim = &config.exchanges.accounts["sim"];
    assert_eq!(sim.api_secret.expose(), "real-secret");
    assert_eq!(sim.api_key.expose(), "mx0vglDEMOKEY0000000000", "keys the override leaves out are the file's");
    assert_eq!((sim.weight_per_second, sim.order_actions_per_second), (5, 12));
    assert_eq!(sim.rest_url, "http://127.0.0.1:9090");
    assert_eq!(config.defaults.bot.consecutive_loss_limit, 5);
    assert!(config.defaults.bot.is_dry_run);
}

#[test]
fn a_readable_override_holding_a_secret_is_flagged_by_name() {
    use std::os::unix::fs::PermissionsExt;
    let dir = with_file("email.yaml", "enabled: false\n");
    fs::set_permissions(dir.path().join("exchanges.yaml"), fs::Permissions::from_mode(0o600)).unwrap();
    let local = dir.path().join("email.local.yaml");
    fs::write(&local, "smtp:\n  host: smtp.example.com\n  password: pw\n").unwrap();
    fs::set_permissions(&local, fs::Permissions::from_mode(0o640)).unwrap();
    let config = load(&dir, &[]);
    assert_eq!(config.exposed_secret_files(), [local.as_path()]);
    assert_eq!(config.email.smtp.as_ref().unwrap().password.expose(), "pw");
}

#[test]
fn problems_in_an_override_or_the_environment_name_where_they_come_from() {
    let dir = with_file("email.yaml", "enabled: false\n");
    fs::write(dir.path().join("exchanges.local.yaml"), "venues:\n  sim:\n    api_secert: x\n    recv_window_ms: 0\n")
        .unwrap();
    fs::write(dir.path().join("data_sources.local.yaml"), "- a list\n").unwrap();
    let found = problems_with_env(
        &dir,
        &[
            ("TRADINGBOT_EXCHANGES__NOWHERE__API_KEY", "k"),
            ("TRADINGBOT_EMAIL__SMTP__PASSWORD", "p"),
            ("TRADINGBOT_DATA_SOURCES__CMC__API_KEY", "k"),
            ("TRADINGBOT_TOKEN", "t"),
        ],
    );
    let expected = [
        "exchanges.local.yaml: venues.sim.api_secert: unknown key",
        "exchanges.local.yaml: venues.sim.recv_window_ms: 0 is out of range",
        "environment variable TRADINGBOT_EXCHANGES__NOWHERE__API_KEY: (top level): no venue account of exchanges.yaml is named NOWHERE; expected one of: SIM",
        "environment variable TRADINGBOT_EMAIL__SMTP__PASSWORD: smtp.host: missing",
        "data_sources.local.yaml: (top level): not a mapping",
        "environment variable TRADINGBOT_DATA_SOURCES__CMC__API_KEY: sources.cmc: unknown key",
        "environment variable TRADINGBOT_TOKEN: (top level): not a setting that can come from the environment",
    ];
    for line in expected {
        assert!(found.iter().any(|p| p.starts_with(line)), "missing {line:?} in {found:#?}");
    }
    assert_eq!(found.len(), expected.len(), "{found:#?}");
}

#[test]
fn environment_variables_supply_secrets_over_every_file() {
    let dir = with_file("email.yaml", "enabled: false\nsmtp:\n  host: smtp.example.com\n  password: in-file\n");
    fs::write(dir.path().join("exchanges.local.yaml"), "venues:\n  sim:\n    api_secret: from-local\n").unwrap();
    let config = load(
        &dir,
        &[
            ("TRADINGBOT_EXCHANGES__SIM__API_SECRET", "from-env"),
            ("TRADINGBOT_EMAIL__SMTP__PASSWORD", "smtp-from-env"),
            ("TRADINGBOT_DATA_SOURCES__COINGECKO__API_KEY", "cg-from-env"),
        ],
    );
    assert_eq!(config.exchanges.accounts["sim"].api_secret.expose(), "from-env", "the environment wins");
    assert_eq!(config.email.smtp.as_ref().unwrap().password.expose(), "smtp-from-env");
    assert_eq!(config.data_sources.sources["coingecko"].api_key.expose(), "cg-from-env");
    let feeds = format!("{:?}", config.data_sources.feeds());
    assert!(!feeds.contains("cg-from-env"), "{feeds}");
}
