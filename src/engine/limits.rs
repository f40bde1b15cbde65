//! Bounded work: the estimate of a run's memory checked against the
//! limits, and the number of worker threads. (Bounds on what a scenario may
//! say, and on the input files, are checked with the scenario:
//! `crate::scenario::bounds`.)
//!
//! Every limit is checked before any simulation work and before an output
//! folder exists, so an oversized request is refused at once (exit 2) with
//! the estimate and the limit, instead of being killed by the system hours
//! later with half an output folder on disk. The README's "Limits" list
//! repeats these numbers; change both together.

use crate::error::{Error, Result};
use crate::model::queue::max_mediators;
use crate::scenario::Scenario;
pub use crate::scenario::bounds::MAX_REPLICATIONS;

/// Estimated memory a run may need: 4 GiB. A fixed budget rather than a
/// share of this machine's memory, so that a request accepted on a laptop
/// is accepted on a cluster node too (sweep shards, scripts and tests
/// behave the same everywhere); 4 GiB fits an 8 GB laptop with room to
/// spare and is 20 times the largest ordinary run measured (10,000
/// replications of `vors_la`: 181 MB).
pub const MEMORY_BUDGET_BYTES: u64 = 4 << 30;

/// `--threads` above this many per core is lowered (with a warning): more
/// workers than that only add switching and memory, never speed (each
/// worker holds a replication's youths).
pub const THREADS_PER_CORE: usize = 4;

/// Bytes one simulated youth holds while its replication runs (its record,
/// its queue case, its fates and waits); measured at about 335 bytes with
/// 4.8 million youths in one replication, rounded up.
const YOUTH_BYTES: f64 = 400.0;
/// Bytes one youth's `agents.csv` record adds (measured about 256).
const AGENT_BYTES: f64 = 300.0;
/// Bytes one mediator holds (its record and its activation event, with
/// the vectors' doubling headroom).
const MEDIATOR_BYTES: f64 = 100.0;
/// Bytes of a vector's header and allocator bookkeeping, per replication.
const VECTOR_BYTES: f64 = 40.0;
/// The process itself (code, thread stacks, buffers), a rough floor.
const BASE_BYTES: f64 = 16.0 * 1024.0 * 1024.0;

/// What a run keeps of each replication until it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeps {
    /// Every metric value (`run`, a `calibrate` evaluation, a sweep point).
    MetricValues,
    /// Three queue statistics (`size`).
    QueueStats,
}

/// A run's memory and work, estimated before it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub reps: u64,
    pub threads: usize,
    /// Values kept per replication until the run ends.
    pub values_per_rep: u64,
    /// Expected youths of one replication.
    pub youths_per_rep: f64,
    /// Most mediators of one replication.
    pub mediators_per_rep: u64,
    /// Estimated peak memory, bytes.
    pub bytes: f64,
    /// Of which grows with replications, bytes per replication...
    pub bytes_per_rep: f64,
    /// ...and does not (the workers' replications in flight, agents).
    pub fixed_bytes: f64,
}

impl Estimate {
    /// Expected youths simulated over the whole run (the work).
    pub fn youths(&self) -> f64 {
        self.youths_per_rep * self.reps as f64
    }

    /// Whether the run fits the limits.
    pub fn fits(&self) -> bool {
        self.reps <= MAX_REPLICATIONS && self.bytes <= MEMORY_BUDGET_BYTES as f64
    }

    /// The most replications that fit both limits (0 when even one does not).
    pub fn max_reps(&self) -> u64 {
        let room = (MEMORY_BUDGET_BYTES as f64 - self.fixed_bytes) / self.bytes_per_rep;
        if room < 1.0 {
            0
        } else {
            (room.floor() as u64).min(MAX_REPLICATIONS)
        }
    }

    /// `Err` naming `option` (where the replications came from, e.g.
    /// `--reps`), the estimate and the limits when the run does not fit.
    pub fn check(&self, option: &str) -> Result<()> {
        if self.fits() {
            return Ok(());
        }
        let max = self.max_reps();
        let advice = if max == 0 {
            format!(
                "even one replication does not fit: {} threads each hold {} youths and {} mediators; lower --threads or the scenario's size",
                self.threads,
                round(self.youths_per_rep),
                self.mediators_per_rep
            )
        } else {
            format!("at most {max} replications fit; lower {option}")
        };
        Err(Error::BadArgument {
            option: option.to_string(),
            value: self.reps.to_string(),
            requirement: format!(
                "too large a run: it would need about {} of memory ({} replications keeping {} values each, \
                 {} threads each holding a replication of about {} youths) and simulate about {} youths; \
                 the limits are {} replications and {} of estimated memory (see \"Limits\" in the README); {advice}",
                human_bytes(self.bytes),
                self.reps,
                self.values_per_rep,
                self.threads,
                round(self.youths_per_rep),
                round(self.youths()),
                MAX_REPLICATIONS,
                human_bytes(MEMORY_BUDGET_BYTES as f64),
            ),
        })
    }
}

