//! Starting the real binaries on loopback ports they pick themselves, with temporary data, and
//! typed helpers to drive them. Every wait polls with a deadline; nothing asserts on durations.
//!
//! Each child binds port 0 and prints `listening on HOST:PORT` once bound; the helpers read that
//! line from the child's own log, so the address a test talks to is the one its child holds
//! (no port is guessed, released and hoped for). Each child's stdout and stderr go to a log file
//! in the test's temporary directories, printed when the test fails.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
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

/// The workspace binaries the tests run.
const BINARIES: [&str; 4] = ["mexc-sim", "tradingd", "gateway", "tradingctl"];

/// Builds the workspace's binaries once per test run, with the cargo, target directory and
/// profile this test executable was built with, so a test never runs an older build than the
/// sources. It is `cargo build --workspace --bins`, the very build `scripts/test` runs first: a
/// narrower `-p` build would unify features differently and relink every binary each time.
/// Cargo does nothing when they are fresh.
fn build_binaries() -> &'static Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let exe = std::env::current_exe().map_err(|e| format!("test executable path: {e}"))?;
        // <target>/<profile dir>/deps/e2e-<hash> -> <target>/<profile dir>
        let profile_dir = exe.parent().and_then(Path::parent).ok_or("no profile directory above the test")?;
        let target_dir = profile_dir.parent().ok_or("no target directory above the profile")?;
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(other) => other,
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut command = Command::new(cargo);
        command.current_dir(repo_root()).args(["build", "--quiet", "--locked", "--workspace", "--bins"]);
        command.args(["--profile", profile]).arg("--target-dir").arg(target_dir);
        // Not the variables cargo set for this test (CARGO_MANIFEST_DIR, ...): build scripts that
        // watch them (ring's does) would see a change and rebuild half the tree each time.
        for (name, _) in std::env::vars_os() {
            if is_set_by_cargo_for_tests(&name) {
                command.env_remove(name);
            }
        }
        let output = command.stdin(Stdio::null()).output().map_err(|e| format!("cannot run cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "building the binaries the tests run failed ({command:?}):\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(profile_dir.to_path_buf())
    })
}

/// Whether `name` is a variable cargo sets for the crate it runs (a test), not for cargo itself.
fn is_set_by_cargo_for_tests(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else { return false };
    ["CARGO_PKG_", "CARGO_BIN_EXE_"].iter().any(|prefix| name.starts_with(prefix))
        || [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_CRATE_NAME",
            "CARGO_BIN_NAME",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
            "CARGO_RUSTC_CURRENT_DIR",
            "OUT_DIR",
        ]
        .contains(&name)
}

/// Path of a workspace binary, built from the current sources (see [`build_binaries`]).
///
/// # Panics
/// When `name` is not one of [`BINARIES`] or the build fails.
pub(crate) fn bin(name: &str) -> PathBuf {
    assert!(BINARIES.contains(&name), "{name} is not among the binaries the tests build");
    let dir = build_binaries().as_ref().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(name);
    assert!(path.exists(), "{} is missing after cargo built it", path.display());
    path
}

/// The port meaning "any free port": the child binds it and reports the port it got.
pub(crate) const ANY_PORT: u16 = 0;

/// A loopback URL nothing answers on, which fails fast: port 1 (tcpmux) is privileged, so no
/// test or user process can listen there, and loopback refuses the connection at once.
pub(crate) const CLOSED_URL: &str = "http://127.0.0.1:1";

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

/// The file a child process writes its stdout and stderr to; printed (its last 64 KiB) when
/// dropped while the test panics, so a failed test shows what its processes said, or always
/// when `TEST_LOG` is set.
pub(crate) struct ChildLog {
    /// Which process, for the heading.
    name: String,
    /// The log file.
    path: PathBuf,
}

