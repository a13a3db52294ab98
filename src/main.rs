use std::process::ExitCode;

use clap::Parser as _;
use kubectl_seldon_tracing::exit::ExitStatus;
use kubectl_seldon_tracing::{cli::Cli, commands, complete, error::Error, invocation, prompt};

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

/// Help and version go out whole; a usage error is its first paragraph on one line (clap adds a
/// usage block and tips below it), with a pointer to --help, and exit code 2.
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
    // The first paragraph: some errors list what they mean on the lines below the first
    // (`the following required arguments were not provided:` and the arguments).
    let first: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let first = match first.join(" ") {
        t if t.is_empty() => "error: invalid arguments".to_string(),
        t => t,
    };
    kubectl_seldon_tracing::say!("{first} (see `kubectl seldon-tracing --help`)");
    ExitStatus::Usage.into()
}

fn main() -> ExitCode {
    // kubectl's completion helper calls `__complete WORDS...`; the words are not ours to parse.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__complete") {
        let Some(rt) = runtime() else {
            return ExitCode::FAILURE;
        };
        let out = rt.block_on(complete::complete(&args[2..]));
        let _ = commands::context::print(&out);
        return ExitCode::SUCCESS;
    }
    // Parse and judge first: --help, --version and bad arguments never start a runtime or touch
    // the network, so a usage error exits 2 whether or not a cluster answers.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let inv = match invocation::resolve(cli, prompt::interactive()) {
        Ok(inv) => inv,
        Err(usage) => {
            kubectl_seldon_tracing::say!("error: {usage}");
            return ExitStatus::Usage.into();
        }
    };
    let Some(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    match runtime.block_on(commands::run(inv)) {
        Ok(status) => status.into(),
        Err(e @ Error::Cancelled) => {
            kubectl_seldon_tracing::say!("{e}");
            ExitStatus::Cancelled.into()
        }
        Err(e) => {
            kubectl_seldon_tracing::say!("error: {e}");
            // Arguments that parse but make no sense exit 2, like the ones clap refuses.
            match e {
                Error::Usage(_) => ExitStatus::Usage,
                _ => ExitStatus::Failure,
            }
            .into()
        }
    }
}
