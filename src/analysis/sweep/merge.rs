//! `merge`: shard folders of one sweep checked (one sweep, every point
//! exactly once, every fragment verified) and assembled into one folder,
//! byte-identical to a whole run.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use super::Sweep;
use super::assemble::{assemble, prepare};
use super::fingerprint::{Fingerprint, fingerprint, identity, in_shard, read_fingerprint};
use super::fragments::{
    PointState, check_point, done_marker, fragment, kinds, records_replications,
};
use super::run::SweepOptions;
use crate::cancel::Cancel;
use crate::engine;
use crate::error::{Error, Result};
use crate::output::folder;
use crate::output::parquet::Format;

/// Merges shard folders of one sweep into `out`: every point exactly once,
/// the same sweep, seed and replications, no two shards covering the same
/// point, every done marker this sweep's and its point's, and every
/// fragment matching the size and SHA-256 in its done marker and led by
/// its point's columns; then the same assembly as a whole run, so the files are
/// byte-identical to it. Everything is checked before `out` is created.
pub fn merge(
    dirs: &[PathBuf],
    out: &Path,
    force: bool,
    threads: usize,
    format: Format,
) -> Result<usize> {
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
    let mut sweep = Sweep::from_toml_str(&text, "sweep.toml", &first.overrides)?;
    sweep.format = format;
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
        for p in (0..sweep.points.len()).filter(|&p| in_shard(f.shard, p)) {
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
    // Shards run with `--no-replications` hold no replications fragments:
    // the merge leaves replications.csv out too (the first point found
    // decides; a shard that differs is refused below, its markers not
    // describing the fragments expected).
    if let Some(recorded) = owner
        .iter()
        .enumerate()
        .find_map(|(p, o)| o.and_then(|i| records_replications(&dirs[i], p)))
    {
        sweep.replications_file &= recorded;
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