impl ChildLog {
    /// The log's text so far.
    pub(crate) fn read(&self) -> String {
        std::fs::read(&self.path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    }
}

impl Drop for ChildLog {
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        if !failing && std::env::var_os("TEST_LOG").is_none() {
            return;
        }
        let text = self.read();
        let tail = text.char_indices().rev().nth(64 * 1024).map_or(&text[..], |(i, _)| &text[i..]);
        let shown = format!(
            "---- {} log ({}) ----\n{tail}\n---- end of {} log ----\n",
            self.name,
            self.path.display(),
            self.name
        );
        if failing {
            // Captured with the failed test's output, and shown with it.
            eprint!("{shown}");
        } else {
            // Past the test harness's capture, which hides a passing test's output.
            use std::io::Write as _;
            let _ = std::io::stderr().write_all(shown.as_bytes());
        }
    }
}

/// A started child with the address it reported and its log.
struct Started {
    child: Child,
    addr: SocketAddr,
    log: ChildLog,
}

/// Whether `child` has exited; then the test fails, its log printed by the caller's guard.
fn assert_running(child: &mut Child, name: &str) {
    if let Ok(Some(status)) = child.try_wait() {
        panic!("{name} exited ({status}) (its log is printed below)");
    }
}

/// Spawns `command` (killed when dropped) with stdout and stderr in `log_path`, and waits for
/// the `listening on HOST:PORT` line the child prints once bound.
///
/// # Panics
/// When the child exits first or says nothing within 60 s.
async fn spawn_reporting(name: &str, command: &mut AsyncCommand, log_path: PathBuf) -> Started {
    let file = std::fs::File::create(&log_path).expect("child log file");
    let child = command
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(file.try_clone().expect("log file handle"))
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("{name} starts: {e}"));
    let log = ChildLog { name: format!("{name} (pid {})", child.id().unwrap_or_default()), path: log_path };
    let mut child = child;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let reported = log.read().lines().find_map(|line| line.strip_prefix("listening on ")?.trim().parse().ok());
        if let Some(addr) = reported {
            return Started { child, addr, log };
        }
        assert_running(&mut child, name);
        assert!(tokio::time::Instant::now() < deadline, "{name} never reported its address (its log is printed below)");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls `check` until it returns `true`, failing as soon as `child` exits (or after 30 s).
