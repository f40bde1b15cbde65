//! The `vomsim` binary: parse the command line, call the library, and map
//! an error to a one-paragraph message and an exit code (0 success, 1 a
//! failure while running, 2 bad input or usage).

use std::process::ExitCode;

use clap::Parser;
use vomsim::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match vomsim::execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
