//! Output files: `summary.csv`, `replications.csv`, `agents.csv` and
//! `manifest.json`, in the columns of DESIGN.md's contract, and the output
//! folder they are written to.
//!
//! Serializing is separate from where bytes go (every writer takes any
//! `io::Write`), so formats are testable without files. The folder is
//! assembled in a hidden staging folder beside it and renamed into place
//! when complete: a crash or an error never leaves half an output under
//! the final name, and an existing folder is replaced only with `--force`,
//! and only if vomsim wrote it (`crate::ownership`).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::designs::DiagnosisRow;
use crate::error::{Error, Result};
use crate::metrics::{Disposition, MetricKey};
use crate::ownership;
use crate::pipeline::AgentRecord;
use crate::recidivism::FOLLOW_UP_MONTHS;
use crate::stats::summarize;

/// Header of `summary.csv` of a run (a sweep adds its parameters after
/// `point`).
pub const SUMMARY_HEADER: &str = "point,metric,group,month,mean,sd,q025,q500,q975,reps";
/// Header of `replications.csv` of a run.
pub const REPLICATIONS_HEADER: &str = "point,rep,metric,group,month,value";
/// Header of `diagnosis.csv` of a run (a sweep puts its point columns first).
pub const DIAGNOSIS_HEADER: &str = "estimator,month,estimand,mean,bias,rmse,coverage,power,reps";

/// The leading columns of a row: which point it belongs to. A run has the
/// single column `point` = 0; a sweep adds one column per swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPrefix {
    /// Header names, comma-separated (e.g. `point,mediators.initial_active`).
    pub columns: String,
    /// This point's values, comma-separated (e.g. `3,20`).
    pub values: String,
}

impl RowPrefix {
    /// The prefix of a run's rows.
    pub fn run() -> RowPrefix {
        RowPrefix {
            columns: "point".to_string(),
            values: "0".to_string(),
        }
    }

    pub fn summary_header(&self) -> String {
        format!(
            "{},metric,group,month,mean,sd,q025,q500,q975,reps",
            self.columns
        )
    }

    pub fn replications_header(&self) -> String {
        format!("{},rep,metric,group,month,value", self.columns)
    }
}

fn month_field(month: Option<u32>) -> String {
    month.map_or_else(String::new, |m| m.to_string())
}

/// Writes `summary.csv` rows (with the header if `header`): one row per
/// metric defined in at least one replication, summarized over the
/// replications where it was defined. Metrics are summarized in parallel
/// (each one serially over replications, so the numbers do not depend on
/// the threads) and written in catalog order.
pub fn write_summary(
    out: &mut impl Write,
    prefix: &RowPrefix,
    header: bool,
    catalog: &[MetricKey],
    values: &[Vec<f64>],
) -> io::Result<()> {
    use rayon::prelude::*;
    use std::fmt::Write as _;
    if header {
        writeln!(out, "{}", prefix.summary_header())?;
    }
    let chunks: Vec<String> = catalog
        .par_iter()
        .enumerate()
        .chunks(64)
        .map(|keys| {
            let mut text = String::new();
            for (i, key) in keys {
                let Some(s) = summarize(values.iter().map(|rep| rep[i])) else {
                    continue;
                };
                let _ = writeln!(
                    text,
                    "{},{},{},{},{},{},{},{},{},{}",
                    prefix.values,
                    key.metric,
                    key.group,
                    month_field(key.month),
                    s.mean,
                    optional_field(s.sd),
                    s.q025,
                    s.q500,
                    s.q975,
                    s.reps
                );
            }
            text
        })
        .collect();
    for chunk in chunks {
        out.write_all(chunk.as_bytes())?;
    }
    Ok(())
}

/// Writes `replications.csv` rows (with the header if `header`): every
/// defined value of every replication.
pub fn write_replications(
    out: &mut impl Write,
    prefix: &RowPrefix,
    header: bool,
    catalog: &[MetricKey],
    values: &[Vec<f64>],
) -> io::Result<()> {
    use rayon::prelude::*;
    use std::fmt::Write as _;
    if header {
        writeln!(out, "{}", prefix.replications_header())?;
    }
    // Replications are formatted in parallel, a chunk at a time, and written
    // in order: the same bytes for any thread count, less memory than
    // formatting everything first.
    const CHUNK: usize = 256;
    for (first, block) in values.chunks(CHUNK).enumerate() {
        let texts: Vec<String> = block
            .par_iter()
            .enumerate()
            .map(|(offset, row)| {
                let rep = first * CHUNK + offset;
                let mut text = String::with_capacity(row.len() * 48);
                for (key, v) in catalog.iter().zip(row) {
                    if v.is_finite() {
                        let _ = writeln!(
                            text,
                            "{},{rep},{},{},{},{v}",
                            prefix.values,
                            key.metric,
                            key.group,
                            month_field(key.month)
                        );
                    }
                }
                text
            })
            .collect();
        for text in texts {
            out.write_all(text.as_bytes())?;
        }
    }
    Ok(())
}

