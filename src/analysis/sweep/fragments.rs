//! A sweep's fragments (`points/point-NNNNNN.{kind}.csv`) and the done
//! marker that records which sweep and point they belong to and each one's
//! size and SHA-256, so that `--resume` and `merge` use only fragments that
//! are exactly what vomsim wrote for this point of this sweep.
//!
//! Fragments are written atomically, so a fragment that no longer matches
//! its marker was cut, emptied or edited by something else (a full disk
//! during a copy, a hand edit, a half-synced folder). A marker of another
//! sweep (another sweep file, `--set`, seed or replication count) or of
//! another point, copied in with its fragments, is caught by the identity
//! it records. `--resume` recomputes such a point; `merge` refuses the
//! shard. Markers of vomsim before this format were empty files (format
//! version one) or recorded checksums but not their sweep (version two):
//! they carry nothing to check the fragments' origin against.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::output::folder;

use super::Sweep;
use super::fingerprint::Fingerprint;

/// The version of the done marker's contents (an empty marker is version 1,
/// written before markers carried checksums; version 2 carried checksums
/// but not the sweep and parameter values).
const MARKER_FORMAT: u32 = 3;

/// One fragment as recorded in its point's done marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentRecord {
    /// `summary`, `diagnosis` or `replications`.
    pub kind: String,
    pub bytes: u64,
    /// SHA-256 of the fragment's bytes, hex.
    pub sha256: String,
}

/// Which sweep and point a point's fragments belong to, as its done marker
/// records it and as `--resume` and `merge` expect it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The sweep's fingerprint (what `--resume` checks in `sweep.json`)
    /// without its shard: a point is the same whichever shard ran it, and
    /// a merged folder holds points of every shard.
    pub sweep: Fingerprint,
    pub point: usize,
    /// The point's parameter values, as in `points.csv`.
    pub values: Vec<String>,
}

impl Identity {
    /// What every row of the point's fragments starts with: its `point`
    /// and parameter columns, and the comma after them.
    fn row_prefix(&self) -> String {
        let mut prefix = self.point.to_string();
        for value in &self.values {
            prefix.push(',');
            prefix.push_str(value);
        }
        prefix.push(',');
        prefix
    }
}

/// The contents of a done marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Marker {
    format: u32,
    #[serde(flatten)]
    identity: Identity,
    fragments: Vec<FragmentRecord>,
}

/// Just the version of a marker, read first: older versions lack fields.
#[derive(Deserialize)]
struct MarkerFormat {
    format: u32,
}

/// Where a point's fragment of one kind lives.
pub fn fragment(dir: &Path, point: usize, kind: &str) -> PathBuf {
    dir.join("points")
        .join(format!("point-{point:06}.{kind}.csv"))
}

/// Where a point's done marker lives.
pub fn done_marker(dir: &Path, point: usize) -> PathBuf {
    dir.join("points").join(format!("point-{point:06}.done"))
}

/// What a folder holds of one point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PointState {
    /// No done marker: the point was never finished here.
    Missing,
    /// A marker, and every fragment matches it.
    Finished,
    /// A marker whose fragments do not match it; the reason names the file.
    Damaged(String),
    /// A marker (and fragments) of another sweep or another point, or
    /// fragments whose rows are another point's; the reason says which.
    Foreign(String),
    /// A marker written by a vomsim before markers recorded their sweep,
    /// point and checksums (empty, or version 2): nothing to check the
    /// fragments' origin against.
    Unverifiable,
}

/// A writer that passes bytes on and counts and hashes them, so a fragment
/// is hashed as it is written instead of read back.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes one fragment atomically and returns its record for the marker.
pub fn write_fragment<F>(
    dir: &Path,
    point: usize,
    kind: &str,
    contents: F,
) -> Result<FragmentRecord>
where
    F: FnOnce(&mut HashingWriter<&mut io::BufWriter<fs::File>>) -> io::Result<()>,
{
    let mut record = None;
    folder::write_atomically_with(&fragment(dir, point, kind), false, |w| {
        let mut hashing = HashingWriter {
            inner: w,
            hasher: Sha256::new(),
            bytes: 0,
        };
        contents(&mut hashing)?;
        record = Some(FragmentRecord {
            kind: kind.to_string(),
            bytes: hashing.bytes,
            sha256: hex(&hashing.hasher.finalize()),
        });
        Ok(())
    })?;
    Ok(record.expect("set when the write succeeded"))
}

