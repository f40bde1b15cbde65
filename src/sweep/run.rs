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
//!   rows, each written to a temporary file and renamed, then an empty
//!   `point-NNNNNN.done` that marks the point finished (the folder is only
//!   needed to resume or merge: delete it once a sweep is complete);
//! - `points.csv`, `summary.csv`, `replications.csv`, `diagnosis.csv`,
//!   `manifest.json` (its `files` lists the folder's files, for
//!   `--force`), and for a Sobol sweep `sensitivity.csv`, assembled once
//!   every point of the run is finished.
//!
//! A killed sweep (even by `kill -9`) loses at most the points in flight;
//! `--resume` skips finished points, and because every point's rows depend
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

use super::sobol::{self, Indices};
use super::{Design, Sweep, field};
use crate::cancel::Cancel;
use crate::designs;
use crate::engine::{self, progress_bar, simulate_replication};
use crate::error::{Error, Result};
use crate::export::{self, DIAGNOSIS_HEADER, RowPrefix};
use crate::metrics;
use crate::ownership;

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

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepReport {
    pub points: usize,
    pub computed: usize,
    pub skipped: usize,
    pub wall_seconds: f64,
}

fn fragment(dir: &Path, point: usize, kind: &str) -> PathBuf {
    dir.join("points")
        .join(format!("point-{point:06}.{kind}.csv"))
}

/// A point is finished when its marker exists (written after its fragments).
fn is_finished(dir: &Path, point: usize) -> bool {
    done_marker(dir, point).is_file()
}

