//! Running a sweep: points in batches of (point, replication) pairs on the
//! rayon pool, each finished point written at once as durable fragments,
//! then the final files assembled from the fragments in point order.
//! This file owns running and resuming points (which points, in what
//! order, in what batches, within what work and memory); the output folder
//! (`assemble.rs`), the fingerprint (`fingerprint.rs`) and `merge`
//! (`merge.rs`) have files of their own, re-exported here.
//!
//! The output folder of a sweep:
//!
//! - `sweep.toml` (the sweep file) and `sweep.json` (what was run: the
//!   file's hash, `--set`s, seed, replications, points, shard), so that
//!   `--resume` and `merge` can check they continue the same sweep;
//! - `points/point-NNNNNN.{summary,diagnosis,replications}.csv`: one point's
//!   rows, each written to a temporary file and renamed, then
//!   `point-NNNNNN.done`, which marks the point finished and records the
//!   sweep's fingerprint, the point's index and parameter values, and each
//!   fragment's size and SHA-256 (see [`fragments`]; the folder is only
//!   needed to resume or merge: delete it once a sweep is complete);
//! - `points.csv`, `summary.csv`, `replications.csv`, `diagnosis.csv`,
//!   `manifest.json` (its `files` lists the folder's files, for
//!   `--force`), and for a Sobol sweep `sensitivity.csv`, assembled once
//!   every point of the run is finished.
//!
//! A killed sweep (even by `kill -9`) loses at most the points in flight;
//! `--resume` skips finished points whose fragments still match their
//! markers and whose markers are this sweep's and this point's (and
//! recomputes the others, saying which and why), and because every point's rows depend
//! only on the sweep, the seed and the replications, the final files are
//! byte-identical to an uninterrupted run. Shards (`--shard K/N`) run the
//! points whose index is K-1 modulo N, and `merge` assembles shards with
//! the same code, so the merged files are byte-identical too.

use std::fs;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use super::Sweep;
use super::assemble::{assemble, prepare};
use super::fingerprint::{identity, in_shard};
use super::fragments::{self, PointState, check_point, done_marker, kinds};
use crate::cancel::Cancel;
use crate::engine::limits::MEMORY_BUDGET_BYTES;
use crate::engine::{self, progress_bar};
use crate::error::{Error, Result};
use crate::measure::diagnosis;
use crate::measure::metrics;
use crate::output::csv;

pub use super::fingerprint::{Fingerprint, fingerprint};
pub use super::merge::merge;
pub use super::spec::describe;

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub seed: u64,
    pub reps: u64,
    pub threads: usize,
    pub progress: bool,
    /// Run only shard K of N (1-based K).
    pub shard: Option<(usize, usize)>,
    pub resume: bool,
    pub force: bool,
    /// Stops between replications when requested; finished points stay.
    pub cancel: Cancel,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepReport {
    pub points: usize,
    pub computed: usize,
    pub skipped: usize,
    pub wall_seconds: f64,
}

/// `--shard K/N`: run the points whose index is K-1 modulo N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 1.
    pub k: usize,
    /// How many shards in all.
    pub n: usize,
}