/// Writes a point's done marker, last: its presence marks the point
/// finished, and it records whose point it is and what its fragments must
/// be.
pub fn write_marker(dir: &Path, identity: Identity, fragments: Vec<FragmentRecord>) -> Result<()> {
    let point = identity.point;
    let marker = Marker {
        format: MARKER_FORMAT,
        identity,
        fragments,
    };
    folder::write_atomically_with(&done_marker(dir, point), false, |w| {
        serde_json::to_writer(&mut *w, &marker).map_err(io::Error::other)?;
        writeln!(w)
    })
}

/// What reading a fragment found: its size and SHA-256, and the first row
/// (1-based) that does not start with the point's columns, if any.
struct Scanned {
    bytes: u64,
    sha256: String,
    foreign_row: Option<u64>,
}

/// Reads a fragment in blocks: its size and SHA-256, and whether every row
/// starts with `prefix` (the point's `point` and parameter columns).
///
/// The rows are checked although the marker's identity and checksum
/// already bind the fragment to its point: the bytes are read here anyway
/// (to hash them), and the check costs a search for each line's end, far
/// less than the hashing. It is what catches a marker edited by hand to
/// claim another point, with the fragments of the point it came from.
fn scan_fragment(path: &Path, prefix: &[u8]) -> io::Result<Scanned> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    // The row being read, how much of its prefix matched so far, and
    // whether that prefix is still being compared (true at a row's start).
    let (mut row, mut matched, mut comparing) = (1u64, 0usize, true);
    let mut foreign_row = None;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
        let mut i = 0;
        while foreign_row.is_none() && i < n {
            if comparing {
                let want = &prefix[matched..];
                let take = want.len().min(n - i);
                if buffer[i..i + take] != want[..take] {
                    foreign_row = Some(row);
                }
                matched += take;
                i += take;
                comparing = matched < prefix.len();
            } else {
                match buffer[i..n].iter().position(|&b| b == b'\n') {
                    Some(k) => {
                        i += k + 1;
                        row += 1;
                        matched = 0;
                        comparing = true;
                    }
                    None => i = n,
                }
            }
        }
    }
    // A last row cut inside its prefix.
    if foreign_row.is_none() && comparing && matched > 0 {
        foreign_row = Some(row);
    }
    Ok(Scanned {
        bytes,
        sha256: hex(&hasher.finalize()),
        foreign_row,
    })
}

/// The leading columns of row `row` (1-based) of a fragment, as many as
/// `columns`, for a message.
fn row_start(path: &Path, row: u64, columns: usize) -> String {
    let text = fs::read(path).unwrap_or_default();
    let line = text
        .split(|&b| b == b'\n')
        .nth(row.saturating_sub(1) as usize)
        .unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let start: Vec<&str> = line.split(',').take(columns).collect();
    let mut start = start.join(",");
    if start.len() > 80 {
        start = start.chars().take(80).collect::<String>() + "...";
    }
    start
}

