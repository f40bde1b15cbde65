//! What each subcommand does, as the pipeline reads: load the scenario,
//! validate it, simulate, summarize, export. The binary only parses
//! arguments and maps the result to an exit code.

pub mod cli;

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use crate::analysis::calibration::{self, CalibrationOptions};
use crate::analysis::compare;
use crate::analysis::sizing::{self, SizeOptions};
use crate::analysis::sweep::{self, Sweep};
use crate::cancel::Cancel;
use crate::commands::cli::{
    CalibrateArgs, Cli, Command, CompareArgs, MergeArgs, ReportArgs, RunArgs, SizeArgs, SweepArgs,
    ValidateArgs,
};
use crate::engine::limits::{self, Keeps};
use crate::engine::{self, RunOptions, RunResult};
use crate::error::{Error, Result};
use crate::measure::designs;
use crate::measure::stats::summarize;
use crate::output::ownership;
use crate::output::{
    csv::{self, RowPrefix},
    folder::{self, OutputDir},
};
use crate::scenario::Scenario;

/// Text for stdout, gathered and written at once by [`print_out`].
#[derive(Default)]
struct Report(String);

impl Report {
    fn line(&mut self, args: fmt::Arguments) {
        use fmt::Write as _;
        // Writing into a String cannot fail.
        let _ = writeln!(self.0, "{args}");
    }
}

/// Writes to stdout; a reader that went away (`vomsim ... | head`) is not
/// an error.
fn print_out(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: PathBuf::from("<stdout>"),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Runs one command line; `cancel` stops long runs between replications.
pub fn execute(cli: Cli, cancel: &Cancel) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(&args, cancel),
        Command::Validate(args) => validate(&args, cancel),
        Command::Size(args) => size(&args, cancel),
        Command::Calibrate(args) => calibrate(&args, cancel),
        Command::Sweep(args) => run_sweep(&args, cancel),
        Command::Merge(args) => merge(&args),
        Command::Compare(args) => run_compare(&args),
        Command::Report(args) => report(&args),
    }
}

/// `vomsim compare`.
fn run_compare(args: &CompareArgs) -> Result<()> {
    let name = |p: &std::path::Path| {
        p.file_name()
            .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned())
    };
    let target = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(format!("compare_{}_vs_{}", name(&args.a), name(&args.b)))
    });
    ownership::check_not_input(
        &target,
        &[("run folder A", &args.a), ("run folder B", &args.b)],
    )?;
    let output = OutputDir::prepare(&target, args.force)?;
    let rows = compare::compare(&args.a, &args.b)?;
    output.write_file("compare.csv", |w| compare::write_compare(w, &rows))?;
    output.write_file("manifest.json", |w| {
        let manifest = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "a": args.a.display().to_string(),
            "b": args.b.display().to_string(),
            "paired": rows.first().is_some_and(|r| r.paired),
            "files": ownership::COMPARE_FILES,
        });
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(std::io::Error::other)?;
        writeln!(w)
    })?;
    let written = output.commit()?;
    let mut out = Report::default();
    let paired = rows.first().is_some_and(|r| r.paired);
    out.line(format_args!(
        "A = {}, B = {}; {} (intervals: 95% of one program year's difference A - B)",
        args.a.display(),
        args.b.display(),
        if paired {
            "paired by replication (same seed and replications: common random numbers)"
        } else {
            "independent runs"
        }
    ));
    out.line(format_args!(
        "{:<30} {:<18} {:>3} {:>11} {:>11} {:>11} {:>25} {:>10}",
        "metric", "group", "m", "A", "B", "A - B", "95% interval", "P(A better)"
    ));
    for r in &rows {
        out.line(format_args!(
            "{:<30} {:<18} {:>3} {:>11.4} {:>11.4} {:>+11.4} [{:>+11.4}, {:>+11.4}] {:>10}",
            r.metric,
            r.group,
            r.month,
            r.a_mean,
            r.b_mean,
            r.difference,
            r.lower,
            r.upper,
            r.p_a_better
                .map_or_else(|| "-".to_string(), |p| format!("{:.2}", p))
        ));
    }
    out.line(format_args!("-> {}", written.join("compare.csv").display()));
    print_out(&out.0)
}

/// `vomsim report`.
fn report(args: &ReportArgs) -> Result<()> {
    let path = crate::output::report::write(&args.dir)?;
    let mut out = Report::default();
    out.line(format_args!("wrote {}", path.display()));
    print_out(&out.0)
}

