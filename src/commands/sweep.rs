//! `vomsim sweep` and `vomsim merge`: run every point of a sweep file (or a
//! shard of them), and join shards into one result.

use std::path::PathBuf;

use crate::analysis::sweep::{self, Sweep};
use crate::cancel::Cancel;
use crate::commands::cli::{MergeArgs, SweepArgs};
use crate::engine::limits;
use crate::error::{Error, Result};
use crate::output::ownership;

use super::{Report, print_out};

/// `vomsim sweep`.
pub(super) fn run_sweep(args: &SweepArgs, cancel: &Cancel) -> Result<()> {
    let mut sweep = Sweep::load(&args.sweep, &args.set)?;
    if args.no_replications {
        sweep.replications_file = false;
    }
    sweep.format = args.format.into();
    // The run records a shard as (K, N).
    let shard = args.shard.map(|s| (s.k, s.n));
    let options = sweep::run::SweepOptions {
        seed: args.seed.unwrap_or(sweep.base_scenario.raw.simulation.seed),
        reps: args
            .reps
            .unwrap_or(sweep.base_scenario.raw.simulation.replications),
        threads: limits::threads(args.threads),
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
    let report = sweep::run::run(&sweep, &dir, &options).inspect_err(|e| {
        if matches!(e, Error::Interrupted { .. }) {
            eprintln!(
                "note: the points finished before the signal are kept in {}; rerun with --resume to finish",
                dir.display()
            );
        }
    })?;
    if args.quiet {
        return Ok(());
    }
    let mut out = Report::default();
    out.line(format_args!(
        "{}: {} points{} x {} replications ({} computed, {} already finished) in {} -> {}",
        sweep.base_scenario.name(),
        report.points,
        shard.map_or_else(String::new, |(k, n)| format!(" of shard {k}/{n}")),
        options.reps,
        report.computed,
        report.skipped,
        super::duration(report.wall_seconds),
        dir.display()
    ));
    out.line(format_args!("{}", sweep::run::describe(&sweep).trim_end()));
    print_out(&out.0)
}

/// `vomsim merge`.
pub(super) fn merge(args: &MergeArgs) -> Result<()> {
    let shards: Vec<(&'static str, &std::path::Path)> = args
        .dirs
        .iter()
        .map(|d| ("shard folder", d.as_path()))
        .collect();
    ownership::check_not_input(&args.out, &shards)?;
    let points = sweep::run::merge(
        &args.dirs,
        &args.out,
        args.force,
        limits::threads(None),
        args.format.into(),
    )?;
    let mut out = Report::default();
    out.line(format_args!(
        "merged {} points from {} folders -> {}",
        points,
        args.dirs.len(),
        args.out.display()
    ));
    print_out(&out.0)
}
