//! The daemon refuses to start on an invalid configuration and lists every problem.

use std::{
    process::{Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use crate::helpers::{bin, repo_root};

#[test]
fn invalid_configuration_stops_the_daemon_with_every_problem_listed() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["exchanges.yaml", "email.yaml", "data_sources.yaml", "defaults.yaml"] {
        std::fs::copy(repo_root().join("config").join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(
        dir.path().join("exchanges.yaml"),
        "default: sim\nvenues:\n  sim:\n    kind: mexc\n    rest_url: nowhere\n    ws_url: ws://127.0.0.1:1/ws\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("email.yaml"), "enabled: true\nsmpt: {}\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let child = Command::new(bin("tradingd"))
        .arg("--config")
        .arg(dir.path())
        .arg("--data-dir")
        .arg(data.path())
        .args(["--grpc", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A daemon that started instead of refusing would never exit: a generous bound makes that
    // a failure (and the daemon is killed) rather than a test that blocks CI.
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let output = match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            panic!("tradingd did not exit within 60 s on an invalid configuration");
        }
    };
    assert_eq!(output.status.code(), Some(78), "configuration errors exit with EX_CONFIG");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "invalid configuration (5 problems)",
        "exchanges.yaml: venues.sim.rest_url: 'nowhere' is not such a URL; expected a URL starting with http:// or https://",
        "email.yaml: smpt: unknown key",
        "email.yaml: smtp: missing while email is enabled",
        "email.yaml: from: missing",
        "email.yaml: to: no recipient while email is enabled",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
    assert!(!data.path().join("tradingbot.db").exists(), "nothing is written before the configuration is valid");
}
