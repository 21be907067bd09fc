//! One function per subcommand: build the request, call the daemon, print the answer.

use std::io::{BufRead, IsTerminal, Write};

use clap::CommandFactory;
use futures::StreamExt;
use prost_types::{Struct, Value, value::Kind};
use serde_json::Value as Json;
use tradingbot_proto::{
    json,
    v1::{
        self as pb, alert_service_client::AlertServiceClient, bot_service_client::BotServiceClient,
        config_service_client::ConfigServiceClient, event_service_client::EventServiceClient,
        exchange_service_client::ExchangeServiceClient, report_service_client::ReportServiceClient,
    },
};

use crate::{
    args::{Cli, Command, ConfigArgs, ExchangeCommand, FilterArgs, GroupBy, OrderStatusArg, ReportCommand, StatusArg},
    client::{Daemon, Failure, connect},
    render,
};

/// How answers are printed.
#[derive(Debug, Clone, Copy)]
struct Out {
    json: bool,
}

impl Out {
    /// Prints `value` as JSON, or the table `human` builds from it.
    fn print(self, value: &Json, human: impl FnOnce(&Json) -> String) {
        println!("{}", self.render(value, human));
    }

    /// `value` as pretty JSON (the REST API's document), or the table `human` builds from it.
    fn render(self, value: &Json, human: impl FnOnce(&Json) -> String) -> String {
        if self.json { serde_json::to_string_pretty(value).unwrap_or_default() } else { human(value) }
    }
}

fn config(args: ConfigArgs) -> pb::BotConfig {
    let params = (!args.params.is_empty()).then(|| Struct {
        fields: args
            .params
            .into_iter()
            .map(|(name, value)| (name, Value { kind: Some(Kind::StringValue(value)) }))
            .collect(),
    });
    pb::BotConfig {
        name: args.name,
        trading_pair: args.pair,
        exchange: args.exchange,
        strategy: args.strategy,
        strategy_params: params,
        budget: args.budget,
        compound_enabled: args.compound,
        running_time_hours: args.running_time,
        stop_loss_percent: args.stop_loss_percent,
        stop_loss_absolute: args.stop_loss_absolute,
        drawdown_limit_percent: args.drawdown_limit_percent,
        drawdown_limit_absolute: args.drawdown_limit_absolute,
        daily_loss_limit: args.daily_loss_limit,
        weekly_loss_limit: args.weekly_loss_limit,
        max_strategy_rotations: args.max_rotations,
        consecutive_loss_limit: args.consecutive_losses,
        is_dry_run: if args.live {
            Some(false)
        } else if args.dry_run {
            Some(true)
        } else {
            None
        },
    }
}

fn filter(f: FilterArgs) -> pb::ReportFilter {
    pb::ReportFilter {
        bot_id: f.bot.unwrap_or(0),
        trading_pair: f.pair,
        strategy: f.strategy,
        range: Some(pb::TimeRange { from: f.from, to: f.to }),
        simulated: f.simulated,
    }
}

/// Asks a yes/no question on the terminal; `None` when not interactive.
fn ask(question: &str) -> Option<bool> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    loop {
        eprint!("{question} [y/n] ");
        std::io::stderr().flush().ok()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Some(true),
            "n" | "no" => return Some(false),
            _ => eprintln!("please answer y or n"),
        }
    }
}

fn bot_status(status: Option<StatusArg>) -> pb::BotStatus {
    match status {
        None => pb::BotStatus::Unspecified,
        Some(StatusArg::Created) => pb::BotStatus::Created,
        Some(StatusArg::Running) => pb::BotStatus::Running,
        Some(StatusArg::Paused) => pb::BotStatus::Paused,
        Some(StatusArg::Stopped) => pb::BotStatus::Stopped,
    }
}

fn order_status(status: Option<OrderStatusArg>) -> pb::OrderStatus {
    match status {
        None => pb::OrderStatus::Unspecified,
        Some(OrderStatusArg::Pending) => pb::OrderStatus::Pending,
        Some(OrderStatusArg::Open) => pb::OrderStatus::Open,
        Some(OrderStatusArg::PartiallyFilled) => pb::OrderStatus::PartiallyFilled,
        Some(OrderStatusArg::Filled) => pb::OrderStatus::Filled,
        Some(OrderStatusArg::Cancelled) => pb::OrderStatus::Cancelled,
        Some(OrderStatusArg::Failed) => pb::OrderStatus::Failed,
        Some(OrderStatusArg::Unknown) => pb::OrderStatus::Unknown,
        Some(OrderStatusArg::Expired) => pb::OrderStatus::Expired,
    }
}

