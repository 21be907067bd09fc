//! Alert emails through a real SMTP server on loopback: a kill switch is emailed and marked
//! sent in the alert log, and `tradingctl test-email` checks the settings.

use std::{
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use mailin_embedded::{Handler, Response, Server, response::OK};
use serde_json::Value;
use tradingbot_proto::v1 as pb;

use crate::helpers::{ANY_PORT, DEMO_SECRET, Daemon, Sim, create_bot, ctl, eventually};

/// The messages the server received, as raw text.
#[derive(Clone, Default)]
struct Inbox(Arc<Mutex<Vec<String>>>);

impl Handler for Inbox {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, _to: &[String]) -> Response {
        self.0.lock().unwrap().push(String::new());
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(last) = self.0.lock().unwrap().last_mut() {
            last.push_str(&String::from_utf8_lossy(buf));
        }
        Ok(())
    }
}

/// A real SMTP server on `listener`, serving from a thread for the rest of the test.
fn smtp_server_on(listener: TcpListener) -> Inbox {
    let inbox = Inbox::default();
    let mut server = Server::new(inbox.clone());
    server.with_name("localhost").with_tcp_listener(listener);
    std::thread::spawn(move || {
        if let Err(e) = server.serve() {
            eprintln!("test SMTP server stopped: {e}");
        }
    });
    inbox
}

/// A simulator and a daemon whose alert emails go to `127.0.0.1:<port>`.
async fn daemon_mailing_to(port: u16) -> (Sim, tempfile::TempDir, tempfile::TempDir, Daemon) {
    let sim = Sim::start().await;
    let config = sim.config_dir(DEMO_SECRET);
    let email = format!(
        "enabled: true\nsmtp:\n  host: 127.0.0.1\n  port: {port}\n  tls: none\nfrom: bot@example.com\nto:\n  - me@example.com\n"
    );
    std::fs::write(config.path().join("email.yaml"), email).unwrap();
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start_with(config.path(), data.path(), ANY_PORT).await;
    (sim, config, data, daemon)
}

/// The kill-switch alert of `bot` in the alert log.
fn kill_alert(daemon: &Daemon, bot: i64) -> Option<Value> {
    let out = ctl(&daemon.url, &["--json", "alerts", "--bot", &bot.to_string()]);
    let alerts: Value = serde_json::from_str(&out.stdout).ok()?;
    alerts.as_array()?.iter().find(|a| a["alert_type"] == "kill_switch").cloned()
}

#[tokio::test]
async fn a_kill_is_emailed_and_marked_sent_and_the_settings_can_be_tested() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server_on(listener);
    let (_sim, _config, _data, daemon) = daemon_mailing_to(port).await;

    let bot = create_bot(&daemon, "watched").await;
    daemon.bots().await.kill_bot(pb::KillBotRequest { id: bot.id, reason: "test".into() }).await.unwrap();
    let mail = eventually("the kill email", Duration::from_secs(30), || {
        let inbox = inbox.clone();
        async move { inbox.0.lock().unwrap().iter().find(|m| m.contains("kill_switch")).cloned() }
    })
    .await;
    assert!(mail.contains(&format!("Subject: [tradingbot] kill_switch: bot {}", bot.id)), "{mail}");
    assert!(mail.contains("holdings kept"), "{mail}");
    let logged = eventually("the alert marked sent", Duration::from_secs(30), || async {
        kill_alert(&daemon, bot.id).filter(|a| a["email_sent"] == true)
    })
    .await;
    assert_eq!(logged["bot_id"], bot.id);

    let test = ctl(&daemon.url, &["test-email"]);
    assert_eq!(test.code, 0, "{}", test.stderr);
    assert_eq!(test.stdout.trim(), "test email sent to me@example.com");
    assert!(inbox.0.lock().unwrap().iter().any(|m| m.contains("Subject: [tradingbot] test email")));
}

#[tokio::test]
async fn with_the_smtp_server_down_trading_continues_and_the_email_goes_out_once_it_is_up() {
    // Reserve a port nobody listens on yet: a socket bound but not listening refuses
    // connections, and keeps any other process from taking the port until the server is up.
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let (_sim, _config, _data, daemon) = daemon_mailing_to(port).await;
    let mut bots = daemon.bots().await;
    let killed = create_bot(&daemon, "killed").await;
    bots.kill_bot(pb::KillBotRequest { id: killed.id, reason: "test".into() }).await.unwrap();
    // Another bot trades as usual meanwhile.
    let trading = create_bot(&daemon, "trading").await;
    bots.start_bot(pb::StartBotRequest { id: trading.id }).await.unwrap();
    eventually("the other bot's order", Duration::from_secs(30), || {
        let mut bots = bots.clone();
        async move {
            let request = pb::ListOrdersRequest { bot_id: trading.id, ..pb::ListOrdersRequest::default() };
            let orders = bots.list_orders(request).await.ok()?.into_inner().orders;
            orders.iter().any(|o| o.status() == pb::OrderStatus::Filled).then_some(())
        }
    })
    .await;
    let kill = kill_alert(&daemon, killed.id).unwrap();
    assert_eq!(kill["email_sent"], false, "not sent while the server is down");

    // The server comes up: a retry delivers the email and the log records it.
    let listener = reserved.listen(16).unwrap().into_std().unwrap();
    listener.set_nonblocking(false).unwrap();
    let inbox = smtp_server_on(listener);
    eventually("the retried email", Duration::from_secs(60), || async {
        kill_alert(&daemon, killed.id).filter(|a| a["email_sent"] == true)
    })
    .await;
    assert!(inbox.0.lock().unwrap().iter().any(|m| m.contains("kill_switch")));
}

#[tokio::test]
async fn test_email_explains_that_emails_are_off() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let out = ctl(&daemon.url, &["test-email"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("alert emails are off: set enabled: true in email.yaml"), "{}", out.stderr);
}
