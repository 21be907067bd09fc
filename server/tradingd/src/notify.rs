//! Alert emails: every alert recorded in the alert log is offered to the notifier, which sends
//! the kinds switched on in `email.yaml` through SMTP (lettre) on its own task, so sending never
//! blocks trading. A failed send is retried with backoff; a sent one is marked `email_sent` in
//! the alert log. Secrets never reach a log line: only the server's error is logged.

use std::{collections::BTreeMap, time::Duration};

use backon::{ExponentialBuilder, Retryable};
use domain::alert::{Alert, AlertKind};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
    transport::smtp::authentication::Credentials,
};
use store::Store;
use tokio::sync::mpsc;

use crate::{
    clock::rfc3339,
    config::{EmailConfig, TlsMode},
};

/// How long one SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// Retry schedule of a failed send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait before the first retry (doubling after each).
    pub first_delay: Duration,
    /// Longest wait between two attempts.
    pub max_delay: Duration,
    /// Attempts in all, the first included.
    pub attempts: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { first_delay: Duration::from_secs(5), max_delay: Duration::from_secs(300), attempts: 8 }
    }
}

/// Sends alert emails through the configured SMTP server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    switches: BTreeMap<AlertKind, bool>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).field("to", &self.to).finish_non_exhaustive()
    }
}

