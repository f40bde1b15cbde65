//! `vomsim size`: the smallest mediator pool that meets a waiting target.

use std::path::PathBuf;

use std::time::Instant;

use crate::analysis::sizing::{self, SizeOptions, WaitTarget};
use crate::cancel::Cancel;
use crate::commands::cli::SizeArgs;
use crate::engine::limits::{self, Keeps};
use crate::error::{Error, Result};
use crate::output::folder::OutputDir;
use crate::output::manifest::{SizeManifest, TargetManifest};
use crate::output::ownership;
use crate::scenario::Scenario;

use super::{Report, print_out, reps_option};

/// `vomsim size`: the smallest pool meeting a wait target.
pub(super) fn size(args: &SizeArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
    // --quantile, --wait-days, --confidence, --max-returned-share and
    // --target were checked by their value parsers.
    let bad = |option: &str, value: u64, requirement: &str| Error::BadArgument {
        option: option.to_string(),
        value: value.to_string(),
        requirement: requirement.to_string(),
    };
    let current = lever_value(&scenario, &args.lever)?;
    let from = args
        .from
        .unwrap_or(u64::from(args.lever == "mediators.max_cases_per_mediator"));
    let step = args.step.unwrap_or(1);
    let reps = args.reps.unwrap_or(scenario.raw.simulation.replications);
    let threads = limits::threads(args.threads);
    let option = reps_option(args.reps, &args.scenario);
    // The lever may change the pool or the intake: the range's ends are
    // checked (validated, and the largest against the limits) before the
    // output folder exists. The default end is lowered until it fits.
    let at = |value: u64| -> Result<()> {
        let mut all = args.set.clone();
        all.push(format!("{}={value}", args.lever));
        let at_value = Scenario::from_toml_str(&text, &origin, &all)?;
        limits::estimate(&at_value, reps, threads, Keeps::QueueStats, false).check(&option)
    };
    let to = match args.to {
        Some(to) => to,
        None => {
            let mut to = current.max(10).saturating_mul(16).max(from);
            while to / 2 >= from.max(current) && at(to).is_err() {
                to /= 2;
            }
            to
        }
    };
    if from > to {
        return Err(bad("--from", from, &format!("must not exceed --to ({to})")));
    }
    // Counted before the values are listed: --to 18446744073709551615 must
    // not list them.
    if args.scan && (to - from) / step >= 1000 {
        return Err(bad(
            "--step",
            step,
            "gives more than 1000 values to scan; raise it, or leave out --scan",
        ));
    }
    // Every value in order when there are few (the first invalid one is
    // named), otherwise the ends.
    if (to - from) / step < 1000 {
        for value in (from..=to).step_by(step.min(usize::MAX as u64) as usize) {
            at(value)?;
        }
    } else {
        at(from)?;
        at(to)?;
    }
    drop(reading);
    cancel.check()?;
    let target = WaitTarget {
        wait_to: args.target,
        wait_days: args.wait_days,
        quantile: args.quantile,
        max_returned_share: args.max_returned_share,
        confidence: args.confidence,
    };
    let options = SizeOptions {
        lever: args.lever.clone(),
        from,
        to,
        step,
        start: current,
        scan: args.scan,
        target,
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps,
        threads,
        progress: !args.quiet,
        cancel: cancel.clone(),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_size", scenario.name())));
    ownership::check_not_input(&out, &[("scenario file", &args.scenario)])?;
    let output = OutputDir::prepare(&out, args.force)?;
    let started = Instant::now();
    let result = sizing::size(&text, &origin, &args.set, &options)?;
    let wall_seconds = started.elapsed().as_secs_f64();
    output.write_file("size.csv", |w| sizing::write_size(w, &result.rows, &target))?;
    output.write_file("manifest.json", |w| {
        SizeManifest {
            answer: result.answer,
            files: ownership::SIZE_FILES
                .iter()
                .map(|f| f.to_string())
                .collect(),
            lever: args.lever.clone(),
            overrides: args.set.clone(),
            parameters: serde_json::to_value(&scenario.raw).map_err(std::io::Error::other)?,
            reps,
            scenario: scenario.name().to_string(),
            scenario_file: args.scenario.display().to_string(),
            scenario_sha256: scenario.source_sha256.clone(),
            search: if args.scan { "scan" } else { "bisection" }.to_string(),
            seed: options.seed,
            target: target_manifest(&target),
            threads,
            version: env!("CARGO_PKG_VERSION").to_string(),
            wall_seconds,
        }
        .write(w)
    })?;
    let written = output.commit()?;

    let mut report = Report::default();
    report.line(format_args!(
        "{}: {} from {from} to {to} by {step} ({}), {} replications each; target: {}",
        scenario.name(),
        args.lever,
        if args.scan {
            "every value"
        } else {
            "bisection"
        },
        options.reps,
        describe_target(&target),
    ));
    report.line(format_args!(
        "{:>8} {:>17} {:>14} {:>9} {:>13} {:>15} {:>6}",
        "value",
        "active mediators",
        format!("wait q{:.0} (d)", args.quantile * 100.0),
        "returned",
        "reps meeting",
        "95% interval",
        "meets"
    ));
    for r in &result.rows {
        report.line(format_args!(
            "{:>8} {:>17.1} {:>14.1} {:>8.1}% {:>12.0}% {:>15} {:>6}",
            r.value,
            r.active_mediators_mean,
            r.wait_days_q,
            r.returned_share * 100.0,
            r.share_meeting * 100.0,
            format!(
                "{:.0}%-{:.0}%",
                r.share_lower * 100.0,
                r.share_upper * 100.0
            ),
            if r.meets_target { "yes" } else { "no" }
        ));
    }
    match result.answer_row() {
        Some(r) => report.line(format_args!(
            "smallest {} meeting the target: {} (met in {:.0}% of replications, 95% interval \
             {:.0}%-{:.0}%; about {:.1} active mediators on average) -> {}",
            args.lever,
            r.value,
            r.share_meeting * 100.0,
            r.share_lower * 100.0,
            r.share_upper * 100.0,
            r.active_mediators_mean,
            written.join("size.csv").display()
        )),
        None => report.line(format_args!(
            "no value up to {to} meets the target; try a larger --to -> {}",
            written.join("size.csv").display()
        )),
    }
    print_out(&report.0)
}

/// The target as `manifest.json` records it.
pub(super) fn target_manifest(target: &WaitTarget) -> TargetManifest {
    TargetManifest {
        confidence: target.confidence,
        max_returned_share: target.max_returned_share,
        quantile: target.quantile,
        wait_days: target.wait_days,
        wait_to: target.wait_to.name().to_string(),
    }
}

/// The target in words, for the first line of the table.
pub(super) fn describe_target(target: &WaitTarget) -> String {
    format!(
        "{:.0}% of waits to {} within {} days in {:.0}% of replications{}",
        target.quantile * 100.0,
        target.wait_to.name(),
        target.wait_days,
        target.confidence * 100.0,
        target
            .max_returned_share
            .map_or_else(String::new, |r| format!(
                ", at most {:.1}% returned",
                r * 100.0
            ))
    )
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