/// Writes `diagnosis.csv` rows; an undefined coverage or power is left
/// empty. With a prefix (a sweep), its columns lead each row.
pub fn write_diagnosis(
    out: &mut impl Write,
    prefix: Option<&RowPrefix>,
    header: bool,
    rows: &[DiagnosisRow],
) -> io::Result<()> {
    let (lead_columns, lead) = match prefix {
        Some(p) => (format!("{},", p.columns), format!("{},", p.values)),
        None => (String::new(), String::new()),
    };
    if header {
        writeln!(out, "{lead_columns}{DIAGNOSIS_HEADER}")?;
    }
    for r in rows {
        writeln!(
            out,
            "{lead}{},{},{},{},{},{},{},{},{}",
            r.estimator,
            r.month,
            r.estimand,
            r.mean,
            r.bias,
            r.rmse,
            optional_field(r.coverage),
            optional_field(r.power),
            r.reps
        )?;
    }
    Ok(())
}

/// Header of `agents.csv`.
pub const AGENTS_HEADER: &str = "id,intake_month,referral_day,age,sex,race,offense,prior_arrests,\
risk,motivation,victim_type,offender_consent,victim_consent,group,wait_days,disposition_day,\
agreement,apology,amount,paid,payment_completed,service_hours,hours_done,service_completed,\
time,event,t0,event0,t1,event1,reconviction_time,reconviction_event";

fn bit(b: bool) -> u8 {
    u8::from(b)
}

/// Time and event indicator, censored at the end of follow-up.
fn censored(t: Option<f64>) -> (f64, u8) {
    t.map_or((FOLLOW_UP_MONTHS as f64, 0), |t| (t, 1))
}

/// Writes `agents.csv`: one row per youth of replication 0.
pub fn write_agents(out: &mut impl Write, agents: &[AgentRecord]) -> io::Result<()> {
    writeln!(out, "{AGENTS_HEADER}")?;
    for (id, a) in agents.iter().enumerate() {
        let y = &a.youth;
        let mediated = a.disposition == Disposition::Mediated;
        let world = usize::from(mediated);
        let (time, event) = censored(a.outcomes.rearrest[world]);
        let (t0, event0) = censored(a.outcomes.rearrest[0]);
        let (t1, event1) = censored(a.outcomes.rearrest[1]);
        let (conviction, convicted) = censored(a.outcomes.reconviction[world]);
        let r = &a.restitution;
        writeln!(
            out,
            "{id},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            y.month,
            y.referral_day,
            y.age,
            if y.male { "male" } else { "female" },
            y.race.name(),
            y.offense.name(),
            bit(y.second_arrest),
            y.risk,
            y.motivation,
            if a.consent.business_victim {
                "business"
            } else {
                "individual"
            },
            bit(a.consent.offender),
            bit(a.consent.victim),
            a.disposition.group().name(),
            a.wait_days.map_or_else(String::new, |w| w.to_string()),
            a.disposition_day,
            a.agreement
                .map_or(String::new(), |g| bit(g.reached).to_string()),
            bit(r.obligations.apology),
            r.obligations.amount,
            r.paid,
            bit(r.payment_completed),
            r.obligations.hours,
            r.hours_done,
            bit(r.service_completed),
            time,
            event,
            t0,
            event0,
            t1,
            event1,
            conviction,
            convicted,
        )?;
    }
    Ok(())
}

