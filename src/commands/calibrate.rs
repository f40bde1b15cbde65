//! `vomsim calibrate`: fit scenario parameters to a program's published
//! figures; checks both outputs before the search.

use std::io::Write;
use std::path::PathBuf;

use crate::analysis::calibration::{self, CalibrationOptions};
use crate::cancel::Cancel;
use crate::commands::cli::CalibrateArgs;
use crate::engine::limits::{self, Keeps};
use crate::error::{Error, Result};
use crate::output::folder::{self};
use crate::output::ownership;
use crate::scenario::Scenario;

use super::{Report, print_out};

/// `vomsim calibrate`: fit parameters to targets, verify, write the
/// calibrated scenario and calibration.csv.
pub(super) fn calibrate(args: &CalibrateArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    // Read once: the scenario fitted is the one hashed and rewritten.
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
    let targets = calibration::read_targets(&args.targets)?;
    let parameters = args.fit.clone();
    let budget = evaluation_budget(args, targets.len())?;
    // The texts to calibrate: the scenario, or one per alternative of
    // --choose (the key set to it).
    let texts: Vec<String> = match &args.choose {
        None => vec![text.clone()],
        Some(choice) => {
            check_choice(choice, &scenario, &args.set, &parameters)?;
            let mut texts = Vec::new();
            for value in &choice.alternatives {
                let alternative = calibration::alternative_text(&text, &choice.key, value)?;
                Scenario::from_toml_str(&alternative, &origin, &args.set).map_err(|e| {
                    Error::BadArgument {
                        option: "--choose".to_string(),
                        value: format!("{}={value}", choice.key),
                        requirement: format!("gives a scenario that does not validate: {e}"),
                    }
                })?;
                texts.push(alternative);
            }
            texts
        }
    };
    // Everything checkable is checked before an output folder or a search.
    for text in &texts {
        calibration::check(text, &origin, &args.set, &parameters, &targets)?;
    }
    let verify_reps = args.verify_reps.unwrap_or(args.reps.saturating_mul(4));
    let threads = limits::threads(args.threads);
    // Every evaluation and the verification hold their replications' values;
    // a fitted parameter may change the run's size, so the scenario is
    // checked at each bound too.
    let mut at_bounds = vec![scenario.clone()];
    for text in &texts {
        at_bounds.push(Scenario::from_toml_str(text, &origin, &args.set)?);
        for p in &parameters {
            for bound in [p.low, p.high] {
                let mut all = args.set.clone();
                all.push(format!("{}={bound}", p.key));
                at_bounds.push(Scenario::from_toml_str(text, &origin, &all)?);
            }
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
            .join(format!("{}_calibrated.toml", scenario.name()))
    });
    // The calibrated file is a scenario of its own: its name (and so its
    // output folder) is not the original's.
    let new_name = match &args.name {
        Some(name) => name.clone(),
        None => file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    if !crate::scenario::valid_name(&new_name) {
        return Err(Error::BadArgument {
            option: if args.name.is_some() {
                "--name"
            } else {
                "--out"
            }
            .to_string(),
            value: new_name,
            requirement: format!(
                "names the calibrated scenario (by default the output file's stem), so it {}; \
                 give --name",
                crate::scenario::NAME_RULE
            ),
        });
    }
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let table = folder.join("calibration.csv");
    let posterior_file = args.posterior.map(|_| folder.join("posterior.csv"));
    let created = prepare_calibration_output(
        args,
        &file,
        &folder,
        &table,
        posterior_file.as_deref(),
        scenario.name(),
    )?;
    // A failure from here on leaves none of the (empty) folders this
    // command created.
    let outcome = search_and_write(
        args,
        cancel,
        &scenario,
        &text,
        &parameters,
        &targets,
        &Outputs {
            file: &file,
            table: &table,
            posterior: posterior_file.as_deref(),
        },
        threads,
        verify_reps,
        &new_name,
        budget,
    );
    if outcome.is_err() {
        for folder in &created {
            let _ = std::fs::remove_dir(folder);
        }
    }
    outcome
}

/// The files calibrate writes.
struct Outputs<'a> {
    file: &'a std::path::Path,
    table: &'a std::path::Path,
    /// `posterior.csv`, with `--posterior`.
    posterior: Option<&'a std::path::Path>,
}

