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
    use super::*;
    use crate::config::{Secret, SmtpConfig};

    fn config(enabled: bool) -> EmailConfig {
        EmailConfig {
            enabled,
            smtp: Some(SmtpConfig {
                host: "127.0.0.1".into(),
                port: 2525,
                tls: TlsMode::None,
                username: None,
                password: Secret::default(),
            }),
            from: Some("bot@example.com".into()),
            to: vec!["me@example.com".into(), "you@example.com".into()],
            alerts: [(AlertKind::BotError, false)].into(),
        }
    }

    #[test]
    fn kinds_switched_off_are_not_emailed_and_disabled_email_builds_no_mailer() {
        let mailer = Mailer::new(&config(true)).unwrap().unwrap();
        assert!(!mailer.wants(AlertKind::BotError));
        assert!(mailer.wants(AlertKind::KillSwitch), "kinds not listed are on");
        assert_eq!(mailer.recipients(), ["me@example.com", "you@example.com"]);
        assert!(Mailer::new(&config(false)).unwrap().is_none());
    }

    #[test]
    fn neither_the_settings_nor_the_mailer_print_the_smtp_password() {
        let mut settings = config(true);
        if let Some(smtp) = settings.smtp.as_mut() {
            smtp.username = Some("bot@example.com".into());
            smtp.password = Secret::new("smtp-password-never-shown".into());
        }
        let mailer = Mailer::new(&settings).unwrap().unwrap();
        let shown = format!("{settings:?} {mailer:?} {mailer:#?}");
        assert!(!shown.contains("smtp-password-never-shown"), "{shown}");
    }
}
