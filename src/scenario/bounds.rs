//! Named bounds on what vomsim reads and on what a scenario may ask for,
//! checked when a scenario is read and validated, before any work. The
//! README's "Limits" list repeats these numbers; change both together.

use std::io::Read;
use std::path::Path;

pub use crate::model::queue::MAX_MEDIATORS_PER_REPLICATION;
pub use crate::model::time::{MAX_INTAKE_MONTHS, MAX_PROGRAM_MONTHS};

/// Largest scenario, sweep or targets file read: 1 MiB. The shipped
/// scenarios are under 10 KiB; a larger file is a mistake (a log, a data
/// file, `/dev/zero`), and reading it whole would take the memory it holds.
pub const MAX_INPUT_FILE_BYTES: u64 = 1 << 20;

/// Most replications of one run (and of one `size` value, one `calibrate`
/// evaluation or verification). Monte Carlo error falls as 1/sqrt(reps):
/// a million replications already put a mean within 0.1% of a metric's
/// standard deviation, and take about 9 minutes of `vors_la` on 2 cores.
/// Above it, more replications buy nothing but time.
pub const MAX_REPLICATIONS: u64 = 1_000_000;

/// Reads an input file (`what`: "scenario", "sweep", "targets") of at most
/// [`MAX_INPUT_FILE_BYTES`]. Only a regular file (or a symlink to one) is
/// opened: the kind is checked on its metadata first, so a FIFO never
/// blocks and a device (`/dev/zero`) is never read. At most the limit plus
/// one byte is read, so a file that grows meanwhile is still refused.
pub fn read_input_file(path: &Path, what: &str) -> std::io::Result<Vec<u8>> {
    let too_large = |size: String| {
        std::io::Error::other(format!(
            "the file is {size}; a {what} file may be at most 1 MiB ({MAX_INPUT_FILE_BYTES} bytes)"
        ))
    };
    let metadata = std::fs::metadata(path)?;
    if metadata.is_dir() {
        return Err(std::io::Error::other(format!(
            "this is a directory, not a {what} file"
        )));
    }
    if !metadata.is_file() {
        return Err(std::io::Error::other(format!(
            "this is not a regular file (a FIFO, a device or a socket); a {what} file must be a regular file"
        )));
    }
    if metadata.len() > MAX_INPUT_FILE_BYTES {
        return Err(too_large(format!("{} bytes", metadata.len())));
    }
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::with_capacity(metadata.len() as usize);
    file.take(MAX_INPUT_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_INPUT_FILE_BYTES {
        return Err(too_large("more than 1 MiB".to_string()));
    }
    Ok(bytes)
}
