//! The boundary holds on every port: Host and Origin rules on the daemon's gRPC-Web side, the
//! bearer token over gRPC, gRPC-Web, the CLI and the gateway, refusal to bind beyond loopback
//! without a token, anti-framing headers, private files, and where secrets may live.

use std::{os::unix::fs::PermissionsExt, path::Path, process::Stdio, time::Duration};

use serde_json::{Value, json};
use tokio::process::Command as AsyncCommand;
use tonic::Code;
use tradingbot_proto::v1::{self as pb, bot_service_client::BotServiceClient};

use crate::helpers::{
    ANY_PORT, CLOSED_URL, DEMO_SECRET, Daemon, Gateway, Sim, bin, clean_env, create_bot, ctl, ctl_with_env, eventually,
    repo_root,
};

const TOKEN: &str = "e2e-token-0123456789abcdef";

/// Sends an empty `GetStats` as gRPC-Web over HTTP/1.1 with `headers`; returns the HTTP status,
/// the gRPC status (from the headers of a trailers-only answer or the trailer frame) and the
/// response headers.
async fn grpc_web(url: &str, headers: &[(&str, &str)]) -> (u16, String, reqwest::header::HeaderMap) {
    let mut request = reqwest::Client::new()
        .post(format!("{url}/tradingbot.v1.ReportService/GetStats"))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.body(vec![0u8, 0, 0, 0, 0]).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = String::from_utf8_lossy(&response.bytes().await.unwrap()).into_owned();
    let grpc_status = match headers.get("grpc-status") {
        Some(value) => value.to_str().unwrap().to_owned(),
        None => body
            .split("grpc-status:")
            .nth(1)
            .map(|s| s.trim().chars().take_while(char::is_ascii_digit).collect())
            .unwrap_or_default(),
    };
    (status, grpc_status, headers)
}

fn grpc_message(headers: &reqwest::header::HeaderMap) -> String {
    headers.get("grpc-message").map(|m| m.to_str().unwrap().replace("%20", " ")).unwrap_or_default()
}

#[tokio::test]
async fn grpc_web_from_a_foreign_host_or_origin_is_refused_while_same_host_and_tradingctl_work() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let port = daemon.url.rsplit(':').next().unwrap().to_owned();
    let own_host = format!("127.0.0.1:{port}");
    let other_port = CLOSED_URL.to_owned();
    let refused = [
        vec![("host", format!("evil.example:{port}"))],
        vec![("host", "evil.example".to_owned())],
        vec![("origin", "http://evil.example".to_owned())],
        vec![("origin", other_port.clone())],
        vec![("origin", format!("https://127.0.0.1:{port}"))],
        vec![("origin", "null".to_owned())],
    ];
    for case in refused {
        let headers: Vec<(&str, &str)> = case.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let (http, grpc, answer) = grpc_web(&daemon.url, &headers).await;
        assert_eq!((http, grpc.as_str()), (200, "7"), "{case:?} must be refused with PERMISSION_DENIED");
        assert!(answer.get("access-control-allow-origin").is_none(), "no CORS");
        let message = grpc_message(&answer);
        assert!(message.contains("not allowed") || message.contains("not this server's origin"), "{message}");
    }

    let (http, grpc, answer) =
        grpc_web(&daemon.url, &[("host", &own_host), ("origin", &format!("http://{own_host}"))]).await;
    assert_eq!((http, grpc.as_str()), (200, "0"), "a page of the daemon's own origin is served");
    assert!(answer.get("access-control-allow-origin").is_none(), "no CORS");
    assert_eq!(grpc_web(&daemon.url, &[("host", &format!("localhost:{port}"))]).await.1, "0");

    let listed = ctl(&daemon.url, &["list"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let localhost = ctl(&format!("http://localhost:{port}"), &["list"]);
    assert_eq!(localhost.code, 0, "{}", localhost.stderr);
}

#[tokio::test]
async fn extra_host_names_are_allowed_only_when_given() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with_flags(config.path(), data.path(), ANY_PORT, &["--allow-host", "bot.lan"]).await;
    assert_eq!(grpc_web(&daemon.url, &[("host", "bot.lan:1")]).await.1, "0");
    assert_eq!(grpc_web(&daemon.url, &[("host", "other.lan:1")]).await.1, "7");
}

