//! The gRPC control plane: every service of `tradingbot.v1`, plus health and reflection,
//! accepting gRPC-Web too, every request through the boundary's checks (`guard`).
//!
//! **API Boundary:** wire types (`tradingbot_proto::v1`) exist only in this module; they
//! are converted to domain types in `convert` on the way in and out.

mod alert_service;
mod backtest_service;
mod bot_service;
mod config_service;
mod convert;
mod event_service;
mod exchange_service;
mod guard;
mod report_service;
mod status;

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tradingbot_proto::v1::{
    alert_service_server::AlertServiceServer, backtest_service_server::BacktestServiceServer,
    bot_service_server::BotServiceServer, config_service_server::ConfigServiceServer,
    event_service_server::EventServiceServer, exchange_service_server::ExchangeServiceServer,
    report_service_server::ReportServiceServer,
};

use crate::{Access, backtests::Backtests, bots::Bots, config::Config, events::EventBus, venues::Venues};

/// What the services need.
#[derive(Debug, Clone)]
pub(crate) struct Services {
    pub(crate) bots: Arc<Bots>,
    pub(crate) store: store::Store,
    pub(crate) config: Arc<Config>,
    pub(crate) events: EventBus,
    pub(crate) venues: Venues,
    pub(crate) backtests: Backtests,
    pub(crate) mailer: Option<crate::notify::Mailer>,
}

/// Serves the API on `listener` to the clients `access` lets in until `shutdown` is
/// cancelled, then finishes the requests in flight (event streams end at once).
///
/// # Errors
/// When reflection cannot be set up or the server fails.
pub(crate) async fn serve(
    listener: TcpListener,
    services: Services,
    access: Access,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<BotServiceServer<bot_service::BotApi>>().await;
    health.set_serving::<ReportServiceServer<report_service::ReportApi>>().await;
    health.set_serving::<ConfigServiceServer<config_service::ConfigApi>>().await;
    health.set_serving::<EventServiceServer<event_service::EventApi>>().await;
    health.set_serving::<AlertServiceServer<alert_service::AlertApi>>().await;
    health.set_serving::<ExchangeServiceServer<exchange_service::ExchangeApi>>().await;
    health.set_serving::<BacktestServiceServer<backtest_service::BacktestApi>>().await;
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(tradingbot_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    Server::builder()
        .accept_http1(true)
        // The first layer is the outermost: gRPC-Web is translated, then the guard checks.
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(guard::GuardLayer::new(access.hosts, access.token))
        .add_service(health_service)
        .add_service(reflection().build_v1()?)
        .add_service(reflection().build_v1alpha()?)
        .add_service(BotServiceServer::new(bot_service::BotApi { bots: services.bots }))
        .add_service(ReportServiceServer::new(report_service::ReportApi { store: services.store.clone() }))
        .add_service(ConfigServiceServer::new(config_service::ConfigApi {
            config: services.config,
            venues: services.venues.clone(),
        }))
        .add_service(ExchangeServiceServer::new(exchange_service::ExchangeApi {
            recent: crate::fresh::Fresh::new(exchange_service::CHECK_MAX_AGE),
            venues: services.venues,
            store: services.store.clone(),
        }))
        .add_service(EventServiceServer::new(event_service::EventApi {
            events: services.events,
            shutdown: shutdown.clone(),
        }))
        .add_service(AlertServiceServer::new(alert_service::AlertApi {
            store: services.store,
            mailer: services.mailer,
        }))
        .add_service(BacktestServiceServer::new(backtest_service::BacktestApi { backtests: services.backtests }))
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), shutdown.cancelled_owned())
        .await?;
    Ok(())
}
