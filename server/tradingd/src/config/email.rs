//! `email.yaml`: SMTP settings for alert emails.

use std::collections::BTreeMap;

use domain::alert::AlertKind;
use serde_json::json;
use serde_yaml::Value;

use super::{reader::Reader, secret::Secret};

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain text (only sensible for a relay on this machine).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl TlsMode {
    const NAMES: [(&'static str, Self); 3] = [("none", Self::None), ("starttls", Self::Starttls), ("tls", Self::Tls)];

    fn name(self) -> &'static str {
        Self::NAMES.iter().find(|(_, m)| *m == self).map_or("none", |(n, _)| n)
    }
}

/// Where and how to send mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// Transport security.
    pub tls: TlsMode,
    /// Login user, if the server wants one.
    pub username: Option<String>,
    /// Login password.
    pub password: Secret,
}

/// Alert email settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// Whether alert emails are sent at all.
    pub enabled: bool,
    /// Server settings; required when enabled.
    pub smtp: Option<SmtpConfig>,
    /// Sender address.
    pub from: Option<String>,
    /// Recipients.
    pub to: Vec<String>,
    /// Per-alert-kind switches; kinds not listed are on.
    pub alerts: BTreeMap<AlertKind, bool>,
}

fn looks_like_address(text: &str) -> bool {
    let mut parts = text.rsplitn(2, '@');
    let domain = parts.next().unwrap_or_default();
    let local = parts.next().unwrap_or_default();
    !local.is_empty() && domain.contains('.') && !text.contains(char::is_whitespace)
}

fn read_smtp(reader: &mut Reader, value: &Value) -> Option<SmtpConfig> {
    let mut map = reader.map("smtp", value)?;
    let host = reader.string(&mut map, "host", true, "the SMTP server's host name");
    let port = u16::try_from(reader.integer(&mut map, "port", 1, 65_535, 587)).unwrap_or(587);
    let names: Vec<&str> = TlsMode::NAMES.iter().map(|(n, _)| *n).collect();
    let tls = match reader.string(&mut map, "tls", false, &names.join(", ")) {
        None => Some(TlsMode::Starttls),
        Some(text) => {
            let mode = TlsMode::NAMES.iter().find(|(n, _)| *n == text).map(|(_, m)| *m);
            if mode.is_none() {
                reader.problem(
                    &Reader::path(&map, "tls"),
                    format!("unknown TLS mode '{text}'"),
                    format!("one of: {}", names.join(", ")),
                );
            }
            mode
        }
    };
    let username = reader.string(&mut map, "username", false, "a user name");
    let password = reader.secret(&mut map, "password");
    reader.finish(&map);
    Some(SmtpConfig { host: host?, port, tls: tls?, username, password })
}

impl EmailConfig {
    pub(super) fn read(reader: &mut Reader, value: &Value) -> Option<Self> {
        let mut top = reader.map("", value)?;
        let enabled = reader.boolean(&mut top, "enabled", false);
        let smtp = match reader.get(&mut top, "smtp") {
            Some(v) => read_smtp(reader, v),
            None if enabled => {
                reader.problem("smtp", "missing while email is enabled", "host, port, tls, username, password");
                None
            }
            None => None,
        };
        let from = reader.string(&mut top, "from", enabled, "a sender address such as bot@example.com");
        if let Some(address) = from.as_deref().filter(|a| !looks_like_address(a)) {
            reader.problem(
                "from",
                format!("'{address}' is not an email address"),
                "an address such as bot@example.com",
            );
        }
        let mut to = Vec::new();
        match reader.get(&mut top, "to") {
            Some(Value::Sequence(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item.as_str().filter(|a| looks_like_address(a)) {
                        Some(address) => to.push(address.to_owned()),
                        None => reader.problem(
                            &format!("to[{i}]"),
                            format!("{item:?} is not an email address"),
                            "an address such as me@example.com",
                        ),
                    }
                }
            }
            Some(other) => reader.problem("to", format!("found {other:?}"), "a list of recipient addresses"),
            None => {}
        }
        if enabled && to.is_empty() {
            reader.problem("to", "no recipient while email is enabled", "at least one address");
        }
        let mut alerts = BTreeMap::new();
        if let Some(value) = reader.get(&mut top, "alerts")
            && let Some(mut map) = reader.map("alerts", value)
        {
            for &kind in AlertKind::ALL {
                alerts.insert(kind, reader.boolean(&mut map, kind.as_str(), true));
            }
            reader.finish(&map);
        }
        reader.finish(&top);
        Some(Self { enabled, smtp, from, to, alerts })
    }

    pub(super) fn redacted(&self) -> serde_json::Value {
        let smtp = self.smtp.as_ref().map(|s| {
            json!({
                "host": s.host,
                "port": s.port,
                "tls": s.tls.name(),
                "username": s.username,
                "password": s.password.masked(),
            })
        });
        let alerts: serde_json::Map<String, serde_json::Value> = AlertKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), json!(self.alerts.get(k).copied().unwrap_or(true))))
            .collect();
        json!({ "enabled": self.enabled, "smtp": smtp, "from": self.from, "to": self.to, "alerts": alerts })
    }
}