/// `vomsim sweep`.
fn run_sweep(args: &SweepArgs, cancel: &Cancel) -> Result<()> {
    let sweep = Sweep::load(&args.sweep, &args.set)?;
    let shard = args
        .shard
        .as_deref()
        .map(sweep::run::parse_shard)
        .transpose()?;
    let options = sweep::run::SweepOptions {
        seed: args.seed.unwrap_or(sweep.base_scenario.raw.simulation.seed),
        reps: args
            .reps
            .unwrap_or(sweep.base_scenario.raw.simulation.replications),
        threads: threads(args.threads),
        progress: !args.quiet,
        shard,
        resume: args.resume,
        force: args.force,
        cancel: cancel.clone(),
    };
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(sweep.base_scenario.name()));
    ownership::check_not_input(&dir, &[("sweep file", &args.sweep)])?;
    let report = sweep::run::run(&sweep, &dir, &options)?;
    if args.quiet {
        return Ok(());
    }
    let mut out = Report::default();
    out.line(format_args!(
        "{}: {} points{} x {} replications ({} computed, {} already finished) in {:.1} s -> {}",
        sweep.base_scenario.name(),
        report.points,
        shard.map_or_else(String::new, |(k, n)| format!(" of shard {k}/{n}")),
        options.reps,
        report.computed,
        report.skipped,
        report.wall_seconds,
        dir.display()
    ));
    out.line(format_args!("{}", sweep::run::describe(&sweep).trim_end()));
    print_out(&out.0)
}

/// `vomsim merge`.
fn merge(args: &MergeArgs) -> Result<()> {
    let shards: Vec<(&'static str, &std::path::Path)> = args
        .dirs
        .iter()
        .map(|d| ("shard folder", d.as_path()))
        .collect();
    ownership::check_not_input(&args.out, &shards)?;
    let points = sweep::run::merge(&args.dirs, &args.out, args.force, default_threads())?;
    let mut out = Report::default();
    out.line(format_args!(
        "merged {} points from {} folders -> {}",
        points,
        args.dirs.len(),
        args.out.display()
    ));
    print_out(&out.0)
}

/// `vomsim calibrate`: fit parameters to targets, verify, write the
/// calibrated scenario and calibration.csv.
fn calibrate(args: &CalibrateArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let scenario = Scenario::load(&args.scenario, &args.set)?;
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let targets = calibration::read_targets(&args.targets)?;
    let parameters = args
        .fit
        .iter()
        .map(|f| calibration::parse_fit(f))
        .collect::<Result<Vec<_>>>()?;
    // Everything checkable is checked before an output folder or a search.
    calibration::check(
        &text,
        &args.scenario.display().to_string(),
        &args.set,
        &parameters,
        &targets,
    )?;
    let verify_reps = args.verify_reps.unwrap_or(args.reps.saturating_mul(4));
    let threads = threads(args.threads);
    // Every evaluation and the verification hold their replications' values;
    // a fitted parameter may change the run's size, so the scenario is
    // checked at each bound too.
    let origin = args.scenario.display().to_string();
    let mut at_bounds = vec![scenario.clone()];
    for p in &parameters {
        for bound in [p.low, p.high] {
            let mut all = args.set.clone();
            all.push(format!("{}={bound}", p.key));
            at_bounds.push(Scenario::from_toml_str(&text, &origin, &all)?);
        }
    }
    let verify_option = if args.verify_reps.is_some() {
        "--verify-reps"
    } else {
        "--verify-reps (4 x --reps)"
    };
    for s in &at_bounds {
        for (reps, option) in [(args.reps, "--reps"), (verify_reps, verify_option)] {
            limits::estimate(s, reps, threads, Keeps::MetricValues, false).check(option)?;
        }
    }
    drop(reading);
    cancel.check()?;
    let file = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output")
            .join(format!("{}_calibrated", scenario.name()))
            .join(format!("{}.toml", scenario.name()))
    });
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let table = folder.join("calibration.csv");
    prepare_calibration_output(args, &file, &folder, &table)?;
    let options = CalibrationOptions {
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps: args.reps,
        verify_reps,
        threads,
        max_evaluations: args.max_evaluations as usize,
        progress: !args.quiet,
        cancel: cancel.clone(),
    };
    let started = std::time::Instant::now();
    let result =
        calibration::calibrate(&text, &origin, &args.set, &parameters, &targets, &options)?;
    let targets_name = args.targets.file_name().map_or_else(
        || args.targets.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let calibrated =
        calibration::calibrated_scenario(&text, &result, &targets_name, &calibration::today());
    folder::write_atomically(&file, |w| w.write_all(calibrated.as_bytes()))?;
    folder::write_atomically(&table, |w| calibration::write_calibration(w, &result))?;

    let mut report = Report::default();
    report.line(format_args!(
        "{}: {} evaluations of {} replications, objective {:.3}, {:.1} s; verified with {} replications at fresh seeds",
        scenario.name(),
        result.evaluations,
        options.reps,
        result.objective,
        started.elapsed().as_secs_f64(),
        options.verify_reps
    ));
    report.line(format_args!(
        "{:<38} {:>9} {:>9} {:>11} {:>11}",
        "parameter", "start", "fitted", "bounds", "+- (1 tol)"
    ));
    for p in &result.parameters {
        report.line(format_args!(
            "{:<38} {:>9.4} {:>9.4} {:>11} {:>11.4}{}",
            p.parameter.key,
            p.start,
            p.fitted,
            format!("{}..{}", p.parameter.low, p.parameter.high),
            p.half_width,
            if p.flat {
                "  flat: the targets barely pin it down"
            } else {
                ""
            }
        ));
    }
    report.line(format_args!(
        "{:<34} {:>8} {:>8} {:>19} {:>12}",
        "target", "target", "achieved", "95% interval", "status"
    ));
    for r in &result.targets {
        let t = &r.target;
        let name = format!("{} {} {}", t.metric, t.group, t.month);
        let status = match r.status {
            calibration::TargetStatus::Unreachable => {
                format!("unreachable (closest {:.4})", r.closest)
            }
            other => other.name().to_string(),
        };
        report.line(format_args!(
            "{:<34} {:>8.4} {:>8.4} [{:>8.4}, {:>8.4}] {:>12}",
            name.trim(),
            t.target,
            r.achieved,
            r.lower,
            r.upper,
            status
        ));
    }
    report.line(format_args!(
        "wrote {} and {}",
        file.display(),
        table.display()
    ));
    print_out(&report.0)
}

