//! `tradingbot.v1.EventService`: the live event stream.

use std::pin::Pin;

use domain::event::{Event, EventKind};
use futures::{Stream, StreamExt};
use tokio_stream::wrappers::{BroadcastStream, errors::BroadcastStreamRecvError};
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tradingbot_proto::v1::{self as pb, event_service_server::EventService};

use super::convert;
use crate::events::EventBus;

/// Serves `WatchEvents` from the event bus. Streams end when the daemon shuts down, so a
/// watching client never holds shutdown up.
#[derive(Debug)]
pub(crate) struct EventApi {
    pub(crate) events: EventBus,
    pub(crate) shutdown: CancellationToken,
}

fn wire(event: &Event) -> pb::Event {
    let kind = match &event.kind {
        EventKind::BotChanged(bot) => pb::event::Kind::Bot(convert::bot(bot)),
        EventKind::BotDeleted(id) => pb::event::Kind::BotDeleted(id.0),
        EventKind::OrderChanged(order) => pb::event::Kind::Order(convert::order(order)),
        EventKind::PositionChanged(position) => pb::event::Kind::Position(convert::position(position)),
        EventKind::Pnl { bot, total_pnl, current_balance } => pb::event::Kind::Pnl(pb::PnlMark {
            bot_id: bot.0,
            total_pnl: total_pnl.to_string(),
            current_balance: current_balance.to_string(),
        }),
        EventKind::AlertRaised(alert) => pb::event::Kind::Alert(convert::alert(alert)),
    };
    pb::Event { at: convert::timestamp(event.at), kind: Some(kind) }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::Event, Status>> + Send>>;

#[tonic::async_trait]
impl EventService for EventApi {
    type WatchEventsStream = EventStream;

    async fn watch_events(
        &self,
        request: Request<pb::WatchEventsRequest>,
    ) -> Result<Response<Self::WatchEventsStream>, Status> {
        let bot_id = request.into_inner().bot_id;
        let shutdown = self.shutdown.clone().cancelled_owned();
        let stream = BroadcastStream::new(self.events.subscribe())
            .filter_map(move |item| {
                let out = match item {
                    Ok(event) if bot_id == 0 || event.bot_id().is_some_and(|b| b.0 == bot_id) => Some(Ok(wire(&event))),
                    Ok(_) => None,
                    // A client that falls behind must reload state rather than miss changes silently.
                    Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Err(Status::data_loss(format!(
                        "watcher fell {missed} events behind; reload state and watch again"
                    )))),
                };
                std::future::ready(out)
            })
            .take_while(|item| std::future::ready(item.is_ok()))
            .take_until(shutdown);
        Ok(Response::new(Box::pin(stream)))
    }
}
