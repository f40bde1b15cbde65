//! Stopping on request. SIGINT (Ctrl-C) and SIGTERM set a flag that every
//! replication loop checks before starting a replication; the run then
//! returns [`Error::Interrupted`], its staging folders and temporary files
//! are removed as it unwinds, and a sweep keeps its finished points for
//! `--resume`. A second signal ends the process at once.
//!
//! The flag is a value passed into the library (`RunOptions`, ...), not
//! global state; only the binary installs the signal handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::{Error, Result};

/// Exit codes of the conventional `128 + signal number`.
const SIGINT_EXIT: usize = 130;
const SIGTERM_EXIT: usize = 143;

/// A shared request to stop; cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    /// 0 while running; the exit code to use once a signal came.
    exit_code: Arc<AtomicUsize>,
}

impl Cancel {
    /// A token that is never cancelled (tests, benches, library callers).
    pub fn never() -> Cancel {
        Cancel::default()
    }

    /// A token cancelled by SIGINT or SIGTERM; a second signal terminates
    /// the process immediately with the same exit code.
    pub fn on_signals() -> std::io::Result<Cancel> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        use signal_hook::flag;
        let cancel = Cancel::default();
        let armed = Arc::new(AtomicBool::new(false));
        for (signal, code) in [(SIGINT, SIGINT_EXIT), (SIGTERM, SIGTERM_EXIT)] {
            // Order matters: the shutdown is checked before it is armed.
            flag::register_conditional_shutdown(signal, code as i32, Arc::clone(&armed))?;
            flag::register(signal, Arc::clone(&armed))?;
            flag::register_usize(signal, Arc::clone(&cancel.exit_code), code)?;
        }
        Ok(cancel)
    }

    /// Whether a stop was requested.
    pub fn requested(&self) -> bool {
        self.exit_code.load(Ordering::SeqCst) != 0
    }

    /// `Err(Interrupted)` once a stop was requested.
    pub fn check(&self) -> Result<()> {
        match self.exit_code.load(Ordering::SeqCst) {
            0 => Ok(()),
            code => Err(Error::Interrupted {
                signal: if code == SIGTERM_EXIT {
                    "SIGTERM"
                } else {
                    "SIGINT"
                },
                code: code as u8,
            }),
        }
    }

    /// Requests a stop as if `SIGINT` had come (for tests).
    pub fn cancel(&self) {
        self.exit_code.store(SIGINT_EXIT, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelling_is_shared_between_clones() {
        let cancel = Cancel::never();
        let clone = cancel.clone();
        assert!(cancel.check().is_ok());
        clone.cancel();
        assert!(cancel.requested());
        let err = cancel.check().unwrap_err();
        assert_eq!(err.exit_code(), 130);
    }
}
