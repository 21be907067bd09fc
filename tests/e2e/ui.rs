//! The built web UI in a real headless Chromium, against the real gateway and daemon.

use std::process::Command;

use crate::helpers::{Daemon, Gateway, repo_root};

#[tokio::test]
async fn the_ui_lists_and_drives_bots_in_headless_chromium() {
    let dist = repo_root().join("web/dist");
    assert!(dist.join("index.html").is_file(), "build the UI first: (cd web && npm ci && npm run build)");
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, Some(&dist)).await;
    let screenshot = data.path().join("ui-smoke.png");
    let (url, shot) = (gateway.url.clone(), screenshot.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node").arg(repo_root().join("web/e2e/ui-smoke.mjs")).arg(url).arg(shot).output()
    })
    .await
    .unwrap()
    .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "UI smoke test failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("ui smoke: all steps passed"), "{stdout}");
    assert!(screenshot.metadata().unwrap().len() > 10_000, "a real screenshot was taken");
}
