//! Scripted automation: the README's Python example runs against a live daemon.

use std::process::{Command, Output};

use crate::helpers::{ANY_PORT, DEMO_SECRET, Daemon, Sim, repo_root};

/// Runs the Python example against `daemon` with `envs` set (and no token of the caller's own).
async fn run_example(daemon: &Daemon, envs: &[(&str, &str)]) -> Output {
    let addr = daemon.url.trim_start_matches("http://").to_owned();
    let script = repo_root().join("examples/python/tradingbot_client.py");
    let envs: Vec<(String, String)> = envs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    tokio::task::spawn_blocking(move || {
        Command::new("python3").arg(script).args(["--addr", &addr]).env_remove("TRADINGD_TOKEN").envs(envs).output()
    })
    .await
    .unwrap()
    .expect("python3 runs (install examples/python/requirements.txt)")
}

#[tokio::test]
async fn the_python_example_drives_the_daemon() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let output = run_example(&daemon, &[]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("OK bot 1 created, started, paused, stopped"), "{stdout}");
    assert!(stdout.contains("INVALID_ARGUMENT"), "the script shows a validation error: {stdout}");
}

#[tokio::test]
async fn the_python_example_sends_the_daemons_token() {
    const TOKEN: &str = "python-token-0123456789abcdef";
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon =
        Daemon::start_custom(config.path(), data.path(), ANY_PORT, &[], &[("TRADINGD_TOKEN", TOKEN)], Some(TOKEN))
            .await;
    let refused = run_example(&daemon, &[]).await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("wants its token") && !stderr.contains(TOKEN), "{stderr}");
    let output = run_example(&daemon, &[("TRADINGD_TOKEN", TOKEN)]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "script failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("created, started, paused, stopped"), "{stdout}");
}
