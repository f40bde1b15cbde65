//! Running a sweep: points in batches of (point, replication) pairs on the
//! rayon pool, each finished point written at once as durable fragments,
//! then the final files assembled from the fragments in point order.
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
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::fragments::{
    self, Identity, PointState, check_point, done_marker, fragment, open_fragment,
};
use super::sobol::{self, Indices};
use super::{Design, Sweep, field};
use crate::cancel::Cancel;
use crate::engine::limits::MEMORY_BUDGET_BYTES;
use crate::engine::{self, progress_bar};
use crate::error::{Error, Result};
use crate::measure::diagnosis;
use crate::measure::metrics;
use crate::output::ownership;
use crate::output::{
    csv::{self, DIAGNOSIS_HEADER, RowPrefix},
    folder,
};

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

/// What identifies a sweep's results (`sweep.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub version: String,
    pub scenario: String,
    pub sweep_sha256: String,
    pub overrides: Vec<String>,
    pub seed: u64,
    pub reps: u64,
    pub points: usize,
    /// `[K, N]` for a shard; `None` for a whole sweep or a merge.
    pub shard: Option<(usize, usize)>,
}

impl Fingerprint {
    /// How `self` (found) differs from `expected`, in the user's words.
    pub fn differences(&self, expected: &Fingerprint) -> Vec<String> {
        let mut found = Vec::new();
        if self.version != expected.version {
            found.push(format!("vomsim {}, not {}", self.version, expected.version));
        }
        if self.scenario != expected.scenario || self.sweep_sha256 != expected.sweep_sha256 {
            found.push("another sweep file".to_string());
        }
        if self.overrides != expected.overrides {
            found.push(format!(
                "--set {}, not {}",
                list(&self.overrides),
                list(&expected.overrides)
            ));
        }
        if self.seed != expected.seed {
            found.push(format!("seed {}, not {}", self.seed, expected.seed));
        }
        if self.reps != expected.reps {
            found.push(format!("{} replications, not {}", self.reps, expected.reps));
        }
        if self.points != expected.points {
            found.push(format!("{} points, not {}", self.points, expected.points));
        }
        if self.shard != expected.shard {
            found.push("another shard".to_string());
        }
        found
    }

    /// The fingerprint a point's done marker records: the sweep's, without
    /// the shard (see [`Identity::sweep`]).
    fn of_points(&self) -> Fingerprint {
        Fingerprint {
            shard: None,
            ..self.clone()
        }
    }
}

/// `--set`s as a list for a message.
fn list(overrides: &[String]) -> String {
    if overrides.is_empty() {
        "none".to_string()
    } else {
        overrides.join(" ")
    }
}

