//! What the server holds: the baseline run, the last change run, and the
//! one slot for a simulation.
//!
//! One simulation at a time: a run takes every core, so two at once would
//! each take twice as long and help no one. A request arriving while one
//! runs may wait in a single waiting place; any further request is refused
//! with 429 (busy) at once, so the work and the threads held by waiting
//! requests stay bounded. A newer change from the same page (the same
//! `client` token) makes that page's older requests stale: the running one
//! is cancelled between replications (through the engine's [`Cancel`]) and
//! answered 409, the waiting one is answered 409 and the newer one takes
//! its place. Requests of other pages never cancel each other's runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::analysis::compare::{self, CompareRow};
use crate::cancel::Cancel;
use crate::engine::limits::{self, Keeps};
use crate::engine::{self, RunOptions, RunResult};
use crate::error::{Error, Result};
use crate::output::csv::{self, RowPrefix};
use crate::scenario::Scenario;

/// Most replications `serve --reps` may ask: 50 times the default, about
/// 20 seconds of `vors_la` on two cores. A page is for quick what-ifs; a
/// long run belongs to `vomsim run`.
pub const MAX_REPS: u64 = 10_000;

/// Most youths one run of the page may simulate (expected referrals per
/// replication times replications): about 50 times `vors_la` at 200
/// replications, a few seconds on two cores. A lever such as
/// `referrals.per_month` or `simulation.intake_months` beyond it is refused
/// with the numbers, before any work.
pub const MAX_YOUTHS_PER_RUN: f64 = 5_000_000.0;

/// The longest a change may simulate, in seconds; then it is stopped and
/// answered 503. Why: youths are not the whole of the work (recurrent
/// rearrests at extreme hazards cost many events per youth), and a run
/// keeps going when its page is closed, so without a deadline one request
/// within the youth limit held the slot for minutes (an adversarial review
/// measured about 140 CPU-seconds) while every other page got 429.
pub const MAX_RUN_SECONDS: u64 = 30;

/// Most changes (`set` parameters) one request may carry.
pub const MAX_SETS: usize = 64;

/// Most characters of one change (`KEY=VALUE`).
pub const MAX_SET_CHARS: usize = 512;

/// Keys the page may not change: every change runs on the baseline's seed
/// and replications, which is what pairs it with the baseline.
const FIXED_KEYS: [&str; 2] = ["simulation.seed", "simulation.replications"];

/// A request the server does not run, with its HTTP status and the
/// one-paragraph message the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }

    /// A bad input (status 400) from the library's error: its message.
    fn input(error: &Error) -> Refusal {
        let status = if error.is_input_error() { 400 } else { 500 };
        Refusal::new(status, error.to_string())
    }
}

/// One run of the scenario (the baseline, or the baseline with changes)
/// and what the page shows of it.
#[derive(Debug)]
pub struct Computed {
    /// The page's changes (`KEY=VALUE`), after the baseline's own `--set`.
    pub sets: Vec<String>,
    pub scenario: Scenario,
    pub result: RunResult,
    /// The baseline (A) against this run (B), paired by replication.
    pub rows: Vec<CompareRow>,
    /// `summary.csv`, as `vomsim run` writes it.
    pub summary_csv: Vec<u8>,
    /// Seconds the simulation took.
    pub seconds: f64,
}

/// A claim on the slot: who asked, in what order, and how to stop it.
#[derive(Debug, Clone)]
struct Ticket {
    client: Option<String>,
    generation: u64,
    cancel: Cancel,
}

#[derive(Debug, Default)]
struct Slot {
    running: Option<Ticket>,
    waiting: Option<Ticket>,
    next_generation: u64,
}

/// The server's state, shared by its handler threads.
pub struct State {
    /// The scenario file's text and its name in messages; read once at
    /// start: no request ever names a file.
    pub scenario_text: String,
    pub origin: String,
    /// The baseline's own `--set` (from the command line).
    pub base_sets: Vec<String>,
    pub seed: u64,
    pub reps: u64,
    pub threads: usize,
    pub baseline: Arc<Computed>,
    pool: rayon::ThreadPool,
    slot: Mutex<Slot>,
    freed: Condvar,
    last: Mutex<Option<Arc<Computed>>>,
}

