//! The output folder of a sweep: made ready for a run (new, resumed or
//! replaced with `--force`, with `sweep.toml` and `sweep.json`), and its
//! final files (`points.csv`, `summary.csv`, `replications.csv`,
//! `diagnosis.csv`, `sensitivity.csv`, `manifest.json`) assembled from the
//! points' fragments.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use super::fingerprint::{Fingerprint, read_fingerprint};
use super::fragments::{fragment, open_fragment};
use super::run::SweepOptions;
use super::sobol::{self, Indices};
use super::{Design, Sweep};
use crate::error::{Error, Result};
use crate::output::ownership;
use crate::output::{
    csv::{DIAGNOSIS_HEADER, RowPrefix},
    folder,
    parquet::{Format, Kind, kind_of_values},
};

/// Makes `dir` ready for a sweep with this fingerprint: new, resumed, or
/// replaced with `--force` (only if it holds vomsim's own output).
pub(super) fn prepare(
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

/// Writes the final files of `dir` from its fragments of `points`
/// (ascending). Sobol indices need every point: `complete` says whether
/// `points` is the whole sweep.
pub(super) fn assemble(
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
    // Parquet types a parameter column by its values at every point.
    let format = sweep.format;
    let extra: Vec<(String, Kind)> = sweep
        .parameters
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let values: Vec<String> = points
                .iter()
                .map(|&p| {
                    sweep
                        .prefix(p)
                        .values
                        .split(',')
                        .nth(i + 1)
                        .unwrap_or_default()
                        .to_string()
                })
                .collect();
            (
                name.clone(),
                kind_of_values(values.iter().map(String::as_str)),
            )
        })
        .collect();
    // CSV: file-to-file copies, which the kernel does without passing the
    // bytes through this process; Parquet: the fragments' text through a
    // Parquet sink.
    // A fragment that cannot be opened is reported as itself, not as the
    // file being assembled.
    let concatenate = |table: &str, header: String| {
        let mut unreadable = None;
        let written = folder::write_table_atomically(dir, format, table, extra.clone(), |w| {
            writeln!(w, "{header}")?;
            w.flush()?;
            for &p in points {
                let mut fragment_file = open_fragment(dir, p, table).map_err(|e| {
                    let io = std::io::Error::other(e.to_string());
                    unreadable = Some(e);
                    io
                })?;
                std::io::copy(&mut fragment_file, w)?;
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
    let mut tables = vec![concatenate("summary", prefix.summary_header())?];
    if sweep.replications_file {
        tables.push(concatenate("replications", prefix.replications_header())?);
    }
    tables.push(concatenate(
        "diagnosis",
        format!("{columns},{DIAGNOSIS_HEADER}"),
    )?);
    // A sweep resumed in the other format leaves no table of the first
    // behind (the manifest lists only this format's).
    for table in ["summary", "replications", "diagnosis"] {
        for other in [Format::Csv, Format::Parquet] {
            let path = dir.join(other.file(table));
            if other != format && path.is_file() {
                fs::remove_file(&path).map_err(|source| Error::Write { path, source })?;
            }
        }
    }

    if sweep.design == Design::Sobol && complete {
        let indices = sensitivity(sweep, dir, options.seed)?;
        folder::write_atomically(&dir.join("sensitivity.csv"), |w| {
            sobol::write_sensitivity(w, &indices)
        })?;
    }
    let mut files: Vec<String> = ["sweep.toml", "sweep.json", "points.csv"]
        .map(String::from)
        .to_vec();
    files.extend(tables);
    if sweep.design == Design::Sobol && complete {
        files.push("sensitivity.csv".to_string());
    }
    files.push("manifest.json".to_string());
    folder::write_atomically(&dir.join("manifest.json"), |w| {
        crate::output::manifest::SweepManifest {
            base_scenario: serde_json::to_value(&sweep.base_scenario.raw)
                .map_err(std::io::Error::other)?,
            design: format!("{:?}", sweep.design).to_lowercase(),
            files: Some(files.clone()),
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