/// What point `point` of `sweep`, run with `fingerprint`, must be.
fn identity(sweep: &Sweep, fingerprint: &Fingerprint, point: usize) -> Identity {
    Identity {
        sweep: fingerprint.of_points(),
        point,
        values: sweep.points[point].iter().map(field).collect(),
    }
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepReport {
    pub points: usize,
    pub computed: usize,
    pub skipped: usize,
    pub wall_seconds: f64,
}

fn read_fingerprint(dir: &Path) -> Option<Fingerprint> {
    serde_json::from_str(&fs::read_to_string(dir.join("sweep.json")).ok()?).ok()
}

/// Makes `dir` ready for a sweep with this fingerprint: new, resumed, or
/// replaced with `--force` (only if it holds vomsim's own output).
fn prepare(
    dir: &Path,
    sweep: &Sweep,
    fingerprint: &Fingerprint,
    resume: bool,
    force: bool,
) -> Result<()> {
    let unusable = |reason: String| Error::OutputUnusable {
        path: dir.to_path_buf(),
        reason,
    };
    ownership::check_output_name(dir).map_err(unusable)?;
    if fs::symlink_metadata(dir).is_ok() {
        if !dir.is_dir() {
            return Err(unusable("it exists and is not a folder".to_string()));
        }
        let existing = read_fingerprint(dir);
        if resume {
            match existing {
                Some(f) if f == *fingerprint => {}
                Some(_) => {
                    return Err(unusable(
                        "it holds a different sweep (another file, --set, seed, replication count or shard); \
                         resume with the same arguments, or choose another --out"
                            .to_string(),
                    ));
                }
                None => {
                    return Err(unusable(
                        "it holds no sweep to resume (no sweep.json)".to_string(),
                    ));
                }
            }
        } else if force {
            ownership::check_replaceable(dir, ownership::Expected::Folder).map_err(unusable)?;
            fs::remove_dir_all(dir).map_err(|e| unusable(e.to_string()))?;
        } else {
            return Err(Error::OutputExists {
                path: dir.to_path_buf(),
            });
        }
    }
    fs::create_dir_all(dir.join("points"))
        .map_err(|e| unusable(format!("cannot create it: {e}")))?;
    // Temporary files of a sweep that was killed: of points in flight, or
    // of the final files being assembled (vomsim's names, dead processes).
    ownership::remove_stale_temporaries(dir, |name| ownership::SWEEP_FILES.contains(&name));
    ownership::remove_stale_temporaries(&dir.join("points"), ownership::is_fragment_name);
    folder::write_atomically(&dir.join("sweep.toml"), |w| {
        w.write_all(sweep.text.as_bytes())
    })?;
    folder::write_atomically(&dir.join("sweep.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, fingerprint).map_err(std::io::Error::other)?;
        writeln!(w)
    })
}

/// The fingerprint of a run of `sweep`.
pub fn fingerprint(sweep: &Sweep, options: &SweepOptions) -> Fingerprint {
    Fingerprint {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: sweep.base_scenario.name().to_string(),
        sweep_sha256: sweep.sha256.clone(),
        overrides: sweep.overrides.clone(),
        seed: options.seed,
        reps: options.reps,
        points: sweep.points.len(),
        shard: options.shard,
    }
}

/// The points a shard runs, in run order.
fn shard_points(sweep: &Sweep, shard: Option<(usize, usize)>) -> Vec<usize> {
    sweep
        .run_order()
        .into_iter()
        .filter(|p| shard.is_none_or(|(k, n)| p % n == k - 1))
        .collect()
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
            let catalog = metrics::catalog(scenario.program_months(), scenario.randomized());
            let prefix = sweep.prefix(point);
            let diagnosis = diagnosis::diagnose(&catalog, point_values, scenario.randomized());
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

/// The fragments a point of `sweep` has, in the order they are written.
fn kinds(sweep: &Sweep) -> &'static [&'static str] {
    if sweep.replications_file {
        &["summary", "diagnosis", "replications"]
    } else {
        &["summary", "diagnosis"]
    }
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

/// Writes the final files of `dir` from its fragments of `points`
/// (ascending). Sobol indices need every point: `complete` says whether
/// `points` is the whole sweep.
fn assemble(
    sweep: &Sweep,
    dir: &Path,
    points: &[usize],
    options: &SweepOptions,
    wall_seconds: f64,
    complete: bool,
) -> Result<()> {
    let columns = sweep.prefix(0).columns;
    folder::write_atomically(&dir.join("points.csv"), |w| {
        writeln!(w, "{columns}")?;
        for &p in points {
            writeln!(w, "{}", sweep.prefix(p).values)?;
        }
        Ok(())
    })?;
    // File-to-file copies, which the kernel does without passing the bytes
    // through this process.
    // A fragment that cannot be opened is reported as itself, not as the
    // file being assembled.
    let concatenate = |name: &str, kind: &str, header: String| {
        let mut unreadable = None;
        let written = folder::write_atomically(&dir.join(name), |w| {
            writeln!(w, "{header}")?;
            w.flush()?;
            let file = w.get_mut();
            for &p in points {
                let mut fragment_file = open_fragment(dir, p, kind).map_err(|e| {
                    let io = std::io::Error::other(e.to_string());
                    unreadable = Some(e);
                    io
                })?;
                std::io::copy(&mut fragment_file, file)?;
            }
            Ok(())
        });
        match unreadable {
            Some(e) => Err(e),
            None => written,
        }
    };
    let prefix = RowPrefix {
        columns: columns.clone(),
        values: String::new(),
    };
    concatenate("summary.csv", "summary", prefix.summary_header())?;
    concatenate(
        "diagnosis.csv",
        "diagnosis",
        format!("{columns},{DIAGNOSIS_HEADER}"),
    )?;
    if sweep.replications_file {
        concatenate(
            "replications.csv",
            "replications",
            prefix.replications_header(),
        )?;
    }

    if sweep.design == Design::Sobol && complete {
        let indices = sensitivity(sweep, dir, options.seed)?;
        folder::write_atomically(&dir.join("sensitivity.csv"), |w| {
            sobol::write_sensitivity(w, &indices)
        })?;
    }
    let mut files = vec!["sweep.toml", "sweep.json", "points.csv", "summary.csv"];
    if sweep.replications_file {
        files.push("replications.csv");
    }
    files.push("diagnosis.csv");
    if sweep.design == Design::Sobol && complete {
        files.push("sensitivity.csv");
    }
    files.push("manifest.json");
    folder::write_atomically(&dir.join("manifest.json"), |w| {
        crate::output::manifest::SweepManifest {
            base_scenario: serde_json::to_value(&sweep.base_scenario.raw)
                .map_err(std::io::Error::other)?,
            design: format!("{:?}", sweep.design).to_lowercase(),
            files: Some(files.iter().map(|f| f.to_string()).collect()),
            overrides: sweep.overrides.clone(),
            parameters: sweep.parameters.clone(),
            points: points.len(),
            reps: options.reps,
            scenario: sweep.base_scenario.name().to_string(),
            seed: options.seed,
            shard: options.shard,
            sweep_file: sweep.origin.clone(),
            sweep_sha256: sweep.sha256.clone(),
            threads: options.threads,
            version: env!("CARGO_PKG_VERSION").to_string(),
            wall_seconds,
        }
        .write(w)
    })
}

/// The Sobol indices of every output, from the points' summary fragments.
fn sensitivity(sweep: &Sweep, dir: &Path, seed: u64) -> Result<Vec<Indices>> {
    let lead = sweep.parameters.len() + 1;
    let mut values = vec![vec![f64::NAN; sweep.points.len()]; sweep.outputs.len()];
    for (p, slot) in (0..sweep.points.len()).zip(0..) {
        let path = fragment(dir, p, "summary");
        let file = open_fragment(dir, p, "summary")?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|e| Error::Fragment {
                path: path.clone(),
                reason: format!("cannot read this fragment of point {p}: {e}"),
            })?;
            let cells: Vec<&str> = line.split(',').collect();
            for (o, output) in sweep.outputs.iter().enumerate() {
                if cells.len() > lead + 3
                    && cells[lead] == output.metric
                    && cells[lead + 1] == output.group
                    && cells[lead + 2] == output.month
                {
                    values[o][slot] = cells[lead + 3].parse().unwrap_or(f64::NAN);
                }
            }
        }
    }
    let mut all = Vec::new();
    for (output, f) in sweep.outputs.iter().zip(values) {
        if f.iter().any(|v| !v.is_finite()) {
            return Err(Error::BadArgument {
                option: "sweep.outputs".to_string(),
                value: output.name(),
                requirement:
                    "is undefined at some points (no replication defines it); choose another output"
                        .to_string(),
            });
        }
        all.extend(sobol::indices(
            &output.name(),
            &sweep.parameters,
            &f,
            sweep.base_samples,
            sweep.bootstrap,
            seed,
        ));
    }
    Ok(all)
}