/// Locks a mutex even if a handler panicked while holding it: the data
/// (the slot's tickets, the last run) stays consistent at every step.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Frees the slot when the run ends, however it ends.
struct Running<'a> {
    state: &'a State,
    generation: u64,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut slot = lock(&self.state.slot);
        if slot
            .running
            .as_ref()
            .is_some_and(|t| t.generation == self.generation)
        {
            slot.running = None;
        }
        drop(slot);
        self.state.freed.notify_all();
    }
}

impl State {
    /// Loads the scenario, checks the limits and runs the baseline.
    pub fn start(
        scenario_text: String,
        origin: String,
        base_sets: Vec<String>,
        seed: u64,
        reps: u64,
        threads: usize,
    ) -> Result<State> {
        if reps > MAX_REPS {
            return Err(Error::BadArgument {
                option: "--reps".to_string(),
                value: reps.to_string(),
                requirement: format!(
                    "serve runs at most {MAX_REPS} replications per change, to answer within seconds; use vomsim run for more"
                ),
            });
        }
        let pool = engine::thread_pool(threads)?;
        let scenario = Scenario::from_toml_str(&scenario_text, &origin, &base_sets)?;
        check_work(&scenario, reps, threads).map_err(|message| Error::BadArgument {
            option: "serve".to_string(),
            value: origin.clone(),
            requirement: message,
        })?;
        let started = Instant::now();
        let options = run_options(seed, reps, threads, Cancel::never());
        let result = engine::run(&scenario, &options)?;
        let seconds = started.elapsed().as_secs_f64();
        let rows = compare::compare_results(&result, &result, "baseline");
        let summary_csv = summary_bytes(&pool, &result)?;
        let baseline = Arc::new(Computed {
            sets: Vec::new(),
            scenario,
            result,
            rows,
            summary_csv,
            seconds,
        });
        Ok(State {
            scenario_text,
            origin,
            base_sets,
            seed,
            reps,
            threads,
            baseline,
            pool,
            slot: Mutex::new(Slot::default()),
            freed: Condvar::new(),
            last: Mutex::new(None),
        })
    }

    /// The scenario with the page's changes, validated and within the
    /// limits, or why not.
    pub fn scenario_with(&self, sets: &[String]) -> std::result::Result<Scenario, Refusal> {
        if sets.len() > MAX_SETS {
            return Err(Refusal::new(
                400,
                format!(
                    "{} changes at once; the page takes at most {MAX_SETS}",
                    sets.len()
                ),
            ));
        }
        for set in sets {
            if set.chars().count() > MAX_SET_CHARS {
                return Err(Refusal::new(
                    400,
                    format!("a change of more than {MAX_SET_CHARS} characters is refused"),
                ));
            }
            let key = set.split_once('=').map_or(set.as_str(), |(k, _)| k).trim();
            if FIXED_KEYS.contains(&key) {
                return Err(Refusal::new(
                    400,
                    format!(
                        "{key} cannot be changed on the page: every change runs the baseline's seed ({}) and replications ({}), which is what pairs it with the baseline; restart vomsim serve with --seed or --reps to change them",
                        self.seed, self.reps
                    ),
                ));
            }
        }
        let all: Vec<String> = self.base_sets.iter().chain(sets).cloned().collect();
        let scenario = Scenario::from_toml_str(&self.scenario_text, &self.origin, &all)
            .map_err(|e| Refusal::input(&e))?;
        check_work(&scenario, self.reps, self.threads).map_err(|m| Refusal::new(400, m))?;
        Ok(scenario)
    }

