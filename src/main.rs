use std::process::ExitCode;

use clap::Parser as _;
use kubectl_seldon_tracing::{cli::Cli, commands, complete, error::Error};

fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            kubectl_seldon_tracing::say!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

/// Help and version go out whole; a usage error is its first line (clap adds a usage block and
/// tips below it), with a pointer to --help, and exit code 2.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind::{
        DisplayHelp, DisplayHelpOnMissingArgumentOrSubcommand, DisplayVersion,
    };
    if matches!(
        e.kind(),
        DisplayHelp | DisplayVersion | DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        e.exit();
    }
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or("error: invalid arguments");
    kubectl_seldon_tracing::say!("{first} (see `kubectl seldon-tracing --help`)");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    // kubectl's completion helper calls `__complete WORDS...`; the words are not ours to parse.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__complete") {
        let Some(rt) = runtime() else {
            return ExitCode::FAILURE;
        };
        let out = rt.block_on(complete::complete(&args[2..]));
        let _ = commands::print(&out);
        return ExitCode::SUCCESS;
    }
    // Parse first: --help, --version and bad flags never start a runtime or touch the network.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e @ Error::Cancelled) => {
            kubectl_seldon_tracing::say!("{e}");
            ExitCode::from(130)
        }
        Err(e) => {
            kubectl_seldon_tracing::say!("error: {e}");
            // Arguments that parse but make no sense exit 2, like the ones clap refuses.
            ExitCode::from(if matches!(e, Error::Usage(_)) { 2 } else { 1 })
        }
    }
}
