//! What vomsim may replace, overwrite or delete, and nothing more.
//!
//! - `--force` replaces a folder only if vomsim wrote it and nothing was
//!   added to it ([`check_replaceable`]): its `manifest.json` (or a sweep's
//!   `sweep.json`, or `size.csv` or `power.csv`) has exactly the fields vomsim writes, and
//!   every entry of the folder is a file that manifest lists (a sweep's
//!   `points/` tree, `report.html` written by `vomsim report`, and
//!   vomsim's temporary files of dead processes are also vomsim's). An
//!   empty folder is replaceable too. `calibrate --force` overwrites only
//!   vomsim's own `calibration.csv` and calibrated scenario.
//! - An output is never, never holds and never lies inside an input of the
//!   same command ([`check_not_input`]), compared by canonical paths.
//! - Left-overs of killed processes are removed only when vomsim provably
//!   made them and their process is dead: staging folders carry a marker
//!   file written first ([`remove_stale_staging`]); temporary files must be
//!   named after a file vomsim writes in that folder
//!   ([`remove_stale_temporaries`]). A replacement killed between its two
//!   renames is finished on the next run ([`recover_interrupted_swap`]).
//!
//! Every check here runs before any simulation.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde_json::Value;

use crate::error::{Error, Result};
use crate::output::csv::{CALIBRATION_HEADER, POWER_HEADER, SIZE_HEADER, SIZE_HEADER_GRID};
use crate::output::manifest::{Manifest, PlanManifest, SizeManifest};

/// The file vomsim writes first into every staging folder, naming the
/// target, the process and the machine: what makes a staging folder
/// provably vomsim's. Removed just before the folder is renamed into place.
pub(crate) const STAGING_MARKER: &str = ".vomsim-staging";

/// What `--force` does, said after every refusal.
pub(crate) const FORCE_RULE: &str = "--force replaces only vomsim's own output folders \
     (holding nothing but what vomsim wrote) or an empty folder";

/// Fields of a sweep's `sweep.json`.
const FINGERPRINT_FIELDS: &[&str] = &[
    "version",
    "scenario",
    "sweep_sha256",
    "overrides",
    "seed",
    "reps",
    "points",
    "shard",
];

/// Every file a run may write into its folder.
pub(crate) const RUN_FILES: &[&str] = &[
    "summary.csv",
    "replications.csv",
    "diagnosis.csv",
    "agents.csv",
    "summary.parquet",
    "replications.parquet",
    "diagnosis.parquet",
    "agents.parquet",
    "manifest.json",
];
/// Every file `compare` writes into its folder.
pub(crate) const COMPARE_FILES: &[&str] = &["compare.csv", "manifest.json"];
/// Every file a sweep (or a merge) may write at the top of its folder,
/// besides the `points/` folder.
pub(crate) const SWEEP_FILES: &[&str] = &[
    "sweep.toml",
    "sweep.json",
    "points.csv",
    "summary.csv",
    "replications.csv",
    "diagnosis.csv",
    "sensitivity.csv",
    "summary.parquet",
    "replications.parquet",
    "diagnosis.parquet",
    "manifest.json",
];
/// Every file `size` writes into its folder (before issue 19, `size.csv`
/// alone).
pub(crate) const SIZE_FILES: &[&str] = &["size.csv", "manifest.json"];
/// Every file `plan` writes into its folder.
pub(crate) const PLAN_FILES: &[&str] = &["plan.csv", "manifest.json"];
/// The file `vomsim report` adds to a run's or a sweep's folder.
pub(crate) const REPORT_FILE: &str = "report.html";
/// How `report.html` begins (see `report::html`).
pub(crate) const REPORT_START: &str =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vomsim report: ";
/// How a value fitted by `calibrate` is marked in the calibrated scenario.
pub(crate) const FITTED_MARK: &str = "# fitted by vomsim calibrate to ";

/// The kinds of folder vomsim writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Run,
    Compare,
    Sweep,
    Size,
    Plan,
    Power,
}