    /// The run with the page's changes `sets`: the baseline when there are
    /// none, the last run when it had the same changes, else a new run in
    /// the slot (see the module's note for who waits and who is refused).
    pub fn computed(
        &self,
        sets: &[String],
        client: Option<&str>,
    ) -> std::result::Result<Arc<Computed>, Refusal> {
        // The baseline and the last run were validated when they ran.
        if sets.is_empty() {
            return Ok(Arc::clone(&self.baseline));
        }
        if let Some(last) = lock(&self.last).as_ref()
            && last.sets == sets
        {
            return Ok(Arc::clone(last));
        }
        let scenario = self.scenario_with(sets)?;
        let (running, cancel) = self.claim(client)?;
        let started = Instant::now();
        // The deadline: a watchdog stops the run after MAX_RUN_SECONDS
        // unless it ends first.
        let timed_out = Arc::new(AtomicBool::new(false));
        let (finished, watch) = mpsc::channel::<()>();
        let watchdog = {
            let (cancel, timed_out) = (cancel.clone(), Arc::clone(&timed_out));
            std::thread::spawn(move || {
                let deadline = Duration::from_secs(MAX_RUN_SECONDS);
                if let Err(RecvTimeoutError::Timeout) = watch.recv_timeout(deadline) {
                    timed_out.store(true, Ordering::SeqCst);
                    cancel.cancel();
                }
            })
        };
        let options = run_options(self.seed, self.reps, self.threads, cancel);
        let outcome = engine::run(&scenario, &options);
        drop(finished);
        let _ = watchdog.join();
        let result = match outcome {
            Ok(result) => result,
            Err(Error::Interrupted { .. }) if timed_out.load(Ordering::SeqCst) => {
                return Err(Refusal::new(
                    503,
                    format!(
                        "stopped: this change took more than {MAX_RUN_SECONDS} s to simulate \
                         ({} replications), the page's limit per change; make it lighter \
                         (fewer referrals, a shorter follow-up, no recurrent counting) or run \
                         it with vomsim run",
                        self.reps
                    ),
                ));
            }
            Err(Error::Interrupted { .. }) => return Err(superseded()),
            Err(e) => return Err(Refusal::input(&e)),
        };
        let seconds = started.elapsed().as_secs_f64();
        drop(running);
        let rows = compare::compare_results(&self.baseline.result, &result, "change");
        let summary_csv = summary_bytes(&self.pool, &result).map_err(|e| Refusal::input(&e))?;
        let computed = Arc::new(Computed {
            sets: sets.to_vec(),
            scenario,
            result,
            rows,
            summary_csv,
            seconds,
        });
        *lock(&self.last) = Some(Arc::clone(&computed));
        Ok(computed)
    }

    /// Takes the slot, waiting in the one waiting place if it is busy.
    fn claim(&self, client: Option<&str>) -> std::result::Result<(Running<'_>, Cancel), Refusal> {
        let mut slot = lock(&self.slot);
        let ticket = Ticket {
            client: client.map(str::to_string),
            generation: slot.next_generation,
            cancel: Cancel::never(),
        };
        slot.next_generation += 1;
        let mine = |t: &Ticket| ticket.client.is_some() && t.client == ticket.client;
        if slot.running.is_some() || slot.waiting.is_some() {
            // A newer change from the same page: its older requests are stale.
            if let Some(waiting) = slot.waiting.take_if(|t| mine(t)) {
                waiting.cancel.cancel();
                self.freed.notify_all();
            }
            if let Some(running) = slot.running.as_ref().filter(|t| mine(t)) {
                running.cancel.cancel();
            }
            if slot.waiting.is_some() {
                return Err(Refusal::new(
                    429,
                    "busy: a simulation is running and another is waiting; try again in a moment",
                ));
            }
            slot.waiting = Some(ticket.clone());
            while slot.running.is_some() {
                slot = self
                    .freed
                    .wait(slot)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if ticket.cancel.requested() {
                    return Err(superseded());
                }
            }
            slot.waiting = None;
        }
        slot.running = Some(ticket.clone());
        Ok((
            Running {
                state: self,
                generation: ticket.generation,
            },
            ticket.cancel,
        ))
    }
}