async fn list_bots(daemon: &Daemon, authorization: Option<&str>) -> Result<pb::ListBotsResponse, tonic::Status> {
    let mut request = tonic::Request::new(pb::ListBotsRequest::default());
    if let Some(value) = authorization {
        request.metadata_mut().insert("authorization", value.parse().unwrap());
    }
    BotServiceClient::new(daemon.channel().await).list_bots(request).await.map(tonic::Response::into_inner)
}

async fn daemon_with_token(data: &tempfile::TempDir, config: &Path) -> Daemon {
    Daemon::start_custom(config, data.path(), ANY_PORT, &[], &[("TRADINGD_TOKEN", TOKEN)], Some(TOKEN)).await
}

#[tokio::test]
async fn with_a_token_every_grpc_call_must_carry_it() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = daemon_with_token(&data, config.path()).await;

    let missing = list_bots(&daemon, None).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert!(missing.message().contains("authorization: Bearer <token>"), "{}", missing.message());
    let wrong = list_bots(&daemon, Some("Bearer e2e-token-0123456789abcdeX")).await.unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert!(wrong.message().contains("not this server's token"), "{}", wrong.message());
    let basic = list_bots(&daemon, Some(&format!("Basic {TOKEN}"))).await.unwrap_err();
    assert!(basic.message().contains("Bearer <token>"), "{}", basic.message());
    for status in [&missing, &wrong, &basic] {
        assert!(!status.message().contains(TOKEN), "the token is never echoed");
    }
    list_bots(&daemon, Some(&format!("Bearer {TOKEN}"))).await.unwrap();

    // gRPC-Web too.
    assert_eq!(grpc_web(&daemon.url, &[]).await.1, "16");
    assert_eq!(grpc_web(&daemon.url, &[("authorization", &format!("Bearer {TOKEN}"))]).await.1, "0");

    // tradingctl: refused without, accepted with the variable or a token file.
    let refused = ctl(&daemon.url, &["list"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("requires its token") && !refused.stderr.contains(TOKEN), "{}", refused.stderr);
    let by_env = ctl_with_env(&daemon.url, &["list"], &[("TRADINGD_TOKEN", TOKEN)]);
    assert_eq!(by_env.code, 0, "{}", by_env.stderr);
    let file = data.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let by_file = ctl(&daemon.url, &["--token-file", file.to_str().unwrap(), "list"]);
    assert_eq!(by_file.code, 0, "{}", by_file.stderr);
}

/// Runs `command` to its exit; one still running after 20 s started serving instead of
/// refusing, which fails the test (and the process is killed).
async fn exit_of(command: &mut AsyncCommand) -> std::process::Output {
    let running = clean_env(command).stdin(Stdio::null()).kill_on_drop(true).output();
    tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .expect("the process refused to start rather than serving")
        .unwrap()
}

#[tokio::test]
async fn binding_beyond_loopback_without_a_token_is_refused_at_start() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = exit_of(
        AsyncCommand::new(bin("tradingd"))
            .arg("--config")
            .arg(config.path())
            .arg("--data-dir")
            .arg(data.path())
            .args(["--grpc", "0.0.0.0:0"]),
    )
    .await;
    let stderr = String::from_utf8_lossy(&daemon.stderr);
    assert_eq!(daemon.status.code(), Some(78), "{stderr}");
    assert!(stderr.contains("beyond loopback") && stderr.contains("TRADINGD_TOKEN"), "{stderr}");
    assert!(!data.path().join("tradingbot.db").exists(), "nothing is written");

    let gateway =
        exit_of(AsyncCommand::new(bin("gateway")).args(["--listen", "0.0.0.0:0", "--daemon", "http://127.0.0.1:1"]))
            .await;
    let stderr = String::from_utf8_lossy(&gateway.stderr);
    assert!(!gateway.status.success());
    assert!(stderr.contains("beyond loopback") && stderr.contains("TRADINGD_TOKEN"), "{stderr}");
}

