//! `tradingctl`: the command-line client of the tradingbot daemon.
//!
//! A thin client: every subcommand is one gRPC call, printed as a table for people or as
//! JSON (the REST API's documents) for scripts. It holds no business logic.

mod args;
mod backtest;
mod client;
mod commands;
mod render;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
