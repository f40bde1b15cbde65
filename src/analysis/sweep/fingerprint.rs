//! What identifies a sweep's results: the [`Fingerprint`] of a run
//! (`sweep.json`, checked by `--resume` and `merge`) and the identity a
//! point's done marker must record.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fragments::Identity;
use super::run::SweepOptions;
use super::{Sweep, field};

/// What identifies a sweep's results (`sweep.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub version: String,
    pub scenario: String,
    pub sweep_sha256: String,
    pub overrides: Vec<String>,
    pub seed: u64,
    pub reps: u64,
    pub points: usize,
    /// `[K, N]` for a shard; `None` for a whole sweep or a merge.
    pub shard: Option<(usize, usize)>,
}

impl Fingerprint {
    /// How `self` (found) differs from `expected`, in the user's words.
    pub fn differences(&self, expected: &Fingerprint) -> Vec<String> {
        let mut found = Vec::new();
        if self.version != expected.version {
            found.push(format!("vomsim {}, not {}", self.version, expected.version));
        }
        if self.scenario != expected.scenario || self.sweep_sha256 != expected.sweep_sha256 {
            found.push("another sweep file".to_string());
        }
        if self.overrides != expected.overrides {
            found.push(format!(
                "--set {}, not {}",
                list(&self.overrides),
                list(&expected.overrides)
            ));
        }
        if self.seed != expected.seed {
            found.push(format!("seed {}, not {}", self.seed, expected.seed));
        }
        if self.reps != expected.reps {
            found.push(format!("{} replications, not {}", self.reps, expected.reps));
        }
        if self.points != expected.points {
            found.push(format!("{} points, not {}", self.points, expected.points));
        }
        if self.shard != expected.shard {
            found.push("another shard".to_string());
        }
        found
    }

    /// The fingerprint a point's done marker records: the sweep's, without
    /// the shard (see [`Identity::sweep`]).
    fn of_points(&self) -> Fingerprint {
        Fingerprint {
            shard: None,
            ..self.clone()
        }
    }
}

/// `--set`s as a list for a message.
fn list(overrides: &[String]) -> String {
    if overrides.is_empty() {
        "none".to_string()
    } else {
        overrides.join(" ")
    }
}

/// What point `point` of `sweep`, run with `fingerprint`, must be.
pub(super) fn identity(sweep: &Sweep, fingerprint: &Fingerprint, point: usize) -> Identity {
    Identity {
        sweep: fingerprint.of_points(),
        point,
        values: sweep.points[point].iter().map(field).collect(),
    }
}

/// The fingerprint in `dir/sweep.json`; `None` if it is missing, not a
/// fingerprint, or names an impossible shard (an edited file: `[1, 0]`
/// would divide by zero where points are dealt to shards).
pub(super) fn read_fingerprint(dir: &Path) -> Option<Fingerprint> {
    let f: Fingerprint =
        serde_json::from_str(&fs::read_to_string(dir.join("sweep.json")).ok()?).ok()?;
    f.shard.is_none_or(|(k, n)| 1 <= k && k <= n).then_some(f)
}

/// Whether shard `(k, n)` (or the whole sweep, `None`) runs point `p`: the
/// points are dealt round-robin, point `p` to shard `p % n + 1`.
pub(super) fn in_shard(shard: Option<(usize, usize)>, p: usize) -> bool {
    shard.is_none_or(|(k, n)| p % n == k - 1)
}

/// The fingerprint of a run of `sweep`.
pub fn fingerprint(sweep: &Sweep, options: &SweepOptions) -> Fingerprint {
    Fingerprint {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scenario: sweep.base_scenario.name().to_string(),
        sweep_sha256: sweep.sha256.clone(),
        overrides: sweep.overrides.clone(),
        seed: options.seed,
        reps: options.reps,
        points: sweep.points.len(),
        shard: options.shard,
    }
}
