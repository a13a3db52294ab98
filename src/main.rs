use std::process::ExitCode;

use clap::Parser;
use kubectl_seldon_tracing::{cli::Cli, commands, error::Error};

fn main() -> ExitCode {
    // Parse first: --help, --version and bad flags never start a runtime or touch the network.
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(Error::Cancelled) => {
            eprintln!("cancelled; nothing was changed");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
