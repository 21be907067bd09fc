//! `/api/backtests…`: candle files uploaded through to the daemon, and backtests over them.
//!
//! The daemon never opens a path it is told, so a browser sends the file itself: the raw bytes
//! as the body of `POST /api/backtests/candles` (`application/octet-stream`), relayed to
//! `UploadCandles` as they arrive, in chunks of at most [`CHUNK`] bytes, and never more than
//! [`MAX_UPLOAD_BYTES`] in all. The answer's `data_id` then names the file in `POST /api/backtests`.

use axum::{
    Json,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tradingbot_proto::{
    json,
    v1::{self as pb, backtest_service_client::BacktestServiceClient},
};

use crate::{
    AppState, body,
    error::{ApiError, ApiResult},
    extract::{Json as JsonBody, Path},
};

/// The largest file the gateway relays: 1 GiB, the daemon's default limit (the daemon may set a
/// lower one, and then refuses at its own).
pub(crate) const MAX_UPLOAD_BYTES: u64 = 1 << 30;

/// Bytes per message to the daemon: well under gRPC's 4 MiB message limit.
const CHUNK: usize = 1 << 20;

fn client(state: AppState) -> BacktestServiceClient<crate::Daemon> {
    BacktestServiceClient::new(state.daemon)
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the file is larger than the gateway's upload limit of 1 GiB ({MAX_UPLOAD_BYTES} bytes)"),
    )
}

/// Counts the bytes relayed and cuts them into messages of at most [`CHUNK`] bytes.
#[derive(Debug, Default)]
struct Chunker {
    pending: Vec<u8>,
    total: u64,
}

impl Chunker {
    /// Takes the next piece of the body; returns the messages now complete.
    ///
    /// # Errors
    /// 413 once the body goes past [`MAX_UPLOAD_BYTES`].
    fn push(&mut self, mut piece: &[u8]) -> ApiResult<Vec<Vec<u8>>> {
        self.total = self.total.saturating_add(u64::try_from(piece.len()).unwrap_or(u64::MAX));
        if self.total > MAX_UPLOAD_BYTES {
            return Err(too_large());
        }
        let mut full = Vec::new();
        while !piece.is_empty() {
            let take = piece.len().min(CHUNK - self.pending.len());
            self.pending.extend_from_slice(&piece[..take]);
            piece = &piece[take..];
            if self.pending.len() == CHUNK {
                full.push(std::mem::take(&mut self.pending));
            }
        }
        Ok(full)
    }

    /// What is left at the end of the body.
    fn rest(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }

    /// Counts bytes read past the daemon's answer, which nobody keeps.
    ///
    /// # Errors
    /// 413 once the body goes past [`MAX_UPLOAD_BYTES`].
    fn skip(&mut self, len: usize) -> ApiResult<()> {
        self.total = self.total.saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
        if self.total > MAX_UPLOAD_BYTES { Err(too_large()) } else { Ok(()) }
    }
}

/// `POST /api/backtests/candles`: the body is a candle file's bytes. Answers what the daemon
/// made of it: `data_id`, `candles`, `first_candle_at`, `last_candle_at`, `size`,
/// `already_held` (201 when it was new, 200 when the daemon already held it).
pub(crate) async fn upload(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_UPLOAD_BYTES) {
        return Err(too_large());
    }
    let (chunks, received) = mpsc::channel::<pb::CandleChunk>(2);
    let messages = futures::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|chunk| (chunk, received))
    });
    let mut client = client(s);
    let call = client.upload_candles(messages);
    tokio::pin!(call);
    let mut frames = body.into_data_stream();
    let mut counted = Chunker::default();
    let first = {
        let relay = relay(&mut frames, &mut counted, chunks);
        tokio::select! {
            // The daemon may answer before the body ends (past its own limit, for one).
            answer = &mut call => First::Answer(answer),
            relayed = relay => First::Relayed(relayed),
        }
    };
    match first {
        First::Answer(answer) => {
            // Read the rest (up to the limit, keeping none of it) so that the client, still
            // sending, gets the answer rather than a closed connection.
            while let Some(Ok(frame)) = frames.next().await {
                if counted.skip(frame.len()).is_err() {
                    break;
                }
            }
            answered(answer)
        }
        // On a failed relay, returning drops the call: the daemon sees the upload cancelled
        // and keeps nothing of it.
        First::Relayed(relayed) => {
            relayed?;
            answered(call.await)
        }
    }
}

