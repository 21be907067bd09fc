//! How the tests start the binaries: each child binds port 0 and reports the address it got,
//! which is the address the helpers use, and a restarted daemon binds the same port again.

use crate::helpers::{Daemon, Gateway, bin};

/// The `listening on` line of a child's output, as documented in the README.
fn reported(log: &str) -> Vec<&str> {
    log.lines().filter_map(|line| line.strip_prefix("listening on ")).collect()
}

#[tokio::test]
async fn each_binary_reports_the_address_it_bound_and_the_tests_talk_to_that_one() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, None).await;

    let daemon_log = std::fs::read_to_string(daemon.log_path()).unwrap();
    let daemon_addr = daemon.url.strip_prefix("http://").unwrap().to_owned();
    assert_eq!(reported(&daemon_log), [daemon_addr.as_str()], "{daemon_log}");
    assert_ne!(daemon.port(), 0);
    assert!(daemon.log_path().starts_with(data.path()), "the daemon's output is kept in its data directory");

    let gateway_log = gateway.log();
    assert_eq!(reported(&gateway_log), [gateway.url.strip_prefix("http://").unwrap()], "{gateway_log}");
    let health = reqwest::get(format!("{}/api/health", gateway.url)).await.unwrap();
    assert!(health.status().is_success(), "the gateway answers where it said, in front of the daemon");

    // A restart binds the port the daemon reported, and reports it again.
    let port = daemon.port();
    let daemon = daemon.restart().await;
    assert_eq!(daemon.port(), port);
    let restarted_log = std::fs::read_to_string(daemon.log_path()).unwrap();
    assert_eq!(reported(&restarted_log), [daemon_addr.as_str()], "{restarted_log}");
}

#[test]
fn the_binaries_the_tests_run_are_newer_than_every_source_they_are_built_from() {
    for name in ["mexc-sim", "tradingd", "gateway", "tradingctl"] {
        let binary = bin(name);
        let built = std::fs::metadata(&binary).unwrap().modified().unwrap();
        // Cargo's dep-info beside the binary lists every file it was compiled from.
        let dep_info = std::fs::read_to_string(binary.with_extension("d")).unwrap();
        let (_, sources) = dep_info.split_once(": ").unwrap();
        // Paths are separated by spaces; a space inside one is escaped.
        let sources: Vec<String> =
            sources.replace("\\ ", "\0").split_whitespace().map(|s| s.replace('\0', " ")).collect();
        assert!(sources.iter().any(|s| s.ends_with("main.rs")), "{name}: {dep_info}");
        for source in sources {
            let changed = std::fs::metadata(&source).unwrap().modified().unwrap();
            assert!(changed <= built, "{name} is older than {source}: the tests would run a stale build");
        }
    }
}