impl Shard {
    /// Parses `K/N` (the command line's value parser): whole numbers with
    /// 1 <= K <= N; the error says so in plain words.
    pub fn parse(text: &str) -> std::result::Result<Shard, String> {
        let bad =
            || "must be K/N, shard K of N, with whole numbers 1 <= K <= N (e.g. 2/8)".to_string();
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n) = (
            k.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// The points a shard runs, in run order.
fn shard_points(sweep: &Sweep, shard: Option<(usize, usize)>) -> Vec<usize> {
    sweep
        .run_order()
        .into_iter()
        .filter(|&p| in_shard(shard, p))
        .collect()
}

impl Sweep {
    /// The order in which points run: bit-reversed indices, so that an
    /// interrupted sweep has covered the whole grid evenly, not its first
    /// rows.
    pub fn run_order(&self) -> Vec<usize> {
        spread_order(self.points.len())
    }
}

/// 0..n in bit-reversed (van der Corput) order.
pub fn spread_order(n: usize) -> Vec<usize> {
    let bits = usize::BITS - n.saturating_sub(1).leading_zeros();
    let mut order: Vec<usize> = (0..(1usize << bits))
        .map(|i| {
            if bits == 0 {
                0
            } else {
                i.reverse_bits() >> (usize::BITS - bits)
            }
        })
        .filter(|&i| i < n)
        .collect();
    order.dedup();
    order
}

/// Runs (or resumes) a sweep into `dir`.
pub fn run(sweep: &Sweep, dir: &Path, options: &SweepOptions) -> Result<SweepReport> {
    let started = Instant::now();
    let mine = shard_points(sweep, options.shard);
    check_work(sweep, mine.len(), options)?;
    let pool = engine::thread_pool(options.threads)?;
    let fingerprint = fingerprint(sweep, options);
    prepare(dir, sweep, &fingerprint, options.resume, options.force)?;
    let todo = unfinished(sweep, &fingerprint, dir, &mine, &pool)?;
    let bar = progress_bar(
        todo.len() as u64 * options.reps,
        options.progress,
        "replications",
    );
    let batch = batch_points(options.threads, options.reps);
    for points in todo.chunks(batch) {
        let scenarios = points
            .iter()
            .map(|&p| sweep.scenario(p))
            .collect::<Result<Vec<_>>>()?;
        let jobs: Vec<(&crate::scenario::Scenario, u64)> = scenarios
            .iter()
            .flat_map(|scenario| (0..options.reps).map(move |rep| (scenario, rep)))
            .collect();
        // A stop in mid-batch: the batch's points are incomplete, the
        // earlier ones are written and kept.
        let values =
            engine::replicate(&pool, &jobs, options.seed, &options.cancel, &bar, |tally| {
                engine::metric_values(&tally)
            })?;
        for (i, (&point, scenario)) in points.iter().zip(&scenarios).enumerate() {
            let reps = options.reps as usize;
            let point_values = &values[i * reps..(i + 1) * reps];
            let catalog = metrics::catalog(scenario.program_months(), scenario.shape());
            let prefix = sweep.prefix(point);
            let diagnosis = diagnosis::diagnose(&catalog, point_values);
            let mut records = vec![
                fragments::write_fragment(dir, point, "summary", |w| {
                    csv::write_summary(w, &pool, &prefix, false, &catalog, point_values)
                })?,
                fragments::write_fragment(dir, point, "diagnosis", |w| {
                    csv::write_diagnosis(w, Some(&prefix), false, &diagnosis)
                })?,
            ];
            if sweep.replications_file {
                records.push(fragments::write_fragment(
                    dir,
                    point,
                    "replications",
                    |w| csv::write_replications(w, &pool, &prefix, false, &catalog, point_values),
                )?);
            }
            // Last: its presence marks the point finished.
            fragments::write_marker(dir, identity(sweep, &fingerprint, point), records)?;
        }
    }
    bar.finish_and_clear();
    let mut points = mine.clone();
    points.sort_unstable();
    assemble(
        sweep,
        dir,
        &points,
        options,
        started.elapsed().as_secs_f64(),
        options.shard.is_none(),
    )?;
    Ok(SweepReport {
        points: mine.len(),
        computed: todo.len(),
        skipped: mine.len() - todo.len(),
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Points per batch: enough to keep every thread busy with a few
/// replications each; memory holds one batch's values.
fn batch_points(threads: usize, reps: u64) -> usize {
    ((threads as u64 * 8).div_ceil(reps.max(1)) as usize).max(1)
}

/// The most replications one `vomsim sweep` (a whole sweep, or one shard)
/// may run, points x replications. One replication of `vors_la` takes about
/// 0.27 ms on one core, so 10^9 of them are about 75 CPU-hours (three days
/// on one core, about an hour on a 64-core node) and, with
/// `replications.csv`, about 70 KB of output each, tens of terabytes: a
/// larger count is far more likely a typo in `--reps` than a plan, and a
/// study that large splits into shards (`--shard K/N`), each under the
/// limit.
pub const MAX_REPLICATIONS: u64 = 1_000_000_000;

/// Refuses, before any work or any file, a sweep whose points x
/// replications exceed [`MAX_REPLICATIONS`] or whose replication values
/// held at once exceed [`MEMORY_BUDGET_BYTES`], the budget of `run` (4 GiB):
/// a batch of points holds every replication's values (about 1,100 numbers
/// each) until the points' fragments are written, so `--reps` decides it,
/// and past this a laptop or a cluster task would swap or be killed
/// mid-sweep instead of being refused before it starts. The message gives
/// both estimates and limits.
fn check_work(sweep: &Sweep, points: usize, options: &SweepOptions) -> Result<()> {
    let reps = options.reps;
    let total = (points as u64).saturating_mul(reps);
    let held_reps =
        (batch_points(options.threads, reps).min(points.max(1)) as u64).saturating_mul(reps);
    // The values, the vector holding them and the (point, replication) pair.
    let per_rep = sweep.values_per_replication as u64 * 8 + 24 + 16;
    let held = held_reps.saturating_mul(per_rep);
    if total <= MAX_REPLICATIONS && held <= MEMORY_BUDGET_BYTES {
        return Ok(());
    }
    let size = |bytes: u64| {
        let gib = bytes as f64 / (1u64 << 30) as f64;
        if gib >= 1024.0 {
            format!("{:.1} TiB", gib / 1024.0)
        } else {
            format!("{gib:.1} GiB")
        }
    };
    let most = (MAX_REPLICATIONS / points.max(1) as u64).min(MEMORY_BUDGET_BYTES / per_rep);
    Err(Error::BadArgument {
        option: "--reps".to_string(),
        value: reps.to_string(),
        requirement: format!(
            "is too much for one sweep: {points} point{}{} x {reps} replications = {total} replications \
             (limit {MAX_REPLICATIONS} per sweep or shard), holding about {} of values at once \
             (limit {}); use --reps {most} or less{}",
            if points == 1 { "" } else { "s" },
            options
                .shard
                .map_or_else(String::new, |(k, n)| format!(" of shard {k}/{n}")),
            size(held),
            size(MEMORY_BUDGET_BYTES),
            if total > MAX_REPLICATIONS && points > 1 {
                ", or split the sweep into shards with --shard K/N"
            } else {
                ""
            }
        ),
    })
}

/// The points of `mine` (in run order) still to compute in `dir`: those
/// without a done marker, those whose fragments no longer match their
/// marker, and those whose marker or rows are another sweep's or another
/// point's (copied in): their marker is removed, and a one-line note on
/// stderr says which point and why. Markers of an older vomsim, which do
/// not record their sweep and point (or carry no checksums), cannot be
/// trusted either: their points are recomputed too, with one note for all
/// of them.
fn unfinished(
    sweep: &Sweep,
    fingerprint: &Fingerprint,
    dir: &Path,
    mine: &[usize],
    pool: &rayon::ThreadPool,
) -> Result<Vec<usize>> {
    let kinds = kinds(sweep);
    let states: Vec<PointState> = pool.install(|| {
        mine.par_iter()
            .map(|&p| check_point(dir, &identity(sweep, fingerprint, p), kinds))
            .collect()
    });
    let mut todo = Vec::new();
    let mut old = Vec::new();
    for (&p, state) in mine.iter().zip(states) {
        match state {
            PointState::Finished => continue,
            PointState::Missing => {}
            PointState::Damaged(why) | PointState::Foreign(why) => {
                eprintln!("note: recomputing point {p}: {why}");
                remove_marker(dir, p)?;
            }
            PointState::Unverifiable => {
                old.push(p);
                remove_marker(dir, p)?;
            }
        }
        todo.push(p);
    }
    if !old.is_empty() {
        old.sort_unstable();
        let listed: Vec<String> = old.iter().take(5).map(|p| p.to_string()).collect();
        eprintln!(
            "note: recomputing {} finished point{} (e.g. {}): {} written by an older vomsim \
             whose done markers do not record their sweep, point and checksums, so the fragments \
             cannot be verified",
            old.len(),
            if old.len() == 1 { "" } else { "s" },
            listed.join(", "),
            if old.len() == 1 {
                "it was"
            } else {
                "they were"
            },
        );
    }
    Ok(todo)
}

/// Removes a point's done marker before it is recomputed, so that a kill
/// in between leaves the point unfinished, not trusted.
fn remove_marker(dir: &Path, point: usize) -> Result<()> {
    let path = done_marker(dir, point);
    fs::remove_file(&path).map_err(|source| Error::Write { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse() {
        assert_eq!(Shard::parse("2/8"), Ok(Shard { k: 2, n: 8 }));
        for bad in ["0/2", "3/2", "2", "a/b", "1/0", "-1/2", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn spread_order_visits_every_point_once_evenly() {
        assert_eq!(spread_order(8), vec![0, 4, 2, 6, 1, 5, 3, 7]);
        let mut order = spread_order(10);
        assert_eq!(order[..2], [0, 8]);
        order.sort();
        assert_eq!(order, (0..10).collect::<Vec<_>>());
        assert_eq!(spread_order(1), vec![0]);
        assert!(spread_order(0).is_empty());
    }
}
