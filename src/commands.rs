//! What each subcommand does, as the pipeline reads: load the scenario,
//! validate it, simulate, summarize, export. The binary only parses
//! arguments and maps the result to an exit code.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{Cli, Command, RunArgs, SizeArgs, ValidateArgs};
use crate::designs;
use crate::engine::{self, RunOptions, RunResult};
use crate::error::{Error, Result};
use crate::export::{self, OutputDir};
use crate::scenario::Scenario;
use crate::sizing::{self, SizeOptions};
use crate::stats::summarize;

/// Runs one command line.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => validate(&args),
        Command::Size(args) => size(&args),
    }
}

/// `vomsim size`: the smallest pool meeting a wait target.
fn size(args: &SizeArgs) -> Result<()> {
    let scenario = Scenario::load(&args.scenario, &args.set)?;
    let bad = |option: &str, value: f64, requirement: &str| Error::BadArgument {
        option: option.to_string(),
        value: value.to_string(),
        requirement: requirement.to_string(),
    };
    if !(args.quantile > 0.0 && args.quantile <= 1.0) {
        return Err(bad("--quantile", args.quantile, "must lie in (0, 1]"));
    }
    if !(args.wait_days.is_finite() && args.wait_days >= 0.0) {
        return Err(bad(
            "--wait-days",
            args.wait_days,
            "must be a number of days of at least 0",
        ));
    }
    if !(args.confidence > 0.0 && args.confidence <= 1.0) {
        return Err(bad("--confidence", args.confidence, "must lie in (0, 1]"));
    }
    if let Some(r) = args.max_returned_share
        && !(0.0..=1.0).contains(&r)
    {
        return Err(bad("--max-returned-share", r, "must lie in [0, 1]"));
    }
    let current = lever_value(&scenario, &args.lever)?;
    let from = args.from.unwrap_or(current / 4);
    let to = args.to.unwrap_or((current * 2).max(10));
    if from > to {
        return Err(bad(
            "--from",
            from as f64,
            &format!("must not exceed --to ({to})"),
        ));
    }
    let step = args.step.unwrap_or(((to - from) / 9).max(1));
    let values: Vec<u64> = (from..=to).step_by(step as usize).collect();
    if values.len() > 1000 {
        return Err(bad(
            "--step",
            step as f64,
            "gives more than 1000 values to try; raise it",
        ));
    }
    let options = SizeOptions {
        lever: args.lever.clone(),
        values,
        wait_days: args.wait_days,
        quantile: args.quantile,
        max_returned_share: args.max_returned_share,
        confidence: args.confidence,
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps: args.reps.unwrap_or(scenario.raw.simulation.replications),
        threads: args
            .threads
            .map_or_else(default_threads, |t| t.min(4096) as usize),
        progress: !args.quiet,
    };
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_size", scenario.name())));
    let output = OutputDir::prepare(&target, args.force)?;
    let rows = sizing::size(&args.scenario, &args.set, &options)?;
    output.write_file("size.csv", |w| sizing::write_size(w, &rows))?;
    let written = output.commit()?;

    println!(
        "{}: {} by {}, {} replications each; target: {:.0}% of waits within {} days in {:.0}% of replications{}",
        scenario.name(),
        args.lever,
        step,
        options.reps,
        args.quantile * 100.0,
        args.wait_days,
        args.confidence * 100.0,
        args.max_returned_share
            .map_or_else(String::new, |r| format!(
                ", at most {:.1}% returned",
                r * 100.0
            ))
    );
    println!(
        "{:>8} {:>17} {:>14} {:>9} {:>13} {:>6}",
        "value",
        "active mediators",
        format!("wait q{:.0} (d)", args.quantile * 100.0),
        "returned",
        "reps meeting",
        "meets"
    );
    for r in &rows {
        println!(
            "{:>8} {:>17.1} {:>14.1} {:>8.1}% {:>12.0}% {:>6}",
            r.value,
            r.active_mediators_mean,
            r.wait_days_q,
            r.returned_share * 100.0,
            r.share_meeting * 100.0,
            if r.meets_target { "yes" } else { "no" }
        );
    }
    match sizing::smallest_meeting(&rows) {
        Some(r) => println!(
            "smallest {} meeting the target: {} (about {:.1} active mediators on average) -> {}",
            args.lever,
            r.value,
            r.active_mediators_mean,
            written.join("size.csv").display()
        ),
        None => println!(
            "no value tried meets the target; try a larger --to -> {}",
            written.join("size.csv").display()
        ),
    }
    Ok(())
}

/// The scenario's current value of a whole-number key.
fn lever_value(scenario: &Scenario, lever: &str) -> Result<u64> {
    let tree = toml::Value::try_from(&scenario.raw).expect("a scenario serializes to TOML");
    let value = lever
        .split('.')
        .try_fold(&tree, |node, part| node.get(part));
    match value {
        Some(toml::Value::Integer(n)) if *n >= 0 => Ok(*n as u64),
        Some(other) => Err(Error::BadArgument {
            option: "--lever".to_string(),
            value: format!("{lever} (= {other})"),
            requirement: "must name a whole-number key such as mediators.initial_active or mediators.cohort_size".to_string(),
        }),
        None => Err(Error::BadArgument {
            option: "--lever".to_string(),
            value: lever.to_string(),
            requirement: "is not a scenario key (see `vomsim validate`)".to_string(),
        }),
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
    let diagnosis = designs::diagnose(&result.catalog, &result.values, scenario.randomized());
    output.write_file("diagnosis.csv", |w| export::write_diagnosis(w, &diagnosis))?;
    if let Some(agents) = &result.agents {
        output.write_file("agents.csv", |w| export::write_agents(w, agents))?;
    }
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
