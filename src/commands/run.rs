//! `vomsim run`: simulate a scenario's replications, write the run folder
//! (summary, replications, diagnosis, manifest, agents) and print the
//! headline numbers with their intervals.

use std::io::Write;
use std::path::PathBuf;

use crate::cancel::Cancel;
use crate::commands::cli::RunArgs;
use crate::engine::limits::{self, Keeps};
use crate::engine::{self, RunOptions, RunResult};
use crate::error::Result;
use crate::measure::diagnosis;
use crate::measure::stats::summarize;
use crate::output::ownership;
use crate::output::{
    csv::{self, RowPrefix},
    folder::OutputDir,
};
use crate::scenario::Scenario;

use super::{Report, print_out, reps_option};

/// `vomsim run`.
pub(super) fn run(args: &RunArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let scenario = Scenario::load(&args.scenario, &args.set)?;
    let options = RunOptions {
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps: args.reps.unwrap_or(scenario.raw.simulation.replications),
        threads: limits::threads(args.threads),
        progress: !args.quiet,
        agents: args.agents,
        cancel: cancel.clone(),
    };
    limits::estimate(
        &scenario,
        options.reps,
        options.threads,
        Keeps::MetricValues,
        args.agents,
    )
    .check(&reps_option(args.reps, &args.scenario))?;
    drop(reading);
    cancel.check()?;
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(scenario.name()));
    ownership::check_not_input(&target, &[("scenario file", &args.scenario)])?;
    let output = OutputDir::prepare(&target, args.force)?;
    let result = engine::run(&scenario, &options)?;
    // Output is formatted in parallel too, on the same number of threads.
    let pool = engine::thread_pool(options.threads)?;
    write_run(&output, &pool, &scenario, &args.scenario, &options, &result)?;
    let written = output.commit()?;
    if args.quiet {
        return Ok(());
    }
    print_out(&highlights(&scenario, &options, &result, &written))
}

/// Writes every file of a run into the output folder.
fn write_run(
    output: &OutputDir,
    pool: &rayon::ThreadPool,
    scenario: &Scenario,
    scenario_path: &std::path::Path,
    options: &RunOptions,
    result: &RunResult,
) -> Result<()> {
    output.write_file("summary.csv", |w| {
        csv::write_summary(
            w,
            pool,
            &RowPrefix::run(),
            true,
            &result.catalog,
            &result.values,
        )
    })?;
    output.write_file("replications.csv", |w| {
        csv::write_replications(
            w,
            pool,
            &RowPrefix::run(),
            true,
            &result.catalog,
            &result.values,
        )
    })?;
    let diagnosis = diagnosis::diagnose(&result.catalog, &result.values, scenario.randomized());
    output.write_file("diagnosis.csv", |w| {
        csv::write_diagnosis(w, None, true, &diagnosis)
    })?;
    if let Some(agents) = &result.agents {
        output.write_file("agents.csv", |w| csv::write_agents(w, agents))?;
    }
    let mut files = vec!["summary.csv", "replications.csv", "diagnosis.csv"];
    if result.agents.is_some() {
        files.push("agents.csv");
    }
    files.push("manifest.json");
    let manifest = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "scenario": scenario.name(),
        "scenario_file": scenario_path.display().to_string(),
        "scenario_sha256": scenario.source_sha256,
        "seed": options.seed,
        "reps": options.reps,
        "threads": options.threads,
        "wall_seconds": result.wall_seconds,
        "parameters": scenario.raw,
        "files": files,
    });
    output.write_file("manifest.json", |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(std::io::Error::other)?;
        writeln!(w)
    })
}

/// A short table of the headline numbers, with 95% intervals across
/// replications.
fn highlights(
    scenario: &Scenario,
    options: &RunOptions,
    result: &RunResult,
    written: &std::path::Path,
) -> String {
    let mut report = Report::default();
    let find = |metric: &str, group: &str, month: Option<u32>| {
        result
            .catalog
            .iter()
            .position(|k| k.metric == metric && k.group == group && k.month == month)
            .and_then(|i| summarize(result.values.iter().map(|rep| rep[i])))
    };
    report.line(format_args!(
        "{}: {} replications in {:.1} s on {} threads -> {}",
        scenario.name(),
        options.reps,
        result.wall_seconds,
        options.threads,
        written.display()
    ));
    report.line(format_args!(
        "{:<34} {:>8}  {:>17}",
        "metric", "mean", "95% interval"
    ));
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
            report.line(format_args!(
                "{label:<34} {:>8.3}  [{:>7.3}, {:>7.3}]",
                s.mean, s.q025, s.q975
            ));
        }
    }
    report.0
}
