//! Command-line syntax: every RPC of the daemon as a subcommand.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Controls the tradingbot daemon (tradingd) over its gRPC API.
///
/// Exit codes: 0 success, 1 request rejected by the daemon, 2 usage error, 3 daemon unreachable.
#[derive(Debug, Parser)]
#[command(name = "tradingctl", version, about, long_about = None)]
pub(crate) struct Cli {
    /// Daemon address.
    #[arg(long, global = true, default_value = "http://127.0.0.1:50051", env = "TRADINGCTL_ADDR")]
    pub(crate) addr: String,
    /// File holding the daemon's bearer token (instead of the TRADINGD_TOKEN variable), for a
    /// daemon started with one.
    #[arg(long, global = true)]
    pub(crate) token_file: Option<std::path::PathBuf>,
    /// Print JSON (the same documents as the REST API) instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List bots.
    List {
        /// Only bots in this status.
        #[arg(long)]
        status: Option<StatusArg>,
    },
    /// Show one bot.
    Get {
        /// Bot id.
        id: i64,
    },
    /// Create a bot (dry run unless --live). Strategy parameters not given take their defaults.
    Create(ConfigArgs),
    /// Edit a paused or stopped bot; only the given fields change.
    Update {
        /// Bot id.
        id: i64,
        /// Fields to change.
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Delete a bot that is not running (its orders stay in the audit trail).
    Delete {
        /// Bot id.
        id: i64,
    },
    /// Start, resume, or re-arm a bot after a kill.
    Start {
        /// Bot id.
        id: i64,
    },
    /// Pause a bot: no new orders, pending orders stay.
    Pause {
        /// Bot id.
        id: i64,
    },
    /// Stop a bot. Asks whether to cancel its pending orders unless a flag decides.
    Stop {
        /// Bot id.
        id: i64,
        /// Cancel the bot's pending orders.
        #[arg(long, conflicts_with = "keep_pending")]
        cancel_pending: bool,
        /// Leave the bot's pending orders on the book.
        #[arg(long)]
        keep_pending: bool,
    },
    /// Kill switch for one bot: cancels pending orders, never sells, needs a person to restart.
    Kill {
        /// Bot id.
        id: i64,
        /// Why (kept in the bot's history).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Global kill switch: kills every bot.
    KillAll {
        /// Why (kept in each bot's history).
        #[arg(long, default_value = "")]
        reason: String,
        /// Do not ask for confirmation.
        #[arg(long, short)]
        yes: bool,
    },
    /// Promote a dry-run bot (paused, stopped or created) to live trading.
    GoLive {
        /// Bot id.
        id: i64,
    },
    /// Create a new bot from another bot's configuration.
    Copy {
        /// Bot to copy.
        id: i64,
        /// Fields to change in the copy.
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Replay a strategy over recorded candles through the engine that trades live (runs in the
    /// daemon, which knows the venue's symbol rules and fees). Decisions on a candle's close
    /// fill at the next candle's open; sizing comes from the virtual wallet as live.
    Backtest(BacktestArgs),
    /// List a bot's orders, newest first.
    Orders {
        /// Bot id.
        id: i64,
        /// Only orders in this status.
        #[arg(long)]
        status: Option<OrderStatusArg>,
        /// Most orders shown (1 to 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
        /// Show simulated (dry-run) orders; default: the bot's current mode.
        #[arg(long, conflicts_with = "live_orders")]
        simulated: bool,
        /// Show live orders; default: the bot's current mode.
        #[arg(long = "live")]
        live_orders: bool,
    },
    /// Push a signal to a running bot: an Event Filler bot enters on buy and exits on sell.
    Signal {
        /// Bot id.
        id: i64,
        /// buy or sell.
        #[arg(long, value_parser = ["buy", "sell"])]
        side: String,
        /// What the signal is about (kept in the order's decision record).
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List a bot's open positions.
    Positions {
        /// Bot id.
        id: i64,
    },
    /// Global statistics.
    Stats,
    /// P&L over time (global, or one bot).
    Pnl {
        /// One bot instead of the global series.
        #[arg(long)]
        bot: Option<i64>,
        /// From (RFC 3339 or YYYY-MM-DD).
        #[arg(long, default_value = "")]
        from: String,
        /// To, exclusive (RFC 3339 or YYYY-MM-DD).
        #[arg(long, default_value = "")]
        to: String,
    },
    /// Accounting reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Strategies with their parameters, ranges and defaults.
    Strategies,
    /// Trading pairs the venue offers.
    Pairs {
        /// Venue account name (default: the configured default).
        #[arg(long, default_value = "")]
        exchange: String,
    },
    /// The daemon's configuration, secrets masked.
    Settings,
    /// Venue accounts.
    #[command(subcommand)]
    Exchange(ExchangeCommand),
    /// The alert log, newest first.
    Alerts {
        /// Only this bot's alerts.
        #[arg(long)]
        bot: Option<i64>,
        /// Most alerts shown (1 to 1000).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Send a test email with the settings of email.yaml.
    TestEmail,
    /// Follow live events until interrupted.
    Watch {
        /// Only this bot's events.
        #[arg(long)]
        bot: Option<i64>,
    },
    /// Print a shell completion script.
    Completions {
        /// Shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// Venue account commands.
#[derive(Debug, Subcommand)]
pub(crate) enum ExchangeCommand {
    /// Read-only connectivity check: keys, clock offset, symbol permissions, balances. Places no order.
    Check {
        /// Account name in exchanges.yaml (default: the configured default).
        #[arg(long, default_value = "")]
        exchange: String,
    },
}

/// Accounting reports.
#[derive(Debug, Subcommand)]
pub(crate) enum ReportCommand {
    /// Realised P&L, win rate and average win/loss.
    Pnl {
        /// How to group the rows.
        #[arg(long, value_enum, default_value_t = GroupBy::Bot)]
        group_by: GroupBy,
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
    },
    /// Tax export: every realised sale with purchase price, sale price, date and token.
    Tax {
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
        /// Print CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// Fee totals per asset.
    Fees {
        /// Filters.
        #[command(flatten)]
        filter: FilterArgs,
    },
}

/// Report filters.
#[derive(Debug, Args)]
pub(crate) struct FilterArgs {
    /// Only this bot.
    #[arg(long)]
    pub(crate) bot: Option<i64>,
    /// Only this pair.
    #[arg(long, default_value = "")]
    pub(crate) pair: String,
    /// Only this strategy.
    #[arg(long, default_value = "")]
    pub(crate) strategy: String,
    /// From (RFC 3339 or YYYY-MM-DD).
    #[arg(long, default_value = "")]
    pub(crate) from: String,
    /// To, exclusive (RFC 3339 or YYYY-MM-DD).
    #[arg(long, default_value = "")]
    pub(crate) to: String,
    /// Report dry-run trades instead of live ones.
    #[arg(long)]
    pub(crate) simulated: bool,
}

/// Fields of a bot configuration; each is optional (defaults on create, unchanged on update).
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// Display name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// Trading pair, BTC/USDT or BTCUSDT.
    #[arg(long)]
    pub(crate) pair: Option<String>,
    /// Venue account from exchanges.yaml.
    #[arg(long)]
    pub(crate) exchange: Option<String>,
    /// Strategy id (see `tradingctl strategies`).
    #[arg(long)]
    pub(crate) strategy: Option<String>,
    /// A strategy parameter, NAME=VALUE (repeatable; lists comma-separated).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param, allow_hyphen_values = true)]
    pub(crate) params: Vec<(String, String)>,
    /// Virtual wallet budget in the quote asset.
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) budget: Option<String>,
    /// Add realised profits to the budget.
    #[arg(long)]
    pub(crate) compound: Option<bool>,
    /// forever, or a duration such as 12h, 3d, 2mo.
    #[arg(long, value_parser = parse_running_time)]
    pub(crate) running_time: Option<u32>,
    /// Per-trade stop loss in percent ("" clears it).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) stop_loss_percent: Option<String>,
    /// Per-trade stop loss in quote ("" clears it).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) stop_loss_absolute: Option<String>,
    /// Drawdown limit in percent ("" clears it).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) drawdown_limit_percent: Option<String>,
    /// Drawdown limit in quote ("" clears it).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) drawdown_limit_absolute: Option<String>,
    /// Daily loss limit in quote ("" clears it).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) daily_loss_limit: Option<String>,
    /// Weekly loss limit in quote ("" clears it).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) weekly_loss_limit: Option<String>,
    /// Strategy rotations allowed after consecutive losses (0 to 8).
    #[arg(long)]
    pub(crate) max_rotations: Option<u32>,
    /// Consecutive losses that trigger a rotation (1 to 100).
    #[arg(long)]
    pub(crate) consecutive_losses: Option<u32>,
    /// Trade for real (default: dry run).
    #[arg(long, conflicts_with = "dry_run")]
    pub(crate) live: bool,
    /// Simulate on real market data.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// Risk stops given on the command line of a backtest.
#[derive(Debug, Args)]
pub(crate) struct StopArgs {
    /// Per-trade stop loss in percent.
    #[arg(long = "stop-loss-percent", allow_hyphen_values = true)]
    pub(crate) stop_loss_percent: Option<String>,
    /// Per-trade stop loss in quote.
    #[arg(long = "stop-loss-absolute", allow_hyphen_values = true)]
    pub(crate) stop_loss_absolute: Option<String>,
    /// Drawdown limit in percent of the equity peak.
    #[arg(long = "drawdown-limit-percent", allow_hyphen_values = true)]
    pub(crate) drawdown_limit_percent: Option<String>,
    /// Drawdown limit in quote.
    #[arg(long = "drawdown-limit-absolute", allow_hyphen_values = true)]
    pub(crate) drawdown_limit_absolute: Option<String>,
    /// Daily loss limit in quote.
    #[arg(long = "daily-loss-limit", allow_hyphen_values = true)]
    pub(crate) daily_loss_limit: Option<String>,
    /// Weekly loss limit in quote.
    #[arg(long = "weekly-loss-limit", allow_hyphen_values = true)]
    pub(crate) weekly_loss_limit: Option<String>,
}

/// The `backtest` subcommand's arguments.
#[derive(Debug, Args)]
pub(crate) struct BacktestArgs {
    /// Strategy id (see `tradingctl strategies`).
    #[arg(long)]
    pub(crate) strategy: String,
    /// Pair whose symbol rules apply, such as BTC/USDT.
    #[arg(long)]
    pub(crate) pair: String,
    /// Candle file: CSV `open_time_ms,open,high,low,close,volume` or a freqtrade/ccxt JSON array.
    /// Read here and uploaded to the daemon (not again once it holds the same content).
    /// Without it, the venue's one-minute candles from --from are used.
    #[arg(long, required_unless_present = "from")]
    pub(crate) data: Option<std::path::PathBuf>,
    /// Only candles from this instant (RFC 3339, or a date meaning its midnight UTC).
    #[arg(long)]
    pub(crate) from: Option<String>,
    /// Only candles before this instant.
    #[arg(long)]
    pub(crate) to: Option<String>,
    /// Risk stops, as for a bot; only those given apply.
    #[command(flatten)]
    pub(crate) stops: StopArgs,
    /// A strategy parameter; repeat for several.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param, allow_hyphen_values = true)]
    pub(crate) params: Vec<(String, String)>,
    /// Arbitrage: the candle file of another market a cycle trades, by pair (triangular,
    /// `BTC/USDT=FILE`) or by second venue account (cross-exchange); repeat for several.
    /// Uploaded like --data.
    #[arg(long = "market-data", value_name = "KEY=FILE", value_parser = parse_param)]
    pub(crate) market_data: Vec<(String, String)>,
    /// Virtual wallet budget in the quote asset (default 1000).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) budget: Option<String>,
    /// Fee per side as a fraction, 0.001 = 0.1 % (default: the venue's taker fee).
    #[arg(long, allow_hyphen_values = true)]
    pub(crate) fee: Option<String>,
    /// Candle length in minutes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_080))]
    pub(crate) candle_minutes: u32,
    /// Add realised profits to the budget.
    #[arg(long)]
    pub(crate) compound: bool,
    /// Venue account whose rules and fees apply (default: the configured default).
    #[arg(long)]
    pub(crate) exchange: Option<String>,
    /// Write the equity at every candle close to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub(crate) equity_csv: Option<std::path::PathBuf>,
    /// List every trade (by default the table shows the first 20).
    #[arg(long)]
    pub(crate) all_trades: bool,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("'{text}' is not NAME=VALUE"))
}

/// Hours of running time; 0 means forever.
fn parse_running_time(text: &str) -> Result<u32, String> {
    let time: domain::bot::RunningTime = text.parse()?;
    Ok(time.hours().unwrap_or(0))
}

/// Bot status names.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum StatusArg {
    Created,
    Running,
    Paused,
    Stopped,
}

/// Order status names.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum OrderStatusArg {
    Pending,
    Open,
    PartiallyFilled,
    Filled,
    Cancelled,
    Failed,
    Unknown,
    Expired,
}

/// P&L report groupings.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum GroupBy {
    Bot,
    Pair,
    Strategy,
    Day,
    Week,
    Month,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser, error::ErrorKind};

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tradingctl").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_create_takes_its_fields_parameters_and_running_time() {
        let cli = parse(&[
            "create",
            "--pair",
            "BTC/USDT",
            "--strategy",
            "dca_accumulator",
            "--budget",
            "100",
            "--param",
            "quote_amount = 5",
            "--param",
            "levels=1,2,3",
            "--running-time",
            "3d",
            "--json",
        ])
        .unwrap();
        assert!(cli.json);
        assert_eq!(cli.addr, "http://127.0.0.1:50051");
        let Command::Create(config) = cli.command else { panic!("not a create: {:?}", cli.command) };
        assert_eq!(config.pair.as_deref(), Some("BTC/USDT"));
        assert_eq!(config.budget.as_deref(), Some("100"));
        assert_eq!(config.params, [("quote_amount".to_owned(), "5".to_owned()), ("levels".into(), "1,2,3".into())]);
        assert_eq!(config.running_time, Some(72), "three days in hours");
        let forever = parse(&["create", "--running-time", "forever"]).unwrap();
        assert!(matches!(forever.command, Command::Create(ConfigArgs { running_time: Some(0), .. })));
    }

    #[test]
    fn bad_usage_is_refused_with_what_was_wrong() {
        let refused = |args: &[&str], needle: &str| {
            let error = parse(args).unwrap_err();
            assert!(error.to_string().contains(needle), "{args:?}: {error}");
            error.kind()
        };
        refused(&["create", "--param", "no-equals-sign"], "'no-equals-sign' is not NAME=VALUE");
        refused(&["create", "--param", "=5"], "is not NAME=VALUE");
        refused(&["create", "--running-time", "soon"], "soon");
        assert_eq!(refused(&["orders", "1", "--limit", "0"], "0"), ErrorKind::ValueValidation);
        assert_eq!(refused(&["orders", "1", "--limit", "1001"], "1001"), ErrorKind::ValueValidation);
        assert_eq!(
            refused(&["stop", "1", "--cancel-pending", "--keep-pending"], "cannot be used"),
            ErrorKind::ArgumentConflict
        );
        assert_eq!(refused(&["signal", "1", "--side", "hold"], "hold"), ErrorKind::InvalidValue);
        assert_eq!(refused(&["get", "one"], "one"), ErrorKind::ValueValidation);
    }

    #[test]
    fn negative_values_reach_the_daemon_to_be_refused_there_with_their_range() {
        let cli = parse(&["update", "3", "--budget", "-1", "--stop-loss-percent", ""]).unwrap();
        let Command::Update { id, config } = cli.command else { panic!("not an update") };
        assert_eq!(id, 3);
        assert_eq!(config.budget.as_deref(), Some("-1"));
        assert_eq!(config.stop_loss_percent.as_deref(), Some(""), "an empty value clears the stop");
    }
}