/// Checks calibrate's two outputs before any search: neither is an input,
/// a folder, or (with `--force`) a file vomsim did not write; their folder
/// can be written. Then removes temporary files of killed calibrations.
fn prepare_calibration_output(
    args: &CalibrateArgs,
    file: &std::path::Path,
    folder: &std::path::Path,
    table: &std::path::Path,
) -> Result<()> {
    use crate::output::ownership::Expected;
    let unusable = |path: &std::path::Path, reason: String| Error::OutputFileUnusable {
        path: path.to_path_buf(),
        reason,
    };
    if file.as_os_str().to_string_lossy().ends_with('/') {
        return Err(unusable(
            file,
            "it ends in `/`, naming a folder; --out names the calibrated scenario file to write"
                .to_string(),
        ));
    }
    ownership::check_output_name(file).map_err(|why| unusable(file, why))?;
    let inputs = [
        ("scenario file", args.scenario.as_path()),
        ("targets file", args.targets.as_path()),
    ];
    for (path, expected) in [
        (file, Expected::CalibratedScenario),
        (table, Expected::CalibrationTable),
    ] {
        ownership::check_not_input(path, &inputs)?;
        let Ok(metadata) = std::fs::symlink_metadata(path) else {
            continue;
        };
        if metadata.is_dir() {
            return Err(unusable(
                path,
                "it is a folder; --out names the calibrated scenario file, and calibration.csv \
                 goes beside it"
                    .to_string(),
            ));
        }
        if !args.force {
            return Err(Error::OutputExists {
                path: path.to_path_buf(),
            });
        }
        ownership::check_replaceable(path, expected).map_err(|why| unusable(path, why))?;
    }
    std::fs::create_dir_all(folder).map_err(|e| Error::OutputUnusable {
        path: folder.to_path_buf(),
        reason: e.to_string(),
    })?;
    let file_name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    ownership::remove_stale_temporaries(folder, |name| {
        name == file_name || name == "calibration.csv"
    });
    for name in [file_name.as_str(), "calibration.csv"] {
        ownership::check_writable(folder, name).map_err(|e| Error::OutputUnusable {
            path: folder.to_path_buf(),
            reason: format!("cannot write in it: {e}"),
        })?;
    }
    Ok(())
}