fn grouping(group_by: GroupBy) -> pb::PnlGrouping {
    match group_by {
        GroupBy::Bot => pb::PnlGrouping::Bot,
        GroupBy::Pair => pb::PnlGrouping::Pair,
        GroupBy::Strategy => pb::PnlGrouping::Strategy,
        GroupBy::Day => pb::PnlGrouping::Day,
        GroupBy::Week => pb::PnlGrouping::Week,
        GroupBy::Month => pb::PnlGrouping::Month,
    }
}

/// Runs one command line.
pub(crate) async fn run(cli: Cli) -> Result<(), Failure> {
    let out = Out { json: cli.json };
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "tradingctl", &mut std::io::stdout());
        return Ok(());
    }
    let channel = connect(&cli.addr, cli.token_file.as_deref()).await?;
    match cli.command {
        Command::Report(report) => run_report(channel, report, out).await,
        Command::Strategies | Command::Pairs { .. } | Command::Settings => run_config(channel, cli.command, out).await,
        Command::Stats | Command::Pnl { .. } => run_stats(channel, cli.command, out).await,
        Command::Alerts { bot, limit } => {
            let request = pb::ListAlertsRequest { bot_id: bot.unwrap_or(0), limit };
            let alerts = AlertServiceClient::new(channel).list_alerts(request).await?.into_inner();
            let value = Json::Array(alerts.alerts.iter().map(json::alert).collect());
            out.print(&value, |v| {
                let fields = ["id", "created_at", "bot_id", "alert_type", "message", "email_sent"];
                render::table(&["ID", "AT", "BOT", "TYPE", "MESSAGE", "EMAILED"], render::rows(v, &fields))
            });
            Ok(())
        }
        Command::TestEmail => {
            let sent =
                AlertServiceClient::new(channel).send_test_email(pb::SendTestEmailRequest {}).await?.into_inner();
            let value = serde_json::json!({ "sent_to": sent.recipients });
            out.print(&value, |_| format!("test email sent to {}", sent.recipients.join(", ")));
            Ok(())
        }
        Command::Watch { bot } => watch(channel, bot, out).await,
        Command::Backtest(args) => crate::backtest::run(channel, args, out.json).await,
        Command::Exchange(ExchangeCommand::Check { exchange }) => check_exchange(channel, exchange, out).await,
        command => run_bot(channel, command, out).await,
    }
}