impl Kind {
    /// The files this kind of folder may hold at its top level.
    fn files(self) -> &'static [&'static str] {
        match self {
            Kind::Run => RUN_FILES,
            Kind::Compare => COMPARE_FILES,
            Kind::Sweep => SWEEP_FILES,
            Kind::Size => SIZE_FILES,
            Kind::Plan => PLAN_FILES,
            Kind::Power => &["power.csv"],
        }
    }

    /// Whether `vomsim report` writes into this kind of folder.
    fn has_report(self) -> bool {
        matches!(
            self,
            Kind::Run | Kind::Sweep | Kind::Size | Kind::Plan | Kind::Compare
        )
    }
}

/// A regular file, a folder, or anything else (a symbolic link, a socket):
/// vomsim writes only the first two.
fn entry_type(path: &Path) -> Option<fs::FileType> {
    fs::symlink_metadata(path).ok().map(|m| m.file_type())
}

fn is_file(path: &Path) -> bool {
    entry_type(path).is_some_and(|t| t.is_file())
}

fn is_dir(path: &Path) -> bool {
    entry_type(path).is_some_and(|t| t.is_dir())
}

/// Reads a JSON object; `None` if the file is not one.
fn json_object(path: &Path) -> Option<serde_json::Map<String, Value>> {
    if !is_file(path) {
        return None;
    }
    match serde_json::from_str(&fs::read_to_string(path).ok()?).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// Whether the keys of `object`, `files` aside, are exactly `fields`.
fn has_fields(object: &serde_json::Map<String, Value>, fields: &[&str]) -> bool {
    object.keys().filter(|k| *k != "files").count() == fields.len()
        && fields.iter().all(|f| object.contains_key(*f))
        && object.get("version").is_some_and(Value::is_string)
}

/// The first line of a file (at most 4 KiB read).
fn first_line(path: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(4096)
        .read_to_end(&mut head)
        .ok()?;
    let text = String::from_utf8_lossy(&head);
    Some(text.lines().next().unwrap_or("").to_string())
}

/// Whether `path` is a `report.html` that vomsim wrote.
pub(crate) fn is_vomsim_report(path: &Path) -> bool {
    is_file(path)
        && fs::read(path).is_ok_and(|bytes| {
            bytes.starts_with(REPORT_START.as_bytes()) && bytes.ends_with(b"</html>\n")
        })
}

/// `.NAME.partial-PID`: the name of a temporary file of `NAME` written by
/// process PID ([`crate::output::folder::write_atomically_with`]).
pub(crate) fn temporary_name(name: &str, pid: u64) -> String {
    format!(".{name}.partial-{pid}")
}

/// The `(NAME, PID)` of a temporary file's name, if it is one.
fn parse_temporary(file_name: &str) -> Option<(&str, u64)> {
    let (name, pid) = file_name.strip_prefix('.')?.rsplit_once(".partial-")?;
    if name.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, pid.parse().ok()?))
}

/// Whether process `pid` provably no longer runs on this machine. This
/// process counts as dead: it calls this before writing anything, so a
/// left-over with its PID was left by an earlier process that had the same
/// PID. Without `/proc` nothing can be proven, and nothing is dead.
pub(crate) fn is_dead(pid: u64) -> bool {
    if pid == u64::from(std::process::id()) {
        return true;
    }
    Path::new("/proc/self").exists() && !Path::new("/proc").join(pid.to_string()).exists()
}

/// This machine's name (processes are compared only on the same machine:
/// an output folder on a shared file system may be another node's).
fn host() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// The contents of the staging marker of `name` for process `pid`.
pub(crate) fn staging_marker(name: &str, pid: u64) -> String {
    format!(
        "vomsim staging folder\ntarget: {name}\nprocess: {pid}\nhost: {}\n",
        host()
    )
}

