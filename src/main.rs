//! The `vomsim` binary: parse the command line, call the library, and map
//! an error to a one-paragraph message and an exit code (0 success, 1 a
//! failure while running, 2 bad input or usage, 130 or 143 when stopped by
//! SIGINT or SIGTERM).

use std::process::ExitCode;

use clap::Parser;
use vomsim::cancel::Cancel;
use vomsim::commands::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Without handlers (they cannot fail on Linux) a signal still stops the
    // process, only less tidily.
    let cancel = Cancel::on_signals().unwrap_or_default();
    match vomsim::execute(cli, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
