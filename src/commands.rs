//! What each subcommand does, as the pipeline reads: load the scenario,
//! validate it, simulate, summarize, export. The binary only parses
//! arguments and maps the result to an exit code.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{Cli, Command, RunArgs, ValidateArgs};
use crate::engine::{self, RunOptions, RunResult};
use crate::error::Result;
use crate::export::{self, OutputDir};
use crate::scenario::Scenario;
use crate::stats::summarize;

/// Runs one command line.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => validate(&args),
    }
}

/// `vomsim validate`: print the resolved scenario.
fn validate(args: &ValidateArgs) -> Result<()> {
    let scenario = Scenario::load(&args.scenario, &args.set)?;
    print!("{}", scenario.to_toml());
    Ok(())
}

/// `vomsim run`.
fn run(args: &RunArgs) -> Result<()> {
    let scenario = Scenario::load(&args.scenario, &args.set)?;
    let options = RunOptions {
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps: args.reps.unwrap_or(scenario.raw.simulation.replications),
        threads: args
            .threads
            .map_or_else(default_threads, |t| t.min(4096) as usize),
        progress: !args.quiet,
        agents: args.agents,
    };
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(scenario.name()));
    let output = OutputDir::prepare(&target, args.force)?;
    let result = engine::run(&scenario, &options)?;
    write_run(&output, &scenario, &args.scenario, &options, &result)?;
    let written = output.commit()?;
    if !args.quiet {
        print_highlights(&scenario, &options, &result, &written);
    }
    Ok(())
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Writes every file of a run into the output folder.
fn write_run(
    output: &OutputDir,
    scenario: &Scenario,
    scenario_path: &std::path::Path,
    options: &RunOptions,
    result: &RunResult,
) -> Result<()> {
    output.write_file("summary.csv", |w| {
        export::write_summary(w, 0, &result.catalog, &result.values)
    })?;
    output.write_file("replications.csv", |w| {
        export::write_replications(w, 0, &result.catalog, &result.values)
    })?;
    if let Some(agents) = &result.agents {
        output.write_file("agents.csv", |w| export::write_agents(w, agents))?;
    }
    let manifest = serde_json::json!({
        "vomsim_version": env!("CARGO_PKG_VERSION"),
        "scenario": scenario.name(),
        "scenario_file": scenario_path.display().to_string(),
        "scenario_sha256": scenario.source_sha256,
        "seed": options.seed,
        "reps": options.reps,
        "threads": options.threads,
        "wall_seconds": result.wall_seconds,
        "parameters": scenario.raw,
    });
    output.write_file("manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(std::io::Error::other)?;
        writeln!(w)
    })
}

/// A short table of the headline numbers, with 95% intervals across
/// replications.
fn print_highlights(
    scenario: &Scenario,
    options: &RunOptions,
    result: &RunResult,
    written: &std::path::Path,
) {
    let find = |metric: &str, group: &str, month: Option<u32>| {
        result
            .catalog
            .iter()
            .position(|k| k.metric == metric && k.group == group && k.month == month)
            .and_then(|i| summarize(result.values.iter().map(|rep| rep[i])))
    };
    println!(
        "{}: {} replications in {:.1} s on {} threads -> {}",
        scenario.name(),
        options.reps,
        result.wall_seconds,
        options.threads,
        written.display()
    );
    println!("{:<34} {:>8}  {:>17}", "metric", "mean", "95% interval");
    let rows: [(&str, &str, &str, Option<u32>); 9] = [
        ("referrals per replication", "referrals", "referred", None),
        ("share mediated", "share", "mediated", None),
        ("share victim declined", "share", "victim_declined", None),
        (
            "12-month rearrest, mediated",
            "rearrest",
            "mediated",
            Some(12),
        ),
        (
            "12-month rearrest, victim declined",
            "rearrest",
            "victim_declined",
            Some(12),
        ),
        (
            "effect ratio at 12: true ATT",
            "effect_ratio",
            "true_att",
            Some(12),
        ),
        (
            "effect ratio at 12: VORS design",
            "effect_ratio",
            "vors_design",
            Some(12),
        ),
        (
            "effect ratio at 12: naive",
            "effect_ratio",
            "naive",
            Some(12),
        ),
        (
            "effect ratio at 30: true ATT",
            "effect_ratio",
            "true_att",
            Some(30),
        ),
    ];
    for (label, metric, group, month) in rows {
        if let Some(s) = find(metric, group, month) {
            println!(
                "{label:<34} {:>8.3}  [{:>7.3}, {:>7.3}]",
                s.mean, s.q025, s.q975
            );
        }
    }
}
