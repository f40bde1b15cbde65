//! `vomsim run`: simulate a scenario's replications, write the run folder
//! (summary, replications, diagnosis, manifest, agents) and print the
//! headline numbers with their intervals.

use std::path::PathBuf;

use crate::cancel::Cancel;
use crate::commands::cli::RunArgs;
use crate::engine::limits::{self, Keeps};
use crate::engine::{self, RunOptions, RunResult};
use crate::error::Result;
use crate::measure::diagnosis;
use crate::measure::names::{group, metric};
use crate::measure::stats::summarize;
use crate::output::manifest::RunManifest;
use crate::output::ownership;
use crate::output::parquet::Format;
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
    let reps = args.reps.unwrap_or(scenario.raw.simulation.replications);
    let agents_reps = match (args.agents_reps, args.agents) {
        (Some(n), _) => n.min(reps),
        (None, true) => reps,
        (None, false) => 0,
    };
    let options = RunOptions {
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps,
        threads: limits::threads(args.threads),
        progress: !args.quiet,
        agents_reps,
        cancel: cancel.clone(),
    };
    limits::estimate(
        &scenario,
        options.reps,
        options.threads,
        Keeps::MetricValues,
        agents_reps > 0,
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
    let writing = engine::writing_line(options.progress);
    let files = Files {
        replications: !args.no_replications,
        format: args.format.into(),
        progress: &writing,
    };
    let written = write_run(
        &output,
        &pool,
        &scenario,
        &args.scenario,
        &options,
        &result,
        &files,
    );
    writing.finish_and_clear();
    written?;
    let written = output.commit()?;
    if args.quiet {
        return Ok(());
    }
    print_out(&highlights(&scenario, &options, &result, &written))
}

/// Which optional files a run writes, and the line that shows which file
/// is being written.
struct Files<'a> {
    /// `replications.csv` (off with `--no-replications`).
    replications: bool,
    /// CSV or Parquet (`--format`).
    format: Format,
    progress: &'a indicatif::ProgressBar,
}

/// Writes every file of a run into the output folder.
fn write_run(
    output: &OutputDir,
    pool: &rayon::ThreadPool,
    scenario: &Scenario,
    scenario_path: &std::path::Path,
    options: &RunOptions,
    result: &RunResult,
    choice: &Files,
) -> Result<()> {
    let writing = |name: &str| choice.progress.set_message(name.to_string());
    let format = choice.format;
    writing(&format.file("summary"));
    let mut files = vec![output.write_table(format, "summary", Vec::new(), |mut w| {
        csv::write_summary(
            &mut w,
            pool,
            &RowPrefix::run(),
            true,
            &result.catalog,
            &result.values,
        )
    })?];
    if choice.replications {
        writing(&format.file("replications"));
        files.push(
            output.write_table(format, "replications", Vec::new(), |mut w| {
                csv::write_replications(
                    &mut w,
                    pool,
                    &RowPrefix::run(),
                    true,
                    &result.catalog,
                    &result.values,
                )
            })?,
        );
    }
    writing(&format.file("diagnosis"));
    let diagnosis = diagnosis::diagnose(&result.catalog, &result.values);
    files.push(
        output.write_table(format, "diagnosis", Vec::new(), |mut w| {
            csv::write_diagnosis(&mut w, Some(&RowPrefix::run()), true, &diagnosis)
        })?,
    );
    if options.agents_reps > 0 {
        writing(&format.file("agents"));
        // The youths are simulated again while they are written, a chunk
        // of replications at a time; a stop requested meanwhile ends the
        // run as a stop, not as a write error.
        let mut stopped = None;
        let name = output.write_table(format, "agents", Vec::new(), |mut w| {
            csv::write_agents_header(&mut w)?;
            let written = engine::agents_in_order(
                pool,
                scenario,
                options.seed,
                options.agents_reps,
                &options.cancel,
                |rep, records| csv::write_agents(&mut w, rep, records, scenario.shape().horizon),
            );
            written.unwrap_or_else(|stop| {
                stopped = Some(stop);
                Ok(())
            })
        })?;
        if let Some(stop) = stopped {
            return Err(stop);
        }
        files.push(name);
    }
    files.push("manifest.json".to_string());
    writing("manifest.json");
    output.write_file("manifest.json", |w| {
        RunManifest {
            files: Some(files.clone()),
            parameters: serde_json::to_value(&scenario.raw).map_err(std::io::Error::other)?,
            reps: options.reps,
            scenario: scenario.name().to_string(),
            scenario_file: scenario_path.display().to_string(),
            scenario_sha256: scenario.source_sha256.clone(),
            seed: options.seed,
            threads: options.threads,
            version: env!("CARGO_PKG_VERSION").to_string(),
            wall_seconds: result.wall_seconds,
        }
        .write(w)
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
        (
            "referrals per replication",
            metric::REFERRALS,
            group::REFERRED,
            None,
        ),
        ("share mediated", metric::SHARE, group::MEDIATED, None),
        (
            "share victim declined",
            metric::SHARE,
            group::VICTIM_DECLINED,
            None,
        ),
        (
            "12-month rearrest, mediated",
            metric::REARREST,
            group::MEDIATED,
            Some(12),
        ),
        (
            "12-month rearrest, victim declined",
            metric::REARREST,
            group::VICTIM_DECLINED,
            Some(12),
        ),
        (
            "effect ratio at 12: true ATT",
            metric::EFFECT_RATIO,
            group::TRUE_ATT,
            Some(12),
        ),
        (
            "effect ratio at 12: VORS design",
            metric::EFFECT_RATIO,
            group::VORS_DESIGN,
            Some(12),
        ),
        (
            "effect ratio at 12: naive",
            metric::EFFECT_RATIO,
            group::NAIVE,
            Some(12),
        ),
        (
            "effect ratio at 30: true ATT",
            metric::EFFECT_RATIO,
            group::TRUE_ATT,
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
