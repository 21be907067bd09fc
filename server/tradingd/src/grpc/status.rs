//! The one mapping from daemon errors to gRPC statuses.

use domain::validation::Violations;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::bots::BotError;

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
