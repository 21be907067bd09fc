//! The daemon's configuration: `config/*.yaml`, loaded and validated at start.
//!
//! Every file is checked completely and every problem is reported at once with file, key
//! path, what is wrong and what is expected; the daemon refuses to start on any problem.
//! Unknown keys are problems too, so a typo never silently falls back to a default.
//! Each file may be completed by an untracked `<name>.local.yaml` and its secrets by
//! environment variables (`layers`), so real keys never need to sit in tracked files.

mod data_sources;
mod defaults;
mod email;
mod exchanges;
mod layers;
mod reader;
mod secret;

use std::{
    fmt, fs,
    path::{Path, PathBuf},
};

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
    /// The files read (tracked and override) that hold a secret, for the permission warning.
    pub secret_files: Vec<PathBuf>,
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

/// Reads and parses one YAML file; a missing or unreadable file is a problem of `reader`.
fn parse_file(reader: &mut Reader, path: &Path) -> Option<serde_yaml::Value> {
    match fs::read_to_string(path) {
        Ok(text) => reader.parse(&text),
        Err(e) => {
            reader.problem("", format!("cannot read {}: {e}", path.display()), "a readable YAML file");
            None
        }
    }
}

/// What reading one file gave: its problems, and the files among its layers holding secrets.
struct FileRead {
    problems: Vec<ConfigProblem>,
    secret_files: Vec<PathBuf>,
}

/// Reads `name` with its override file and environment variables merged in, and parses the
/// result; a missing or unreadable file is a problem.
fn read_file(
    dir: &Path,
    name: &str,
    env: &[(String, String)],
    parse: impl FnOnce(&mut Reader, &serde_yaml::Value),
) -> FileRead {
    let mut reader = Reader::new(name);
    let mut secret_files = Vec::new();
    let Some(mut document) = parse_file(&mut reader, &dir.join(name)) else {
        return FileRead { problems: reader.into_problems(), secret_files };
    };
    if layers::holds_secret(&document) {
        secret_files.push(dir.join(name));
    }
    let mut origins = layers::Origins::new();
    let mut problems = Vec::new();
    if let Some(path) = layers::local_file(dir, name) {
        let local_name = layers::local_name(name);
        let mut local_reader = Reader::new(&local_name);
        match parse_file(&mut local_reader, &path) {
            Some(serde_yaml::Value::Null) | None => {}
            Some(local @ serde_yaml::Value::Mapping(_)) => {
                if layers::holds_secret(&local) {
                    secret_files.push(path);
                }
                layers::merge(&mut document, local, "", &local_name, &mut origins);
            }
            Some(_) => local_reader.problem("", "not a mapping", "keys of the file it overrides, as a mapping"),
        }
        problems.extend(local_reader.into_problems());
    }
    problems.extend(layers::apply_env(name, &mut document, env, &mut origins));
    reader.set_origins(origins);
    parse(&mut reader, &document);
    problems.extend(reader.into_problems());
    FileRead { problems, secret_files }
}

impl Config {
    /// Loads and validates `exchanges.yaml`, `email.yaml`, `data_sources.yaml` and
    /// `defaults.yaml` from `dir`, each with its `*.local.yaml` override and the secrets of
    /// this process's `TRADINGBOT_` environment variables.
    ///
    /// # Errors
    /// [`ConfigErrors`] with every problem in every file.
    pub fn load(dir: &Path) -> Result<Self, ConfigErrors> {
        Self::load_with_env(dir, &layers::process_env())
    }

    /// Like [`Self::load`], with `env` as the environment (name, value).
    ///
    /// # Errors
    /// [`ConfigErrors`] with every problem in every file and variable.
    pub fn load_with_env(dir: &Path, env: &[(String, String)]) -> Result<Self, ConfigErrors> {
        let mut exchanges = None;
        let mut email = None;
        let mut data_sources = None;
        let mut defaults = None;
        let mut problems = Vec::new();
        let mut secret_files = Vec::new();
        let reads = [
            read_file(dir, "exchanges.yaml", env, |r, v| exchanges = ExchangesConfig::read(r, v)),
            read_file(dir, "email.yaml", env, |r, v| email = EmailConfig::read(r, v)),
            read_file(dir, "data_sources.yaml", env, |r, v| data_sources = DataSourcesConfig::read(r, v)),
            read_file(dir, "defaults.yaml", env, |r, v| defaults = DefaultsConfig::read(r, v)),
        ];
        for read in reads {
            problems.extend(read.problems);
            secret_files.extend(read.secret_files);
        }
        problems.extend(layers::unknown_env(env));
        match (exchanges, email, data_sources, defaults) {
            (Some(exchanges), Some(email), Some(data_sources), Some(defaults)) if problems.is_empty() => {
                Ok(Self { exchanges, email, data_sources, defaults, secret_files })
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
    pub fn exposed_secret_files(&self) -> Vec<&Path> {
        self.secret_files.iter().map(PathBuf::as_path).filter(|f| boundary::readable_by_others(f)).collect()
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
