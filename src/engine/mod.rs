//! The replication engine: replications in parallel on a rayon pool, one
//! random stream per (seed, replication), results collected in replication
//! order and summarized serially, with a progress bar on stderr.
//!
//! Reproducibility: a replication's numbers depend only on the scenario, the
//! master seed and its index, never on the thread that ran it; aggregation
//! happens after collection, in index order. So the same scenario, seed and
//! replications give byte-identical output for any `--threads`.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rayon::prelude::*;

pub mod limits;
pub mod replication;

use crate::cancel::Cancel;
use crate::error::{Error, Result};
use crate::measure::metrics::{self, MetricKey};
use crate::model::draws::replication_key;
use crate::scenario::Scenario;
use limits::Keeps;
use replication::AgentRecord;

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub seed: u64,
    pub reps: u64,
    /// Worker threads; 0 is not allowed (validated by the caller).
    pub threads: usize,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
    /// Replications whose youths will be written (`agents.csv`), counted in
    /// the memory check; see [`agents_in_order`].
    pub agents_reps: u64,
    /// Stops the run between replications when requested.
    pub cancel: Cancel,
}

/// Everything a run produced.
#[derive(Debug)]
pub struct RunResult {
    pub catalog: Vec<MetricKey>,
    /// One vector of values per replication, aligned with `catalog`; NaN
    /// where a metric was undefined in that replication.
    pub values: Vec<Vec<f64>>,
    pub wall_seconds: f64,
}

/// A progress bar on stderr, hidden when asked or when stderr is not a
/// terminal (so logs and CI output stay clean).
pub fn progress_bar(length: u64, show: bool, what: &str) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stderr());
    let template = progress_template(what);
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The progress bar's layout: within 80 columns for counts up to a
/// billion (a sweep's replications) and any `what` of up to 16 characters
/// (`tests` checks the widest line).
fn progress_template(what: &str) -> String {
    format!("{{elapsed_precise}} [{{bar:16}}] {{pos}}/{{len}} {what} (eta {{eta_precise}})")
}

/// A line on stderr while output files are written (after a run's
/// progress bar): which file, and for how long. Hidden like
/// [`progress_bar`]; `finish_and_clear` removes it.
pub fn writing_line(show: bool) -> ProgressBar {
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} {spinner} writing {msg}") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// A rayon pool of `threads` workers (every parallel command uses one, so
/// `--threads` means the same everywhere).
pub fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Threads {
            threads,
            message: e.to_string(),
        })
}

/// Runs `jobs`, (scenario, replication) pairs, on `pool` and returns what
/// `keep` makes of each replication's tally, in the jobs' order. Every
/// parallel command (`run`, `size`, sweeps) goes through here, so the
/// stream of a replication (`replication_key(seed, rep)`), the cancel check
/// between replications and the order of results are the same everywhere;
/// `keep` reduces the tally at once, so only what the caller needs stays in
/// memory. Stops with the cancel error if a stop was requested.
pub(crate) fn replicate<T: Send>(
    pool: &rayon::ThreadPool,
    jobs: &[(&Scenario, u64)],
    seed: u64,
    cancel: &Cancel,
    bar: &ProgressBar,
    keep: impl Fn(Box<metrics::Tally>) -> T + Sync,
) -> Result<Vec<T>> {
    let kept: Vec<Option<T>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(scenario, rep)| {
                if cancel.requested() {
                    return None;
                }
                // `replicate_in_order` repeats this step (simulate, count,
                // keep): a change here belongs there too.
                let tally = replication::simulate(scenario, replication_key(seed, rep), None);
                bar.inc(1);
                Some(keep(tally))
            })
            .collect()
    });
    // A skipped replication means a stop was requested, and stays requested.
    cancel.check()?;
    Ok(kept.into_iter().flatten().collect())
}

/// The jobs of a run of one scenario, once it is checked against the
/// limits ([`run`] and [`run_in_order`]).
fn jobs<'a>(scenario: &'a Scenario, options: &RunOptions) -> Result<Vec<(&'a Scenario, u64)>> {
    limits::estimate(
        scenario,
        options.reps,
        options.threads,
        Keeps::MetricValues,
        options.agents_reps > 0,
    )
    .check("replications")?;
    Ok((0..options.reps).map(|rep| (scenario, rep)).collect())
}

