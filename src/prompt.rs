//! Interactive questions, asked only when stdin and stderr are terminals. Prompts go to stderr
//! so stdout stays machine-readable. Esc or Ctrl-C cancels: exit 130, nothing written.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use dialoguer::theme::{ColorfulTheme, SimpleTheme, Theme};
use dialoguer::{Confirm, FuzzySelect, Input, MultiSelect, Select};

use crate::domain::v1::sampler::{Sampler, SamplerKind};
use crate::error::{Error, Result};

/// Whether to ask at all: a person at a terminal on both ends.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Ctrl-C while a prompt is open: put the cursor back (dialoguer hides it) and exit 130.
///
/// Ctrl-C arrives two ways at once. Outside raw mode it is SIGINT, seen by the handler thread.
/// Inside a prompt the terminal is raw, so `console` reads byte 0x03, raises SIGINT itself *and*
/// returns an `Interrupted` error to the prompting thread. Both paths end in [`cancel`], and the
/// first one to get there is the only one that prints and exits.
///
/// While objects are being written, the first Ctrl-C does not exit: it stops further writes
/// (see [`stopping`]) so the run can report what was done; a second one exits at once.
pub fn install_interrupt_handler() {
    if !HANDLER.swap(true, Ordering::SeqCst) {
        let _ = ctrlc::set_handler(on_interrupt);
    }
}

static HANDLER: AtomicBool = AtomicBool::new(false);
static CANCELLING: AtomicBool = AtomicBool::new(false);
static WRITING: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);
static WRITTEN: AtomicBool = AtomicBool::new(false);

fn on_interrupt() {
    if WRITING.load(Ordering::SeqCst) && !STOP.swap(true, Ordering::SeqCst) {
        crate::say_raw!(
            "\x1b[?25h\ninterrupted while writing; objects already applied keep the change; \
             no further object is written (Ctrl-C again to quit now)\n"
        );
        return;
    }
    cancel()
}

/// From here on Ctrl-C can no longer promise that nothing was changed: it stops the writes
/// instead (the handler is installed now when no prompt installed it before).
pub fn writing_started() {
    WRITING.store(true, Ordering::SeqCst);
    install_interrupt_handler();
}

/// The writes are over (a `--wait` may follow): Ctrl-C exits, saying the changes are written.
pub fn writing_finished() {
    WRITTEN.store(true, Ordering::SeqCst);
    WRITING.store(false, Ordering::SeqCst);
}

/// Ctrl-C was pressed while writing: write nothing more.
pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Shows the cursor, says what was (not) changed, and exits 130; a second caller waits for the
/// exit.
pub fn cancel() -> ! {
    if CANCELLING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    if WRITING.load(Ordering::SeqCst) {
        crate::say_raw!(
            "\x1b[?25h\ninterrupted while writing; objects already applied keep the change \
             (run `kubectl seldon-tracing status` to see which)\n"
        );
    } else if WRITTEN.load(Ordering::SeqCst) {
        crate::say_raw!(
            "\x1b[?25h\ninterrupted; the changes are written (see them with `kubectl seldon-tracing status`)\n"
        );
    } else {
        crate::say_raw!("\x1b[?25h\n{}\n", Error::Cancelled);
    }
    std::process::exit(130);
}

/// Colour on a terminal, never with NO_COLOR set.
fn theme() -> Box<dyn Theme> {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        Box::new(SimpleTheme)
    } else {
        Box::new(ColorfulTheme::default())
    }
}

fn cancelled<T>(answer: std::result::Result<Option<T>, dialoguer::Error>) -> Result<T> {
    match answer {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(Error::Cancelled),
        Err(e) => Err(unreadable(e)),
    }
}

/// A failed read: Ctrl-C in raw mode (see [`install_interrupt_handler`]) cancels, anything else
/// is a terminal error.
fn unreadable(e: dialoguer::Error) -> Error {
    match e {
        dialoguer::Error::IO(e) if e.kind() == std::io::ErrorKind::Interrupted => cancel(),
        dialoguer::Error::IO(e) => Error::Terminal(e),
    }
}

/// Picks one or more of `labels` with fuzzy search; returns their indexes in the order picked.
pub fn pick_deployments(labels: &[String]) -> Result<Vec<usize>> {
    pick_many("SeldonDeployment", "deployment", labels)
}