/// Estimates the memory and work of `reps` replications of `scenario` on
/// `threads` workers, keeping `keeps` of each (and replication 0's youths
/// when `agents`). The one estimate `run`, `size`, `calibrate` and sweeps
/// check before starting. Arithmetic is in floating point, so any `reps`
/// (even `u64::MAX`) gives an estimate rather than an overflow.
pub fn estimate(
    scenario: &Scenario,
    reps: u64,
    threads: usize,
    keeps: Keeps,
    agents: bool,
) -> Estimate {
    let values_per_rep = match keeps {
        Keeps::MetricValues => {
            crate::measure::metrics::catalog(scenario.program_months(), scenario.shape()).len()
                as u64
        }
        Keeps::QueueStats => 3,
    };
    let youths_per_rep = expected_youths(scenario);
    // A Poisson count rarely exceeds its mean by 6 standard deviations.
    let youths_held = youths_per_rep + 6.0 * youths_per_rep.sqrt() + 100.0;
    let mediators_per_rep = max_mediators(&scenario.mediators, scenario.program_months() as u64);
    let threads_f = threads.max(1) as f64;
    let reps_f = reps as f64;
    let bytes_per_rep = match keeps {
        // A vector of values each, plus the summary's sorted copy of one
        // metric's values per worker.
        Keeps::MetricValues => values_per_rep as f64 * 8.0 + VECTOR_BYTES + threads_f * 8.0,
        Keeps::QueueStats => values_per_rep as f64 * 8.0,
    };
    let per_worker = youths_held * YOUTH_BYTES
        + mediators_per_rep as f64 * MEDIATOR_BYTES
        + values_per_rep as f64 * 8.0;
    let agents_bytes = if agents {
        // The records of a chunk of replications in flight.
        threads_f * super::AGENT_REPS_PER_THREAD as f64 * youths_held * AGENT_BYTES
    } else {
        0.0
    };
    let fixed_bytes = BASE_BYTES + threads_f * per_worker + agents_bytes;
    Estimate {
        reps,
        threads,
        values_per_rep,
        youths_per_rep,
        mediators_per_rep,
        bytes: fixed_bytes + reps_f * bytes_per_rep,
        bytes_per_rep,
        fixed_bytes,
    }
}

/// Expected referrals of one replication.
pub(crate) fn expected_youths(scenario: &Scenario) -> f64 {
    let r = &scenario.referral;
    (0..scenario.intake_months() as usize)
        .map(|m| {
            let multiplier = if r.monthly_multipliers.is_empty() {
                1.0
            } else {
                r.monthly_multipliers[m % r.monthly_multipliers.len()]
            };
            r.per_month * multiplier
        })
        .sum()
}

/// The worker threads for `--threads`: as asked, but at most
/// [`THREADS_PER_CORE`] per core (with a warning on stderr naming the value
/// used); every core when not given.
pub fn threads(requested: Option<u64>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let most = THREADS_PER_CORE * cores;
    match requested {
        None => cores,
        Some(t) if t > most as u64 => {
            eprintln!(
                "warning: --threads {t} is more than {THREADS_PER_CORE} per core ({cores} cores); using {most} threads"
            );
            most
        }
        Some(t) => t as usize,
    }
}

fn round(x: f64) -> String {
    if x >= 1e15 {
        format!("{x:.1e}")
    } else {
        format!("{x:.0}")
    }
}

/// Bytes in MiB, GiB or TiB (one decimal).
fn human_bytes(bytes: f64) -> String {
    const KIB: f64 = 1024.0;
    let units = [
        ("TiB", KIB.powi(4)),
        ("GiB", KIB.powi(3)),
        ("MiB", KIB.powi(2)),
    ];
    for (unit, size) in units {
        if bytes >= size {
            let value = bytes / size;
            return if value >= 1e6 {
                format!("{value:.1e} {unit}")
            } else {
                format!("{value:.1} {unit}")
            };
        }
    }
    format!("{:.1} MiB", bytes / KIB.powi(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(overrides: &[&str]) -> Scenario {
        let all: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        Scenario::from_toml_str("", "t.toml", &all).unwrap()
    }

    #[test]
    fn memory_grows_with_replications_and_threads() {
        let s = scenario(&[]);
        let small = estimate(&s, 200, 2, Keeps::MetricValues, false);
        assert!(small.fits());
        assert!(small.bytes < 100e6, "{small:?}");
        let big = estimate(&s, 1_000_000_000, 2, Keeps::MetricValues, false);
        assert!(!big.fits());
        assert!(big.bytes > MEMORY_BUDGET_BYTES as f64);
        let more_threads = estimate(&s, 200, 8, Keeps::MetricValues, false);
        assert!(more_threads.bytes > small.bytes);
        let stats = estimate(&s, 200, 2, Keeps::QueueStats, false);
        assert!(stats.bytes < small.bytes);
    }

    #[test]
    fn the_largest_fitting_run_fits() {
        let s = scenario(&[]);
        let big = estimate(&s, u64::MAX, 2, Keeps::MetricValues, false);
        let max = big.max_reps();
        assert!(max > 1000 && max <= MAX_REPLICATIONS, "{max}");
        assert!(estimate(&s, max, 2, Keeps::MetricValues, false).fits());
        assert!(
            !estimate(&s, max + 1, 2, Keeps::MetricValues, false).fits() || max == MAX_REPLICATIONS
        );
        let message = big.check("--reps").unwrap_err().to_string();
        assert!(message.contains("18446744073709551615"), "{message}");
        assert!(message.contains("4.0 GiB"), "{message}");
        assert!(
            message.contains(&format!("at most {max} replications")),
            "{message}"
        );
    }

    #[test]
    fn the_pool_counts_every_cohort() {
        let s = scenario(&[
            "mediators.initial_active=10",
            "mediators.cohort_size=3",
            "mediators.cohort_every_months=2",
        ]);
        let months = s.program_months() as u64;
        assert_eq!(max_mediators(&s.mediators, months), 10 + 3 * (months / 2));
    }

    #[test]
    fn threads_are_capped_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(threads(None), cores);
        assert_eq!(threads(Some(1)), 1);
        assert_eq!(threads(Some(100_000)), THREADS_PER_CORE * cores);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(4.0 * 1024.0 * 1024.0 * 1024.0), "4.0 GiB");
        assert_eq!(human_bytes(1536.0 * 1024.0), "1.5 MiB");
    }
}