/// `vomsim size`: the smallest pool meeting a wait target.
fn size(args: &SizeArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
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
    // Counted before the values are listed: --to 18446744073709551615 must
    // not list them.
    if (to - from) / step >= 1000 {
        return Err(bad(
            "--step",
            step as f64,
            "gives more than 1000 values to try; raise it",
        ));
    }
    let values: Vec<u64> = (from..=to).step_by(step as usize).collect();
    let reps = args.reps.unwrap_or(scenario.raw.simulation.replications);
    let threads = threads(args.threads);
    // The lever may change the pool or the intake: every value is checked
    // (and validated) before the output folder exists.
    let option = reps_option(args.reps, &args.scenario);
    for value in &values {
        let mut all = args.set.clone();
        all.push(format!("{}={value}", args.lever));
        let at_value = Scenario::from_toml_str(&text, &origin, &all)?;
        limits::estimate(&at_value, reps, threads, Keeps::QueueStats, false).check(&option)?;
    }
    drop(reading);
    cancel.check()?;
    let options = SizeOptions {
        lever: args.lever.clone(),
        values,
        wait_days: args.wait_days,
        quantile: args.quantile,
        max_returned_share: args.max_returned_share,
        confidence: args.confidence,
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps,
        threads,
        progress: !args.quiet,
        cancel: cancel.clone(),
    };
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_size", scenario.name())));
    ownership::check_not_input(&target, &[("scenario file", &args.scenario)])?;
    let output = OutputDir::prepare(&target, args.force)?;
    let rows = sizing::size(&args.scenario, &args.set, &options)?;
    output.write_file("size.csv", |w| sizing::write_size(w, &rows))?;
    let written = output.commit()?;

    let mut report = Report::default();
    report.line(format_args!(
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
    ));
    report.line(format_args!(
        "{:>8} {:>17} {:>14} {:>9} {:>13} {:>6}",
        "value",
        "active mediators",
        format!("wait q{:.0} (d)", args.quantile * 100.0),
        "returned",
        "reps meeting",
        "meets"
    ));
    for r in &rows {
        report.line(format_args!(
            "{:>8} {:>17.1} {:>14.1} {:>8.1}% {:>12.0}% {:>6}",
            r.value,
            r.active_mediators_mean,
            r.wait_days_q,
            r.returned_share * 100.0,
            r.share_meeting * 100.0,
            if r.meets_target { "yes" } else { "no" }
        ));
    }
    match sizing::smallest_meeting(&rows) {
        Some(r) => report.line(format_args!(
            "smallest {} meeting the target: {} (about {:.1} active mediators on average) -> {}",
            args.lever,
            r.value,
            r.active_mediators_mean,
            written.join("size.csv").display()
        )),
        None => report.line(format_args!(
            "no value tried meets the target; try a larger --to -> {}",
            written.join("size.csv").display()
        )),
    }
    print_out(&report.0)
}

/// The keys `size` may vary: whole-number keys of the mediator pool whose
/// larger values mean more capacity, so that "the smallest value meeting the
/// target" is a question with one answer. Any other key (`simulation.seed`,
/// `referrals.per_month`) is refused rather than searched meaninglessly.
pub const SIZE_LEVERS: [&str; 3] = [
    "mediators.initial_active",
    "mediators.cohort_size",
    "mediators.max_cases_per_mediator",
];

/// The scenario's current value of a pool lever (one of [`SIZE_LEVERS`]).
fn lever_value(scenario: &Scenario, lever: &str) -> Result<u64> {
    if !SIZE_LEVERS.contains(&lever) {
        return Err(Error::BadArgument {
            option: "--lever".to_string(),
            value: lever.to_string(),
            requirement: format!(
                "must be a mediator-pool key whose larger values add capacity: one of {}",
                SIZE_LEVERS.join(", ")
            ),
        });
    }
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

/// `vomsim validate`: print the resolved scenario; for a sweep file, check
/// every point and list them.
fn validate(args: &ValidateArgs, cancel: &Cancel) -> Result<()> {
    // Validation writes nothing to disk: a signal may end it at once.
    let _reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    if crate::scenario::parse_table(&text, &origin)?.contains_key("sweep") {
        let sweep = Sweep::from_toml_str(&text, &origin, &args.set)?;
        let mut out = Report::default();
        out.line(format_args!(
            "# a sweep of {} points over {}; every point is a valid scenario",
            sweep.points.len(),
            sweep.parameters.join(", ")
        ));
        out.line(format_args!("{}", sweep::run::describe(&sweep).trim_end()));
        out.line(format_args!("# the base scenario, resolved:"));
        out.line(format_args!("{}", sweep.base_scenario.to_toml()));
        return print_out(&out.0);
    }
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
    print_out(&scenario.to_toml())
}

/// `vomsim run`.
fn run(args: &RunArgs, cancel: &Cancel) -> Result<()> {
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
    pool.install(|| write_run(&output, &scenario, &args.scenario, &options, &result))?;
    let written = output.commit()?;
    if args.quiet {
        return Ok(());
    }
    print_out(&highlights(&scenario, &options, &result, &written))
}

fn default_threads() -> usize {
    limits::threads(None)
}

/// `--threads` as given, at most [`limits::THREADS_PER_CORE`] per core
/// (with a warning), or every core.
fn threads(requested: Option<u64>) -> usize {
    limits::threads(requested)
}

/// Where a run's replications came from, for a refusal: `--reps`, or the
/// scenario's `simulation.replications`.
fn reps_option(given: Option<u64>, scenario: &std::path::Path) -> String {
    match given {
        Some(_) => "--reps".to_string(),
        None => format!("{}: simulation.replications", scenario.display()),
    }
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
        csv::write_summary(w, &RowPrefix::run(), true, &result.catalog, &result.values)
    })?;
    output.write_file("replications.csv", |w| {
        csv::write_replications(w, &RowPrefix::run(), true, &result.catalog, &result.values)
    })?;
    let diagnosis = designs::diagnose(&result.catalog, &result.values, scenario.randomized());
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
