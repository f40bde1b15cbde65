//! The `vomsim` binary: parse the command line, call the library, and map
//! an error to a one-paragraph message and an exit code (0 success, 1 a
//! failure while running, 2 bad input or usage, 130 or 143 when stopped by
//! SIGINT or SIGTERM).

use std::process::ExitCode;

use clap::Parser;
use vomsim::cancel::Cancel;
use vomsim::commands::cli::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: print as clap lays them out.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("{}", one_paragraph(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    // Without handlers (they cannot fail on Linux) a signal still stops the
    // process, only less tidily.
    let cancel = Cancel::on_signals().unwrap_or_default();
    match vomsim::execute(cli, &cancel) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", without_os_codes(&err.to_string()));
            ExitCode::from(err.exit_code())
        }
    }
}

/// Folds clap's usage error (a message, a blank line, usage and a hint to
/// `--help`) into one paragraph, as every other error is.
fn one_paragraph(message: &str) -> String {
    let mut paragraph = String::new();
    for line in message.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if !paragraph.is_empty() {
            paragraph.push_str(if paragraph.ends_with(':') { " " } else { ". " });
        }
        paragraph.push_str(line.trim_end_matches('.'));
    }
    paragraph.push('.');
    paragraph
}

/// Drops the operating system's error numbers (" (os error 2)") from a
/// message: the words before them already say what happened.
fn without_os_codes(message: &str) -> String {
    let mut text = message.to_string();
    while let Some(at) = text.find(" (os error ") {
        match text[at..].find(')') {
            Some(end) => text.replace_range(at..at + end + 1, ""),
            None => break,
        }
    }
    text
}