/// What a folder holds, as far as `--force` is concerned: `Ok(None)` if it
/// is empty, `Ok(Some(kind))` if vomsim wrote it and nothing was added,
/// otherwise why not.
pub(crate) fn inspect(dir: &Path) -> std::result::Result<Option<Kind>, String> {
    let entries: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("cannot read it: {e}"))?
        .map(|entry| {
            entry
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .map_err(|e| format!("cannot read it: {e}"))
        })
        .collect::<std::result::Result<_, _>>()?;
    if entries.is_empty() {
        return Ok(None);
    }
    let has = |name: &str| entries.iter().any(|e| e == name);
    // The kind, the files it may hold, and where that list comes from.
    let (kind, listed, source): (Kind, Vec<String>, &str) = if has("manifest.json") {
        let path = dir.join("manifest.json");
        let text = if is_file(&path) {
            fs::read_to_string(&path).map_err(|e| format!("cannot read it: {e}"))?
        } else {
            return Err("its manifest.json was not written by vomsim (not a regular file)".into());
        };
        // A size or plan folder's manifest is not one of `Manifest`'s kinds.
        let (kind, files) = match (Manifest::parse(&text), SizeManifest::parse(&text)) {
            (_, Ok(size)) => (Kind::Size, Some(size.files)),
            (Ok(manifest), _) => (
                match manifest {
                    Manifest::Run(_) => Kind::Run,
                    Manifest::Compare(_) => Kind::Compare,
                    Manifest::Sweep(_) => Kind::Sweep,
                },
                manifest.files().map(<[String]>::to_vec),
            ),
            (Err(why), Err(_)) => match PlanManifest::parse(&text) {
                Ok(plan) => (Kind::Plan, Some(plan.files)),
                Err(_) => {
                    return Err(format!(
                        "its manifest.json was not written by vomsim ({why})"
                    ));
                }
            },
        };
        // Manifests written before `files` existed: the kind's whole list.
        let listed = match files {
            None => kind.files().iter().map(|f| f.to_string()).collect(),
            Some(files) => {
                if let Some(f) = files.iter().find(|f| !kind.files().contains(&f.as_str())) {
                    return Err(format!(
                        "its manifest.json was not written by vomsim (it lists {f:?}, \
                         a file vomsim does not write there)"
                    ));
                }
                files.to_vec()
            }
        };
        (kind, listed, "its manifest.json lists")
    } else if has("sweep.json") {
        // A sweep that was stopped before its final files (or while
        // writing them): sweep.json is the marker.
        let fingerprint = json_object(&dir.join("sweep.json"));
        if !fingerprint.is_some_and(|f| has_fields(&f, FINGERPRINT_FIELDS)) {
            return Err("its sweep.json was not written by vomsim".to_string());
        }
        (
            Kind::Sweep,
            SWEEP_FILES.iter().map(|f| f.to_string()).collect(),
            "a sweep's folder holds only points/ and",
        )
    } else if has("size.csv") {
        let size = dir.join("size.csv");
        // A size folder written before `size` wrote a manifest (its grid
        // header), or one whose manifest was not yet written.
        let header = if is_file(&size) {
            first_line(&size)
        } else {
            None
        };
        if !header.is_some_and(|h| h == SIZE_HEADER || h == SIZE_HEADER_GRID) {
            return Err(format!(
                "its size.csv was not written by vomsim (its first line is not `{SIZE_HEADER}`)"
            ));
        }
        (
            Kind::Size,
            vec!["size.csv".to_string()],
            "a size folder holds only",
        )
    } else if has("power.csv") {
        let power = dir.join("power.csv");
        if !is_file(&power) || first_line(&power).as_deref() != Some(POWER_HEADER) {
            return Err(format!(
                "its power.csv was not written by vomsim (its first line is not `{POWER_HEADER}`)"
            ));
        }
        (
            Kind::Power,
            vec!["power.csv".to_string()],
            "a power folder holds only",
        )
    } else {
        let mut shown: Vec<&str> = entries.iter().map(String::as_str).collect();
        shown.sort_unstable();
        return Err(format!(
            "it was not written by vomsim (it holds {} and no manifest.json, sweep.json, \
             size.csv or power.csv of vomsim's)",
            list(&shown)
        ));
    };
    let mut sorted = entries.clone();
    sorted.sort_unstable();
    for name in &sorted {
        let path = dir.join(name);
        let ours = if listed.contains(name) {
            is_file(&path)
        } else if name == REPORT_FILE && kind.has_report() {
            is_vomsim_report(&path)
        } else if name == "points" && kind == Kind::Sweep {
            if !is_dir(&path) {
                false
            } else {
                check_points(&path)?;
                true
            }
        } else if let Some((base, pid)) = parse_temporary(name) {
            let known =
                listed.iter().any(|l| l == base) || (base == REPORT_FILE && kind.has_report());
            if known && is_file(&path) && !is_dead(pid) {
                return Err(format!(
                    "another vomsim process (PID {pid}) is writing {base} in it"
                ));
            }
            known && is_file(&path)
        } else {
            false
        };
        if !ours {
            return Err(format!(
                "it holds `{name}`, which vomsim did not write there ({source} {})",
                list(&listed.iter().map(String::as_str).collect::<Vec<_>>())
            ));
        }
    }
    Ok(Some(kind))
}