#[tokio::test]
async fn the_gateway_requires_the_token_from_its_clients_and_sends_it_to_the_daemon() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let data = tempfile::tempdir().unwrap();
    let daemon = daemon_with_token(&data, config.path()).await;
    let gateway = Gateway::start_custom(&daemon.url, None, &[("TRADINGD_TOKEN", TOKEN)], Some(TOKEN)).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let bots = format!("{}/api/bots", gateway.url);

    let anonymous = client.get(&bots).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    assert!(body["error"]["message"].as_str().unwrap().contains("/auth?token="), "{body}");
    let wrong = client.get(&bots).bearer_auth("e2e-token-0123456789abcdeX").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client.get(&bots).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(right.status(), 200, "the gateway forwards the token to the daemon, which requires it");

    // The browser's way: one visit to /auth?token= sets an HttpOnly, SameSite=Strict cookie.
    let refused = client.get(format!("{}/auth?token=e2e-token-0123456789abcdeX", gateway.url)).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get("set-cookie").is_none());
    let login = client.get(format!("{}/auth?token={TOKEN}", gateway.url)).send().await.unwrap();
    assert_eq!(login.status(), 303);
    assert_eq!(login.headers()["location"], "/");
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    let with_cookie = client.get(&bots).header("cookie", &pair).send().await.unwrap();
    assert_eq!(with_cookie.status(), 200);
    let created = client
        .post(&bots)
        .header("cookie", &pair)
        .header("origin", gateway.url.as_str())
        .json(&json!({"trading_pair": "BTC/USDT", "strategy": "dca_accumulator", "budget": "10"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // A gateway without the token in front of a daemon that requires one says so.
    let tokenless = Gateway::start_custom(&daemon.url, None, &[], None).await;
    let health = client.get(format!("{}/api/health", tokenless.url)).send().await.unwrap();
    assert_eq!(health.status(), 502);
    assert_eq!(health.json::<Value>().await.unwrap()["daemon"], "refuses_gateway");
    let refused = client.get(format!("{}/api/bots", tokenless.url)).send().await.unwrap();
    assert_eq!(refused.status(), 502);
    let body: Value = refused.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("TRADINGD_TOKEN"), "{body}");
}

#[tokio::test]
async fn gateway_responses_forbid_framing_and_sniffing_and_origins_match_exactly() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), "<!doctype html><title>tradingbot</title>").unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let gateway = Gateway::start(&daemon.url, Some(web.path())).await;
    let client = reqwest::Client::new();
    let other_port = CLOSED_URL.to_owned();
    let responses = [
        client.get(format!("{}/", gateway.url)).send().await.unwrap(),
        client.get(format!("{}/bots", gateway.url)).send().await.unwrap(),
        client.get(format!("{}/api/bots", gateway.url)).send().await.unwrap(),
        client.get(format!("{}/api/bots", gateway.url)).header("host", "evil.example").send().await.unwrap(),
    ];
    for response in &responses {
        let headers = response.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{}", response.url());
        assert_eq!(headers["x-content-type-options"], "nosniff");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }
    // Same host, another port: another origin.
    let cross_port = client
        .post(format!("{}/api/kill-all", gateway.url))
        .header("origin", other_port.as_str())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_port.status(), 403);
    let cross_scheme = client
        .post(format!("{}/api/kill-all", gateway.url))
        .header("origin", gateway.url.replacen("http", "https", 1))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_scheme.status(), 403);
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[tokio::test]
async fn the_database_and_the_bot_logs_are_private_to_their_owner() {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let daemon = Daemon::start_custom(config.path(), &data, ANY_PORT, &[], &[], None).await;
    let bot = create_bot(&daemon, "private").await;
    daemon.bots().await.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    let log = data.join(format!("logs/{}/orders.log", bot.id));
    eventually("the bot's first order in its log", Duration::from_secs(30), || {
        let exists = log.is_file();
        async move { exists.then_some(()) }
    })
    .await;
    for file in ["tradingbot.db", "tradingbot.db-wal", "tradingbot.db-shm"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&data.join("logs")), 0o700);
    assert_eq!(mode(&data.join(format!("logs/{}", bot.id))), 0o700);
    assert_eq!(mode(&log), 0o600);
}

