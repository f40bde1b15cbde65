//! Stopping on request. SIGINT (Ctrl-C) and SIGTERM set a flag that every
//! replication loop checks before starting a replication; the run then
//! returns [`Error::Interrupted`], its staging folders and temporary files
//! are removed as it unwinds, and a sweep keeps its finished points for
//! `--resume`. A second signal ends the process at once.
//!
//! The flag is a value passed into the library (`RunOptions`, ...), not
//! global state; only the binary installs the signal handlers, before any
//! file is read.
//!
//! While a command only reads its input (nothing of its own is on disk
//! yet), [`Cancel::exit_at_once`] makes the first signal end the process at
//! once with 130 or 143: a read that blocks (a slow or hung file system)
//! cannot be interrupted between replications, and there is nothing to
//! clean up.

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
    /// When set, the next signal ends the process at once (the handlers
    /// check it before they set it).
    armed: Arc<AtomicBool>,
}

/// While alive, the first signal ends the process at once (see
/// [`Cancel::exit_at_once`]); dropping it restores stopping between
/// replications.
#[derive(Debug)]
pub struct ExitAtOnce {
    cancel: Cancel,
}

impl Drop for ExitAtOnce {
    fn drop(&mut self) {
        // A signal that came before the guard keeps the second one fatal.
        let requested = self.cancel.requested();
        self.cancel.armed.store(requested, Ordering::SeqCst);
    }
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
        let armed = &cancel.armed;
        for (signal, code) in [(SIGINT, SIGINT_EXIT), (SIGTERM, SIGTERM_EXIT)] {
            // Order matters: the shutdown is checked before it is armed.
            flag::register_conditional_shutdown(signal, code as i32, Arc::clone(armed))?;
            flag::register(signal, Arc::clone(armed))?;
            flag::register_usize(signal, Arc::clone(&cancel.exit_code), code)?;
        }
        Ok(cancel)
    }

    /// Until the returned guard is dropped, the first signal ends the
    /// process at once with 130 or 143. For the part of a command that only
    /// reads input: drop the guard before anything is written to disk.
    pub fn exit_at_once(&self) -> ExitAtOnce {
        self.armed.store(true, Ordering::SeqCst);
        ExitAtOnce {
            cancel: self.clone(),
        }
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

    #[test]
    fn exiting_at_once_lasts_while_the_guard_lives() {
        let cancel = Cancel::never();
        let guard = cancel.exit_at_once();
        assert!(cancel.armed.load(Ordering::SeqCst));
        drop(guard);
        assert!(
            !cancel.armed.load(Ordering::SeqCst),
            "back to between replications"
        );
        // A stop already requested keeps the next signal fatal.
        let guard = cancel.exit_at_once();
        cancel.cancel();
        drop(guard);
        assert!(cancel.armed.load(Ordering::SeqCst));
    }
}