/// Names, quoted, for a message.
fn list(names: &[&str]) -> String {
    let shown: Vec<String> = names.iter().take(6).map(|n| format!("`{n}`")).collect();
    if names.len() > 6 {
        format!("{} and {} more", shown.join(", "), names.len() - 6)
    } else {
        shown.join(", ")
    }
}

/// Whether `name` is a file a sweep writes into `points/`:
/// `point-NNNNNN.{summary,diagnosis,replications}.csv` or `point-NNNNNN.done`.
pub(crate) fn is_fragment_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("point-") else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits >= 6
        && matches!(
            &rest[digits..],
            ".summary.csv" | ".diagnosis.csv" | ".replications.csv" | ".done"
        )
}

/// A sweep's `points/` holds only its fragments, their markers and
/// temporary files of dead processes.
fn check_points(points: &Path) -> std::result::Result<(), String> {
    let entries = fs::read_dir(points).map_err(|e| format!("cannot read points/: {e}"))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read points/: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let ours = if is_fragment_name(&name) {
            is_file(&path)
        } else if let Some((base, pid)) = parse_temporary(&name) {
            if is_fragment_name(base) && is_file(&path) && !is_dead(pid) {
                return Err(format!(
                    "another vomsim process (PID {pid}) is writing points/{base} in it"
                ));
            }
            is_fragment_name(base) && is_file(&path)
        } else {
            false
        };
        if !ours {
            return Err(format!(
                "it holds `points/{name}`, which vomsim did not write there (points/ holds only \
                 point-NNNNNN fragments)"
            ));
        }
    }
    Ok(())
}

/// What an existing output should be, for [`check_replaceable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expected {
    /// An output folder (of run, size, sweep, merge or compare).
    Folder,
    /// `calibration.csv`.
    CalibrationTable,
    /// The calibrated scenario written by `calibrate`.
    CalibratedScenario,
    /// `posterior.csv` of `calibrate --posterior`.
    PosteriorTable,
    /// A scenario file written by `vomsim init`.
    InitScenario,
}

/// The one rule for `--force`: whether the existing output at `path` may
/// be replaced. A folder: empty, or written by vomsim with nothing added
/// ([`inspect`]). `calibration.csv`: vomsim's header. A calibrated
/// scenario: vomsim's `# fitted by vomsim calibrate` marks. A scenario
/// written by `vomsim init`: its first line says so. Otherwise the
/// reason, for [`Error::OutputUnusable`] or [`Error::OutputFileUnusable`].
pub(crate) fn check_replaceable(
    path: &Path,
    expected: Expected,
) -> std::result::Result<(), String> {
    match expected {
        Expected::Folder => {
            if entry_type(path).is_some_and(|t| t.is_symlink()) {
                return Err(
                    "it is a symbolic link; give the folder it points to as --out".to_string(),
                );
            }
            if !is_dir(path) {
                return Err("it exists and is not a folder".to_string());
            }
            inspect(path)
                .map(|_| ())
                .map_err(|why| format!("{why}; {FORCE_RULE}"))
        }
        Expected::CalibrationTable => {
            if is_file(path) && first_line(path).as_deref() == Some(CALIBRATION_HEADER) {
                Ok(())
            } else {
                Err(format!(
                    "it was not written by vomsim (its first line is not `{CALIBRATION_HEADER}`); \
                     --force replaces only vomsim's own calibration.csv"
                ))
            }
        }
        Expected::PosteriorTable => {
            // Its header: `draw`, the fitted keys, `weight,distance`.
            let header = first_line(path).unwrap_or_default();
            if is_file(path) && header.starts_with("draw,") && header.ends_with(",weight,distance")
            {
                Ok(())
            } else {
                Err(
                    "it was not written by vomsim (its first line is not `draw,KEY...,weight,distance`); \
                     --force replaces only vomsim's own posterior.csv"
                        .to_string(),
                )
            }
        }
        Expected::CalibratedScenario => {
            if is_file(path) && fs::read_to_string(path).is_ok_and(|t| t.contains(FITTED_MARK)) {
                Ok(())
            } else {
                Err(format!(
                    "it was not written by vomsim calibrate (it has no `{FITTED_MARK}...` mark); \
                     --force replaces only a scenario vomsim calibrated"
                ))
            }
        }
        Expected::InitScenario => {
            if is_file(path)
                && first_line(path).is_some_and(|l| l.contains(crate::scenario::INIT_MARK))
            {
                Ok(())
            } else {
                Err(
                    "it was not written by vomsim init (its first line does not say so); \
                     --force replaces only a scenario file vomsim init wrote: move the file \
                     away or choose another NAME or --dir"
                        .to_string(),
                )
            }
        }
    }
}

