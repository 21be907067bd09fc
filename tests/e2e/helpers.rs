//! Starting the real binaries on free loopback ports with temporary data, and typed helpers
//! to drive them. Every wait polls with a deadline; nothing asserts on durations.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use tokio::process::{Child, Command as AsyncCommand};
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient};
use tradingbot_proto::v1::{
    self as pb, backtest_service_client::BacktestServiceClient, bot_service_client::BotServiceClient,
};

/// The workspace root.
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Path of a workspace binary built by the same `cargo test` run.
pub(crate) fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/e2e-<hash> -> target/debug/<name>
    let dir = exe.parent().and_then(Path::parent).expect("target/debug");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run `cargo build --workspace --bins` first (scripts/test does)",
        path.display()
    );
    path
}

/// A loopback port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Polls `check` every 50 ms until it returns `Some` or `timeout` passes.
pub(crate) async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running `mexc-sim` process replaying the bundled market data.
pub(crate) struct Sim {
    /// The process; killed when the handle drops.
    _child: Child,
    /// REST base URL.
    pub(crate) rest_url: String,
    /// WebSocket URL.
    pub(crate) ws_url: String,
}

impl Sim {
    /// Starts the simulator on a free port, replaying at 60 times real time, and waits until it
    /// answers.
    pub(crate) async fn start() -> Self {
        Self::start_at_speed("60").await
    }

    /// Starts the simulator with the market clock at `speed` times real time (`0` freezes the
    /// market: no trades, and a taker order split by the `partial_fill` fault never finishes).
    pub(crate) async fn start_at_speed(speed: &str) -> Self {
        Self::start_with_flags(&["--speed", speed]).await
    }

