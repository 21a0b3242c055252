//! Command-line entry point: `serve` (the default) and the maintenance subcommands.
use clap::{Parser, Subcommand};
use server::config::Settings;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "server",
    version,
    about = "Institutional Enforcement Map — dashboard server and tools"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard and the API (the default).
    Serve {
        /// Do not write the demo history into an empty store.
        #[arg(long, env = "IEM_NO_DEMO")]
        no_demo: bool,
    },
}

fn main() -> ExitCode {
    server::telemetry::init();
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve { no_demo: false }) {
        Command::Serve { no_demo } => runtime.block_on(server::serve::run(
            settings,
            server::serve::ServeOptions { demo: !no_demo },
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