impl Mailer {
    /// A mailer for `config`, or `None` when alert emails are off.
    ///
    /// # Errors
    /// A message when an address or the server settings cannot be used (the configuration
    /// reader checks them first, so this is a last line of defence).
    pub fn new(config: &EmailConfig) -> Result<Option<Self>, String> {
        let (true, Some(smtp), Some(from)) = (config.enabled, &config.smtp, &config.from) else { return Ok(None) };
        let mailbox = |address: &str| address.parse::<Mailbox>().map_err(|e| format!("email address {address:?}: {e}"));
        let builder = match smtp.tls {
            TlsMode::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| format!("SMTP server {}: {e}", smtp.host))?,
            TlsMode::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)
                .map_err(|e| format!("SMTP server {}: {e}", smtp.host))?,
        };
        let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
        if let Some(user) = &smtp.username {
            builder = builder.credentials(Credentials::new(user.clone(), smtp.password.expose().to_owned()));
        }
        Ok(Some(Self {
            transport: builder.build(),
            from: mailbox(from)?,
            to: config.to.iter().map(|a| mailbox(a)).collect::<Result<_, _>>()?,
            switches: config.alerts.clone(),
        }))
    }

    /// The recipients' addresses.
    #[must_use]
    pub fn recipients(&self) -> Vec<String> {
        self.to.iter().map(ToString::to_string).collect()
    }

    /// Whether alerts of `kind` are emailed (kinds not listed are).
    #[must_use]
    pub fn wants(&self, kind: AlertKind) -> bool {
        self.switches.get(&kind).copied().unwrap_or(true)
    }

    /// Sends one email about `alert`.
    ///
    /// # Errors
    /// The SMTP error, or a message for a mail that cannot be built.
    pub async fn send(&self, alert: &Alert) -> Result<(), String> {
        let bot = alert.bot_id.map_or_else(|| "all bots".to_owned(), |id| format!("bot {id}"));
        let subject = format!("[tradingbot] {}: {bot}", alert.kind);
        let body = format!(
            "{}\n\nKind: {}\nBot: {bot}\nAt: {}\n\nThis message was sent by your tradingbot daemon; the alert log \
             (tradingctl alerts) has every alert.\n",
            alert.message,
            alert.kind,
            rfc3339(alert.created_at)
        );
        self.deliver(&subject, body).await
    }

    /// Sends a test email, to check the settings.
    ///
    /// # Errors
    /// The SMTP error, or a message for a mail that cannot be built.
    pub async fn send_test(&self) -> Result<(), String> {
        let body = "Your tradingbot daemon can send alert emails with these settings.\n".to_owned();
        self.deliver("[tradingbot] test email", body).await
    }

    async fn deliver(&self, subject: &str, body: String) -> Result<(), String> {
        let mut builder = Message::builder().from(self.from.clone()).subject(subject).header(ContentType::TEXT_PLAIN);
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let message = builder.body(body).map_err(|e| format!("cannot build the email: {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Hands recorded alerts to the mailer without ever waiting on it.
#[derive(Debug, Clone)]
pub struct Notifier {
    sender: Option<mpsc::UnboundedSender<Alert>>,
}

impl Notifier {
    /// A notifier that sends nothing (alert emails off).
    #[must_use]
    pub const fn off() -> Self {
        Self { sender: None }
    }

    /// A notifier sending through `mailer` on its own task, marking sent alerts in `store`,
    /// retrying failures per `retry`. Emails still being retried at shutdown are given up
    /// (their alerts stay in the log, not marked sent).
    #[must_use]
    pub fn start(mailer: Mailer, store: Store, retry: RetryPolicy) -> Self {
        let (sender, mut receiver) = mpsc::unbounded_channel::<Alert>();
        tokio::spawn(async move {
            while let Some(alert) = receiver.recv().await {
                if !mailer.wants(alert.kind) {
                    continue;
                }
                // Each alert is retried on its own task: one unreachable server delays no other alert.
                let (mailer, store) = (mailer.clone(), store.clone());
                tokio::spawn(async move { deliver(&mailer, &store, &alert, retry).await });
            }
        });
        Self { sender: Some(sender) }
    }

    /// Offers a recorded alert for email; returns at once.
    pub fn notify(&self, alert: &Alert) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(alert.clone());
        }
    }
}

async fn deliver(mailer: &Mailer, store: &Store, alert: &Alert, retry: RetryPolicy) {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(retry.first_delay)
        .with_max_delay(retry.max_delay)
        .with_max_times(retry.attempts.saturating_sub(1));
    let sent = (|| mailer.send(alert))
        .retry(backoff)
        .notify(|error, wait| tracing::warn!(alert = alert.id, %error, ?wait, "alert email failed; retrying"))
        .await;
    match sent {
        Ok(()) => match store.mark_alert_emailed(alert.id).await {
            Ok(()) => tracing::info!(alert = alert.id, kind = %alert.kind, "alert emailed"),
            Err(error) => tracing::error!(alert = alert.id, %error, "alert emailed but not marked"),
        },
        Err(error) => tracing::error!(alert = alert.id, %error, "alert email given up; it stays in the alert log"),
    }
}

#[cfg(test)]
mod tests {
    use std::{
        net::TcpListener,
        sync::{Arc, Mutex},
    };

    use domain::{bot::BotId, time::Timestamp};
    use mailin_embedded::{Handler, Response, Server, response::OK};

    use super::*;
    use crate::config::{Secret, SmtpConfig};

    /// The messages a loopback SMTP server received, as raw text.
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

    /// A real SMTP server on a loopback port, serving from a thread for the rest of the test.
    fn smtp_server(listener: TcpListener) -> Inbox {
        let inbox = Inbox::default();
        let mut server = Server::new(inbox.clone());
        server.with_name("localhost").with_tcp_listener(listener);
        std::thread::spawn(move || {
            // The server serves until the test process ends; an error ends it early.
            if let Err(e) = server.serve() {
                eprintln!("test SMTP server stopped: {e}");
            }
        });
        inbox
    }

    fn config(port: u16) -> EmailConfig {
        EmailConfig {
            enabled: true,
            smtp: Some(SmtpConfig {
                host: "127.0.0.1".into(),
                port,
                tls: TlsMode::None,
                username: None,
                password: Secret::default(),
            }),
            from: Some("bot@example.com".into()),
            to: vec!["me@example.com".into()],
            alerts: [(AlertKind::BotError, false)].into(),
        }
    }

    fn alert(id: i64, kind: AlertKind) -> Alert {
        Alert {
            id,
            bot_id: Some(BotId(3)),
            kind,
            message: "bot 3 killed: open orders cancelled, holdings kept".into(),
            email_sent: false,
            created_at: Timestamp::from_millis(0),
        }
    }

    async fn poll<T>(mut check: impl AsyncFnMut() -> Option<T>) -> T {
        for _ in 0..400 {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out");
    }

    #[tokio::test]
    async fn an_alert_email_reaches_the_smtp_server_with_its_subject_and_body() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = smtp_server(listener);
        let mailer = Mailer::new(&config(port)).unwrap().unwrap();
        assert!(!mailer.wants(AlertKind::BotError) && mailer.wants(AlertKind::KillSwitch), "per-kind switches");
        mailer.send(&alert(1, AlertKind::KillSwitch)).await.unwrap();
        let received = inbox.0.lock().unwrap().clone();
        assert_eq!(received.len(), 1);
        assert!(received[0].contains("Subject: [tradingbot] kill_switch: bot 3"), "{}", received[0]);
        assert!(received[0].contains("bot 3 killed: open orders cancelled, holdings kept"), "{}", received[0]);
        assert!(received[0].contains("To: me@example.com"), "{}", received[0]);
    }

    #[tokio::test]
    async fn with_the_server_down_the_alert_stays_unsent_and_is_retried_until_it_is_up() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).await.unwrap();
        let recorded =
            store.insert_alert(None, AlertKind::KillSwitch, "global kill", Timestamp::from_millis(0)).await.unwrap();
        // Reserve a port, and start the server there only after the first attempts failed.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mailer = Mailer::new(&config(port)).unwrap().unwrap();
        let retry = RetryPolicy {
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(200),
            attempts: 50,
        };
        let notifier = Notifier::start(mailer, store.clone(), retry);
        notifier.notify(&recorded);
        notifier.notify(&alert(99, AlertKind::BotError)); // switched off: never sent
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!store.alerts(None, 10).await.unwrap()[0].email_sent, "not sent while the server is down");
        let inbox = smtp_server(TcpListener::bind(("127.0.0.1", port)).unwrap());
        poll(async || store.alerts(None, 10).await.unwrap()[0].email_sent.then_some(())).await;
        let received = inbox.0.lock().unwrap().clone();
        assert_eq!(received.len(), 1, "one email, for the alert switched on");
        assert!(received[0].contains("global kill"));
    }
}
