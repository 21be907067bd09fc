//! `tradingbot.v1.AlertService`: the alert log.

use domain::bot::BotId;
use store::Store;
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, alert_service_server::AlertService};

use super::{convert, status::internal};
use crate::notify::Mailer;

/// Default page size of `ListAlerts`.
const DEFAULT_LIMIT: u32 = 100;

/// Serves `AlertService` from the store.
#[derive(Debug)]
pub(crate) struct AlertApi {
    pub(crate) store: Store,
    /// The alert mailer; `None` when alert emails are off.
    pub(crate) mailer: Option<Mailer>,
}

#[tonic::async_trait]
impl AlertService for AlertApi {
    async fn list_alerts(
        &self,
        request: Request<pb::ListAlertsRequest>,
    ) -> Result<Response<pb::ListAlertsResponse>, Status> {
        let request = request.into_inner();
        let bot = (request.bot_id != 0).then_some(BotId(request.bot_id));
        let limit = if request.limit == 0 { DEFAULT_LIMIT } else { request.limit };
        let alerts = self.store.alerts(bot, limit).await.map_err(|e| internal(&e))?;
        Ok(Response::new(pb::ListAlertsResponse { alerts: alerts.iter().map(convert::alert).collect() }))
    }

    async fn send_test_email(
        &self,
        _request: Request<pb::SendTestEmailRequest>,
    ) -> Result<Response<pb::SendTestEmailResponse>, Status> {
        let mailer = self
            .mailer
            .as_ref()
            .ok_or_else(|| Status::failed_precondition("alert emails are off: set enabled: true in email.yaml"))?;
        mailer.send_test().await.map_err(|e| Status::failed_precondition(format!("the test email failed: {e}")))?;
        Ok(Response::new(pb::SendTestEmailResponse { recipients: mailer.recipients() }))
    }
}
