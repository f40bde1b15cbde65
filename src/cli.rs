//! The command line (DESIGN.md's contract), declared with clap's derive API.
//! Parsing only: what each command does lives in [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A Monte Carlo, agent-based simulator of youth diversion through
/// victim-offender mediation.
#[derive(Debug, Parser)]
#[command(name = "vomsim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario's replications and write summary.csv, replications.csv
    /// and manifest.json (and agents.csv with --agents).
    Run(RunArgs),
    /// Check a scenario file and print it resolved: every key, defaults included.
    Validate(ValidateArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Replications (default: the scenario's simulation.replications).
    #[arg(long, value_parser = at_least_one)]
    pub reps: Option<u64>,
    /// Master seed (default: the scenario's simulation.seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// Output folder (default: output/<scenario name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also write agents.csv: every youth of replication 0.
    #[arg(long)]
    pub agents: bool,
    /// No progress bar and no summary table.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// A whole number of at least 1 (for `--reps`, `--threads`).
fn at_least_one(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