/// Which finished first: the daemon's answer or the relay of the body.
enum First {
    Answer(Result<tonic::Response<pb::CandleUpload>, tonic::Status>),
    Relayed(ApiResult<()>),
}

/// Relays the body's frames to the daemon as messages; ends when the body ends (then the
/// channel closes, which ends the upload) or when the daemon stops listening (it has answered).
///
/// # Errors
/// 413 past [`MAX_UPLOAD_BYTES`]; 400 when the body breaks off.
async fn relay(
    frames: &mut axum::body::BodyDataStream,
    chunker: &mut Chunker,
    chunks: mpsc::Sender<pb::CandleChunk>,
) -> ApiResult<()> {
    while let Some(frame) = frames.next().await {
        let frame = frame.map_err(|e| {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_argument", format!("the upload broke off: {e}"))
        })?;
        for data in chunker.push(&frame)? {
            if chunks.send(pb::CandleChunk { data }).await.is_err() {
                return Ok(());
            }
        }
    }
    if let Some(data) = chunker.rest() {
        let _ = chunks.send(pb::CandleChunk { data }).await;
    }
    Ok(())
}

fn answered(answer: Result<tonic::Response<pb::CandleUpload>, tonic::Status>) -> ApiResult<(StatusCode, Json<Value>)> {
    let upload = answer?.into_inner();
    let status = if upload.already_held { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(json::candle_upload(&upload))))
}

/// `GET /api/backtests/candles/{id}`: `{"data_id": id, "held": bool}`, whether the daemon holds
/// the file of that id (the SHA-256 of its bytes), so that a client need not send it again.
pub(crate) async fn has(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let held = client(s).has_candles(pb::HasCandlesRequest { data_id: id.clone() }).await?.into_inner().held;
    Ok(Json(json!({ "data_id": id, "held": held })))
}

/// `POST /api/backtests`: runs a backtest over uploaded candles (`data_id`) or the venue's
/// history, and answers its report once it is done.
pub(crate) async fn run(State(s): State<AppState>, JsonBody(b): JsonBody<Value>) -> ApiResult<Json<Value>> {
    let request = body::backtest_request(&b)?;
    let mut updates = client(s).run_backtest(request).await?.into_inner();
    let mut report = None;
    while let Some(update) = updates.message().await? {
        if let Some(pb::backtest_update::Kind::Report(r)) = update.kind {
            report = Some(r);
        }
    }
    let report = report.ok_or_else(|| {
        tracing::error!("the daemon ended a backtest without a report");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; see the gateway and daemon logs")
    })?;
    Ok(Json(json::backtest_report(&report)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_cut_into_messages_under_the_grpc_limit() {
        let mut chunker = Chunker::default();
        assert!(chunker.push(&[1; 10]).unwrap().is_empty());
        let full = chunker.push(&vec![2; 2 * CHUNK + 5]).unwrap();
        assert_eq!(full.iter().map(Vec::len).collect::<Vec<_>>(), [CHUNK, CHUNK]);
        assert_eq!(full[0][..10], [1; 10]);
        assert_eq!(chunker.rest().map(|rest| rest.len()), Some(15));
        assert_eq!(chunker.rest(), None);
    }

    #[test]
    fn the_relay_stops_past_the_limit() {
        let mut chunker = Chunker { pending: Vec::new(), total: MAX_UPLOAD_BYTES - 1 };
        assert!(chunker.push(&[0]).is_ok());
        assert!(chunker.push(&[0]).is_err());
        let mut skipped = Chunker { pending: Vec::new(), total: MAX_UPLOAD_BYTES - 1 };
        assert!(skipped.skip(1).is_ok() && skipped.skip(1).is_err());
    }
}