/// Picks one or more of `labels`, each a `kind` (SeldonDeployment, SeldonRuntime; `noun` in
/// questions), with fuzzy search; their indexes in the order picked.
pub fn pick_many(kind: &str, noun: &str, labels: &[String]) -> Result<Vec<usize>> {
    let mut picked: Vec<usize> = Vec::new();
    loop {
        let prompt = if picked.is_empty() {
            format!("{kind} (type to search)")
        } else {
            format!("Another {kind}")
        };
        let i = cancelled(
            FuzzySelect::with_theme(theme().as_ref())
                .with_prompt(prompt)
                .items(labels)
                .default(0)
                .interact_opt(),
        )?;
        if !picked.contains(&i) {
            picked.push(i);
        }
        if picked.len() == labels.len() {
            return Ok(picked);
        }
        let more = cancelled(
            Confirm::with_theme(theme().as_ref())
                .with_prompt(format!("Add another {noun}?"))
                .default(false)
                .interact_opt(),
        )?;
        if !more {
            return Ok(picked);
        }
    }
}

/// One of `labels`, with fuzzy search; its index.
pub fn pick_one(prompt: &str, labels: &[String]) -> Result<usize> {
    cancelled(
        FuzzySelect::with_theme(theme().as_ref())
            .with_prompt(prompt)
            .items(labels)
            .default(0)
            .interact_opt(),
    )
}

/// Predictors to act on, all checked to start with.
pub fn pick_predictors(names: &[String]) -> Result<Vec<String>> {
    loop {
        let chosen = cancelled(
            MultiSelect::with_theme(theme().as_ref())
                .with_prompt("Predictors (space toggles, enter confirms)")
                .items(names)
                .defaults(&vec![true; names.len()])
                .interact_opt(),
        )?;
        if !chosen.is_empty() {
            return Ok(chosen.into_iter().map(|i| names[i].clone()).collect());
        }
        crate::say!("Pick at least one predictor.");
    }
}

/// A sampler type from a described list, then its parameter, re-asked until valid.
/// `keep` adds a first choice that keeps the current sampler (returns None).
pub fn pick_sampler(keep: Option<&str>) -> Result<Option<Sampler>> {
    let mut items: Vec<String> = keep.map(|k| vec![k.to_string()]).unwrap_or_default();
    items.extend(SamplerKind::ALL.iter().map(|k| k.describe().to_string()));
    let i = cancelled(
        Select::with_theme(theme().as_ref())
            .with_prompt("Sampler")
            .items(&items)
            .default(0)
            .interact_opt(),
    )?;
    let offset = usize::from(keep.is_some());
    if i < offset {
        return Ok(None);
    }
    let kind = SamplerKind::ALL[i - offset];
    let (prompt, default) = match kind {
        SamplerKind::Const => ("Parameter (0 or 1)", "1"),
        SamplerKind::Probabilistic => ("Fraction of requests to trace (0..1)", "0.1"),
        SamplerKind::RateLimiting => ("Traces per second (> 0)", "5"),
        SamplerKind::Remote => (
            "Initial rate until the agent answers (0..1, empty for none)",
            "",
        ),
    };
    let param: String = Input::with_theme(theme().as_ref())
        .with_prompt(prompt)
        .default(default.to_string())
        .allow_empty(kind == SamplerKind::Remote)
        .validate_with(|p: &String| -> std::result::Result<(), String> {
            if p.trim().is_empty() && kind == SamplerKind::Remote {
                return Ok(());
            }
            kind.check_param(p).map(|_| ())
        })
        .interact_text()
        .map_err(unreadable)?;
    let text = if param.trim().is_empty() {
        kind.as_str().to_string()
    } else {
        format!("{}:{}", kind.as_str(), param.trim())
    };
    text.parse().map(Some).map_err(Error::Usage)
}

/// Seldon Core 2's ratio: the fraction of the traces the core components start that they
/// sample (0..1), checked as `sampler --core v2 RATIO` is.
pub fn ask_ratio() -> Result<String> {
    let ratio: String = Input::with_theme(theme().as_ref())
        .with_prompt("Ratio of traces to sample (0..1)")
        .default("0.1".to_string())
        .validate_with(|r: &String| crate::domain::v2::plan::check_ratio(r.trim()))
        .interact_text()
        .map_err(unreadable)?;
    Ok(ratio.trim().to_string())
}

/// "Apply? [y/N]"; Esc cancels.
pub fn confirm_apply() -> Result<bool> {
    cancelled(
        Confirm::with_theme(theme().as_ref())
            .with_prompt("Apply?")
            .default(false)
            .interact_opt(),
    )
}
