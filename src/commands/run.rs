//! `vomsim run`: simulate a scenario's replications, write the run folder
//! (summary, replications, diagnosis, manifest, agents) and print the
//! headline numbers with their intervals.

use std::path::PathBuf;

use crate::cancel::Cancel;
use crate::commands::cli::RunArgs;
use crate::engine::limits::{self, Keeps};
use crate::engine::{self, RunOptions, RunResult};
use crate::error::{Error, Result};
use crate::measure::diagnosis;
use crate::measure::names::{group, metric};
use crate::measure::stats::summarize;
use crate::output::manifest::{ParametersFile, RunManifest};
use crate::output::ownership;
use crate::output::parquet::{Format, ReplicationsParquet};
use crate::output::{
    csv::{self, RowPrefix},
    folder::OutputDir,
};
use crate::scenario::Scenario;

use super::{Report, print_out, reps_option};

/// `vomsim run`.
pub(super) fn run(args: &RunArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
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
    let seed = options.seed;
    let drawn = match &args.parameters {
        None => None,
        Some(path) => Some(drawn_scenarios(args, path, &text, &scenario, seed, reps)?),
    };
    if let Some(drawn) = &drawn {
        for s in &drawn.scenarios {
            limits::estimate(s, options.reps, options.threads, Keeps::MetricValues, false)
                .check(&reps_option(args.reps, &args.scenario))?;
        }
    }
    drop(reading);
    cancel.check()?;
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(scenario.name()));
    let mut inputs = vec![("scenario file", args.scenario.as_path())];
    if let Some(path) = &args.parameters {
        inputs.push(("parameters file", path.as_path()));
    }
    ownership::check_not_input(&target, &inputs)?;
    let output = OutputDir::prepare(&target, args.force)?;
    // Output is formatted in parallel too, on the same number of threads.
    let pool = engine::thread_pool(options.threads)?;
    let format: Format = args.format.into();
    let stream = !args.no_replications && leaves_a_core_idle(options.threads);
    let (result, replications) = if !stream {
        let result = match &drawn {
            None => engine::run(&scenario, &options)?,
            Some(drawn) => engine::run_drawn(&drawn.scenarios, &drawn.of_rep, &options)?,
        };
        let replications = if args.no_replications {
            Replications::Off
        } else {
            Replications::ToWrite
        };
        (result, replications)
    } else {
        let catalog = crate::measure::metrics::catalog(scenario.program_months(), scenario.shape());
        let (result, name) =
            simulate_writing_replications(&output, &pool, format, &catalog, |each| match &drawn {
                None => engine::run_in_order(&scenario, &options, each),
                Some(drawn) => {
                    engine::run_drawn_in_order(&drawn.scenarios, &drawn.of_rep, &options, each)
                }
            })?;
        (result, Replications::Written(name))
    };
    let parameters_file = drawn.as_ref().map(|d| ParametersFile {
        draws: d.draws,
        path: d.path.clone(),
        sha256: d.sha256.clone(),
    });
    let writing = engine::writing_line(options.progress);
    let files = Files {
        replications,
        format,
        progress: &writing,
        parameters_file,
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
    // A stop requested while the files were written ends the run as a stop:
    // nothing is put in place (the staging folder goes with `output`).
    cancel.check()?;
    let written = output.commit()?;
    if args.quiet {
        return Ok(());
    }
    print_out(&highlights(&scenario, &options, &result, &written))
}

/// Whether a pool of `threads` leaves a core of this machine idle, for
/// the calling thread to write `replications.csv` while the pool
/// simulates ([`simulate_writing_replications`]). When the pool takes
/// every core, the rows are formatted on the pool after the simulation
/// instead: the same bytes, and measured cheaper there (a third busy
/// thread on two cores cost more in switching and shared caches than it
/// saved; vors_la, 10,000 replications on 2 threads).
fn leaves_a_core_idle(threads: usize) -> bool {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get) > threads
}

