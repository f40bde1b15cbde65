//! The library's one error type. Every variant carries enough context (file,
//! key, value, allowed range) for a one-paragraph message, and says whether
//! it was the user's input (exit code 2) or a failure while running (1).

use std::path::PathBuf;

/// Everything that can go wrong in vomsim.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file could not be read.
    #[error("{path}: cannot read the scenario file: {source}")]
    ReadScenario {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The scenario file is not valid TOML, or a value has the wrong type.
    /// The TOML parser's message carries the line and column.
    #[error("{origin}: {message}")]
    Syntax { origin: String, message: String },

    /// A key that the schema does not know.
    #[error("{origin}: unknown key `{key}`{}", suggestion_text(.suggestion))]
    UnknownKey {
        origin: String,
        key: String,
        suggestion: Option<String>,
    },

    /// A `[sweep.parameters]` key that is not a scenario key.
    #[error(
        "{origin}: unknown sweep parameter `{key}` in [sweep.parameters]: each parameter a sweep varies must be a scenario key{}",
        suggestion_text(.suggestion)
    )]
    UnknownSweepParameter {
        origin: String,
        key: String,
        suggestion: Option<String>,
    },

    /// A value outside its allowed range, or an inconsistent combination.
    #[error("{origin}: {key} = {value} {requirement}")]
    Invalid {
        origin: String,
        key: String,
        value: String,
        requirement: String,
    },

    /// A targets-file row naming a metric, group or month the scenario
    /// does not report, with the nearest one it does.
    #[error("unknown {what} `{name}` in {file} row {row}{}", suggestion_text(.suggestion))]
    UnknownTarget {
        file: String,
        row: usize,
        what: &'static str,
        name: String,
        suggestion: Option<String>,
    },

    /// A malformed `--set KEY=VALUE`.
    #[error("--set {arg}: {message}")]
    BadOverride { arg: String, message: String },

    /// A command-line value out of range (`--reps 0`, `--threads 0`).
    #[error("{option} = {value}: {requirement}")]
    BadArgument {
        option: String,
        value: String,
        requirement: String,
    },

    /// The output (a folder, or calibrate's file) exists and `--force`
    /// was not given.
    #[error(
        "{path}: the output already exists; pass --force to replace it (vomsim's own output only), or --out to choose another"
    )]
    OutputExists { path: PathBuf },

    /// The output folder cannot be used (a file is in the way, or its
    /// parent cannot be written). Checked before any simulation.
    #[error("{path}: cannot use this output folder: {reason}")]
    OutputUnusable { path: PathBuf, reason: String },

    /// An output file (calibrate's) cannot be used: it is a folder, it is
    /// not vomsim's and `--force` was given, or its folder cannot be
    /// written. Checked before any work.
    #[error("{path}: cannot write this output file: {reason}")]
    OutputFileUnusable { path: PathBuf, reason: String },

    /// An output that is, holds or lies inside an input of the same
    /// command: writing it would replace or delete the input.
    #[error(
        "{output}: this output {relation} {input}, the command's {role}; writing it would \
         destroy that input: choose another --out"
    )]
    OutputIsInput {
        output: PathBuf,
        relation: &'static str,
        role: &'static str,
        input: PathBuf,
    },

    /// The output could not be written.
    #[error("{path}: cannot write output: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    /// calibrate's scenario text would not read back as the values it
    /// verified (a bug in vomsim): nothing was written.
    #[error(
        "{path}: not written: the calibrated scenario would not read back as the values \
         calibrate verified: {reason}; this is a bug in vomsim, please report it with the \
         scenario file"
    )]
    Unverified { path: PathBuf, reason: String },

    /// A sweep's fragment vanished or cannot be read while its final files
    /// are assembled (they were checked when the run started).
    #[error("{path}: {reason}")]
    Fragment { path: PathBuf, reason: String },

    /// Stopped by a signal.
    #[error("interrupted by {signal}: partial output was removed")]
    Interrupted { signal: &'static str, code: u8 },

    /// vomsim's own parts disagree (a bug), e.g. a schema key that the
    /// scenario reference does not document.
    #[error("{0}; this is a bug in vomsim, please report it")]
    Internal(String),

    /// The thread pool could not be built.
    #[error("cannot start {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
}

fn suggestion_text(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

impl Error {
    /// Whether the error is the user's input (a bad file, key, value or
    /// argument) rather than a failure while running.
    pub fn is_input_error(&self) -> bool {
        !matches!(
            self,
            Error::Write { .. }
                | Error::Unverified { .. }
                | Error::Fragment { .. }
                | Error::Threads { .. }
                | Error::Internal(_)
                | Error::Interrupted { .. }
        )
    }

    /// The process exit code: 2 for bad input or usage, 1 for a failure
    /// while running, 130 or 143 when stopped by SIGINT or SIGTERM.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted { code, .. } => *code,
            _ if self.is_input_error() => 2,
            _ => 1,
        }
    }
}

/// The library's result type.
pub type Result<T> = std::result::Result<T, Error>;
