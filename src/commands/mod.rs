//! What each subcommand does, as the pipeline reads: load the scenario,
//! validate it, simulate, summarize, export. The binary only parses
//! arguments and maps the result to an exit code.

mod calibrate;
pub mod cli;
mod compare;
mod init;
mod plan;
mod power;
mod report;
mod run;
mod serve;
mod size;
mod sweep;
mod validate;

pub use size::SIZE_LEVERS;

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use crate::cancel::Cancel;
use crate::commands::cli::{Cli, Command};
use crate::error::{Error, Result};

/// Text for stdout, gathered and written at once by [`print_out`].
#[derive(Default)]
pub(crate) struct Report(String);

impl Report {
    pub(crate) fn line(&mut self, args: fmt::Arguments) {
        use fmt::Write as _;
        // Writing into a String cannot fail.
        let _ = writeln!(self.0, "{args}");
    }
}

/// Writes to stdout; a reader that went away (`vomsim ... | head`) is not
/// an error.
pub(crate) fn print_out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: PathBuf::from("<stdout>"),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Runs one command line; `cancel` stops long runs between replications.
pub fn execute(cli: Cli, cancel: &Cancel) -> Result<()> {
    match cli.command {
        Command::Init(args) => init::init(&args),
        Command::Run(args) => run::run(&args, cancel),
        Command::Validate(args) => validate::validate(&args, cancel),
        Command::Size(args) => size::size(&args, cancel),
        Command::Plan(args) => plan::plan(&args, cancel),
        Command::Power(args) => power::power(&args, cancel),
        Command::Calibrate(args) => calibrate::calibrate(&args, cancel),
        Command::Sweep(args) => sweep::run_sweep(&args, cancel),
        Command::Merge(args) => sweep::merge(&args),
        Command::Compare(args) => compare::run_compare(&args),
        Command::Report(args) => report::report(&args),
        Command::Serve(args) => serve::serve(&args, cancel),
    }
}

/// A wall time for the summary line of a command: milliseconds below a
/// second (a small run takes a few dozen, which one decimal of seconds
/// showed as `0.0 s`), else seconds to one decimal.
pub(crate) fn duration(seconds: f64) -> String {
    // (Below 999.5 ms, so that rounding never shows `1000 ms`.)
    let ms = seconds * 1000.0;
    if ms < 999.5 {
        format!("{ms:.0} ms")
    } else {
        format!("{seconds:.1} s")
    }
}

/// Where a run's replications came from, for a refusal: `--reps`, or the
/// scenario's `simulation.replications`.
pub(crate) fn reps_option(given: Option<u64>, scenario: &std::path::Path) -> String {
    match given {
        Some(_) => "--reps".to_string(),
        None => format!("{}: simulation.replications", scenario.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_below_a_second_are_in_milliseconds() {
        assert_eq!(duration(0.0), "0 ms");
        assert_eq!(duration(0.0404), "40 ms");
        assert_eq!(duration(0.9994), "999 ms");
        assert_eq!(duration(0.9996), "1.0 s");
        assert_eq!(duration(0.9995f64.next_down()), "1.0 s");
        assert_eq!(duration(1.0), "1.0 s");
        assert_eq!(duration(12.345), "12.3 s");
    }
}
