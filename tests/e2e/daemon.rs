//! The daemon over gRPC: lifecycle persistence, restarts, crashes, protocol surface.

use std::time::Duration;

use tonic::Code;
use tonic_reflection::pb::v1::{
    ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
    server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
};
use tradingbot_proto::v1::{self as pb, event_service_client::EventServiceClient};

use crate::helpers::{Daemon, create_bot};

#[tokio::test]
async fn a_started_bot_is_still_running_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let bot = create_bot(&daemon, "survivor").await;
    let started = daemon.bots().await.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap().into_inner();
    assert_eq!(started.status(), pb::BotStatus::Running);

    let daemon = daemon.restart().await;
    let after = daemon.bots().await.get_bot(pb::GetBotRequest { id: bot.id }).await.unwrap().into_inner();
    assert_eq!(after.status(), pb::BotStatus::Running);
    assert_eq!(after.started_at, started.started_at);
    assert_eq!(after.budget, "100");
}

#[tokio::test]
async fn acknowledged_changes_survive_kill_9() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let bot = create_bot(&daemon, "durable").await;
    daemon.bots().await.kill_bot(pb::KillBotRequest { id: bot.id, reason: "test".into() }).await.unwrap();
    let daemon = daemon.crash_and_restart().await;
    let after = daemon.bots().await.get_bot(pb::GetBotRequest { id: bot.id }).await.unwrap().into_inner();
    assert!(after.killed, "the kill was acknowledged, so it must survive a crash");
    assert_eq!(after.status(), pb::BotStatus::Stopped);
}

#[tokio::test]
async fn editing_a_running_bot_is_refused_and_allowed_once_paused() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let bot = create_bot(&daemon, "editable").await;
    let mut bots = daemon.bots().await;
    bots.start_bot(pb::StartBotRequest { id: bot.id }).await.unwrap();
    let patch = pb::BotConfig { budget: Some("250".into()), ..pb::BotConfig::default() };
    let refused = bots.update_bot(pb::UpdateBotRequest { id: bot.id, config: Some(patch.clone()) }).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("running; pause or stop it"), "{}", refused.message());

    bots.pause_bot(pb::PauseBotRequest { id: bot.id }).await.unwrap();
    let edited = bots.update_bot(pb::UpdateBotRequest { id: bot.id, config: Some(patch) }).await.unwrap().into_inner();
    assert_eq!(edited.budget, "250");
    assert_eq!(edited.status(), pb::BotStatus::Paused);
}

#[tokio::test]
async fn invalid_bot_requests_list_every_field_problem() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let config = pb::BotConfig {
        trading_pair: Some("BTC-USDT".into()),
        strategy: Some("martingale".into()),
        budget: Some("0".into()),
        ..pb::BotConfig::default()
    };
    let status = daemon.bots().await.create_bot(pb::CreateBotRequest { config: Some(config) }).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let details = tonic_types::StatusExt::get_details_bad_request(&status).expect("BadRequest detail");
    let fields: Vec<&str> = details.field_violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["trading_pair", "strategy", "budget"]);
    assert!(details.field_violations[2].description.contains("greater than 0 and at most 1000000000"));
}

#[tokio::test]
async fn kill_all_kills_every_bot_and_start_rearms() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let mut bots = daemon.bots().await;
    let a = create_bot(&daemon, "a").await;
    let b = create_bot(&daemon, "b").await;
    bots.start_bot(pb::StartBotRequest { id: a.id }).await.unwrap();
    let killed = bots.kill_all(pb::KillAllRequest { reason: "panic button".into() }).await.unwrap().into_inner();
    assert_eq!(killed.bots.len(), 2);
    for id in [a.id, b.id] {
        let bot = bots.get_bot(pb::GetBotRequest { id }).await.unwrap().into_inner();
        assert!(bot.killed && bot.status() == pb::BotStatus::Stopped);
    }
    let restarted = bots.start_bot(pb::StartBotRequest { id: a.id }).await.unwrap().into_inner();
    assert!(!restarted.killed && restarted.status() == pb::BotStatus::Running);
}

#[tokio::test]
async fn go_live_and_copy_keep_the_configuration() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let mut bots = daemon.bots().await;
    let bot = create_bot(&daemon, "paper").await;
    assert!(bot.is_dry_run);
    let copy = bots
        .copy_bot(pb::CopyBotRequest { id: bot.id, overrides: Some(pb::BotConfig::default()) })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (copy.name.as_str(), copy.budget.as_str(), copy.status()),
        ("paper (copy)", "100", pb::BotStatus::Created)
    );
    assert_eq!(copy.strategy_params, bot.strategy_params);

    let live = bots.go_live(pb::GoLiveRequest { id: bot.id }).await.unwrap().into_inner();
    assert!(!live.is_dry_run);
    assert_eq!(bots.go_live(pb::GoLiveRequest { id: bot.id }).await.unwrap_err().code(), Code::FailedPrecondition);
}

#[tokio::test]
async fn watch_events_streams_bot_changes() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let mut events = EventServiceClient::new(daemon.channel().await)
        .watch_events(pb::WatchEventsRequest { bot_id: 0 })
        .await
        .unwrap()
        .into_inner();
    let bot = create_bot(&daemon, "watched").await;
    let event = tokio::time::timeout(Duration::from_secs(10), events.message()).await.unwrap().unwrap().unwrap();
    match event.kind {
        Some(pb::event::Kind::Bot(changed)) => assert_eq!(changed.id, bot.id),
        other => panic!("expected a bot event, got {other:?}"),
    }
}

#[tokio::test]
async fn shutdown_ends_open_event_streams() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let _stream = EventServiceClient::new(daemon.channel().await)
        .watch_events(pb::WatchEventsRequest { bot_id: 0 })
        .await
        .unwrap()
        .into_inner();
    // A watcher must not hold shutdown up: SIGTERM exits cleanly while the stream is open.
    assert_eq!(daemon.terminate().await, 0);
}

#[tokio::test]
async fn reflection_lists_the_api_and_grpc_web_is_accepted() {
    let data = tempfile::tempdir().unwrap();
    let daemon = Daemon::start(&data).await;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut replies = ServerReflectionClient::new(daemon.channel().await)
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(MessageResponse::ListServicesResponse(list)) = replies.message().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in ["tradingbot.v1.BotService", "tradingbot.v1.EventService", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == service), "{service} missing from {names:?}");
    }

    // gRPC-Web: an empty GetStats request as a single unary frame over HTTP/1.1.
    let response = reqwest::Client::new()
        .post(format!("{}/tradingbot.v1.ReportService/GetStats", daemon.url))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .body(vec![0u8, 0, 0, 0, 0])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/grpc-web"));
    let body = response.bytes().await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("grpc-status:0"), "trailer frame missing: {body:?}");
}