/// Simulates the run (`simulate`, given what to do with each replication
/// in order) while writing `replications.csv`: each replication's rows as
/// soon as it and those before it are simulated, by this thread while the
/// pool simulates the next ones (`engine::run_in_order`), and the rest when
/// the simulation ends (CSV: formatted on `pool`; Parquet: typed on this
/// thread). Returns the run and the file's name.
///
/// Why: written after the simulation, the largest file took about as long
/// again as the simulation (vors_la at 200 replications and 1 thread).
/// A run that stops or fails leaves no file: the folder is not committed.
fn simulate_writing_replications(
    output: &OutputDir,
    pool: &rayon::ThreadPool,
    format: Format,
    catalog: &[crate::measure::metrics::MetricKey],
    simulate: impl FnOnce(&mut dyn FnMut(u64, &[f64]) -> bool) -> Result<(RunResult, usize)>,
) -> Result<(RunResult, String)> {
    let mut simulated = None;
    let name = format.file("replications");
    let written = output
        .write_file(&name, |w| {
            let mut rows = ReplicationsOut::new(w, format, catalog)?;
            let mut failed = None;
            let outcome = simulate(
                &mut |rep, values| match rows.write_one(rep as usize, values) {
                    Ok(()) => true,
                    Err(e) => {
                        failed = Some(e);
                        false
                    }
                },
            );
            if let Some(e) = failed {
                return Err(e);
            }
            let (result, handed) = match outcome {
                Ok(done) => done,
                Err(stop) => {
                    simulated = Some(Err(stop));
                    return Err(std::io::Error::other("the run did not finish"));
                }
            };
            let finished = rows.write_from(pool, handed, &result.values[handed..]);
            simulated = Some(Ok(result));
            finished
        })
        .map(|()| name);
    match (simulated, written) {
        (Some(Err(stop)), _) => Err(stop),
        (_, Err(e)) => Err(e),
        (Some(Ok(result)), Ok(name)) => Ok((result, name)),
        (None, Ok(_)) => Err(Error::Internal(
            "replications.csv written without a run".to_string(),
        )),
    }
}

/// Where a run's replication rows go: CSV text, formatted here (and on
/// the pool for many at once), or a Parquet file typed from the values
/// (`output::parquet::ReplicationsParquet`, not through the CSV text).
enum ReplicationsOut<'a, W: std::io::Write + Send> {
    Csv {
        rows: csv::ReplicationRows,
        out: &'a mut W,
    },
    Parquet(Box<ReplicationsParquet<&'a mut W>>),
}

impl<'a, W: std::io::Write + Send> ReplicationsOut<'a, W> {
    /// Starts the table (its header) in `out`.
    fn new(
        out: &'a mut W,
        format: Format,
        catalog: &[crate::measure::metrics::MetricKey],
    ) -> std::io::Result<Self> {
        let prefix = RowPrefix::run();
        Ok(match format {
            Format::Csv => {
                writeln!(out, "{}", prefix.replications_header())?;
                ReplicationsOut::Csv {
                    rows: csv::ReplicationRows::new(&prefix, catalog),
                    out,
                }
            }
            Format::Parquet => {
                let table = ReplicationsParquet::new(out, Vec::new(), &prefix, catalog)?;
                ReplicationsOut::Parquet(Box::new(table))
            }
        })
    }

    /// Writes the rows of replication `rep`.
    fn write_one(&mut self, rep: usize, values: &[f64]) -> std::io::Result<()> {
        match self {
            ReplicationsOut::Csv { rows, out } => rows.write_one(out, rep, values),
            ReplicationsOut::Parquet(table) => table.write(rep, values),
        }
    }

    /// Writes the rows of replications `first..` (`values` are theirs),
    /// and ends the table.
    fn write_from(
        self,
        pool: &rayon::ThreadPool,
        first: usize,
        values: &[Vec<f64>],
    ) -> std::io::Result<()> {
        match self {
            ReplicationsOut::Csv { rows, out } => rows.write_from(out, pool, first, values),
            ReplicationsOut::Parquet(mut table) => {
                // The simulation is over: as many row groups as it had
                // threads are encoded at once, on threads of their own.
                table.set_threads(pool.current_num_threads());
                for (offset, row) in values.iter().enumerate() {
                    table.write(first + offset, row)?;
                }
                table.finish()
            }
        }
    }
}

/// `replications.csv` of a run.
enum Replications {
    /// Not written (`--no-replications`).
    Off,
    /// Already written with the simulation, under this name.
    Written(String),
    /// To write with the other files.
    ToWrite,
}

