//! The one mapping from daemon errors to gRPC statuses.

use domain::validation::Violations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::{backtests::BacktestError, bots::BotError, candle_store::CandleStoreError};

/// INVALID_ARGUMENT listing every violation, in the message and as a `BadRequest` detail.
pub(crate) fn invalid(violations: &Violations) -> Status {
    let details = ErrorDetails::with_bad_request(
        violations
            .list()
            .iter()
            .map(|v| FieldViolation::new(v.field.clone(), v.description.clone()))
            .collect::<Vec<_>>(),
    );
    Status::with_error_details(Code::InvalidArgument, format!("invalid request: {violations}"), details)
}

/// INTERNAL without detail for the caller; the cause goes to the daemon log.
pub(crate) fn internal(error: &dyn std::error::Error) -> Status {
    tracing::error!(error = %error, "request failed");
    Status::internal("internal error; see the daemon log")
}

impl From<BotError> for Status {
    fn from(error: BotError) -> Self {
        match error {
            BotError::Invalid(violations) => invalid(&violations),
            BotError::NotFound(id) => Self::not_found(format!("bot {id} not found")),
            BotError::Conflict(message) => Self::failed_precondition(message),
            BotError::Store(e) => internal(&e),
        }
    }
}

impl From<BacktestError> for Status {
    fn from(error: BacktestError) -> Self {
        match error {
            BacktestError::Invalid(violations) => invalid(&violations),
            BacktestError::Unavailable(message) => Self::failed_precondition(message),
            BacktestError::Store(e) => e.into(),
        }
    }
}

/// An upload's problems are the file's (field `data`) or its size; the store's own are hidden.
impl From<CandleStoreError> for Status {
    fn from(error: CandleStoreError) -> Self {
        match error {
            CandleStoreError::TooLarge { .. } => Self::resource_exhausted(error.to_string()),
            CandleStoreError::Invalid(_) | CandleStoreError::NoCandles | CandleStoreError::NotHeld => {
                let mut violations = Violations::default();
                violations.add("data", error.to_string());
                invalid(&violations)
            }
            CandleStoreError::Io(_) | CandleStoreError::Corrupt(_) => internal(&error),
        }
    }
}