/// The child still running once it answers means the answer came from it: it holds the
/// listener it reported, so no other process can serve that address.
async fn wait_ready<F: std::future::Future<Output = bool>>(
    started: &mut Started,
    name: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert_running(&mut started.child, name);
        if check().await {
            assert_running(&mut started.child, name);
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {name} to serve (its log is printed below)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A fresh number for a log file name.
fn next_log_number() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A running `mexc-sim` process replaying the bundled market data.
pub(crate) struct Sim {
    /// The process; killed when the handle drops.
    _child: Child,
    /// Its output, printed if the test fails (dropped before the directory holding it).
    log: ChildLog,
    _log_dir: tempfile::TempDir,
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
        let log_dir = tempfile::tempdir().expect("log dir");
        let mut command = AsyncCommand::new(bin("mexc-sim"));
        command.args(["--listen", "127.0.0.1:0", "--seed", "7"]).args(flags);
        command.arg("--data").arg(repo_root().join("server/mexc-sim/data"));
        let mut started = spawn_reporting("mexc-sim", &mut command, log_dir.path().join("mexc-sim.log")).await;
        let rest_url = format!("http://{}", started.addr);
        let ping = format!("{rest_url}/api/v3/ping");
        wait_ready(&mut started, "mexc-sim", || {
            let ping = ping.clone();
            async move { reqwest::get(&ping).await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        Self {
            _child: started.child,
            log: started.log,
            _log_dir: log_dir,
            ws_url: format!("ws://{}/ws", started.addr),
            rest_url,
        }
    }

    /// What the simulator printed so far.
    #[allow(dead_code, reason = "for tests that read the simulator's log")]
    pub(crate) fn log(&self) -> String {
        self.log.read()
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
        assert!(!sources.contains(":9090"), "data_sources.yaml names the shipped simulator address elsewhere");
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
    /// Its stdout and stderr, in the data directory; printed if the test fails.
    log: ChildLog,
    /// gRPC URL, `http://127.0.0.1:<port>`, the address the process reported.
    pub(crate) url: String,
    /// Data directory (database, logs); kept across restarts.
    pub(crate) data_dir: PathBuf,
    config_dir: PathBuf,
    /// The port it bound, which a restart binds again.
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
        let mut daemon = Self::start_with(config.path(), data.path(), ANY_PORT).await;
        daemon.venue = Some(OwnVenue { _sim: sim, _config: config });
        daemon
    }

    /// Starts the daemon with `config_dir` and `data_dir` on `port` ([`ANY_PORT`]: one it
    /// picks and reports), and waits until healthy.
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
        let mut command = AsyncCommand::new(bin("tradingd"));
        clean_env(&mut command)
            .envs(envs.iter().copied())
            .arg("--config")
            .arg(config_dir)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--grpc")
            .arg(format!("127.0.0.1:{port}"))
            .args(flags);
        let log_path = data_dir.join(format!("tradingd-{}.log", next_log_number()));
        let mut started = spawn_reporting("tradingd", &mut command, log_path).await;
        assert!(
            port == ANY_PORT || started.addr.port() == port,
            "tradingd bound {} instead of port {port}",
            started.addr
        );
        let url = format!("http://{}", started.addr);
        Self::wait_healthy(&mut started, &url, token).await;
        Self {
            port: started.addr.port(),
            child: started.child,
            log: started.log,
            url,
            data_dir: data_dir.to_path_buf(),
            config_dir: config_dir.to_path_buf(),
            venue: None,
        }
    }

    /// The file this daemon process writes its stdout and stderr to.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log.path
    }

    /// The port this daemon bound (a restart binds it again).
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    async fn wait_healthy(started: &mut Started, url: &str, token: Option<&str>) {
        let token = token.map(|t| format!("Bearer {t}"));
        wait_ready(started, "tradingd", || {
            let (url, token) = (url.to_owned(), token.clone());
            async move {
                let serving = async {
                    let channel = Channel::from_shared(url).ok()?.connect().await.ok()?;
                    let mut request = tonic::Request::new(HealthCheckRequest { service: String::new() });
                    if let Some(token) = token {
                        request.metadata_mut().insert("authorization", token.parse().ok()?);
                    }
                    let reply = HealthClient::new(channel).check(request).await.ok()?;
                    Some(reply.into_inner().status() == ServingStatus::Serving)
                };
                serving.await == Some(true)
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
    /// Its output, printed if the test fails (dropped before the directory holding it).
    log: ChildLog,
    _log_dir: tempfile::TempDir,
    /// Base URL, `http://127.0.0.1:<port>`, the address the process reported.
    pub(crate) url: String,
}

impl Gateway {
    /// What the gateway printed so far.
    pub(crate) fn log(&self) -> String {
        self.log.read()
    }

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
        let log_dir = tempfile::tempdir().expect("log dir");
        let mut command = AsyncCommand::new(bin("gateway"));
        clean_env(&mut command).envs(envs.iter().copied());
        command.args(["--listen", "127.0.0.1:0", "--daemon", daemon_url]);
        if let Some(dir) = web {
            command.arg("--web").arg(dir);
        }
        let mut started = spawn_reporting("gateway", &mut command, log_dir.path().join("gateway.log")).await;
        let url = format!("http://{}", started.addr);
        let health = format!("{url}/api/health");
        let token = token.map(|t| format!("Bearer {t}"));
        wait_ready(&mut started, "gateway", || {
            let (health, token) = (health.clone(), token.clone());
            async move {
                let mut request = reqwest::Client::new().get(&health);
                if let Some(token) = token {
                    request = request.header("authorization", token);
                }
                // Up and serving, or up and refused by the daemon (a gateway without the token).
                request.send().await.is_ok_and(|r| r.status().is_success() || r.status() == 502)
            }
        })
        .await;
        Self { _child: started.child, log: started.log, _log_dir: log_dir, url }
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
