//! A sweep's fragments (`points/point-NNNNNN.{kind}.csv`) and the done
//! marker that records each one's size and SHA-256, so that `--resume` and
//! `merge` use only fragments that are exactly what vomsim wrote.
//!
//! Fragments are written atomically, so a fragment that no longer matches
//! its marker was cut, emptied or edited by something else (a full disk
//! during a copy, a hand edit, a half-synced folder). `--resume` recomputes
//! such a point; `merge` refuses the shard. Markers of vomsim before this
//! format were empty files: they carry nothing to check against.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::output::folder;

/// The version of the done marker's contents (an empty marker is version 1,
/// written before markers carried checksums).
const MARKER_FORMAT: u32 = 2;

/// One fragment as recorded in its point's done marker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FragmentRecord {
    /// `summary`, `diagnosis` or `replications`.
    pub kind: String,
    pub bytes: u64,
    /// SHA-256 of the fragment's bytes, hex.
    pub sha256: String,
}

/// The contents of a done marker.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Marker {
    format: u32,
    point: usize,
    fragments: Vec<FragmentRecord>,
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
    /// An empty marker, written by a vomsim before markers carried
    /// checksums: nothing to check the fragments against.
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
/// finished, and it records what its fragments must be.
pub fn write_marker(dir: &Path, point: usize, fragments: Vec<FragmentRecord>) -> Result<()> {
    let marker = Marker {
        format: MARKER_FORMAT,
        point,
        fragments,
    };
    folder::write_atomically_with(&done_marker(dir, point), false, |w| {
        serde_json::to_writer(&mut *w, &marker).map_err(io::Error::other)?;
        writeln!(w)
    })
}

/// SHA-256 and size of a file, read in blocks.
fn hash_file(path: &Path) -> io::Result<(u64, String)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok((bytes, hex(&hasher.finalize())))
}

/// Checks a point in `dir`: its marker, and each fragment of `kinds`
/// against the size and SHA-256 the marker records.
pub fn check_point(dir: &Path, point: usize, kinds: &[&str]) -> PointState {
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
    let marker: Marker = match serde_json::from_slice(&text) {
        Ok(m) => m,
        Err(_) => {
            return PointState::Damaged(format!(
                "its done marker {} is not one vomsim wrote",
                path.display()
            ));
        }
    };
    let recorded: Vec<&str> = marker.fragments.iter().map(|f| f.kind.as_str()).collect();
    if marker.format != MARKER_FORMAT || marker.point != point || recorded != kinds {
        return PointState::Damaged(format!(
            "its done marker {} does not describe this point's fragments",
            path.display()
        ));
    }
    for record in &marker.fragments {
        let file = fragment(dir, point, &record.kind);
        match hash_file(&file) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return PointState::Damaged(format!("{} is missing", file.display()));
            }
            Err(e) => {
                return PointState::Damaged(format!("{} cannot be read: {e}", file.display()));
            }
            Ok((bytes, _)) if bytes != record.bytes => {
                return PointState::Damaged(format!(
                    "{} has {bytes} bytes, but its done marker records {} (cut or emptied)",
                    file.display(),
                    record.bytes
                ));
            }
            Ok((_, sha256)) if sha256 != record.sha256 => {
                return PointState::Damaged(format!(
                    "{} does not match the SHA-256 its done marker records (its contents were changed)",
                    file.display()
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

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: [&str; 2] = ["summary", "diagnosis"];

    fn finished_point(dir: &Path) {
        fs::create_dir_all(dir.join("points")).unwrap();
        let records = KINDS
            .iter()
            .map(|kind| {
                write_fragment(dir, 3, kind, |w| {
                    for i in 0..1000 {
                        writeln!(w, "3,{kind},{i}")?;
                    }
                    Ok(())
                })
                .unwrap()
            })
            .collect();
        write_marker(dir, 3, records).unwrap();
    }

    #[test]
    fn a_written_point_checks_and_any_change_is_caught() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert_eq!(check_point(dir, 3, &KINDS), PointState::Missing);
        finished_point(dir);
        assert_eq!(check_point(dir, 3, &KINDS), PointState::Finished);
        let summary = fragment(dir, 3, "summary");
        let text = fs::read_to_string(&summary).unwrap();

        // Cut mid-line, emptied, one digit changed (same size), removed.
        let changed = text.replacen("3,summary,5\n", "3,summary,6\n", 1);
        assert_eq!(changed.len(), text.len());
        for damaged in [&text[..text.len() / 2], "", changed.as_str()] {
            fs::write(&summary, damaged).unwrap();
            match check_point(dir, 3, &KINDS) {
                PointState::Damaged(why) => {
                    assert!(why.contains("point-000003.summary.csv"), "{why}")
                }
                other => panic!("{other:?}"),
            }
        }
        fs::remove_file(&summary).unwrap();
        assert!(
            matches!(check_point(dir, 3, &KINDS), PointState::Damaged(why) if why.contains("missing"))
        );

        // A marker listing other fragments, and an old empty marker.
        finished_point(dir);
        assert!(matches!(
            check_point(dir, 3, &["summary", "diagnosis", "replications"]),
            PointState::Damaged(_)
        ));
        fs::write(done_marker(dir, 3), "").unwrap();
        assert_eq!(check_point(dir, 3, &KINDS), PointState::Unverifiable);
    }
}