    /// Starts the simulator with extra command-line flags (`--speed`, `--synthetic`, ...).
    pub(crate) async fn start_with_flags(flags: &[&str]) -> Self {
        let port = free_port();
        let child = AsyncCommand::new(bin("mexc-sim"))
            .args(["--listen", &format!("127.0.0.1:{port}"), "--seed", "7"])
            .args(flags)
            .arg("--data")
            .arg(repo_root().join("server/mexc-sim/data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("mexc-sim starts");
        let sim = Self {
            _child: child,
            rest_url: format!("http://127.0.0.1:{port}"),
            ws_url: format!("ws://127.0.0.1:{port}/ws"),
        };
        let ping = format!("{}/api/v3/ping", sim.rest_url);
        eventually("mexc-sim to answer", Duration::from_secs(30), || {
            let ping = ping.clone();
            async move { reqwest::get(&ping).await.ok().filter(|r| r.status().is_success()).map(|_| ()) }
        })
        .await;
        sim
    }

    /// Replaces the simulator's faults (`serde_json` object of `mexc_sim::Faults` fields).
    pub(crate) async fn set_faults(&self, faults: serde_json::Value) {
        let reply = reqwest::Client::new()
            .post(format!("{}/admin/faults", self.rest_url))
            .json(&faults)
            .send()
            .await
            .expect("admin endpoint answers");
        assert!(reply.status().is_success(), "faults refused: {}", reply.text().await.unwrap_or_default());
    }

    /// A copy of the shipped configuration whose `sim` account and external data sources point
    /// at this simulator, with `secret` as its API secret.
    pub(crate) fn config_dir(&self, secret: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("config dir");
        for name in ["email.yaml", "defaults.yaml"] {
            std::fs::copy(repo_root().join("config").join(name), dir.path().join(name)).expect("copy config");
        }
        // The external data stand-ins are this simulator's too.
        let sources = std::fs::read_to_string(repo_root().join("config/data_sources.yaml")).expect("read config");
        let sources = sources.replace("http://127.0.0.1:9090", &self.rest_url);
        std::fs::write(dir.path().join("data_sources.yaml"), sources).expect("write data_sources.yaml");
        let exchanges = format!(
            "default: sim\nvenues:\n  sim:\n    kind: mexc\n    rest_url: {}\n    ws_url: {}\n    api_key: mx0vglDEMOKEY0000000000\n    api_secret: {secret}\n",
            self.rest_url, self.ws_url
        );
        std::fs::write(dir.path().join("exchanges.yaml"), exchanges).expect("write exchanges.yaml");
        dir
    }
}

/// The demo account's secret, which the simulator accepts.
pub(crate) const DEMO_SECRET: &str = "demo0secret0for0the0local0simulator0only";

/// A simulator owned by a daemon, with the configuration pointing at it.
struct OwnVenue {
    _sim: Sim,
    _config: tempfile::TempDir,
}

/// A running `tradingd` process with its own data directory.
pub(crate) struct Daemon {
    child: Child,
    /// gRPC URL, `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    /// Data directory (database, logs); kept across restarts.
    pub(crate) data_dir: PathBuf,
    config_dir: PathBuf,
    port: u16,
    /// The simulator started for this daemon, kept across restarts.
    venue: Option<OwnVenue>,
}

impl Daemon {
    /// Starts the daemon in a fresh data directory with the shipped configuration, its venue
    /// account pointing at a simulator of its own.
    pub(crate) async fn start(data: &tempfile::TempDir) -> Self {
        let sim = Sim::start().await;
        let config = sim.config_dir(DEMO_SECRET);
        let mut daemon = Self::start_with(config.path(), data.path(), free_port()).await;
        daemon.venue = Some(OwnVenue { _sim: sim, _config: config });
        daemon
    }

    /// Starts the daemon with `config_dir` and `data_dir` on `port`, and waits until healthy.
    pub(crate) async fn start_with(config_dir: &Path, data_dir: &Path, port: u16) -> Self {
        Self::start_with_flags(config_dir, data_dir, port, &[]).await
    }

    /// Like [`Self::start_with`], with extra command-line flags.
    pub(crate) async fn start_with_flags(config_dir: &Path, data_dir: &Path, port: u16, flags: &[&str]) -> Self {
        Self::start_custom(config_dir, data_dir, port, flags, &[], None).await
    }

    /// Like [`Self::start_with_flags`], with extra environment variables, and `token` sent with
    /// the health check (for a daemon that requires one).
    pub(crate) async fn start_custom(
        config_dir: &Path,
        data_dir: &Path,
        port: u16,
        flags: &[&str],
        envs: &[(&str, &str)],
        token: Option<&str>,
    ) -> Self {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = std::fs::File::create(Self::log_path_in(data_dir, port)).expect("log file");
        let child = clean_env(&mut AsyncCommand::new(bin("tradingd")))
            .envs(envs.iter().copied())
            .arg("--config")
            .arg(config_dir)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--grpc")
            .arg(format!("127.0.0.1:{port}"))
            .args(flags)
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("tradingd starts");
        let daemon = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.to_path_buf(),
            config_dir: config_dir.to_path_buf(),
            port,
            venue: None,
        };
        daemon.wait_healthy(token).await;
        daemon
    }

    /// The file the daemon started on `port` in `data_dir` logs to.
    pub(crate) fn log_path_in(data_dir: &Path, port: u16) -> PathBuf {
        data_dir.join(format!("tradingd-{port}.log"))
    }

    async fn wait_healthy(&self, token: Option<&str>) {
        let url = self.url.clone();
        let token = token.map(|t| format!("Bearer {t}"));
        eventually("tradingd to serve", Duration::from_secs(30), || {
            let (url, token) = (url.clone(), token.clone());
            async move {
                let channel = Channel::from_shared(url).ok()?.connect().await.ok()?;
                let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
                if let Some(token) = token {
                    request.metadata_mut().insert("authorization", token.parse().ok()?);
                }
                let reply = HealthClient::new(channel).check(request).await.ok()?;
                (reply.into_inner().status() == ServingStatus::Serving).then_some(())
            }
        })
        .await;
    }

    /// The process id.
    #[allow(dead_code, reason = "used by the fleet benchmark, which shares this file")]
    pub(crate) fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    /// A channel to the daemon.
    pub(crate) async fn channel(&self) -> Channel {
        Channel::from_shared(self.url.clone()).expect("url").connect().await.expect("daemon reachable")
    }

    /// A bot client.
    pub(crate) async fn bots(&self) -> BotServiceClient<Channel> {
        BotServiceClient::new(self.channel().await)
    }

    /// A backtest client.
    pub(crate) async fn backtests(&self) -> BacktestServiceClient<Channel> {
        BacktestServiceClient::new(self.channel().await)
    }

    /// Sends SIGTERM and waits for the exit code.
    pub(crate) async fn terminate(mut self) -> i32 {
        let pid = self.child.id().expect("still running").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("tradingd exits")
            .expect("exit status");
        status.code().unwrap_or(-1)
    }

    /// Kills the process abruptly (SIGKILL), as a crash or power cut would, and starts it
    /// again on the same port, configuration and data.
    pub(crate) async fn crash_and_restart(mut self) -> Self {
        self.child.kill().await.expect("kill -9");
        let venue = self.venue.take();
        let mut daemon = Self::start_with(&self.config_dir, &self.data_dir, self.port).await;
        daemon.venue = venue;
        daemon
    }

    /// Stops gracefully and starts again on the same port and data.
    pub(crate) async fn restart(mut self) -> Self {
        let (config, data, port) = (self.config_dir.clone(), self.data_dir.clone(), self.port);
        let venue = self.venue.take();
        assert_eq!(self.terminate().await, 0, "graceful shutdown exits 0");
        let mut daemon = Self::start_with(&config, &data, port).await;
        daemon.venue = venue;
        daemon
    }
}

/// A running `gateway` process in front of a daemon.
pub(crate) struct Gateway {
    /// The process; killed when the handle drops.
    _child: Child,
    /// Base URL, `http://127.0.0.1:<port>`.
    pub(crate) url: String,
}

impl Gateway {
    /// Starts the gateway for `daemon_url`, serving `web` when given, and waits until it answers.
    pub(crate) async fn start(daemon_url: &str, web: Option<&Path>) -> Self {
        Self::start_custom(daemon_url, web, &[], None).await
    }

