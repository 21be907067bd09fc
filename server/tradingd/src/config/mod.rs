//! The daemon's configuration: `config/*.yaml`, loaded and validated at start.
//!
//! Every file is checked completely and every problem is reported at once with file, key
//! path, what is wrong and what is expected; the daemon refuses to start on any problem.
//! Unknown keys are problems too, so a typo never silently falls back to a default.

mod data_sources;
mod defaults;
mod email;
mod exchanges;
mod reader;
mod secret;

use std::{fmt, fs, path::Path};

use domain::bot::ValidationContext;

use self::reader::Reader;
pub use self::{
    data_sources::{DataSource, DataSourcesConfig},
    defaults::DefaultsConfig,
    email::{EmailConfig, SmtpConfig, TlsMode},
    exchanges::{ExchangeAccount, ExchangesConfig, VenueKind},
    reader::ConfigProblem,
    secret::Secret,
};

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `exchanges.yaml`: venue accounts.
    pub exchanges: ExchangesConfig,
    /// `email.yaml`: SMTP alerts.
    pub email: EmailConfig,
    /// `data_sources.yaml`: external market data.
    pub data_sources: DataSourcesConfig,
    /// `defaults.yaml`: defaults for new bots and strategy parameters.
    pub defaults: DefaultsConfig,
}

/// Every problem found in the configuration directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "invalid configuration ({} problem{}):", self.0.len(), if self.0.len() == 1 { "" } else { "s" })?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// Reads and parses one file; a missing or unreadable file is a problem.
fn read_file(dir: &Path, name: &str, parse: impl FnOnce(&mut Reader, &serde_yaml::Value)) -> Vec<ConfigProblem> {
    let mut reader = Reader::new(name);
    match fs::read_to_string(dir.join(name)) {
        Ok(text) => {
            if let Some(value) = reader.parse(&text) {
                parse(&mut reader, &value);
            }
        }
        Err(e) => reader.problem("", format!("cannot read {}: {e}", dir.join(name).display()), "a readable YAML file"),
    }
    reader.into_problems()
}

impl Config {
    /// Loads and validates `exchanges.yaml`, `email.yaml`, `data_sources.yaml` and
    /// `defaults.yaml` from `dir`.
    ///
    /// # Errors
    /// [`ConfigErrors`] with every problem in every file.
    pub fn load(dir: &Path) -> Result<Self, ConfigErrors> {
        let mut exchanges = None;
        let mut email = None;
        let mut data_sources = None;
        let mut defaults = None;
        let mut problems = Vec::new();
        problems.extend(read_file(dir, "exchanges.yaml", |r, v| exchanges = ExchangesConfig::read(r, v)));
        problems.extend(read_file(dir, "email.yaml", |r, v| email = EmailConfig::read(r, v)));
        problems.extend(read_file(dir, "data_sources.yaml", |r, v| data_sources = DataSourcesConfig::read(r, v)));
        problems.extend(read_file(dir, "defaults.yaml", |r, v| defaults = DefaultsConfig::read(r, v)));
        match (exchanges, email, data_sources, defaults) {
            (Some(exchanges), Some(email), Some(data_sources), Some(defaults)) if problems.is_empty() => {
                Ok(Self { exchanges, email, data_sources, defaults })
            }
            _ => Err(ConfigErrors(problems)),
        }
    }

    /// What bot validation needs from the configuration.
    #[must_use]
    pub fn validation_context(&self) -> ValidationContext {
        ValidationContext {
            exchanges: self.exchanges.accounts.keys().cloned().collect(),
            default_exchange: self.exchanges.default.clone(),
            bot_defaults: self.defaults.bot.clone(),
            strategy_defaults: self.defaults.strategies.clone(),
        }
    }

    /// Files holding secrets that other users of the machine can read, for a startup warning.
    #[must_use]
    pub fn exposed_secret_files(&self, dir: &Path) -> Vec<String> {
        let with_secrets = [
            ("exchanges.yaml", self.exchanges.has_secrets()),
            ("email.yaml", self.email.has_secrets()),
            ("data_sources.yaml", self.data_sources.has_secrets()),
        ];
        with_secrets
            .into_iter()
            .filter(|(name, has)| *has && secret::readable_by_others(&dir.join(name)))
            .map(|(name, _)| name.to_owned())
            .collect()
    }

    /// The configuration as JSON documents, one per file, with every secret masked.
    #[must_use]
    pub fn redacted(&self) -> Vec<(&'static str, serde_json::Value)> {
        vec![
            ("exchanges.yaml", self.exchanges.redacted()),
            ("email.yaml", self.email.redacted()),
            ("data_sources.yaml", self.data_sources.redacted()),
            ("defaults.yaml", self.defaults.redacted()),
        ]
    }
}

#[cfg(test)]
mod tests;