/// How the `--max-evaluations` cap is shared: (the search's evaluations,
/// the posterior's accepted draws). The posterior's simulations (10 x N)
/// are set aside first; the search gets the rest, at least one. Checked
/// before any work.
fn evaluation_budget(args: &CalibrateArgs, targets: usize) -> Result<(usize, Option<usize>)> {
    const SEARCH_DEFAULT: u64 = 400;
    let Some(n) = args.posterior else {
        return Ok((
            args.max_evaluations.unwrap_or(SEARCH_DEFAULT) as usize,
            None,
        ));
    };
    let draws = calibration::check_draws(n)?;
    if args.choose.is_some() {
        return Err(Error::BadArgument {
            option: "--posterior".to_string(),
            value: n.to_string(),
            requirement: "cannot be combined with --choose: sample the posterior of the chosen \
                 alternative in a second calibrate, with its key set by --set"
                .to_string(),
        });
    }
    calibration::check_draws_for_targets(draws, targets)?;
    let simulations = (draws * calibration::PRIOR_DRAWS_PER_ACCEPTED) as u64;
    let cap = args.max_evaluations.unwrap_or(SEARCH_DEFAULT + simulations);
    if cap <= simulations {
        return Err(Error::BadArgument {
            option: "--max-evaluations".to_string(),
            value: cap.to_string(),
            requirement: format!(
                "caps every simulation of calibrate, and --posterior {n} simulates {} x {n} = \
                 {simulations} prior draws before the search gets any; raise it above \
                 {simulations} (e.g. {}, leaving the search its default {SEARCH_DEFAULT}) or \
                 lower --posterior",
                calibration::PRIOR_DRAWS_PER_ACCEPTED,
                simulations + SEARCH_DEFAULT
            ),
        });
    }
    Ok(((cap - simulations) as usize, Some(draws)))
}

/// Checks `--choose` before any work: its key is a scenario key, neither
/// set by `--set` (which would override every alternative) nor fitted.
fn check_choice(
    choice: &calibration::Choice,
    scenario: &Scenario,
    set: &[String],
    parameters: &[calibration::FitParameter],
) -> Result<()> {
    let bad = |requirement: String| Error::BadArgument {
        option: "--choose".to_string(),
        value: choice.key.clone(),
        requirement,
    };
    let tree = toml::Value::try_from(&scenario.raw).expect("a scenario serializes to TOML");
    if crate::scenario::value_at(&tree, &choice.key).is_none() {
        return Err(bad(
            "is not a scenario key (see `vomsim validate`)".to_string()
        ));
    }
    let names = |key: &str| {
        key == choice.key
            || key.starts_with(&format!("{}[", choice.key))
            || choice.key.starts_with(&format!("{key}."))
    };
    if set
        .iter()
        .filter_map(|s| s.split_once('=').map(|(k, _)| k.trim()))
        .any(names)
    {
        return Err(bad(
            "is also given by --set, which would override every alternative; drop the --set"
                .to_string(),
        ));
    }
    if parameters.iter().any(|p| names(&p.key)) {
        return Err(bad(
            "is also fitted by --fit; a key is either chosen or fitted".to_string(),
        ));
    }
    Ok(())
}