/// Runs the replications of one scenario. A run that does not fit the
/// limits ([`limits::estimate`]) is refused before it starts; commands check
/// first with their own option names, this is the library's safety net.
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<RunResult> {
    let jobs = jobs(scenario, options)?;
    let started = Instant::now();
    let pool = thread_pool(options.threads)?;
    let bar = progress_bar(options.reps, options.progress, "replications");
    let values = replicate(&pool, &jobs, options.seed, &options.cancel, &bar, |tally| {
        metric_values(&tally)
    });
    bar.finish_and_clear();
    let values = values?;
    Ok(RunResult {
        catalog: metrics::catalog(scenario.program_months(), scenario.shape()),
        values,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// [`run`], handing each replication's values to `each` in replication
/// order as soon as it and every one before it are simulated, on the
/// calling thread while the pool simulates the later ones; `each` answers
/// whether to go on (a failed write stops the run). Returns the result and
/// how many replications were handed on: those still unhanded when the
/// last one was simulated are left to the caller (who may do on the idle
/// pool what this thread would do alone).
///
/// Why: `run` writes every replication's rows (`replications.csv`), which
/// took as long as simulating them when it followed the simulation; here
/// it is done by a thread that would otherwise wait, while the pool works.
/// The replications are the same (same streams, same values); only the
/// order in which the pool takes them differs (see
/// `replicate_in_order`).
pub fn run_in_order(
    scenario: &Scenario,
    options: &RunOptions,
    each: impl FnMut(u64, &[f64]) -> bool,
) -> Result<(RunResult, usize)> {
    let jobs = jobs(scenario, options)?;
    run_jobs_in_order(scenario, &jobs, options, each)
}

/// [`run_drawn`] as [`run_in_order`] runs [`run`].
pub fn run_drawn_in_order(
    scenarios: &[Scenario],
    of_rep: &[usize],
    options: &RunOptions,
    each: impl FnMut(u64, &[f64]) -> bool,
) -> Result<(RunResult, usize)> {
    let jobs = drawn_jobs(scenarios, of_rep, options)?;
    let first = &scenarios[of_rep.first().copied().unwrap_or(0)];
    run_jobs_in_order(first, &jobs, options, each)
}

/// The run of `jobs` behind [`run_in_order`] and [`run_drawn_in_order`];
/// `first` gives the catalog.
fn run_jobs_in_order(
    first: &Scenario,
    jobs: &[(&Scenario, u64)],
    options: &RunOptions,
    each: impl FnMut(u64, &[f64]) -> bool,
) -> Result<(RunResult, usize)> {
    let started = Instant::now();
    let pool = thread_pool(options.threads)?;
    let bar = progress_bar(options.reps, options.progress, "replications");
    let replicated = replicate_in_order(&pool, jobs, options.seed, &options.cancel, &bar, each);
    bar.finish_and_clear();
    let (values, handed) = replicated?;
    Ok((
        RunResult {
            catalog: metrics::catalog(first.program_months(), first.shape()),
            values,
            wall_seconds: started.elapsed().as_secs_f64(),
        },
        handed,
    ))
}

/// [`replicate`] keeping metric values, handing them to `each` in order
/// on the calling thread while the pool works (see [`run_in_order`]).
/// Each pool thread takes the next job not yet taken, so replications
/// finish nearly in order and few wait for an earlier one (rayon's
/// splitting would start the second thread half-way through), and sends
/// what it simulated to the calling thread in batches ([`Batch`]). Returns
/// the values in the jobs' order (those handed on, if `each` stopped
/// the run) and how many were handed on; stops with
/// the cancel error if a stop was requested, and early, with the values so
/// far, if `each` said so.
fn replicate_in_order(
    pool: &rayon::ThreadPool,
    jobs: &[(&Scenario, u64)],
    seed: u64,
    cancel: &Cancel,
    bar: &ProgressBar,
    mut each: impl FnMut(u64, &[f64]) -> bool,
) -> Result<(Vec<Vec<f64>>, usize)> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // Set once every job is simulated: what is left is the caller's.
    let done = AtomicBool::new(false);
    let mut slots: Vec<Option<Vec<f64>>> = (0..jobs.len()).map(|_| None).collect();
    let mut handed = 0;
    std::thread::scope(|scope| {
        let (send, simulated) = std::sync::mpsc::channel::<Vec<(usize, Vec<f64>)>>();
        let (next, stop, done) = (&next, &stop, &done);
        let threads = pool.current_num_threads();
        std::thread::Builder::new()
            .spawn_scoped(scope, move || {
                pool.broadcast(|_| {
                    let send = send.clone();
                    let mut batch = Batch::new();
                    loop {
                        let job = next.fetch_add(1, Ordering::Relaxed);
                        if job >= jobs.len() || cancel.requested() || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        // `replicate`'s step: a change there belongs here.
                        let (scenario, rep) = jobs[job];
                        let tally =
                            replication::simulate(scenario, replication_key(seed, rep), None);
                        bar.inc(1);
                        batch.values.push((job, metric_values(&tally)));
                        if batch.is_due() && send.send(batch.take()).is_err() {
                            break;
                        }
                    }
                    if !batch.values.is_empty() {
                        let _ = send.send(batch.take());
                    }
                });
                done.store(true, Ordering::Relaxed);
            })
            // No thread to be had (a process limit): an error, not a panic.
            .map_err(|e| Error::Threads {
                threads,
                message: e.to_string(),
            })?;
        for (job, values) in simulated.into_iter().flatten() {
            slots[job] = Some(values);
            if stop.load(Ordering::Relaxed) || done.load(Ordering::Relaxed) {
                continue;
            }
            while let Some(Some(values)) = slots.get(handed) {
                if !each(jobs[handed].1, values) {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
                handed += 1;
            }
        }
        Ok::<(), Error>(())
    })?;
    // A skipped replication means a stop was requested, and stays requested.
    cancel.check()?;
    // Stopped by `each`: the values of the replications handed on, so that
    // `values[i]` stays replication `i`'s.
    if stop.load(Ordering::Relaxed) {
        slots.truncate(handed);
    }
    Ok((slots.into_iter().flatten().collect(), handed))
}

/// A simulating thread's replications on their way to the writer
/// ([`replicate_in_order`]): sent together once a millisecond has passed
/// since the thread's last send (checked as each replication ends, so a
/// batch also waits for the replication in hand).
///
/// Why: the writer formats a replication faster than one is simulated, so
/// it waits on the channel, and each send woke it (a futex call and a
/// context switch, about 3% of the simulating thread's time at vors_la's
/// 480 youths a replication). Large replications (a millisecond or more)
/// still go one by one.
struct Batch {
    values: Vec<(usize, Vec<f64>)>,
    since: std::time::Instant,
}

impl Batch {
    /// How long a batch gathers before it is sent.
    const GATHER: std::time::Duration = std::time::Duration::from_millis(1);

    fn new() -> Batch {
        Batch {
            values: Vec::new(),
            since: std::time::Instant::now(),
        }
    }

    fn is_due(&self) -> bool {
        self.since.elapsed() >= Batch::GATHER
    }

    /// The batch gathered, leaving an empty one that starts now.
    fn take(&mut self) -> Vec<(usize, Vec<f64>)> {
        self.since = std::time::Instant::now();
        std::mem::take(&mut self.values)
    }
}

/// The parameter draw replication `rep` runs at, under `run --parameters`:
/// draw `i` with probability `weights[i] / sum(weights)`, by a uniform of
/// the replication's own stream (so the same for any thread count, and
/// for a replication whatever the number of replications).
pub fn parameter_draw(seed: u64, rep: u64, weights: &[f64]) -> usize {
    // Weights whose sum overflows (each finite, e.g. 1e308) are scaled by
    // the largest first; others are used as written.
    let mut scale = 1.0;
    let mut total: f64 = weights.iter().sum();
    if !total.is_finite() {
        scale = 1.0 / weights.iter().fold(0.0, |a: f64, &w| a.max(w));
        total = weights.iter().map(|w| w * scale).sum();
    }
    let u = crate::model::draws::parameter_draw_uniform(replication_key(seed, rep)) * total;
    let mut cumulative = 0.0;
    for (i, w) in weights.iter().enumerate() {
        cumulative += w * scale;
        if u < cumulative {
            return i;
        }
    }
    // Rounding: the last draw with weight.
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// The jobs of a run whose replication `rep` runs at
/// `scenarios[of_rep[rep]]`, once every scenario is checked against the
/// limits ([`run_drawn`] and [`run_drawn_in_order`]).
fn drawn_jobs<'a>(
    scenarios: &'a [Scenario],
    of_rep: &[usize],
    options: &RunOptions,
) -> Result<Vec<(&'a Scenario, u64)>> {
    for scenario in scenarios {
        limits::estimate(
            scenario,
            options.reps,
            options.threads,
            Keeps::MetricValues,
            false,
        )
        .check("replications")?;
    }
    Ok((0..options.reps)
        .map(|rep| (&scenarios[of_rep[rep as usize]], rep))
        .collect())
}

/// Runs replications each at its own scenario: replication `rep` at
/// `scenarios[of_rep[rep]]` (`run --parameters`: a scenario per parameter
/// draw), with the same streams as [`run`]. The scenarios must share their
/// catalog (the caller checks it); each is checked against the limits.
pub fn run_drawn(
    scenarios: &[Scenario],
    of_rep: &[usize],
    options: &RunOptions,
) -> Result<RunResult> {
    let jobs = drawn_jobs(scenarios, of_rep, options)?;
    let started = Instant::now();
    let pool = thread_pool(options.threads)?;
    let bar = progress_bar(options.reps, options.progress, "replications");
    let values = replicate(&pool, &jobs, options.seed, &options.cancel, &bar, |tally| {
        metric_values(&tally)
    });
    bar.finish_and_clear();
    let values = values?;
    let first = &scenarios[of_rep.first().copied().unwrap_or(0)];
    Ok(RunResult {
        catalog: metrics::catalog(first.program_months(), first.shape()),
        values,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Replications whose youths are simulated together before they are
/// handed on, per worker thread: enough to keep the workers busy, few
/// enough that the records in flight stay small (see `limits::estimate`).
pub const AGENT_REPS_PER_THREAD: usize = 4;

/// Simulates the youths of replications `0..reps` again (each exactly as
/// in the run: the same streams) in parallel chunks on `pool`, and hands
/// each replication's records to `write` in replication order, so that
/// `agents.csv` of many replications streams to disk without holding them.
pub fn agents_in_order(
    pool: &rayon::ThreadPool,
    scenario: &Scenario,
    seed: u64,
    reps: u64,
    cancel: &Cancel,
    mut write: impl FnMut(u64, &[AgentRecord]) -> std::io::Result<()>,
) -> Result<std::io::Result<()>> {
    let chunk = (pool.current_num_threads() * AGENT_REPS_PER_THREAD) as u64;
    let mut start = 0;
    while start < reps {
        cancel.check()?;
        let end = (start + chunk).min(reps);
        let records: Vec<Vec<AgentRecord>> = pool.install(|| {
            (start..end)
                .into_par_iter()
                .map(|rep| replication_agents(scenario, seed, rep))
                .collect()
        });
        for (rep, records) in (start..end).zip(&records) {
            if let Err(e) = write(rep, records) {
                return Ok(Err(e));
            }
        }
        start = end;
    }
    Ok(Ok(()))
}

/// One replication's metric values (aligned with [`metrics::catalog`]) and
/// the number of youths it simulated: the unit of work that benches time.
pub fn simulate_replication(scenario: &Scenario, seed: u64, rep: u64) -> (Vec<f64>, u64) {
    let tally = replication::simulate(scenario, replication_key(seed, rep), None);
    let youths = tally.youths[0];
    (metric_values(&tally), youths)
}

/// A replication's metric values (aligned with [`metrics::catalog`]),
/// without the vector's growth headroom: they are kept until the run ends,
/// and the headroom nearly doubled a run's memory (about 1,100 values in a
/// vector of capacity 2,048).
pub(crate) fn metric_values(tally: &metrics::Tally) -> Vec<f64> {
    let mut values = metrics::values(tally);
    values.shrink_to_fit();
    values
}

/// Every youth of one replication, with its full record (what `agents.csv`
/// holds for replication 0).
pub fn replication_agents(scenario: &Scenario, seed: u64, rep: u64) -> Vec<AgentRecord> {
    let mut records = Vec::new();
    replication::simulate(scenario, replication_key(seed, rep), Some(&mut records));
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws are chosen in proportion to their weights, never one of
    /// weight 0, and the same for a replication whatever else runs. Over
    /// 4,000 replications the share of the weight-3 draw is 0.75 with a
    /// standard deviation of 0.007; the check allows four of them.
    #[test]
    fn parameter_draws_follow_their_weights() {
        let weights = [0.0, 1.0, 3.0];
        let picks: Vec<usize> = (0..4000)
            .map(|rep| parameter_draw(11, rep, &weights))
            .collect();
        assert!(!picks.contains(&0));
        let share = picks.iter().filter(|&&p| p == 2).count() as f64 / 4000.0;
        assert!((share - 0.75).abs() < 0.028, "{share}");
        assert_eq!(parameter_draw(11, 17, &weights), picks[17]);
    }

    /// The widest line the bar can draw: every field at its widest (a
    /// billion of a billion, a 16-character `what`, 99 hours).
    #[test]
    fn weights_whose_sum_overflows_draw_as_their_ratios_do() {
        // An adversarial review found uniform weights of 1e308 sampled
        // differently from uniform weights of 1 (the sum was infinite).
        let huge = [1e308; 7];
        let ones = [1.0; 7];
        let mut seen = [false; 7];
        for rep in 0..200 {
            let i = parameter_draw(9, rep, &ones);
            assert_eq!(parameter_draw(9, rep, &huge), i, "rep {rep}");
            seen[i] = true;
        }
        assert!(seen.iter().all(|&s| s), "every draw is chosen: {seen:?}");
    }

    #[test]
    fn the_progress_bar_fits_80_columns() {
        for what in ["replications", "evaluations", "reps at 1000000"] {
            assert!(what.len() <= 16, "{what}");
            let line = progress_template(what)
                .replace("{elapsed_precise}", "99:59:59")
                .replace("{bar:16}", &"=".repeat(16))
                .replace("{pos}", "1000000000")
                .replace("{len}", "1000000000")
                .replace("{eta_precise}", "99:59:59");
            assert!(!line.contains('{'), "{line}");
            assert!(line.chars().count() <= 80, "{} columns: {line}", line.len());
        }
    }

    /// A run handing its replications on in order has the values of a
    /// plain run; every replication is handed on, in order, once (by the
    /// run or left to the caller), and a `false` stops the handing.
    #[test]
    fn replications_are_handed_on_in_order_with_the_values_of_a_run() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/vors_la.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let scenario = Scenario::from_toml_str(
            &text,
            "vors_la.toml",
            &["referrals.per_month=40".to_string()],
        )
        .unwrap();
        for threads in [1, 3] {
            let options = RunOptions {
                seed: 5,
                reps: 9,
                threads,
                progress: false,
                agents_reps: 0,
                cancel: Cancel::never(),
            };
            // Compared bit for bit: undefined values are NaN.
            let bits = |values: &[f64]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            let plain = run(&scenario, &options).unwrap();
            let mut seen = Vec::new();
            let (result, handed) = run_in_order(&scenario, &options, |rep, values| {
                assert_eq!(bits(values), bits(&plain.values[rep as usize]));
                seen.push(rep);
                true
            })
            .unwrap();
            assert_eq!(seen, (0..handed as u64).collect::<Vec<_>>());
            assert_eq!(
                result.values.iter().map(|v| bits(v)).collect::<Vec<_>>(),
                plain.values.iter().map(|v| bits(v)).collect::<Vec<_>>(),
                "{threads} threads"
            );
            assert_eq!(result.catalog, plain.catalog);
            let mut calls = 0;
            let (_, handed) = run_in_order(&scenario, &options, |_, _| {
                calls += 1;
                calls < 2
            })
            .unwrap();
            assert!(handed <= 1 && calls <= 2, "{handed} {calls}");
        }
    }
}