/// Writes one file atomically: into a temporary file beside it, flushed to
/// disk, then renamed over the final name, so the final name never holds
/// half a file.
pub fn write_atomically(
    path: &Path,
    contents: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> Result<()> {
    write_atomically_with(path, true, contents)
}

/// [`write_atomically`], choosing whether to flush to disk before the
/// rename. Without the flush, the rename still guarantees that a killed
/// process leaves either the whole file or none; only a machine crash could
/// lose it, which suits fragments that are recomputed if missing.
pub fn write_atomically_with(
    path: &Path,
    durable: bool,
    contents: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> Result<()> {
    let failed = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let temporary = path.with_file_name(ownership::temporary_name(
        &name,
        u64::from(std::process::id()),
    ));
    let result = (|| {
        let mut writer = BufWriter::with_capacity(1 << 16, fs::File::create(&temporary)?);
        contents(&mut writer)?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        if durable {
            file.sync_all()?;
        }
        fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result.map_err(failed)
}

/// A number as a CSV field: empty where it is undefined (never NaN or inf).
pub fn number_field(v: f64) -> String {
    if v.is_finite() {
        v.to_string()
    } else {
        String::new()
    }
}

/// An optional number as a CSV field (empty for `None`).
pub fn optional_field(v: Option<f64>) -> String {
    v.map_or_else(String::new, number_field)
}

/// An output folder being assembled: files go into a hidden staging folder
/// beside the final one, which [`OutputDir::commit`] renames into place.
/// Dropped without a commit, the staging folder is removed.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
    committed: bool,
}

impl OutputDir {
    /// Checks that `target` can be written (before any simulation, so a bad
    /// path costs seconds, not a run) and creates the staging folder, with
    /// its marker written first. `--force` replaces only what
    /// `ownership::check_replaceable` allows: a folder vomsim wrote with
    /// nothing added, or an empty one. A replacement killed half-way is
    /// finished first (`ownership::recover_interrupted_swap`), and
    /// staging folders of killed runs are removed.
    pub fn prepare(target: &Path, force: bool) -> Result<OutputDir> {
        let unusable = |reason: String| Error::OutputUnusable {
            path: target.to_path_buf(),
            reason,
        };
        ownership::check_output_name(target).map_err(unusable)?;
        let name = target
            .file_name()
            .ok_or_else(|| unusable("it does not name a folder".to_string()))?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if parent.is_dir() {
            ownership::recover_interrupted_swap(&parent, &name)?;
        }
        if fs::symlink_metadata(target).is_ok() {
            if !target.is_dir() {
                return Err(unusable("it exists and is not a folder".to_string()));
            }
            if !force {
                return Err(Error::OutputExists {
                    path: target.to_path_buf(),
                });
            }
            ownership::check_replaceable(target, ownership::Expected::Folder).map_err(unusable)?;
        }
        fs::create_dir_all(&parent)
            .map_err(|e| unusable(format!("cannot create {}: {e}", parent.display())))?;
        ownership::remove_stale_staging(&parent, &name);
        let pid = u64::from(std::process::id());
        // Left by an earlier process with this PID (and not vomsim's, or
        // it would have been removed or recovered above): in the way.
        for in_the_way in [
            ownership::staging_name(&name, pid),
            ownership::aside_name(&name, pid),
        ] {
            let path = parent.join(&in_the_way);
            if fs::symlink_metadata(&path).is_ok() {
                return Err(unusable(format!(
                    "{} is in the way (vomsim names its staging folder so); move it away",
                    path.display()
                )));
            }
        }
        let staging = parent.join(ownership::staging_name(&name, pid));
        fs::create_dir(&staging)
            .map_err(|e| unusable(format!("cannot write in {}: {e}", parent.display())))?;
        let output = OutputDir {
            target: target.to_path_buf(),
            staging,
            force,
            committed: false,
        };
        fs::write(
            output.staging.join(ownership::STAGING_MARKER),
            ownership::staging_marker(&name, pid),
        )
        .map_err(|e| unusable(format!("cannot write in {}: {e}", parent.display())))?;
        Ok(output)
    }

    /// Writes one file into the staging folder through a buffered writer.
    pub fn write_file(
        &self,
        name: &str,
        contents: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
    ) -> Result<()> {
        let path = self.staging.join(name);
        let failed = |source| Error::Write {
            path: self.target.join(name),
            source,
        };
        let file = fs::File::create(&path).map_err(failed)?;
        let mut writer = BufWriter::new(file);
        contents(&mut writer).map_err(failed)?;
        let file = writer.into_inner().map_err(|e| failed(e.into_error()))?;
        file.sync_all().map_err(failed)?;
        Ok(())
    }

    /// Moves the finished folder into place. An old folder (allowed by
    /// `--force`, checked in `prepare`) is first renamed aside, to
    /// `.NAME.partial-PID.old`, so the final name always holds a complete
    /// output, then removed. A process killed between the two renames is
    /// recovered by the next `prepare`.
    pub fn commit(mut self) -> Result<PathBuf> {
        let failed = |source| Error::Write {
            path: self.target.clone(),
            source,
        };
        fs::remove_file(self.staging.join(ownership::STAGING_MARKER)).map_err(failed)?;
        let mut aside = None;
        if self.target.exists() && self.force {
            let name = self
                .staging
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let old = self.staging.with_file_name(format!("{name}.old"));
            fs::rename(&self.target, &old).map_err(failed)?;
            aside = Some(old);
        }
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            if let Some(old) = &aside {
                let _ = fs::rename(old, &self.target);
            }
            return Err(failed(e));
        }
        self.committed = true;
        if let Some(old) = aside {
            let _ = fs::remove_dir_all(old);
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(metric: &'static str, month: Option<u32>) -> MetricKey {
        MetricKey {
            metric,
            group: "mediated",
            month,
        }
    }

    #[test]
    fn summary_rows_leave_out_undefined_values() {
        let catalog = [
            key("share", None),
            key("rearrest", Some(12)),
            key("effect_ratio", Some(6)),
        ];
        let values = vec![vec![0.5, 0.1, f64::NAN], vec![0.7, 0.3, f64::NAN]];
        let mut out = Vec::new();
        write_summary(&mut out, &RowPrefix::run(), true, &catalog, &values).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], SUMMARY_HEADER);
        assert!(
            lines[1].starts_with("0,share,mediated,,0.6,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("0,rearrest,mediated,12,0.2,"),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(",2"));
        assert_eq!(lines.len(), 3, "the all-undefined metric has no row");
    }

    #[test]
    fn replication_rows_skip_nan() {
        let catalog = [key("share", None), key("effect_ratio", Some(6))];
        let values = vec![vec![0.5, f64::NAN]];
        let mut out = Vec::new();
        write_replications(&mut out, &RowPrefix::run(), true, &catalog, &values).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{REPLICATIONS_HEADER}\n0,0,share,mediated,,0.5\n")
        );
    }

    #[test]
    fn stale_staging_of_a_dead_process_is_removed_but_not_a_lookalike() {
        let root = tempfile::tempdir().unwrap();
        // PIDs this large are above Linux's maximum: never a live process.
        let stale = root.path().join(".out.partial-4999999999");
        fs::create_dir(&stale).unwrap();
        fs::write(
            stale.join(ownership::STAGING_MARKER),
            ownership::staging_marker("out", 4_999_999_999),
        )
        .unwrap();
        let lookalike = root.path().join(".out.partial-4999999998");
        fs::create_dir(&lookalike).unwrap();
        fs::write(lookalike.join("mine.txt"), "keep").unwrap();
        let dir = OutputDir::prepare(&root.path().join("out"), false).unwrap();
        assert!(!stale.exists() || !Path::new("/proc/self").exists());
        assert!(lookalike.join("mine.txt").exists());
        drop(dir);
    }

    #[test]
    fn output_dir_is_atomic_and_refuses_to_overwrite() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        {
            let dir = OutputDir::prepare(&target, false).unwrap();
            dir.write_file("a.csv", |w| w.write_all(b"x\n")).unwrap();
            assert!(
                !target.exists(),
                "nothing under the final name before commit"
            );
            // Dropped without commit: nothing is left behind.
        }
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
        let dir = OutputDir::prepare(&target, false).unwrap();
        dir.write_file("a.csv", |w| w.write_all(b"x\n")).unwrap();
        dir.commit().unwrap();
        assert_eq!(fs::read_to_string(target.join("a.csv")).unwrap(), "x\n");
        assert!(matches!(
            OutputDir::prepare(&target, false),
            Err(Error::OutputExists { .. })
        ));
        // --force replaces only vomsim's own folders.
        assert!(matches!(
            OutputDir::prepare(&target, true),
            Err(Error::OutputUnusable { .. })
        ));
        // A manifest vomsim did not write does not make it vomsim's.
        fs::write(target.join("manifest.json"), "{}").unwrap();
        assert!(matches!(
            OutputDir::prepare(&target, true),
            Err(Error::OutputUnusable { .. })
        ));
        fs::remove_file(target.join("a.csv")).unwrap();
        fs::write(
            target.join("manifest.json"),
            r#"{"version":"0","a":"x","b":"y","paired":false,"files":["manifest.json"]}"#,
        )
        .unwrap();
        let dir = OutputDir::prepare(&target, true).unwrap();
        dir.write_file("b.csv", |w| w.write_all(b"y\n")).unwrap();
        dir.commit().unwrap();
        assert_eq!(
            fs::read_dir(root.path()).unwrap().count(),
            1,
            "no staging or old folder left"
        );
        assert!(
            !target.join("manifest.json").exists(),
            "--force replaces the folder"
        );
        assert!(target.join("b.csv").exists());
    }
}