/// Checks a point in `dir` against what it must be (`expected`: this
/// sweep, this point, these parameter values): its marker's identity, and
/// each fragment of `kinds` against the size and SHA-256 the marker records
/// and the point's columns that lead its rows.
pub fn check_point(dir: &Path, expected: &Identity, kinds: &[&str]) -> PointState {
    let point = expected.point;
    let path = done_marker(dir, point);
    let text = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return PointState::Missing,
        Err(e) => {
            return PointState::Damaged(format!(
                "its done marker {} cannot be read: {e}",
                path.display()
            ));
        }
    };
    if text.is_empty() {
        return PointState::Unverifiable;
    }
    let not_vomsims = || {
        PointState::Damaged(format!(
            "its done marker {} is not one vomsim wrote",
            path.display()
        ))
    };
    match serde_json::from_slice::<MarkerFormat>(&text) {
        Ok(m) if m.format == 2 => return PointState::Unverifiable,
        Ok(m) if m.format == MARKER_FORMAT => {}
        _ => return not_vomsims(),
    }
    let Ok(marker) = serde_json::from_slice::<Marker>(&text) else {
        return not_vomsims();
    };
    let found = &marker.identity;
    if found.sweep != expected.sweep {
        return PointState::Foreign(format!(
            "its done marker {} was written by another sweep ({}), so its fragments are not this sweep's",
            path.display(),
            found.sweep.differences(&expected.sweep).join(", ")
        ));
    }
    if found.point != point {
        return PointState::Foreign(format!(
            "its done marker {} is point {}'s, not point {point}'s (its fragments were copied from another point)",
            path.display(),
            found.point
        ));
    }
    if found.values != expected.values {
        return PointState::Foreign(format!(
            "its done marker {} records the parameter values {}, but this point's are {} \
             (its fragments were copied from another point)",
            path.display(),
            found.values.join(", "),
            expected.values.join(", ")
        ));
    }
    let recorded: Vec<&str> = marker.fragments.iter().map(|f| f.kind.as_str()).collect();
    if recorded != kinds {
        return PointState::Damaged(format!(
            "its done marker {} does not describe this point's fragments",
            path.display()
        ));
    }
    let prefix = expected.row_prefix();
    for record in &marker.fragments {
        let file = fragment(dir, point, &record.kind);
        match scan_fragment(&file, prefix.as_bytes()) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return PointState::Damaged(format!("{} is missing", file.display()));
            }
            Err(e) => {
                return PointState::Damaged(format!("{} cannot be read: {e}", file.display()));
            }
            Ok(scanned) if scanned.bytes != record.bytes => {
                return PointState::Damaged(format!(
                    "{} has {} bytes, but its done marker records {} (cut or emptied)",
                    file.display(),
                    scanned.bytes,
                    record.bytes
                ));
            }
            Ok(scanned) if scanned.sha256 != record.sha256 => {
                return PointState::Damaged(format!(
                    "{} does not match the SHA-256 its done marker records (its contents were changed)",
                    file.display()
                ));
            }
            Ok(Scanned {
                foreign_row: Some(row),
                ..
            }) => {
                return PointState::Foreign(format!(
                    "row {row} of {} starts with {}, not with this point's columns {} \
                     (the rows are another point's)",
                    file.display(),
                    row_start(&file, row, expected.values.len() + 1),
                    &prefix[..prefix.len() - 1]
                ));
            }
            Ok(_) => {}
        }
    }
    PointState::Finished
}

/// Opens a fragment for reading; a missing or unreadable one is named as
/// itself, not as the file being assembled from it.
pub fn open_fragment(dir: &Path, point: usize, kind: &str) -> Result<fs::File> {
    let path = fragment(dir, point, kind);
    fs::File::open(&path).map_err(|e| Error::Fragment {
        reason: format!(
            "cannot read this fragment of point {point} ({e}); run the sweep again with --resume to recompute it"
        ),
        path,
    })
}

/// Whether a finished point's done marker records a `replications`
/// fragment (`None` if the marker is missing or not vomsim's): a sweep run
/// with `--no-replications` has none, and `merge` follows its shards.
pub(super) fn records_replications(dir: &Path, point: usize) -> Option<bool> {
    let text = fs::read(done_marker(dir, point)).ok()?;
    let marker = serde_json::from_slice::<Marker>(&text).ok()?;
    Some(marker.fragments.iter().any(|f| f.kind == "replications"))
}

