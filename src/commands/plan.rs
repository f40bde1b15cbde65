//! `vomsim plan`: the cheapest recruitment and training plan (and staff)
//! that meets a waiting target in every month.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use crate::analysis::plan::{self, Levers, PlanOptions};
use crate::analysis::sizing::WaitTarget;
use crate::cancel::Cancel;
use crate::commands::cli::PlanArgs;
use crate::engine::limits::{self, Keeps};
use crate::error::Result;
use crate::output::folder::OutputDir;
use crate::output::manifest::PlanManifest;
use crate::output::ownership;
use crate::scenario::Scenario;

use super::size::{describe_target, target_manifest};
use super::{Report, print_out, reps_option};

/// Replications per plan tried, unless `--reps` says otherwise.
const DEFAULT_REPS: u64 = 100;

/// `vomsim plan`.
pub(super) fn plan(args: &PlanArgs, cancel: &Cancel) -> Result<()> {
    let reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
    let raw = &scenario.raw;
    let staff = raw.staff.coordinators > 0;
    let start = Levers {
        coordinators: u64::from(raw.staff.coordinators),
        cohort_every_months: u64::from(raw.mediators.cohort_every_months),
        cohort_size: u64::from(raw.mediators.cohort_size),
        initial_active: u64::from(raw.mediators.initial_active),
    };
    let reps = args.reps.unwrap_or(DEFAULT_REPS);
    let threads = limits::threads(args.threads);
    let max_initial = start.initial_active.max(10).saturating_mul(16);
    let max_coordinators = start.coordinators.max(5).saturating_mul(4);
    // The largest plan the search may try (the largest pool, the largest
    // cohorts of the grid every three months) must be valid and fit the
    // limits, before the output folder exists.
    let largest = Levers {
        coordinators: max_coordinators,
        cohort_every_months: 3,
        cohort_size: 8,
        initial_active: max_initial,
    };
    let mut all = args.set.clone();
    all.extend(largest.overrides(args.years, staff));
    let at_largest = Scenario::from_toml_str(&text, &origin, &all)?;
    let option = reps_option(args.reps, &args.scenario);
    limits::estimate(&at_largest, reps, threads, Keeps::QueueStats, false).check(&option)?;
    drop(reading);
    cancel.check()?;
    let target = WaitTarget {
        wait_to: args.target,
        wait_days: args.wait_days,
        quantile: args.quantile,
        max_returned_share: None,
        confidence: args.confidence,
    };
    let seed = args.seed.unwrap_or(raw.simulation.seed);
    let options = PlanOptions {
        target,
        years: args.years,
        max_sessions_per_volunteer: args.max_sessions_per_volunteer,
        volunteer_hour_value: args.volunteer_hour_value,
        staff,
        max_initial,
        max_coordinators,
        start,
        seed,
        fresh_seed: seed.wrapping_add(1),
        reps,
        threads,
        progress: !args.quiet,
        cancel: cancel.clone(),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("{}_plan", scenario.name())));
    ownership::check_not_input(&out, &[("scenario file", &args.scenario)])?;
    let output = OutputDir::prepare(&out, args.force)?;
    let started = Instant::now();
    let result = plan::plan(&text, &origin, &args.set, &options)?;
    let wall_seconds = started.elapsed().as_secs_f64();
    output.write_file("plan.csv", |w| plan::write_plan(w, &result))?;
    output.write_file("manifest.json", |w| {
        PlanManifest {
            chosen: result.chosen.as_ref().map(|c| {
                let l = c.levers;
                let mut levers = BTreeMap::from([
                    ("mediators.initial_active".to_string(), l.initial_active),
                    ("mediators.cohort_size".to_string(), l.cohort_size),
                    (
                        "mediators.cohort_every_months".to_string(),
                        l.cohort_every_months,
                    ),
                ]);
                if staff {
                    levers.insert("staff.coordinators".to_string(), l.coordinators);
                }
                levers
            }),
            files: ownership::PLAN_FILES
                .iter()
                .map(|f| f.to_string())
                .collect(),
            fresh_seed: options.fresh_seed,
            max_sessions_per_volunteer: args.max_sessions_per_volunteer,
            overrides: args.set.clone(),
            parameters: serde_json::to_value(raw).map_err(std::io::Error::other)?,
            reps,
            scenario: scenario.name().to_string(),
            scenario_file: args.scenario.display().to_string(),
            scenario_sha256: scenario.source_sha256.clone(),
            seed,
            target: target_manifest(&target),
            threads,
            version: env!("CARGO_PKG_VERSION").to_string(),
            volunteer_hour_value: args.volunteer_hour_value,
            wall_seconds,
            years: args.years,
        }
        .write(w)
    })?;
    let written = output.commit()?;

    let mut report = Report::default();
    report.line(format_args!(
        "{}: {} years, {} replications per plan, {} plans tried; target: {} in every month{}",
        scenario.name(),
        args.years,
        reps,
        result.candidates.len(),
        describe_target(&target),
        args.max_sessions_per_volunteer
            .map_or_else(String::new, |s| format!(
                ", at most {s} sessions a month per active volunteer"
            ))
    ));
    let Some(chosen) = &result.chosen else {
        report.line(format_args!(
            "no plan up to an initial pool of {max_initial}{} meets the target -> {}",
            if staff {
                format!(" and {max_coordinators} coordinators")
            } else {
                String::new()
            },
            written.join("plan.csv").display()
        ));
        return print_out(&report.0);
    };
    let l = chosen.levers;
    report.line(format_args!(
        "chosen plan: an initial pool of {} volunteers, {}{}",
        l.initial_active,
        if l.cohort_size == 0 {
            "no training cohorts".to_string()
        } else {
            format!(
                "a cohort of {} every {} months",
                l.cohort_size, l.cohort_every_months
            )
        },
        if staff {
            format!(", {} coordinators", l.coordinators)
        } else {
            String::new()
        }
    ));
    report.line(format_args!(
        "expected cost ${:.0} (training ${:.0}, coordinators ${:.0}; {:.0} volunteer hours); \
         met in {:.0}% of replications (95% interval {:.0}%-{:.0}%)",
        chosen.cost_mean,
        chosen.training_cost,
        chosen.coordinator_cost,
        chosen.volunteer_hours,
        chosen.share_meeting * 100.0,
        chosen.share_lower * 100.0,
        chosen.share_upper * 100.0
    ));
    if let Some(v) = &result.verification {
        report.line(format_args!(
            "on fresh seeds (seed {}): met in {:.0}% of replications (95% interval {:.0}%-{:.0}%)",
            v.seed,
            v.share_meeting * 100.0,
            v.share_lower * 100.0,
            v.share_upper * 100.0
        ));
    }
    report.line(format_args!(
        "{:>6} {:>18} {:>15} {:>22}",
        "month", "active volunteers", "start training", "sessions per volunteer"
    ));
    let intake = args.years as usize * 12;
    for m in 0..intake.min(chosen.active_by_month.len()) {
        report.line(format_args!(
            "{:>6} {:>18.1} {:>15.1} {:>22.2}",
            m + 1,
            chosen.active_by_month[m],
            chosen.trained_by_month[m],
            chosen.sessions_per_volunteer_by_month[m]
        ));
    }
    report.line(format_args!(
        "training schedule: {} volunteers before month 1{} -> {}",
        l.initial_active,
        if l.cohort_size == 0 {
            String::new()
        } else {
            format!(
                ", then {} at the end of every {} months (months {}, {}, ...)",
                l.cohort_size,
                l.cohort_every_months,
                l.cohort_every_months,
                2 * l.cohort_every_months
            )
        },
        written.join("plan.csv").display()
    ));
    print_out(&report.0)
}