async fn run_bot(channel: Daemon, command: Command, out: Out) -> Result<(), Failure> {
    let mut bots = BotServiceClient::new(channel);
    let bot = match command {
        Command::List { status } => {
            let list = bots.list_bots(pb::ListBotsRequest { status: bot_status(status).into() }).await?.into_inner();
            out.print(&Json::Array(list.bots.iter().map(json::bot).collect()), render::bots);
            return Ok(());
        }
        Command::Get { id } => bots.get_bot(pb::GetBotRequest { id }).await?,
        Command::Create(args) => bots.create_bot(pb::CreateBotRequest { config: Some(config(args)) }).await?,
        Command::Update { id, config: args } => {
            bots.update_bot(pb::UpdateBotRequest { id, config: Some(config(args)) }).await?
        }
        Command::Delete { id } => {
            bots.delete_bot(pb::DeleteBotRequest { id }).await?;
            out.print(&serde_json::json!({ "deleted": id }), |_| format!("bot {id} deleted"));
            return Ok(());
        }
        Command::Start { id } => bots.start_bot(pb::StartBotRequest { id }).await?,
        Command::Pause { id } => bots.pause_bot(pb::PauseBotRequest { id }).await?,
        Command::Stop { id, cancel_pending, keep_pending } => {
            let cancel_pending = if cancel_pending || keep_pending {
                cancel_pending
            } else {
                ask(&format!("Cancel bot {id}'s pending orders?")).ok_or_else(|| {
                    Failure::Usage(
                        "stop needs --cancel-pending or --keep-pending when not run in a terminal".to_owned(),
                    )
                })?
            };
            bots.stop_bot(pb::StopBotRequest { id, cancel_pending }).await?
        }
        Command::Kill { id, reason } => bots.kill_bot(pb::KillBotRequest { id, reason }).await?,
        Command::KillAll { reason, yes } => {
            if !yes && ask("Kill every bot? They will need a person to start them again.") == Some(false) {
                return Err(Failure::Usage("kill-all not confirmed".to_owned()));
            }
            let killed = bots.kill_all(pb::KillAllRequest { reason }).await?.into_inner();
            let value = Json::Array(killed.bots.iter().map(json::bot).collect());
            out.print(&value, |v| format!("killed {} bot(s)\n{}", killed.bots.len(), render::bots(v)));
            return Ok(());
        }
        Command::GoLive { id } => bots.go_live(pb::GoLiveRequest { id }).await?,
        Command::Copy { id, config: args } => {
            bots.copy_bot(pb::CopyBotRequest { id, overrides: Some(config(args)) }).await?
        }
        Command::Orders { id, status, limit, simulated, live_orders } => {
            let simulated = (simulated || live_orders).then_some(simulated);
            let request = pb::ListOrdersRequest { bot_id: id, status: order_status(status).into(), limit, simulated };
            let orders = bots.list_orders(request).await?.into_inner();
            let value = Json::Array(orders.orders.iter().map(json::order).collect());
            out.print(&value, |v| {
                let fields = [
                    "id",
                    "created_at",
                    "order_type",
                    "trading_pair",
                    "amount",
                    "price",
                    "quote_amount",
                    "filled_amount",
                    "fees",
                    "status",
                ];
                render::table(
                    &["ID", "AT", "TYPE", "PAIR", "AMOUNT", "PRICE", "QUOTE", "FILLED", "FEES", "STATUS"],
                    render::rows(v, &fields),
                )
            });
            return Ok(());
        }
        Command::Signal { id, side, note } => {
            bots.send_signal(pb::SendSignalRequest { bot_id: id, side: side.clone(), note }).await?;
            out.print(&serde_json::json!({ "bot_id": id, "signal": side }), |_| {
                format!("{side} signal sent to bot {id}")
            });
            return Ok(());
        }
        Command::Positions { id } => {
            let positions = bots.list_positions(pb::ListPositionsRequest { bot_id: id }).await?.into_inner();
            let value = Json::Array(positions.positions.iter().map(json::position).collect());
            out.print(&value, |v| {
                let fields = ["trading_pair", "side", "amount", "entry_price", "current_price", "unrealized_pnl"];
                render::table(&["PAIR", "SIDE", "AMOUNT", "ENTRY", "PRICE", "UNREALIZED P&L"], render::rows(v, &fields))
            });
            return Ok(());
        }
        other => unreachable!("{other:?} is dispatched elsewhere"),
    };
    out.print(&json::bot(bot.get_ref()), render::record);
    Ok(())
}

async fn run_stats(channel: Daemon, command: Command, out: Out) -> Result<(), Failure> {
    let mut reports = ReportServiceClient::new(channel);
    if let Command::Pnl { bot, from, to } = command {
        let request = pb::GetPnlSeriesRequest { bot_id: bot.unwrap_or(0), range: Some(pb::TimeRange { from, to }) };
        let series = reports.get_pnl_series(request).await?.into_inner();
        out.print(&json::pnl_series(&series), |v| {
            render::table(&["AT", "TOTAL P&L"], render::rows(v, &["at", "total_pnl"]))
        });
    } else {
        let stats = reports.get_stats(pb::GetStatsRequest {}).await?.into_inner();
        out.print(&json::stats(&stats), render::record);
    }
    Ok(())
}

