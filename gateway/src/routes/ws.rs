//! `WS /ws`: the daemon's `WatchEvents` stream relayed as JSON text frames.

use axum::{
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    response::Response,
};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use tradingbot_proto::{
    json,
    v1::{self as pb, event_service_client::EventServiceClient},
};

use crate::{AppState, extract::Query};

/// `?bot_id=` of `/ws`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WsQuery {
    bot_id: Option<i64>,
}

/// WebSocket close code for "try again later" (the daemon went away).
const TRY_AGAIN_LATER: u16 = 1013;

pub(crate) async fn upgrade(State(s): State<AppState>, Query(q): Query<WsQuery>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| relay(socket, s, q.bot_id.unwrap_or(0)))
}

/// Forwards events until either side ends; tells the browser why when the daemon side ends.
async fn relay(socket: WebSocket, state: AppState, bot_id: i64) {
    let (mut sink, mut incoming) = socket.split();
    let reason = match EventServiceClient::new(state.daemon).watch_events(pb::WatchEventsRequest { bot_id }).await {
        Err(status) => format!("cannot watch events: {}", status.message()),
        Ok(response) => {
            let mut events = response.into_inner();
            loop {
                tokio::select! {
                    event = events.next() => match event {
                        Some(Ok(event)) => {
                            if sink.send(Message::Text(json::event(&event).to_string().into())).await.is_err() {
                                return;
                            }
                        }
                        Some(Err(status)) => break format!("event stream ended: {}", status.message()),
                        None => break "the daemon closed the event stream".to_owned(),
                    },
                    message = incoming.next() => match message {
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                        Some(Ok(_)) => {}
                    },
                }
            }
        }
    };
    let frame = CloseFrame { code: TRY_AGAIN_LATER, reason: reason.chars().take(120).collect::<String>().into() };
    let _ = sink.send(Message::Close(Some(frame))).await;
}