fn done_marker(dir: &Path, point: usize) -> PathBuf {
    dir.join("points").join(format!("point-{point:06}.done"))
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
    export::write_atomically(&dir.join("sweep.toml"), |w| {
        w.write_all(sweep.text.as_bytes())
    })?;
    export::write_atomically(&dir.join("sweep.json"), |w| {
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
    let fingerprint = fingerprint(sweep, options);
    prepare(dir, sweep, &fingerprint, options.resume, options.force)?;
    let mine = shard_points(sweep, options.shard);
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|&p| !is_finished(dir, p))
        .collect();
    let pool = engine::thread_pool(options.threads)?;
    let bar = progress_bar(
        todo.len() as u64 * options.reps,
        options.progress,
        "replications",
    );
    // Enough points per batch to keep every thread busy with a few
    // replications each; memory holds one batch's values.
    let batch = (options.threads * 8).div_ceil(options.reps as usize).max(1);
    for points in todo.chunks(batch) {
        let scenarios = points
            .iter()
            .map(|&p| sweep.scenario(p))
            .collect::<Result<Vec<_>>>()?;
        let pairs: Vec<(usize, u64)> = (0..points.len())
            .flat_map(|i| (0..options.reps).map(move |rep| (i, rep)))
            .collect();
        let values: Vec<Vec<f64>> = pool.install(|| {
            pairs
                .par_iter()
                .map(|&(i, rep)| {
                    if options.cancel.requested() {
                        return Vec::new();
                    }
                    let (values, _) = simulate_replication(&scenarios[i], options.seed, rep);
                    bar.inc(1);
                    values
                })
                .collect()
        });
        // A stop in mid-batch: the batch's points are incomplete, the
        // earlier ones are written and kept.
        options.cancel.check()?;
        for (i, (&point, scenario)) in points.iter().zip(&scenarios).enumerate() {
            let reps = options.reps as usize;
            let point_values = &values[i * reps..(i + 1) * reps];
            let catalog = metrics::catalog(scenario.program_months(), scenario.randomized());
            let prefix = sweep.prefix(point);
            let diagnosis = designs::diagnose(&catalog, point_values, scenario.randomized());
            export::write_atomically_with(&fragment(dir, point, "summary"), false, |w| {
                export::write_summary(w, &prefix, false, &catalog, point_values)
            })?;
            export::write_atomically_with(&fragment(dir, point, "diagnosis"), false, |w| {
                export::write_diagnosis(w, Some(&prefix), false, &diagnosis)
            })?;
            if sweep.replications_file {
                export::write_atomically_with(&fragment(dir, point, "replications"), false, |w| {
                    export::write_replications(w, &prefix, false, &catalog, point_values)
                })?;
            }
            // Last: its presence marks the point finished.
            export::write_atomically_with(&done_marker(dir, point), false, |_| Ok(()))?;
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
    export::write_atomically(&dir.join("points.csv"), |w| {
        writeln!(w, "{columns}")?;
        for &p in points {
            writeln!(w, "{}", sweep.prefix(p).values)?;
        }
        Ok(())
    })?;
    // File-to-file copies, which the kernel does without passing the bytes
    // through this process.
    let concatenate = |name: &str, kind: &str, header: String| {
        export::write_atomically(&dir.join(name), |w| {
            writeln!(w, "{header}")?;
            w.flush()?;
            let file = w.get_mut();
            for &p in points {
                let mut fragment_file = fs::File::open(fragment(dir, p, kind))?;
                std::io::copy(&mut fragment_file, file)?;
            }
            Ok(())
        })
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
        export::write_atomically(&dir.join("sensitivity.csv"), |w| {
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
    let manifest = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "scenario": sweep.base_scenario.name(),
        "sweep_file": sweep.origin,
        "sweep_sha256": sweep.sha256,
        "overrides": sweep.overrides,
        "design": format!("{:?}", sweep.design).to_lowercase(),
        "parameters": sweep.parameters,
        "points": points.len(),
        "seed": options.seed,
        "reps": options.reps,
        "threads": options.threads,
        "shard": options.shard,
        "wall_seconds": wall_seconds,
        "base_scenario": sweep.base_scenario.raw,
        "files": files,
    });
    export::write_atomically(&dir.join("manifest.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(std::io::Error::other)?;
        writeln!(w)
    })
}

/// The Sobol indices of every output, from the points' summary fragments.
fn sensitivity(sweep: &Sweep, dir: &Path, seed: u64) -> Result<Vec<Indices>> {
    let lead = sweep.parameters.len() + 1;
    let mut values = vec![vec![f64::NAN; sweep.points.len()]; sweep.outputs.len()];
    for (p, slot) in (0..sweep.points.len()).zip(0..) {
        let path = fragment(dir, p, "summary");
        let file = fs::File::open(&path).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(|source| Error::Write {
                path: path.clone(),
                source,
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
/// the same sweep, seed and replications; then the same assembly as a whole
/// run, so the files are byte-identical to it.
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
    let mut source = vec![None; sweep.points.len()];
    for dir in dirs {
        for (p, slot) in source.iter_mut().enumerate() {
            if slot.is_none() && is_finished(dir, p) {
                *slot = Some(dir.clone());
            }
        }
    }
    let missing: Vec<usize> = (0..sweep.points.len())
        .filter(|&p| source[p].is_none())
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
    for (p, dir) in source.iter().enumerate() {
        let dir = dir.as_ref().expect("checked above");
        let kinds: &[&str] = if sweep.replications_file {
            &["summary", "diagnosis", "replications"]
        } else {
            &["summary", "diagnosis"]
        };
        for kind in kinds {
            let (from, to) = (fragment(dir, p, kind), fragment(out, p, kind));
            check_fragment(&from, kind, sweep.parameters.len() + 1).map_err(|why| {
                bad(format!(
                    "{} is damaged ({why}); delete that point's .done marker and rerun its shard with --resume",
                    from.display()
                ))
            })?;
            export::write_atomically_with(&to, false, |w| {
                w.flush()?;
                std::io::copy(&mut fs::File::open(&from)?, w.get_mut()).map(|_| ())
            })?;
        }
        export::write_atomically_with(&done_marker(out, p), false, |_| Ok(()))?;
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

/// Checks a fragment before merging it: whole lines with the columns of
/// its kind (vomsim writes fragments atomically, so damage means something
/// else touched them).
fn check_fragment(path: &Path, kind: &str, lead: usize) -> std::result::Result<(), String> {
    let text = fs::read_to_string(path).map_err(|e| e.to_string())?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("its last line is cut".to_string());
    }
    let fields = lead + if kind == "replications" { 5 } else { 9 };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        if record.len() != fields {
            return Err(format!(
                "line {} has {} fields, not {fields}",
                i + 1,
                record.len()
            ));
        }
    }
    Ok(())
}

/// `K/N` of `--shard`.
pub fn parse_shard(text: &str) -> Result<(usize, usize)> {
    let bad = || Error::BadArgument {
        option: "--shard".to_string(),
        value: text.to_string(),
        requirement: "must be K/N with whole numbers 1 <= K <= N (e.g. 2/8)".to_string(),
    };
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n) = (
        k.trim().parse::<usize>().map_err(|_| bad())?,
        n.trim().parse::<usize>().map_err(|_| bad())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
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
    fn shards_parse() {
        assert_eq!(parse_shard("2/8").unwrap(), (2, 8));
        for bad in ["0/2", "3/2", "2", "a/b", "1/0"] {
            assert!(parse_shard(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn write_buffer_is_flushed_before_rename() {
        // write_atomically flushes its BufWriter before the rename: a large
        // fragment arrives whole.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.csv");
        export::write_atomically(&path, |w| {
            for i in 0..100_000 {
                writeln!(w, "{i}")?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap().lines().count(), 100_000);
    }
}