async fn run_report(channel: Daemon, report: ReportCommand, out: Out) -> Result<(), Failure> {
    let mut reports = ReportServiceClient::new(channel);
    match report {
        ReportCommand::Pnl { group_by, filter: f } => {
            let request = pb::GetPnlReportRequest { filter: Some(filter(f)), group_by: grouping(group_by).into() };
            let report = reports.get_pnl_report(request).await?.into_inner();
            out.print(&json::pnl_report(&report), |v| {
                let fields = [
                    "key",
                    "trades",
                    "wins",
                    "losses",
                    "win_rate_percent",
                    "realized_pnl",
                    "average_win",
                    "average_loss",
                    "fees",
                ];
                let mut rows = render::rows(&v["rows"], &fields);
                rows.extend(render::rows(&Json::Array(vec![v["total"].clone()]), &fields));
                render::table(
                    &["GROUP", "TRADES", "WINS", "LOSSES", "WIN %", "REALISED P&L", "AVG WIN", "AVG LOSS", "FEES"],
                    rows,
                )
            });
        }
        ReportCommand::Tax { filter: f, csv } => {
            let report =
                reports.get_tax_report(pb::GetTaxReportRequest { filter: Some(filter(f)) }).await?.into_inner();
            let value = json::tax_report(&report);
            let fields = ["date", "token", "amount", "buy_price", "sale_price", "gain", "bot_id"];
            if csv {
                println!("{}", fields.join(","));
                for row in render::rows(&value["rows"], &fields) {
                    println!("{}", row.join(","));
                }
            } else {
                out.print(&value, |v| {
                    let table = render::table(
                        &["DATE", "TOKEN", "AMOUNT", "BUY PRICE", "SALE PRICE", "GAIN", "BOT"],
                        render::rows(&v["rows"], &fields),
                    );
                    format!("{table}\ntotal gain: {}", render::cell(&v["total_gain"]))
                });
            }
        }
        ReportCommand::Fees { filter: f } => {
            let report =
                reports.get_fee_report(pb::GetFeeReportRequest { filter: Some(filter(f)) }).await?.into_inner();
            out.print(&json::fee_report(&report), |v| {
                render::table(&["ASSET", "TOTAL", "FILLS"], render::rows(&v["rows"], &["asset", "total", "fills"]))
            });
        }
    }
    Ok(())
}

async fn run_config(channel: Daemon, command: Command, out: Out) -> Result<(), Failure> {
    let mut config = ConfigServiceClient::new(channel);
    match command {
        Command::Strategies => {
            let list = config.list_strategies(pb::ListStrategiesRequest {}).await?.into_inner();
            out.print(&json::strategies(&list), |v| {
                let mut text = String::new();
                for s in v.as_array().into_iter().flatten() {
                    text.push_str(&format!(
                        "{} ({}): {}\n",
                        render::cell(&s["id"]),
                        render::cell(&s["name"]),
                        render::cell(&s["description"])
                    ));
                    let rows = s["params"].as_array().into_iter().flatten().map(|p| {
                        let range = match (p["min"].as_str(), p["max"].as_str()) {
                            (Some(min), Some(max)) => {
                                format!(
                                    "{}{min} .. {max}",
                                    if p["min_exclusive"] == Json::Bool(true) { ">" } else { "" }
                                )
                            }
                            _ => p["choices"]
                                .as_array()
                                .map(|c| c.iter().map(render::cell).collect::<Vec<_>>().join(" | "))
                                .unwrap_or_default(),
                        };
                        let default = if p["required"] == Json::Bool(true) {
                            "(required)".to_owned()
                        } else {
                            render::cell(&p["default"])
                        };
                        vec![
                            render::cell(&p["name"]),
                            render::cell(&p["kind"]),
                            default,
                            range,
                            render::cell(&p["unit"]),
                            render::cell(&p["description"]),
                        ]
                    });
                    text.push_str(&render::table(&["PARAM", "KIND", "DEFAULT", "RANGE", "UNIT", "DESCRIPTION"], rows));
                    text.push_str("\n\n");
                }
                text.trim_end().to_owned()
            });
        }
        Command::Pairs { exchange } => {
            let pairs = config.list_pairs(pb::ListPairsRequest { exchange }).await?.into_inner();
            out.print(&json::pairs(&pairs), |v| {
                render::table(
                    &["PAIR", "BASE", "QUOTE", "SYMBOL"],
                    render::rows(v, &["pair", "base", "quote", "symbol"]),
                )
            });
        }
        _ => {
            let settings = config.get_settings(pb::GetSettingsRequest {}).await?.into_inner();
            let value = json::settings(&settings);
            // Settings are nested documents; YAML-like pretty JSON reads best for people too.
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default());
        }
    }
    Ok(())
}