/// The fragments a point of `sweep` has, in the order they are written.
pub(super) fn kinds(sweep: &Sweep) -> &'static [&'static str] {
    if sweep.replications_file {
        &["summary", "diagnosis", "replications"]
    } else {
        &["summary", "diagnosis"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [&str; 2] = ["summary", "diagnosis"];

    fn identity(seed: u64, point: usize, value: &str) -> Identity {
        Identity {
            sweep: Fingerprint {
                version: "0".to_string(),
                scenario: "s".to_string(),
                sweep_sha256: "ab".to_string(),
                overrides: Vec::new(),
                seed,
                reps: 2,
                points: 4,
                shard: None,
            },
            point,
            values: vec![value.to_string()],
        }
    }

    /// Writes point 3's fragments, rows led by `lead`, with `marker`
    /// (written as point 3's marker whichever point it names).
    fn write_point(dir: &Path, lead: &str, marker: Identity) {
        let named = marker.point;
        fs::create_dir_all(dir.join("points")).unwrap();
        let records = KINDS
            .iter()
            .map(|kind| {
                write_fragment(dir, 3, kind, |w| {
                    for i in 0..1000 {
                        writeln!(w, "{lead},{kind},{i}")?;
                    }
                    Ok(())
                })
                .unwrap()
            })
            .collect();
        write_marker(dir, marker, records).unwrap();
        if named != 3 {
            fs::rename(done_marker(dir, named), done_marker(dir, 3)).unwrap();
        }
    }

    fn finished_point(dir: &Path) {
        write_point(dir, "3,0.5", identity(1, 3, "0.5"));
    }

    fn foreign(state: PointState, part: &str) {
        match state {
            PointState::Foreign(why) => assert!(why.contains(part), "{why}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_written_point_checks_and_any_change_is_caught() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let me = identity(1, 3, "0.5");
        assert_eq!(check_point(dir, &me, &KINDS), PointState::Missing);
        finished_point(dir);
        assert_eq!(check_point(dir, &me, &KINDS), PointState::Finished);
        let summary = fragment(dir, 3, "summary");
        let text = fs::read_to_string(&summary).unwrap();

        // Cut mid-line, emptied, one digit changed (same size), removed.
        let changed = text.replacen("3,0.5,summary,5\n", "3,0.5,summary,6\n", 1);
        assert_eq!(changed.len(), text.len());
        for damaged in [&text[..text.len() / 2], "", changed.as_str()] {
            fs::write(&summary, damaged).unwrap();
            match check_point(dir, &me, &KINDS) {
                PointState::Damaged(why) => {
                    assert!(why.contains("point-000003.summary.csv"), "{why}")
                }
                other => panic!("{other:?}"),
            }
        }
        fs::remove_file(&summary).unwrap();
        assert!(
            matches!(check_point(dir, &me, &KINDS), PointState::Damaged(why) if why.contains("missing"))
        );

        // A marker listing other fragments, and older markers: empty, or
        // with checksums but no identity.
        finished_point(dir);
        assert!(matches!(
            check_point(dir, &me, &["summary", "diagnosis", "replications"]),
            PointState::Damaged(_)
        ));
        fs::write(done_marker(dir, 3), "").unwrap();
        assert_eq!(check_point(dir, &me, &KINDS), PointState::Unverifiable);
        fs::write(
            done_marker(dir, 3),
            r#"{"format":2,"point":3,"fragments":[]}"#,
        )
        .unwrap();
        assert_eq!(check_point(dir, &me, &KINDS), PointState::Unverifiable);
    }

    #[test]
    fn a_point_of_another_sweep_or_point_is_caught() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let me = identity(1, 3, "0.5");
        // Another sweep's point 3 (another seed), with its marker.
        write_point(dir, "3,0.5", identity(7, 3, "0.5"));
        foreign(check_point(dir, &me, &KINDS), "seed 7");
        // Another point's files, its marker claiming point 3 by its index
        // alone, or by its index and values.
        write_point(dir, "2,0.25", identity(1, 2, "0.25"));
        let marker = fs::read_to_string(done_marker(dir, 3)).unwrap();
        assert!(marker.contains("\"point\":2"), "{marker}");
        let claims_3 = marker.replace("\"point\":2", "\"point\":3");
        fs::write(done_marker(dir, 3), &claims_3).unwrap();
        foreign(check_point(dir, &me, &KINDS), "parameter values 0.25");
        fs::write(done_marker(dir, 3), claims_3.replace("\"0.25\"", "\"0.5\"")).unwrap();
        foreign(check_point(dir, &me, &KINDS), "row 1 of ");
        foreign(
            check_point(dir, &me, &KINDS),
            "starts with 2,0.25, not with this point's columns 3,0.5",
        );
        // A marker of point 2 left under point 3's name.
        write_point(dir, "3,0.5", identity(1, 2, "0.5"));
        foreign(check_point(dir, &me, &KINDS), "point 2's, not point 3's");
        // Rows of the right point, a later row of another.
        fs::create_dir_all(dir.join("points")).unwrap();
        let records = KINDS
            .iter()
            .map(|kind| {
                write_fragment(dir, 3, kind, |w| {
                    writeln!(w, "3,0.5,{kind},0")?;
                    writeln!(w, "3,0.55,{kind},1")
                })
                .unwrap()
            })
            .collect();
        write_marker(dir, me.clone(), records).unwrap();
        foreign(check_point(dir, &me, &KINDS), "row 2 of ");
        // Fragments of many blocks, rows split across blocks: all the
        // point's, then one row of another far in.
        for odd in [None, Some(15_000)] {
            let records = KINDS
                .iter()
                .map(|kind| {
                    write_fragment(dir, 3, kind, |w| {
                        for i in 0..20_000 {
                            let lead = if Some(i) == odd { "3,0.55" } else { "3,0.5" };
                            writeln!(w, "{lead},{kind},{i}")?;
                        }
                        Ok(())
                    })
                    .unwrap()
                })
                .collect();
            write_marker(dir, me.clone(), records).unwrap();
            match odd {
                None => assert_eq!(check_point(dir, &me, &KINDS), PointState::Finished),
                Some(_) => foreign(check_point(dir, &me, &KINDS), "row 15001 of "),
            }
        }
    }

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