/// A configuration directory whose tracked files hold a wrong API secret for the simulator.
fn config_with_wrong_secret(sim: &Sim) -> tempfile::TempDir {
    sim.config_dir("not-the-simulator-secret")
}

fn exchange_check(daemon: &Daemon) -> crate::helpers::CtlOutput {
    ctl(&daemon.url, &["exchange", "check", "--exchange", "sim"])
}

#[tokio::test]
async fn secrets_may_live_in_an_untracked_override_file_or_the_environment() {
    let sim = Sim::start().await;

    // The tracked file's secret is wrong: the signed read of the check fails.
    let config = config_with_wrong_secret(&sim);
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    assert_eq!(exchange_check(&daemon).code, 1, "the wrong secret is refused by the venue");
    drop(daemon);

    // exchanges.local.yaml, merged key by key, supplies the right one.
    let local = config.path().join("exchanges.local.yaml");
    std::fs::write(&local, format!("venues:\n  sim:\n    api_secret: {DEMO_SECRET}\n")).unwrap();
    std::fs::set_permissions(&local, std::fs::Permissions::from_mode(0o644)).unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    let checked = exchange_check(&daemon);
    assert_eq!(checked.code, 0, "{}{}", checked.stdout, checked.stderr);
    let log = std::fs::read_to_string(daemon.log_path()).unwrap();
    assert!(
        log.contains("exchanges.local.yaml") && log.contains("readable by other users"),
        "a readable file holding a secret is named in a warning:\n{log}"
    );
    drop(daemon);
    std::fs::remove_file(&local).unwrap();

    // Or an environment variable.
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_custom(
        config.path(),
        data.path(),
        ANY_PORT,
        &[],
        &[("TRADINGBOT_EXCHANGES__SIM__API_SECRET", DEMO_SECRET)],
        None,
    )
    .await;
    let checked = exchange_check(&daemon);
    assert_eq!(checked.code, 0, "{}{}", checked.stdout, checked.stderr);
}

#[tokio::test]
async fn unknown_keys_in_an_override_or_the_environment_stop_the_daemon() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["exchanges.yaml", "email.yaml", "data_sources.yaml", "defaults.yaml"] {
        std::fs::copy(repo_root().join("config").join(name), dir.path().join(name)).unwrap();
    }
    std::fs::write(dir.path().join("exchanges.local.yaml"), "venues:\n  sim:\n    api_secert: x\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let output = exit_of(
        AsyncCommand::new(bin("tradingd"))
            .env("TRADINGBOT_EXCHANGES__NOWHERE__API_KEY", "k")
            .env("TRADINGBOT_EMAIL__SMTP__HOST", "smtp.example.com")
            .arg("--config")
            .arg(dir.path())
            .arg("--data-dir")
            .arg(data.path())
            .args(["--grpc", "127.0.0.1:0"]),
    )
    .await;
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "exchanges.local.yaml: venues.sim.api_secert: unknown key",
        "TRADINGBOT_EXCHANGES__NOWHERE__API_KEY",
        "TRADINGBOT_EMAIL__SMTP__HOST",
    ] {
        assert!(stderr.contains(expected), "missing {expected:?} in:\n{stderr}");
    }
}