fn superseded() -> Refusal {
    Refusal::new(409, "superseded by a newer change from this page")
}

fn run_options(seed: u64, reps: u64, threads: usize, cancel: Cancel) -> RunOptions {
    RunOptions {
        seed,
        reps,
        threads,
        progress: false,
        agents_reps: 0,
        cancel,
    }
}

/// `Err` with the numbers when a run of `scenario` would exceed the
/// page's work limit or the memory limit of every run.
fn check_work(scenario: &Scenario, reps: u64, threads: usize) -> std::result::Result<(), String> {
    let estimate = limits::estimate(scenario, reps, threads, Keeps::MetricValues, false);
    if estimate.youths() > MAX_YOUTHS_PER_RUN {
        return Err(format!(
            "too large a run for the page: {reps} replications of about {:.0} referrals each is about {:.0} youths; the page simulates at most {MAX_YOUTHS_PER_RUN:.0} per change (lower referrals.per_month or simulation.intake_months, or use vomsim run)",
            estimate.youths_per_rep,
            estimate.youths()
        ));
    }
    estimate.check("replications").map_err(|e| e.to_string())
}

/// `summary.csv` of a run, in memory.
pub fn summary_bytes(pool: &rayon::ThreadPool, result: &RunResult) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    csv::write_summary(
        &mut bytes,
        pool,
        &RowPrefix::run(),
        true,
        &result.catalog,
        &result.values,
    )
    .map_err(|e| Error::Internal(format!("summary.csv in memory: {e}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/vors_la.toml");
        let text = std::fs::read_to_string(path).unwrap();
        State::start(text, "vors_la.toml".to_string(), Vec::new(), 1, 3, 1).unwrap()
    }

    fn sets(text: &str) -> Vec<String> {
        vec![text.to_string()]
    }

    /// Waits (without a time limit: the test harness has one) until a
    /// request waits in the slot's waiting place.
    fn until_waiting(state: &State, generation_above: u64) {
        while lock(&state.slot)
            .waiting
            .as_ref()
            .is_none_or(|t| t.generation <= generation_above)
        {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn a_newer_change_cancels_the_same_pages_run_and_other_pages_wait_or_get_429() {
        let state = state();
        let (running, cancel) = state.claim(Some("page")).unwrap();
        std::thread::scope(|scope| {
            let newer =
                scope.spawn(|| state.computed(&sets("referrals.per_month=50"), Some("page")));
            until_waiting(&state, 0);
            assert!(cancel.requested(), "the page's older run is cancelled");
            // The one waiting place is taken: another page is told to retry.
            let other = state.computed(&sets("referrals.per_month=51"), Some("other"));
            assert_eq!(other.unwrap_err().status, 429);
            drop(running);
            let computed = newer.join().unwrap().unwrap();
            assert_eq!(computed.sets, sets("referrals.per_month=50"));
        });
    }

    #[test]
    fn a_newer_change_replaces_the_same_pages_waiting_request() {
        let state = state();
        let (running, cancel) = state.claim(Some("another")).unwrap();
        std::thread::scope(|scope| {
            let older =
                scope.spawn(|| state.computed(&sets("referrals.per_month=50"), Some("page")));
            until_waiting(&state, 0);
            let newer =
                scope.spawn(|| state.computed(&sets("referrals.per_month=52"), Some("page")));
            assert_eq!(older.join().unwrap().unwrap_err().status, 409);
            until_waiting(&state, 1);
            assert!(!cancel.requested(), "another page's run is never cancelled");
            drop(running);
            let computed = newer.join().unwrap().unwrap();
            assert_eq!(computed.sets, sets("referrals.per_month=52"));
        });
        // Without changes: the baseline, without a run.
        let baseline = state.computed(&[], None).unwrap();
        assert!(Arc::ptr_eq(&baseline, &state.baseline));
    }
}
