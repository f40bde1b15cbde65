//! `vomsim power`: the smallest study at which a design detects the effect
//! with a given power, and the power curve of every size tried.

use std::path::PathBuf;

use crate::analysis::power::{self, PowerOptions};
use crate::cancel::Cancel;
use crate::commands::cli::PowerArgs;
use crate::engine::limits::{self, Keeps};
use crate::error::{Error, Result};
use crate::model::time::effect_months;
use crate::output::folder::OutputDir;
use crate::output::ownership;
use crate::scenario::Scenario;

use super::{Report, print_out, reps_option};

/// `vomsim power`.
pub(super) fn power(args: &PowerArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
    let design = power::design_by_name(&args.design)?;
    let horizon = scenario.shape().horizon;
    if !effect_months(horizon).any(|m| m == args.month as usize) {
        return Err(Error::BadArgument {
            option: "--month".to_string(),
            value: args.month.to_string(),
            requirement: format!(
                "must be an effect month: a multiple of 6 up to the follow-up of {horizon} months"
            ),
        });
    }
    power::check_design(&scenario, design, args.month)?;
    let (start, max_value) = power::lever_range(&scenario, &args.lever)?;
    let reps = args.reps.unwrap_or(scenario.raw.simulation.replications);
    let threads = limits::threads(args.threads);
    let w = &scenario.raw.mediators;
    let mut options = PowerOptions {
        design,
        month: args.month,
        power: args.power,
        alpha: args.alpha,
        lever: args.lever.clone(),
        scale_pool: (!args.fixed_pool).then_some((
            scenario.raw.referrals.per_month,
            w.initial_active,
            w.cohort_size,
        )),
        max_value,
        seed: args.seed.unwrap_or(scenario.raw.simulation.seed),
        reps,
        threads,
        progress: !args.quiet,
        cancel: cancel.clone(),
    };
    // The largest study the search may try must be a valid scenario that
    // fits the limits; if the lever's own bound does not, the search goes
    // up to 64 times the scenario's value, checked the same way.
    let fits = |options: &PowerOptions, value: u64| -> Result<()> {
        let at = Scenario::from_toml_str(
            &text,
            &origin,
            &power::overrides_at(&args.set, options, value),
        )?;
        limits::estimate(&at, reps, threads, Keeps::QueueStats, false)
            .check(&reps_option(args.reps, &args.scenario))
    };
    if fits(&options, max_value).is_err() {
        options.max_value = start.saturating_mul(64).min(max_value);
        fits(&options, options.max_value)?;
    }
    let max_value = options.max_value;
    drop(reading);
    cancel.check()?;
    let target = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_power", scenario.name())));
    ownership::check_not_input(&target, &[("scenario file", &args.scenario)])?;
    let output = OutputDir::prepare(&target, args.force)?;
    let result = power::search(&text, &origin, &args.set, start, &options)?;
    output.write_file("power.csv", |w| power::write_power(w, &result.rows))?;
    let written = output.commit()?;

    let mut report = Report::default();
    report.line(format_args!(
        "{}: power of {} at month {} (two-sided alpha {}), {} replications per value, by {}",
        scenario.name(),
        args.design,
        args.month,
        args.alpha,
        reps,
        args.lever
    ));
    report.line(format_args!(
        "{:>10} {:>7} {:>17} {:>10}",
        "value", "power", "95% interval", "undefined"
    ));
    for r in &result.rows {
        report.line(format_args!(
            "{:>10} {:>7.3} {:>8.3}-{:<8.3} {:>9.1}%",
            r.value,
            r.power,
            r.lower,
            r.upper,
            r.undefined * 100.0
        ));
    }
    match result.answer {
        Some(value) => report.line(format_args!(
            "smallest {} with power of at least {}: {value} -> {}",
            args.lever,
            args.power,
            written.join("power.csv").display()
        )),
        None => report.line(format_args!(
            "no {} up to {max_value} reaches power {} -> {}",
            args.lever,
            args.power,
            written.join("power.csv").display()
        )),
    }
    print_out(&report.0)
}