async fn check_exchange(channel: Daemon, exchange: String, out: Out) -> Result<(), Failure> {
    let request = pb::CheckExchangeRequest { exchange };
    let check = ExchangeServiceClient::new(channel).check_exchange(request).await?.into_inner();
    let healthy = check.reachable && check.keys_valid && check.problems.is_empty();
    out.print(&json::exchange_check(&check), |v| {
        let yes_no = |b: bool| if b { "yes" } else { "NO" };
        let mut text = format!(
            "exchange {} at {}\n  reachable:    {}\n  clock offset: {} ms\n  keys valid:   {}\n",
            check.exchange,
            check.rest_url,
            yes_no(check.reachable),
            check.clock_offset_ms,
            yes_no(check.keys_valid)
        );
        let fields = ["pair", "api_trading_allowed", "min_qty", "min_notional"];
        text.push_str(&render::table(
            &["PAIR", "API TRADING", "MIN QTY", "MIN VALUE"],
            render::rows(&v["symbols"], &fields),
        ));
        text.push('\n');
        text.push_str(&render::table(
            &["ASSET", "FREE", "LOCKED"],
            render::rows(&v["balances"], &["asset", "free", "locked"]),
        ));
        for problem in &check.problems {
            text.push_str(&format!("\nproblem: {problem}"));
        }
        text
    });
    if healthy { Ok(()) } else { Err(Failure::CheckFailed(check.problems.len())) }
}

async fn watch(channel: Daemon, bot: Option<i64>, out: Out) -> Result<(), Failure> {
    let mut events = EventServiceClient::new(channel);
    let mut stream = events.watch_events(pb::WatchEventsRequest { bot_id: bot.unwrap_or(0) }).await?.into_inner();
    while let Some(event) = stream.next().await {
        let value = json::event(&event?);
        if out.json {
            println!("{value}");
        } else {
            let body = &value[value["type"].as_str().unwrap_or_default()];
            let detail = match value["type"].as_str() {
                Some("bot") => format!(
                    "bot {} {} is {}",
                    render::cell(&body["id"]),
                    render::cell(&body["name"]),
                    render::cell(&body["status"])
                ),
                _ => body.to_string(),
            };
            println!("{} {} {detail}", render::cell(&value["at"]), render::cell(&value["type"]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde_json::json;

    use super::*;

    #[test]
    fn json_output_is_the_api_document_and_tables_are_for_people() {
        let bots = json!([{"id": 3, "name": "x", "budget": "100.50", "total_pnl": "-0.000001", "killed": false}]);
        let shown = Out { json: true }.render(&bots, render::bots);
        assert_eq!(serde_json::from_str::<Json>(&shown).unwrap(), bots, "scripts read back exactly what the API sent");
        assert!(shown.contains("\"100.50\""), "money stays a string: {shown}");
        let table = Out { json: false }.render(&bots, render::bots);
        assert!(table.contains("BUDGET") && table.contains("100.50") && serde_json::from_str::<Json>(&table).is_err());
    }

    #[test]
    fn parameters_reach_the_daemon_as_text_for_it_to_check() {
        let cli = Cli::try_parse_from([
            "tradingctl",
            "create",
            "--strategy",
            "twap",
            "--param",
            "slices=12",
            "--param",
            "levels=1,2",
            "--budget",
            "50",
        ])
        .unwrap();
        let Command::Create(args) = cli.command else { panic!("not a create") };
        let config = config(args);
        let params = config.strategy_params.unwrap().fields;
        let text = |name: &str| match &params[name].kind {
            Some(Kind::StringValue(value)) => value.clone(),
            other => panic!("{name} is {other:?}"),
        };
        assert_eq!((text("slices"), text("levels")), ("12".to_owned(), "1,2".to_owned()));
        assert_eq!(config.budget.as_deref(), Some("50"));
        assert_eq!(config.name, None, "a field not given is left to the daemon's default");
    }
}