/// Merges shard folders of one sweep into `out`: every point exactly once,
/// the same sweep, seed and replications, no two shards covering the same
/// point, every done marker this sweep's and its point's, and every
/// fragment matching the size and SHA-256 in its done marker and led by
/// its point's columns; then the same assembly as a whole run, so the files are
/// byte-identical to it. Everything is checked before `out` is created.
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool, threads: usize) -> Result<usize> {
    let started = Instant::now();
    let bad = |requirement: String| Error::BadArgument {
        option: "merge".to_string(),
        value: dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(" "),
        requirement,
    };
    let mut seen = Vec::new();
    for dir in dirs {
        let canonical = fs::canonicalize(dir).unwrap_or_else(|_| dir.clone());
        if seen.contains(&canonical) {
            return Err(bad(format!("{} is given twice", dir.display())));
        }
        seen.push(canonical);
    }
    let mut fingerprints = Vec::new();
    for dir in dirs {
        let f = read_fingerprint(dir).ok_or_else(|| {
            bad(format!(
                "{} holds no sweep (no readable sweep.json)",
                dir.display()
            ))
        })?;
        fingerprints.push(f);
    }
    let first = fingerprints[0].clone();
    for (dir, f) in dirs.iter().zip(&fingerprints) {
        let same = Fingerprint {
            shard: None,
            ..f.clone()
        } == Fingerprint {
            shard: None,
            ..first.clone()
        };
        if !same {
            return Err(bad(format!(
                "{} is from a different sweep than {} (sweep file, --set, seed or replications differ); \
                 only shards of one sweep can be merged",
                dir.display(),
                dirs[0].display()
            )));
        }
    }
    let text = fs::read_to_string(dirs[0].join("sweep.toml")).map_err(|e| {
        bad(format!(
            "{}: cannot read sweep.toml: {e}",
            dirs[0].display()
        ))
    })?;
    let sweep = Sweep::from_toml_str(&text, "sweep.toml", &first.overrides)?;
    if sweep.sha256 != first.sweep_sha256 {
        return Err(bad(format!(
            "{}: sweep.toml does not match sweep.json",
            dirs[0].display()
        )));
    }

    // Which folder holds each point, by the shard it was run as: a point
    // claimed by two folders would make the result depend on their order.
    let describe_shard = |shard: Option<(usize, usize)>| {
        shard.map_or_else(
            || "the whole sweep".to_string(),
            |(k, n)| format!("shard {k}/{n}"),
        )
    };
    let mut owner: Vec<Option<usize>> = vec![None; sweep.points.len()];
    for (i, f) in fingerprints.iter().enumerate() {
        for p in (0..sweep.points.len()).filter(|p| f.shard.is_none_or(|(k, n)| p % n == k - 1)) {
            if let Some(j) = owner[p] {
                let (a, b) = (&fingerprints[j], f);
                return Err(bad(if a.shard == b.shard {
                    format!(
                        "{} and {} are the same shard ({}) given twice; give each shard once",
                        dirs[j].display(),
                        dirs[i].display(),
                        describe_shard(a.shard)
                    )
                } else {
                    format!(
                        "{} ({}) and {} ({}) overlap: both hold point {p}, so the result would depend \
                         on their order; give the shards of one split (K/N for K = 1..N), each once",
                        dirs[j].display(),
                        describe_shard(a.shard),
                        dirs[i].display(),
                        describe_shard(b.shard)
                    )
                }));
            }
            owner[p] = Some(i);
        }
    }
    let kinds = kinds(&sweep);
    let pool = engine::thread_pool(threads)?;
    // The shards' own fingerprint (checked equal above): the one their
    // markers record.
    let states: Vec<PointState> = pool.install(|| {
        owner
            .par_iter()
            .enumerate()
            .map(|(p, o)| {
                o.map_or(PointState::Missing, |i| {
                    check_point(&dirs[i], &identity(&sweep, &first, p), kinds)
                })
            })
            .collect()
    });
    let missing: Vec<usize> = (0..sweep.points.len())
        .filter(|&p| states[p] == PointState::Missing)
        .collect();
    if !missing.is_empty() {
        let listed: Vec<String> = missing.iter().take(10).map(|p| p.to_string()).collect();
        return Err(bad(format!(
            "{} of {} points are missing (e.g. {}); run or resume the shards that hold them",
            missing.len(),
            sweep.points.len(),
            listed.join(", ")
        )));
    }
    for (p, state) in states.iter().enumerate() {
        let folder = &dirs[owner[p].expect("a point that is not missing has a folder")];
        let dir = folder.display();
        match state {
            PointState::Damaged(why) => {
                return Err(bad(format!(
                    "shard folder {dir}, point {p}: the fragment is damaged: {why}; \
                     resume that shard with --resume (it recomputes the point), then merge again"
                )));
            }
            PointState::Foreign(why) => {
                return Err(bad(format!(
                    "shard folder {dir} ({}), point {p}: {why}; \
                     resume that shard with --resume (it recomputes the point), then merge again",
                    describe_shard(fingerprints[owner[p].expect("checked above")].shard)
                )));
            }
            PointState::Unverifiable => {
                return Err(bad(format!(
                    "shard folder {dir}, point {p}: its done marker {} does not record its sweep, point, \
                     sizes and checksums (written by an older vomsim), so its fragments cannot be verified; resume that shard \
                     with this vomsim's --resume (it recomputes such points), then merge again",
                    done_marker(folder, p).display()
                )));
            }
            PointState::Missing | PointState::Finished => {}
        }
    }

    let options = SweepOptions {
        seed: first.seed,
        reps: first.reps,
        threads,
        progress: false,
        shard: None,
        resume: false,
        force,
        cancel: Cancel::never(),
    };
    let whole = fingerprint(&sweep, &options);
    prepare(out, &sweep, &whole, false, force)?;
    for (p, i) in owner.iter().enumerate() {
        let dir = &dirs[i.expect("checked above")];
        for kind in kinds {
            copy_file(&fragment(dir, p, kind), &fragment(out, p, kind))?;
        }
        // The marker last, as in a run; its records hold for the copies.
        copy_file(&done_marker(dir, p), &done_marker(out, p))?;
    }
    let points: Vec<usize> = (0..sweep.points.len()).collect();
    assemble(
        &sweep,
        out,
        &points,
        &options,
        started.elapsed().as_secs_f64(),
        true,
    )?;
    Ok(points.len())
}

/// Copies a (checked) file of a shard into the merged folder, atomically.
fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let mut source = fs::File::open(from).map_err(|e| Error::Fragment {
        path: from.to_path_buf(),
        reason: format!("cannot read it to merge it: {e}"),
    })?;
    folder::write_atomically_with(to, false, |w| {
        w.flush()?;
        std::io::copy(&mut source, w.get_mut()).map(|_| ())
    })
}

/// Writes the point table of a sweep (for printing).
pub fn describe(sweep: &Sweep) -> String {
    let mut text = String::new();
    for (p, values) in sweep.points.iter().enumerate().take(5) {
        let shown: Vec<String> = values.iter().map(field).collect();
        text.push_str(&format!("  point {p}: {}\n", shown.join(", ")));
    }
    if sweep.points.len() > 5 {
        text.push_str(&format!("  ... {} points in all\n", sweep.points.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_buffer_is_flushed_before_rename() {
        // write_atomically flushes its BufWriter before the rename: a large
        // fragment arrives whole.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        folder::write_atomically(&path, |w| {
            for i in 0..100_000 {
                writeln!(w, "{i}")?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 100_000);
    }
}
