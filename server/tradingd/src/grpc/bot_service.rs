//! `tradingbot.v1.BotService`: bot management over gRPC.

use std::sync::Arc;

use domain::bot::BotId;
use engine::{bot::Command, strategy::event_filler::ExternalSignal};

/// Longest note a signal may carry.
const MAX_NOTE_CHARS: usize = 200;
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, bot_service_server::BotService};

use super::{convert, status::invalid};
use crate::bots::Bots;

/// Default page size of `ListOrders`.
const DEFAULT_ORDER_LIMIT: u32 = 100;

/// Serves `BotService` from the bot application service.
#[derive(Debug)]
pub(crate) struct BotApi {
    pub(crate) bots: Arc<Bots>,
}

fn reply(bot: &domain::bot::Bot) -> Response<pb::Bot> {
    Response::new(convert::bot(bot))
}

impl BotApi {
    async fn command(&self, id: i64, command: Command, reason: &str) -> Result<Response<pb::Bot>, Status> {
        Ok(reply(&self.bots.command(BotId(id), command, reason).await?))
    }
}

#[tonic::async_trait]
impl BotService for BotApi {
    async fn create_bot(&self, request: Request<pb::CreateBotRequest>) -> Result<Response<pb::Bot>, Status> {
        let input = convert::config_input(request.into_inner().config).map_err(|v| invalid(&v))?;
        Ok(reply(&self.bots.create(&input).await?))
    }

    async fn get_bot(&self, request: Request<pb::GetBotRequest>) -> Result<Response<pb::Bot>, Status> {
        Ok(reply(&self.bots.get(BotId(request.into_inner().id)).await?))
    }

    async fn list_bots(&self, request: Request<pb::ListBotsRequest>) -> Result<Response<pb::ListBotsResponse>, Status> {
        let status = convert::bot_status_filter(request.into_inner().status());
        let bots = self.bots.list(status).await?;
        Ok(Response::new(pb::ListBotsResponse { bots: bots.iter().map(convert::bot).collect() }))
    }

    async fn update_bot(&self, request: Request<pb::UpdateBotRequest>) -> Result<Response<pb::Bot>, Status> {
        let request = request.into_inner();
        let patch = convert::config_input(request.config).map_err(|v| invalid(&v))?;
        Ok(reply(&self.bots.update(BotId(request.id), &patch).await?))
    }

    async fn delete_bot(
        &self,
        request: Request<pb::DeleteBotRequest>,
    ) -> Result<Response<pb::DeleteBotResponse>, Status> {
        self.bots.delete(BotId(request.into_inner().id)).await?;
        Ok(Response::new(pb::DeleteBotResponse {}))
    }

    async fn start_bot(&self, request: Request<pb::StartBotRequest>) -> Result<Response<pb::Bot>, Status> {
        self.command(request.into_inner().id, Command::Start, "started by request").await
    }

    async fn pause_bot(&self, request: Request<pb::PauseBotRequest>) -> Result<Response<pb::Bot>, Status> {
        self.command(request.into_inner().id, Command::Pause, "paused by request").await
    }

    async fn stop_bot(&self, request: Request<pb::StopBotRequest>) -> Result<Response<pb::Bot>, Status> {
        let request = request.into_inner();
        let reason = if request.cancel_pending {
            "stopped by request; cancel pending orders"
        } else {
            "stopped by request; keep pending orders"
        };
        self.command(request.id, Command::Stop { cancel_pending: request.cancel_pending }, reason).await
    }

    async fn kill_bot(&self, request: Request<pb::KillBotRequest>) -> Result<Response<pb::Bot>, Status> {
        let request = request.into_inner();
        let reason =
            format!("kill switch: {}", if request.reason.is_empty() { "no reason given" } else { &request.reason });
        self.command(request.id, Command::Kill, &reason).await
    }

    async fn kill_all(&self, request: Request<pb::KillAllRequest>) -> Result<Response<pb::KillAllResponse>, Status> {
        let reason = request.into_inner().reason;
        let killed = self.bots.kill_all(if reason.is_empty() { "no reason given" } else { &reason }).await?;
        Ok(Response::new(pb::KillAllResponse { bots: killed.iter().map(convert::bot).collect() }))
    }

    async fn go_live(&self, request: Request<pb::GoLiveRequest>) -> Result<Response<pb::Bot>, Status> {
        Ok(reply(&self.bots.go_live(BotId(request.into_inner().id)).await?))
    }

    async fn copy_bot(&self, request: Request<pb::CopyBotRequest>) -> Result<Response<pb::Bot>, Status> {
        let request = request.into_inner();
        let overrides = convert::config_input(request.overrides).map_err(|v| invalid(&v))?;
        Ok(reply(&self.bots.copy(BotId(request.id), &overrides).await?))
    }

    async fn list_orders(
        &self,
        request: Request<pb::ListOrdersRequest>,
    ) -> Result<Response<pb::ListOrdersResponse>, Status> {
        let request = request.into_inner();
        let status = convert::order_status_filter(request.status());
        let limit = if request.limit == 0 { DEFAULT_ORDER_LIMIT } else { request.limit };
        let orders = self.bots.orders(BotId(request.bot_id), request.simulated, status, limit).await?;
        Ok(Response::new(pb::ListOrdersResponse { orders: orders.iter().map(convert::order).collect() }))
    }

    async fn send_signal(
        &self,
        request: Request<pb::SendSignalRequest>,
    ) -> Result<Response<pb::SendSignalResponse>, Status> {
        let request = request.into_inner();
        let mut violations = domain::validation::Violations::default();
        let side = violations.check("side", request.side.parse::<domain::order::Side>());
        let note = request.note.trim().to_owned();
        if note.chars().count() > MAX_NOTE_CHARS {
            violations.add("note", format!("{} characters; at most {MAX_NOTE_CHARS}", note.chars().count()));
        }
        let side = violations.into_result(side).map_err(|v| super::status::invalid(&v))?;
        let signal = ExternalSignal { side: side.unwrap_or(domain::order::Side::Buy), note };
        self.bots.signal(BotId(request.bot_id), signal).await?;
        Ok(Response::new(pb::SendSignalResponse {}))
    }

    async fn list_positions(
        &self,
        request: Request<pb::ListPositionsRequest>,
    ) -> Result<Response<pb::ListPositionsResponse>, Status> {
        let positions = self.bots.positions(BotId(request.into_inner().bot_id)).await?;
        Ok(Response::new(pb::ListPositionsResponse { positions: positions.iter().map(convert::position).collect() }))
    }
}
