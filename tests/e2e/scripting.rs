//! Scripted automation: the README's Python example runs against a live daemon.

use std::process::Command;

use crate::helpers::{Daemon, repo_root};

#[tokio::test]
async fn the_python_example_drives_the_daemon() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let addr = daemon.url.trim_start_matches("http://").to_owned();
    let script = repo_root().join("examples/python/tradingbot_client.py");
    let output =
        tokio::task::spawn_blocking(move || Command::new("python3").arg(script).args(["--addr", &addr]).output())
            .await
            .unwrap()
            .expect("python3 runs (install examples/python/requirements.txt)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("OK bot 1 created, started, paused, stopped"), "{stdout}");
    assert!(stdout.contains("INVALID_ARGUMENT"), "the script shows a validation error: {stdout}");
}
