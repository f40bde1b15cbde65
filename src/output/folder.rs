//! Where output bytes land: one file written atomically (a temporary name,
//! then a rename), and an output folder assembled in a hidden staging folder
//! beside the final one and renamed into place when complete, so a crash or
//! an error never leaves half an output under the final name. An existing
//! folder is replaced only with `--force`, and only if vomsim wrote it
//! (`ownership`).

use std::fs;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::ownership;
use crate::output::parquet::{Format, Kind};

/// Writes one file atomically: into a temporary file beside it, flushed to
/// disk, then renamed over the final name, so the final name never holds
/// half a file.
pub fn write_atomically(
    path: &Path,
    contents: impl FnOnce(&mut BufWriter<fs::File>) -> io::Result<()>,
) -> Result<()> {
    write_atomically_with(path, true, contents)
}

/// Writes table `table` in `format` into folder `dir`, atomically (see
/// [`OutputDir::write_table`]), and returns its file name.
pub fn write_table_atomically(
    dir: &Path,
    format: Format,
    table: &str,
    extra: Vec<(String, Kind)>,
    contents: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> Result<String> {
    let name = format.file(table);
    write_atomically(&dir.join(&name), |w| {
        table_contents(w, format, extra, contents)
    })?;
    Ok(name)
}

/// The bytes of a table in `format`: the CSV text as it is, or through a
/// Parquet sink.
fn table_contents<W: io::Write + Send>(
    w: &mut W,
    format: Format,
    extra: Vec<(String, Kind)>,
    contents: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> io::Result<()> {
    match format {
        Format::Csv => contents(w),
        Format::Parquet => crate::output::parquet::write_table(w, extra, |sink| contents(sink)),
    }
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
/// Bytes written after which [`Writeback`] starts them for the disk.
const WRITEBACK_BYTES: u64 = 4 << 20;

/// A file that starts writing its bytes to disk every
/// `WRITEBACK_BYTES`, without waiting for them.
///
/// Why: every output file is flushed to disk before the folder is
/// committed (no half-written output survives a crash). Left to itself the
/// kernel holds a large file's pages until that flush (`replications.csv`
/// of 10,000 vors_la replications, 728 MB, waited 0.4 s for it); started
/// early, the disk writes them while the rest is formatted, and the flush
/// waits only for the tail. Elsewhere than Linux it is a plain file.
#[derive(Debug)]
pub struct Writeback {
    file: fs::File,
    /// Bytes written, and the first not yet started for the disk.
    written: u64,
    started: u64,
}

impl Writeback {
    fn new(file: fs::File) -> Writeback {
        Writeback {
            file,
            written: 0,
            started: 0,
        }
    }
}

impl io::Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.started >= WRITEBACK_BYTES {
            start_writeback(&self.file, self.started, self.written - self.started);
            self.started = self.written;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// Asks the kernel to start writing bytes `offset..offset + len` of `file`
/// to disk and returns at once. Advisory: if it fails, the closing flush
/// writes them anyway, so its error is ignored.
#[cfg(target_os = "linux")]
fn start_writeback(file: &fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else {
        return;
    };
    // SAFETY: a plain system call on a descriptor `file` owns and keeps
    // open for the call; no memory is passed.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &fs::File, _offset: u64, _len: u64) {}

/// An output folder being assembled: files go into a hidden staging folder
/// beside the final one, which [`OutputDir::commit`] renames into place.
/// Dropped without a commit, the staging folder is removed.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    force: bool,
    committed: bool,
    /// Files written and being flushed to disk, each on a thread of its
    /// own ([`OutputDir::write_file`]); [`OutputDir::commit`] waits for
    /// them all.
    flushing: std::sync::Mutex<Vec<(String, std::thread::JoinHandle<io::Result<()>>)>>,
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
            flushing: std::sync::Mutex::new(Vec::new()),
        };
        fs::write(
            output.staging.join(ownership::STAGING_MARKER),
            ownership::staging_marker(&name, pid),
        )
        .map_err(|e| unusable(format!("cannot write in {}: {e}", parent.display())))?;
        Ok(output)
    }

    /// Writes one file into the staging folder through a buffered writer;
    /// its bytes start for the disk as they come ([`Writeback`]), and the
    /// file is flushed to disk before [`OutputDir::commit`] renames the
    /// folder into place (a flush that fails fails the commit).
    pub fn write_file(
        &self,
        name: &str,
        contents: impl FnOnce(&mut BufWriter<Writeback>) -> io::Result<()>,
    ) -> Result<()> {
        let path = self.staging.join(name);
        let failed = |source| Error::Write {
            path: self.target.join(name),
            source,
        };
        let file = fs::File::create(&path).map_err(failed)?;
        let mut writer = BufWriter::with_capacity(1 << 16, Writeback::new(file));
        contents(&mut writer).map_err(failed)?;
        let file = writer
            .into_inner()
            .map_err(|e| failed(e.into_error()))?
            .file;
        // Flushed to disk on a thread of its own while the next file is
        // formatted: each flush waits for the disk (and the file system's
        // journal) for milliseconds, and the commit needs them done only
        // before it renames. (Flushes that overlap share a journal commit.)
        let flushing = std::thread::Builder::new()
            .name("flush".to_string())
            .spawn(move || file.sync_all());
        match flushing {
            Ok(handle) => self
                .flushing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((name.to_string(), handle)),
            // No thread to be had (a process limit): flush it here, the
            // file opened again (the thread took this handle with it), for
            // writing, which some systems need to flush it.
            Err(_) => fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|file| file.sync_all())
                .map_err(failed)?,
        }
        Ok(())
    }

    /// Waits for every file written to be on disk; the first that could
    /// not be flushed is the error.
    fn wait_for_flushes(&self) -> Result<()> {
        let flushing = std::mem::take(
            &mut *self
                .flushing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        let mut first_error = None;
        for (name, handle) in flushing {
            let flushed = handle
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the flush panicked")));
            if let (Err(source), None) = (flushed, &first_error) {
                first_error = Some(Error::Write {
                    path: self.target.join(name),
                    source,
                });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Writes table `table` (`summary`, `replications`, ...) in `format`
    /// into the staging folder and returns its file name. `contents`
    /// writes the CSV text; with Parquet it goes through a
    /// [`ParquetSink`](crate::output::parquet::ParquetSink), `extra` typing
    /// the columns not named in [`column_kind`](crate::output::parquet::column_kind).
    pub fn write_table(
        &self,
        format: Format,
        table: &str,
        extra: Vec<(String, Kind)>,
        contents: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
    ) -> Result<String> {
        let name = format.file(table);
        self.write_file(&name, |w| table_contents(w, format, extra, contents))?;
        Ok(name)
    }

    /// Moves the finished folder into place. An old folder (allowed by
    /// `--force`, checked in `prepare`) is first renamed aside, to
    /// `.NAME.partial-PID.old`, so the final name always holds a complete
    /// output, then removed. A process killed between the two renames is
    /// recovered by the next `prepare`.
    pub fn commit(mut self) -> Result<PathBuf> {
        self.wait_for_flushes()?;
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
        // No flush outlives the folder (errors do not matter any more).
        let _ = self.wait_for_flushes();
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
