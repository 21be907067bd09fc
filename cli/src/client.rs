//! Connecting to the daemon and classifying failures into exit codes.

use std::fmt;

use std::path::Path;

use boundary::{BearerInterceptor, Token};
use tonic::{Code, Status, service::interceptor::InterceptedService, transport::Channel};
use tonic_types::StatusExt;

/// Why a command failed, and so which exit code it returns.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The daemon refused the request (exit 1).
    Rejected(Status),
    /// A check ran and found this many problems (exit 1).
    CheckFailed(usize),
    /// The command line was wrong (exit 2).
    Usage(String),
    /// The daemon could not be reached (exit 3).
    Unreachable(String),
}

impl Failure {
    /// The process exit code for this failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Self::Rejected(_) | Self::CheckFailed(_) => 1,
            Self::Usage(_) => 2,
            Self::Unreachable(_) => 3,
        }
    }
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        if status.code() == Code::Unavailable {
            Self::Unreachable(status.message().to_owned())
        } else {
            Self::Rejected(status)
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rejected(status) => match status.get_details_bad_request() {
                // The violations say it all, one per line.
                Some(bad) if !bad.field_violations.is_empty() => {
                    write!(f, "invalid request ({:?})", status.code())?;
                    for v in &bad.field_violations {
                        write!(f, "\n  {}: {}", v.field, v.description)?;
                    }
                    Ok(())
                }
                _ => write!(f, "{} ({:?})", status.message(), status.code()),
            },
            Self::CheckFailed(count) => write!(f, "the check found {count} problem(s); see above"),
            Self::Usage(message) => f.write_str(message),
            Self::Unreachable(detail) => write!(
                f,
                "cannot reach the daemon: {detail}\n  is tradingd running? choose its address with --addr (default http://127.0.0.1:50051)"
            ),
        }
    }
}

/// A connection to the daemon that carries the token, when one is set, on every call.
pub(crate) type Daemon = InterceptedService<Channel, BearerInterceptor>;

/// Opens a channel to the daemon at `addr`, sending the token of `TRADINGD_TOKEN` or
/// `token_file` (at most one of them) with every request.
pub(crate) async fn connect(addr: &str, token_file: Option<&Path>) -> Result<Daemon, Failure> {
    let token = Token::from_env_or_file(token_file).map_err(|e| Failure::Usage(e.to_string()))?;
    let endpoint = Channel::from_shared(addr.to_owned())
        .map_err(|e| Failure::Usage(format!("--addr '{addr}' is not a URL: {e}")))?;
    let channel = endpoint.connect().await.map_err(|e| Failure::Unreachable(format!("{addr}: {e}")))?;
    Ok(InterceptedService::new(channel, BearerInterceptor::new(token.as_ref())))
}

#[cfg(test)]
mod tests {
    use tonic_types::{ErrorDetails, StatusExt};

    use super::*;

    #[test]
    fn exit_codes_tell_a_refusal_a_usage_error_and_an_absent_daemon_apart() {
        assert_eq!(Failure::from(Status::invalid_argument("no")).exit_code(), 1);
        assert_eq!(Failure::from(Status::failed_precondition("running")).exit_code(), 1);
        assert_eq!(Failure::from(Status::not_found("bot 9")).exit_code(), 1);
        assert_eq!(Failure::CheckFailed(2).exit_code(), 1);
        assert_eq!(Failure::Usage("--addr".into()).exit_code(), 2);
        let gone = Failure::from(Status::unavailable("connection refused"));
        assert_eq!(gone.exit_code(), 3, "UNAVAILABLE means the daemon is not there");
        assert!(gone.to_string().contains("is tradingd running?"), "{gone}");
    }

    #[test]
    fn every_field_violation_is_printed_on_its_own_line() {
        let mut details = ErrorDetails::new();
        details.add_bad_request_violation("budget", "must be greater than 0 (got -1)");
        details.add_bad_request_violation("strategy_params.quote_amount", "must be between 1 and 100000");
        let status = Status::with_error_details(tonic::Code::InvalidArgument, "invalid bot", details);
        let shown = Failure::from(status).to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines.len(), 3, "{shown}");
        assert_eq!(lines[1], "  budget: must be greater than 0 (got -1)");
        assert_eq!(lines[2], "  strategy_params.quote_amount: must be between 1 and 100000");
    }
}