/// Which optional files a run writes, and the line that shows which file
/// is being written.
struct Files<'a> {
    replications: Replications,
    /// CSV or Parquet (`--format`).
    format: Format,
    progress: &'a indicatif::ProgressBar,
    /// `--parameters`, for the manifest.
    parameters_file: Option<ParametersFile>,
}

/// `run --parameters`: a scenario per parameter draw that a replication
/// uses, and the draw of each replication.
struct Drawn {
    scenarios: Vec<Scenario>,
    /// Index into `scenarios` of each replication.
    of_rep: Vec<usize>,
    /// Draws in the file, its path as given and its SHA-256.
    draws: usize,
    path: String,
    sha256: String,
}

/// Reads and checks `--parameters` before any work: every draw applied
/// through `--set` (the same validation and defaults as the command
/// line), its keys neither `--set` too nor the simulation's own settings,
/// and the same rows reported at every draw; then each replication's draw
/// (by weight, from the replication's own stream).
fn drawn_scenarios(
    args: &RunArgs,
    path: &std::path::Path,
    text: &str,
    scenario: &Scenario,
    seed: u64,
    reps: u64,
) -> Result<Drawn> {
    let bad = |requirement: String| Error::BadArgument {
        option: "--parameters".to_string(),
        value: path.display().to_string(),
        requirement,
    };
    if args.agents || args.agents_reps.is_some() {
        return Err(bad(
            "cannot be combined with --agents: agents.csv is written for one parameter set"
                .to_string(),
        ));
    }
    let draws = crate::analysis::calibration::read_parameters(path)?;
    let set_keys: Vec<&str> = args
        .set
        .iter()
        .filter_map(|s| s.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    for key in &draws.keys {
        if key == "name" || key.starts_with("simulation.") {
            return Err(bad(format!(
                "has the column `{key}`, which is not part of the model (the simulation's own \
                 settings and the name cannot vary by replication)"
            )));
        }
        if set_keys.contains(&key.as_str()) {
            return Err(bad(format!(
                "has the column `{key}`, which --set also gives; drop one of them"
            )));
        }
    }
    let catalog = crate::measure::metrics::catalog(scenario.program_months(), scenario.shape());
    let of_draw: Vec<usize> = (0..reps)
        .map(|rep| engine::parameter_draw(seed, rep, &draws.weights))
        .collect();
    let origin = args.scenario.display().to_string();
    let mut index = vec![None; draws.values.len()];
    let mut scenarios = Vec::new();
    let mut used = vec![false; draws.values.len()];
    for &d in &of_draw {
        used[d] = true;
    }
    for row in 0..draws.values.len() {
        let mut all = args.set.clone();
        all.extend(draws.overrides(row));
        let drawn = Scenario::from_toml_str(text, &origin, &all)
            .map_err(|e| bad(format!("row {}: {e}", row + 2)))?;
        if crate::measure::metrics::catalog(drawn.program_months(), drawn.shape()) != catalog {
            return Err(bad(format!(
                "row {}: changes which rows the run reports (its months or the effect's shape); \
                 only parameters that keep them can vary by replication",
                row + 2
            )));
        }
        if used[row] {
            index[row] = Some(scenarios.len());
            scenarios.push(drawn);
        }
    }
    Ok(Drawn {
        scenarios,
        of_rep: of_draw
            .iter()
            .map(|&d| index[d].expect("every drawn row is kept"))
            .collect(),
        draws: draws.values.len(),
        path: path.display().to_string(),
        sha256: draws.sha256,
    })
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
    match &choice.replications {
        Replications::Off => {}
        Replications::Written(name) => files.push(name.clone()),
        Replications::ToWrite => {
            writing(&format.file("replications"));
            let name = format.file("replications");
            output.write_file(&name, |w| {
                ReplicationsOut::new(w, format, &result.catalog)?.write_from(
                    pool,
                    0,
                    &result.values,
                )
            })?;
            files.push(name);
        }
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
            parameters_file: choice.parameters_file.clone(),
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
        "{}: {} replications in {} on {} threads -> {}",
        scenario.name(),
        options.reps,
        super::duration(result.wall_seconds),
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