    /// Like [`Self::start`], with extra environment variables; `token` (its own, and the
    /// daemon's) is sent with the health check.
    pub(crate) async fn start_custom(
        daemon_url: &str,
        web: Option<&Path>,
        envs: &[(&str, &str)],
        token: Option<&str>,
    ) -> Self {
        let port = free_port();
        let mut command = AsyncCommand::new(bin("gateway"));
        clean_env(&mut command).envs(envs.iter().copied());
        command.args(["--listen", &format!("127.0.0.1:{port}"), "--daemon", daemon_url]);
        if let Some(dir) = web {
            command.arg("--web").arg(dir);
        }
        let child =
            command.stdout(Stdio::null()).stderr(Stdio::null()).kill_on_drop(true).spawn().expect("gateway starts");
        let gateway = Self { _child: child, url: format!("http://127.0.0.1:{port}") };
        let health = format!("{}/api/health", gateway.url);
        let token = token.map(|t| format!("Bearer {t}"));
        eventually("gateway to answer", Duration::from_secs(30), || {
            let (health, token) = (health.clone(), token.clone());
            async move {
                let mut request = reqwest::Client::new().get(&health);
                if let Some(token) = token {
                    request = request.header("authorization", token);
                }
                // Up and serving, or up and refused by the daemon (a gateway without the token).
                request.send().await.ok().filter(|r| r.status().is_success() || r.status() == 502).map(|_| ())
            }
        })
        .await;
        gateway
    }
}

/// Whether an environment variable is one our binaries read (the token, configuration
/// secrets), which a test must not inherit from the shell that runs it.
fn is_ours(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_some_and(|n| n == "TRADINGD_TOKEN" || n.starts_with("TRADINGBOT_"))
}

/// Removes from `command` every variable [`is_ours`] from the test's own environment.
pub(crate) fn clean_env(command: &mut AsyncCommand) -> &mut AsyncCommand {
    for (name, _) in std::env::vars_os() {
        if is_ours(&name) {
            command.env_remove(name);
        }
    }
    command
}

/// Output of one `tradingctl` run.
#[derive(Debug)]
pub(crate) struct CtlOutput {
    /// Exit code.
    pub(crate) code: i32,
    /// Standard output.
    pub(crate) stdout: String,
    /// Standard error.
    pub(crate) stderr: String,
}

/// Runs `tradingctl --addr <addr> <args>` with no terminal on stdin.
pub(crate) fn ctl(addr: &str, args: &[&str]) -> CtlOutput {
    ctl_with_env(addr, args, &[])
}

/// Like [`ctl`], with extra environment variables.
pub(crate) fn ctl_with_env(addr: &str, args: &[&str], envs: &[(&str, &str)]) -> CtlOutput {
    let mut command = Command::new(bin("tradingctl"));
    for (name, _) in std::env::vars_os() {
        if is_ours(&name) {
            command.env_remove(name);
        }
    }
    let output = command
        .envs(envs.iter().copied())
        .arg("--addr")
        .arg(addr)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("tradingctl runs");
    CtlOutput {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Uploads `bytes` as a candle file through `UploadCandles`, in chunks of `chunk` bytes.
pub(crate) async fn upload_candles(
    client: &mut BacktestServiceClient<Channel>,
    bytes: &[u8],
    chunk: usize,
) -> Result<pb::CandleUpload, tonic::Status> {
    let chunks: Vec<pb::CandleChunk> = bytes.chunks(chunk).map(|c| pb::CandleChunk { data: c.to_vec() }).collect();
    client.upload_candles(futures::stream::iter(chunks)).await.map(tonic::Response::into_inner)
}

/// Creates a dry-run DCA bot on BTC/USDT through gRPC.
pub(crate) async fn create_bot(daemon: &Daemon, name: &str) -> pb::Bot {
    let config = pb::BotConfig {
        name: Some(name.to_owned()),
        trading_pair: Some("BTC/USDT".to_owned()),
        strategy: Some("dca_accumulator".to_owned()),
        budget: Some("100".to_owned()),
        ..pb::BotConfig::default()
    };
    daemon
        .bots()
        .await
        .create_bot(pb::CreateBotRequest { config: Some(config) })
        .await
        .expect("bot created")
        .into_inner()
}