/// The search, the verification, the guard and the two files, then the
/// report.
#[allow(clippy::too_many_arguments)]
fn search_and_write(
    args: &CalibrateArgs,
    cancel: &Cancel,
    scenario: &Scenario,
    text: &str,
    parameters: &[calibration::FitParameter],
    targets: &[calibration::Target],
    outputs: &Outputs,
    threads: usize,
    verify_reps: u64,
    new_name: &str,
    (search_evaluations, posterior_draws): (usize, Option<usize>),
) -> Result<()> {
    let (file, table) = (outputs.file, outputs.table);
    let origin = args.scenario.display().to_string();
    let options = CalibrationOptions {
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps: args.reps,
        verify_reps,
        threads,
        max_evaluations: search_evaluations,
        progress: !args.quiet,
        cancel: cancel.clone(),
    };
    let started = std::time::Instant::now();
    let targets_name = args.targets.file_name().map_or_else(
        || args.targets.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let date = calibration::today();
    let mut report = Report::default();
    let (text, result, heading) = match &args.choose {
        None => (
            text.to_string(),
            calibration::calibrate(text, &origin, &args.set, parameters, targets, &options)?,
            String::new(),
        ),
        Some(choice) => {
            let mut alternatives = Vec::new();
            for value in &choice.alternatives {
                let text = calibration::alternative_text(text, &choice.key, value)?;
                let used = calibration::used_parameters(&text, &origin, &args.set, parameters)?;
                let result =
                    calibration::calibrate(&text, &origin, &args.set, &used, targets, &options)?;
                alternatives.push(calibration::Alternative {
                    value: value.clone(),
                    text,
                    verified_objective: calibration::verified_objective(&result),
                    fitted: used.len(),
                    calibration: result,
                });
            }
            let best = calibration::best(&alternatives);
            report.line(format_args!(
                "{}: choosing {} by verified objective + 2 x parameters fitted",
                scenario.name(),
                choice.key
            ));
            report.line(format_args!(
                "{:<14} {:>6} {:>10} {:>10} {:>10}  fitted values",
                "value", "fitted", "search", "verified", "penalized"
            ));
            for (i, a) in alternatives.iter().enumerate() {
                let values = a
                    .calibration
                    .parameters
                    .iter()
                    .map(|p| format!("{} = {}", p.parameter.key, p.fitted))
                    .collect::<Vec<_>>()
                    .join(", ");
                report.line(format_args!(
                    "{:<14} {:>6} {:>10.3} {:>10.3} {:>10.3}  {}{}",
                    a.value,
                    a.fitted,
                    a.calibration.objective,
                    a.verified_objective,
                    a.penalized(),
                    if values.is_empty() { "-" } else { &values },
                    if i == best { "  <- chosen" } else { "" }
                ));
            }
            let heading =
                calibration::choice_comment(choice, &alternatives, best, &targets_name, &date);
            let chosen = alternatives.swap_remove(best);
            (chosen.text, chosen.calibration, heading)
        }
    };
    // The posterior (never with --choose: refused before any work), from
    // the original scenario, before any file is written.
    let posterior = match posterior_draws {
        None => None,
        Some(draws) => Some(calibration::posterior(
            &text,
            &origin,
            &args.set,
            parameters,
            targets,
            &calibration::PosteriorOptions {
                seed: options.seed,
                reps: options.reps,
                draws,
                threads,
                progress: options.progress,
                cancel: cancel.clone(),
            },
        )?),
    };
    let posterior_comment = posterior.as_ref().map_or(String::new(), |p| {
        let mut lines = format!(
            "# Posterior (rejection ABC with regression adjustment, Beaumont, Zhang & Balding \
             2002): {} draws of {} simulated, in posterior.csv; mean [90% interval]:\n",
            p.draws.len(),
            p.simulations
        );
        for s in &p.summaries {
            lines += &format!("#   {} = {} [{}, {}]\n", s.key, s.mean, s.q05, s.q95);
        }
        lines
    });
    // A scenario of its own: its new name, the --set values of the fit
    // written in (marked), every other key as the file resolved it.
    let mut raw = Scenario::from_toml_str(&text, &origin, &args.set)?.raw;
    raw.name = new_name.to_string();
    let own = crate::scenario::resolved_document(&text, &raw, &args.set);
    let command: Vec<String> = std::env::args().collect();
    let provenance = format!(
        "# Calibrated by vomsim {} on {date}, from {} with targets {} (seed {}, {} replications per \
         evaluation, {} to verify):\n#   {}\n# The --set values of the fit are written below, marked \
         `# --set`; every other key is as the original resolved it.\n",
        env!("CARGO_PKG_VERSION"),
        args.scenario.display(),
        args.targets.display(),
        options.seed,
        options.reps,
        options.verify_reps,
        command.join(" ")
    );
    let calibrated = provenance
        + &posterior_comment
        + &heading
        + &calibration::calibrated_scenario(&own, &result, &targets_name, &date);
    // The text must read back as what was verified before either file is
    // written: on its own, with no --set.
    calibration::check_calibrated(&calibrated, &file.display().to_string(), &[], &result).map_err(
        |reason| Error::Unverified {
            path: file.to_path_buf(),
            reason,
        },
    )?;
    folder::write_atomically(file, |w| w.write_all(calibrated.as_bytes()))?;
    folder::write_atomically(table, |w| calibration::write_calibration(w, &result))?;
    if let (Some(path), Some(p)) = (outputs.posterior, &posterior) {
        folder::write_atomically(path, |w| calibration::write_posterior(w, p))?;
    }

    report.line(format_args!(
        "{}: {} evaluations of {} replications, objective {:.3}, {}; verified with {} replications at fresh seeds",
        scenario.name(),
        result.evaluations,
        options.reps,
        result.objective,
        super::duration(started.elapsed().as_secs_f64()),
        options.verify_reps
    ));
    if result.stopped {
        report.line(format_args!(
            "stopped at --max-evaluations {}: the values are the best point so far, not a \
             converged fit, and identifiability was not measured; raise --max-evaluations",
            options.max_evaluations
        ));
    }
    report.line(format_args!(
        "{:<38} {:>9} {:>9} {:>11} {:>11}",
        "parameter", "start", "fitted", "bounds", "+- (1 tol)"
    ));
    for p in &result.parameters {
        report.line(format_args!(
            "{:<38} {:>9.4} {:>9} {:>11} {:>11.4}{}",
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
    if let Some(p) = &posterior {
        report.line(format_args!(
            "posterior: {} draws of {} simulated (rejection ABC, regression-adjusted; tolerance \
             {:.3} in target tolerances)",
            p.draws.len(),
            p.simulations,
            p.tolerance
        ));
        report.line(format_args!(
            "{:<38} {:>9} {:>21}",
            "parameter", "mean", "90% interval"
        ));
        for s in &p.summaries {
            report.line(format_args!(
                "{:<38} {:>9.4} [{:>9.4}, {:>9.4}]",
                s.key, s.mean, s.q05, s.q95
            ));
        }
    }
    match outputs.posterior {
        Some(path) => report.line(format_args!(
            "wrote {}, {} and {}",
            file.display(),
            table.display(),
            path.display()
        )),
        None => report.line(format_args!(
            "wrote {} and {}",
            file.display(),
            table.display()
        )),
    }
    print_out(&report.0)
}

/// Checks calibrate's two outputs before any search: they are two files
/// (`--out` is not the `calibration.csv` beside it), neither is an input,
/// a folder, or (with `--force`) a file vomsim did not write; their folder
/// can be written. Then creates that folder, removes temporary files of
/// killed calibrations, and returns the folders it created, deepest first.
fn prepare_calibration_output(
    args: &CalibrateArgs,
    file: &std::path::Path,
    folder: &std::path::Path,
    table: &std::path::Path,
    posterior: Option<&std::path::Path>,
    name: &str,
) -> Result<Vec<PathBuf>> {
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
    // The two outputs share their folder: they are one file when --out is
    // named calibration.csv (`DIR/./calibration.csv` too, or a link to it;
    // in any case, for case-insensitive file systems).
    let same_name = file
        .file_name()
        .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case("calibration.csv"));
    if same_name || ownership::resolve(file) == ownership::resolve(table) {
        return Err(unusable(
            file,
            format!(
                "it is the calibration.csv that calibrate writes beside the calibrated \
                 scenario, so one would overwrite the other; --out names the scenario file \
                 (e.g. `{}`)",
                folder.join(format!("{name}.toml")).display()
            ),
        ));
    }
    let inputs = [
        ("scenario file", args.scenario.as_path()),
        ("targets file", args.targets.as_path()),
    ];
    let mut outputs = vec![
        (file, Expected::CalibratedScenario),
        (table, Expected::CalibrationTable),
    ];
    if let Some(posterior) = posterior {
        if same_name_as(file, "posterior.csv") {
            return Err(unusable(
                file,
                "it is the posterior.csv that calibrate --posterior writes beside the \
                 calibrated scenario; --out names the scenario file"
                    .to_string(),
            ));
        }
        outputs.push((posterior, Expected::PosteriorTable));
    }
    for (path, expected) in outputs {
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
    let mut created = Vec::new();
    let mut missing = Some(folder);
    while let Some(f) = missing.filter(|f| !f.as_os_str().is_empty() && !f.exists()) {
        created.push(f.to_path_buf());
        missing = f.parent();
    }
    std::fs::create_dir_all(folder).map_err(|e| Error::OutputUnusable {
        path: folder.to_path_buf(),
        reason: e.to_string(),
    })?;
    let file_name = file
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    ownership::remove_stale_temporaries(folder, |name| {
        name == file_name || name == "calibration.csv" || name == "posterior.csv"
    });
    let mut names = vec![file_name.as_str(), "calibration.csv"];
    if posterior.is_some() {
        names.push("posterior.csv");
    }
    for name in names {
        ownership::check_writable(folder, name).map_err(|e| Error::OutputUnusable {
            path: folder.to_path_buf(),
            reason: format!("cannot write in it: {e}"),
        })?;
    }
    Ok(created)
}

/// Whether `path`'s file name is `name`, in any case (for case-insensitive
/// file systems).
fn same_name_as(path: &std::path::Path, name: &str) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case(name))
}