/// Refuses an output path whose last part is `.` or `..` (`--out DIR/.`):
/// it names no entry of its own, so it can be neither created nor renamed
/// into place.
pub(crate) fn check_output_name(path: &Path) -> std::result::Result<(), String> {
    let text = path.to_string_lossy();
    let last = text.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    match last {
        "" => Err("it does not name a folder".to_string()),
        "." | ".." => Err(format!(
            "its last part is `{last}`, which is not a name of its own; give the folder's name \
             (e.g. `{}`)",
            suggestion(path)
        )),
        _ => passes_through_itself(path),
    }
}

/// Refuses a path that goes through the output itself on its way to it
/// (`./out/../out`): the folder is renamed aside while it is replaced, and
/// the path no longer reaches its own target then. `../results/run1` is
/// fine: no part of the way is the output.
fn passes_through_itself(path: &Path) -> std::result::Result<(), String> {
    if !path.components().any(|c| c == Component::ParentDir) {
        return Ok(());
    }
    let target = resolve(path);
    let mut prefix = PathBuf::new();
    let components: Vec<Component> = path.components().collect();
    for component in &components[..components.len().saturating_sub(1)] {
        prefix.push(component);
        if resolve(&prefix).starts_with(&target) {
            return Err(format!(
                "the path goes through the output itself (`{}`) on its way there; give it directly, as `{}`",
                prefix.display(),
                target.display()
            ));
        }
    }
    Ok(())
}

/// `DIR/.` as `DIR`, for a message (`..` resolved to the folder it names).
fn suggestion(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut trimmed: &str = &text;
    loop {
        let next = trimmed.trim_end_matches('/');
        let next = next.strip_suffix("/.").unwrap_or(next);
        if next == trimmed {
            break;
        }
        trimmed = next;
    }
    if trimmed.is_empty() || trimmed == "." || trimmed.ends_with("..") {
        resolve(path).display().to_string()
    } else {
        trimmed.to_string()
    }
}

/// An absolute path with symbolic links, `.` and `..` resolved, for paths
/// that do not exist yet too: the nearest existing ancestor is
/// canonicalized and the rest appended (`..` there undoing the part before
/// it, as it will once those folders are created).
pub(crate) fn resolve(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let components: Vec<Component> = absolute.components().collect();
    for keep in (1..=components.len()).rev() {
        let prefix: PathBuf = components[..keep].iter().collect();
        if let Ok(mut resolved) = fs::canonicalize(&prefix) {
            for c in &components[keep..] {
                match c {
                    Component::ParentDir => {
                        resolved.pop();
                    }
                    Component::Normal(n) => resolved.push(n),
                    _ => {}
                }
            }
            return resolved;
        }
    }
    absolute
}

