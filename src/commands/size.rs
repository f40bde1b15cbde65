//! `vomsim size`: the smallest mediator pool that meets a waiting target.

use std::path::PathBuf;

use crate::analysis::sizing::{self, SizeOptions};
use crate::cancel::Cancel;
use crate::commands::cli::SizeArgs;
use crate::engine::limits::{self, Keeps};
use crate::error::{Error, Result};
use crate::output::folder::OutputDir;
use crate::output::ownership;
use crate::scenario::Scenario;

use super::{Report, print_out, reps_option};

/// `vomsim size`: the smallest pool meeting a wait target.
pub(super) fn size(args: &SizeArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
    // --quantile, --wait-days, --confidence and --max-returned-share were
    // checked by their value parsers.
    let bad = |option: &str, value: f64, requirement: &str| Error::BadArgument {
        option: option.to_string(),
        value: value.to_string(),
        requirement: requirement.to_string(),
    };
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
    let threads = limits::threads(args.threads);
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