/// Refuses an output that is, holds or lies inside one of the command's
/// inputs (`(role, path)`, e.g. `("scenario file", "R/my.toml")`): writing
/// it would replace or delete that input.
pub(crate) fn check_not_input(output: &Path, inputs: &[(&'static str, &Path)]) -> Result<()> {
    let out = resolve(output);
    for &(role, input) in inputs {
        let inp = resolve(input);
        let relation = if out == inp {
            "is"
        } else if inp.starts_with(&out) {
            "holds"
        } else if out.starts_with(&inp) {
            "lies inside"
        } else {
            continue;
        };
        return Err(Error::OutputIsInput {
            output: output.to_path_buf(),
            relation,
            role,
            input: input.to_path_buf(),
        });
    }
    Ok(())
}

/// Checks that files can be created in `dir` (not only by its permission
/// bits, which do not bind root: a read-only file system does) by creating
/// and removing the temporary file of `name` that writing it would use.
pub(crate) fn check_writable(dir: &Path, name: &str) -> io::Result<()> {
    let probe = dir.join(temporary_name(name, u64::from(std::process::id())));
    fs::File::create(&probe)?;
    fs::remove_file(&probe)
}

/// Removes temporary files (`.NAME.partial-PID`) that killed vomsim
/// processes left in `dir`: only regular files, only of a `NAME` for which
/// `writes` says vomsim writes that file into `dir`, only if process PID
/// is dead. Everything else, a user's file of a similar name included, is
/// left alone.
pub(crate) fn remove_stale_temporaries(dir: &Path, writes: impl Fn(&str) -> bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((base, pid)) = parse_temporary(&name)
            && writes(base)
            && is_dead(pid)
            && is_file(&entry.path())
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The name of a staging folder of `name` for process `pid`.
pub(crate) fn staging_name(name: &str, pid: u64) -> String {
    format!(".{name}.partial-{pid}")
}

/// The name a replaced folder is renamed to while its replacement moves in.
pub(crate) fn aside_name(name: &str, pid: u64) -> String {
    format!(".{name}.partial-{pid}.old")
}

/// The PID of `file_name` if it is `.{name}.partial-PID` followed by `tail`.
fn staging_pid(file_name: &str, name: &str, tail: &str) -> Option<u64> {
    let pid = file_name
        .strip_prefix(&format!(".{name}.partial-"))?
        .strip_suffix(tail)?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// Whether `dir` is a staging folder of `name` that process `pid` made:
/// its marker says so, or (the marker is removed just before the folder
/// is renamed into place) it is a complete vomsim output folder.
fn is_our_staging(dir: &Path, name: &str, pid: u64) -> bool {
    let marker = dir.join(STAGING_MARKER);
    if is_file(&marker) {
        return fs::read_to_string(&marker).is_ok_and(|m| m == staging_marker(name, pid));
    }
    matches!(inspect(dir), Ok(Some(_)))
}

/// Removes staging folders of `name` in `parent` that vomsim made
/// ([`is_our_staging`]) in processes that are dead. A folder that merely
/// has such a name is left alone.
pub(crate) fn remove_stale_staging(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = staging_pid(&file_name, name, "") else {
            continue;
        };
        let path = entry.path();
        if is_dead(pid) && is_dir(&path) && is_our_staging(&path, name, pid) {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// Finishes a replacement (`--force`) that was killed between its two
/// renames ([`crate::output::folder::OutputDir::commit`]: the old folder to
/// `.NAME.partial-PID.old`, then the staging folder `.NAME.partial-PID` to
/// NAME), found by its process being dead:
///
/// - NAME is missing and the staging folder is a complete vomsim output:
///   the swap is finished (rolled forward). `commit` runs only once every
///   file of the new output is written and flushed, and replacing the old
///   folder is what `--force` asked for; rolling back would throw that
///   finished work away.
/// - NAME is missing and there is no complete staging folder: the old
///   folder is put back (rolled back), so NAME is never lost.
/// - NAME exists (the swap finished; only removing the old folder was cut
///   short): the old folder is removed.
///
/// The old folder is renamed or removed only if it passes
/// [`check_replaceable`]'s test (it did when it was replaced).
pub(crate) fn recover_interrupted_swap(parent: &Path, name: &str) -> Result<()> {
    let Ok(entries) = fs::read_dir(parent) else {
        return Ok(());
    };
    let target = parent.join(name);
    let mut olds: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let file_name = e.file_name().to_string_lossy().into_owned();
            staging_pid(&file_name, name, ".old").map(|pid| (pid, e.path()))
        })
        .filter(|(pid, path)| is_dead(*pid) && is_dir(path))
        .collect();
    olds.sort();
    let failed = |source: io::Error| Error::Write {
        path: target.clone(),
        source,
    };
    for (pid, old) in olds {
        let old_is_ours = inspect(&old).is_ok();
        if entry_type(&target).is_none() {
            let staging = parent.join(staging_name(name, pid));
            if is_dir(&staging) && matches!(inspect(&staging), Ok(Some(_))) {
                fs::rename(&staging, &target).map_err(failed)?;
                if old_is_ours {
                    let _ = fs::remove_dir_all(&old);
                }
            } else if old_is_ours {
                fs::rename(&old, &target).map_err(failed)?;
            }
        } else if old_is_ours {
            let _ = fs::remove_dir_all(&old);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_parse() {
        assert_eq!(
            parse_temporary(".summary.csv.partial-123"),
            Some(("summary.csv", 123))
        );
        assert_eq!(parse_temporary(".x.partial-"), None);
        assert_eq!(parse_temporary("x.partial-12"), None);
        assert_eq!(parse_temporary(".x.partial-12a"), None);
    }

    #[test]
    fn fragment_names() {
        assert!(is_fragment_name("point-000012.summary.csv"));
        assert!(is_fragment_name("point-1234567.done"));
        assert!(!is_fragment_name("point-12.done"));
        assert!(!is_fragment_name("point-000012.notes"));
    }

    #[test]
    fn output_names_ending_in_dot_are_refused() {
        for bad in ["out/.", "out/./", ".", "out/..", "/"] {
            assert!(check_output_name(Path::new(bad)).is_err(), "{bad}");
        }
        for good in ["out", "out/", "./out", "a/../out"] {
            assert!(check_output_name(Path::new(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn paths_that_do_not_exist_resolve_through_their_nearest_ancestor() {
        let root = tempfile::tempdir().unwrap();
        let base = fs::canonicalize(root.path()).unwrap();
        assert_eq!(resolve(&root.path().join("a/b/../c")), base.join("a/c"));
        fs::create_dir(root.path().join("real")).unwrap();
        std::os::unix::fs::symlink(root.path().join("real"), root.path().join("link")).unwrap();
        assert_eq!(resolve(&root.path().join("link/x")), base.join("real/x"));
    }

    #[test]
    fn inputs_and_outputs_must_not_overlap() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("R");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("my.toml"), "").unwrap();
        let input = dir.join("my.toml");
        for (out, relation) in [
            (dir.clone(), "holds"),
            (dir.join("my.toml"), "is"),
            (dir.join("./my.toml"), "is"),
        ] {
            match check_not_input(&out, &[("scenario file", &input)]) {
                Err(Error::OutputIsInput { relation: r, .. }) => assert_eq!(r, relation),
                other => panic!("{other:?}"),
            }
        }
        assert!(check_not_input(&root.path().join("S"), &[("scenario file", &input)]).is_ok());
        match check_not_input(&dir.join("sub"), &[("run folder", &dir)]) {
            Err(Error::OutputIsInput { relation, .. }) => assert_eq!(relation, "lies inside"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn folders_with_foreign_entries_are_not_replaceable() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        assert_eq!(inspect(dir), Ok(None));
        fs::write(
            dir.join("manifest.json"),
            r#"{"version":"0","a":"x","b":"y","paired":true,"files":["compare.csv","manifest.json"]}"#,
        )
        .unwrap();
        fs::write(dir.join("compare.csv"), "x\n").unwrap();
        assert_eq!(inspect(dir), Ok(Some(Kind::Compare)));
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        assert!(inspect(dir).unwrap_err().contains("`notes.txt`"));
        fs::remove_file(dir.join("notes.txt")).unwrap();
        // report.html is vomsim's in run, sweep and compare folders (the
        // compare page), but only one vomsim wrote.
        fs::write(dir.join("report.html"), format!("{REPORT_START}x</html>\n")).unwrap();
        assert_eq!(inspect(dir), Ok(Some(Kind::Compare)));
        fs::write(dir.join("report.html"), "<html>mine</html>\n").unwrap();
        assert!(inspect(dir).is_err());
        fs::remove_file(dir.join("report.html")).unwrap();
        fs::write(dir.join("manifest.json"), r#"{"manifest_version":3}"#).unwrap();
        assert!(inspect(dir).unwrap_err().contains("manifest_version"));
    }
}
