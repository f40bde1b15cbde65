//! The planner's plan, `vomsim plan`: the initial pool, the training
//! cohorts' size and spacing (and, with `[staff]`, the coordinators) that
//! meet a waiting target in every program month of a multi-year program
//! with a given probability, at the least expected cost.
//!
//! A replication meets the target when, in every intake month, the
//! Q-quantile of that month's waits (to assignment or to the session; a
//! case returned to the agency counts as never served) is within D days,
//! and, with `--max-sessions-per-volunteer S`, no month asks more than S
//! sessions of an active volunteer on average. Seasonality is kept: every
//! month counts, so a summer peak is not averaged away. A plan meets the
//! target when at least a share P of replications do.
//!
//! Cost: training for every volunteer trained during the intake months
//! (the initial pool included) at `costs.training_per_mediator`, coordinators at
//! `costs.coordinator_per_month` over the intake months (one coordinator
//! without `[staff]`, the same for every plan), and volunteer hours at
//! `--volunteer-hour-value` (0 by default: counted, not priced);
//! undiscounted, averaged over replications (each replication's own cost
//! draws).
//!
//! The search, on common random numbers (every candidate sees the same
//! referrals and the same attrition draws):
//! 1. With `[staff]`: the fewest coordinators that meet the target with
//!    ample volunteers (bisection: more coordinators never lengthen the
//!    intake queue); that number and one more are tried below.
//! 2. For each cohort size K and spacing E of a coarse grid, the smallest
//!    initial pool I meeting the target, by bisection (meeting is
//!    monotone in I, and cost rises with I, so for fixed (K, E) that I is
//!    the cheapest plan: exact, up to the queue's near-monotonicity, see
//!    `sizing`).
//! 3. Local refinement around the cheapest (K, E): K +- 1, E +- 1, each
//!    with its own smallest I, until no neighbour is cheaper.
//!
//! The answer is the cheapest plan over (K, E) in the grid and the
//! neighbourhood the refinement walked: optimal when cost over (K, E) has
//! one valley (true in the usual case: more or more frequent cohorts buy
//! a smaller initial pool at a rising price). It may miss a cheaper plan
//! in a second valley between grid points (seasonal referrals whose peak
//! falls between cohorts of a spacing not in the grid); `plan.csv` lists
//! every candidate tried so that can be checked.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::analysis::power::wilson;
use crate::analysis::sizing::{WaitTarget, WaitTo, smallest_meeting};
use crate::cancel::Cancel;
use crate::engine::{self, progress_bar};
use crate::error::Result;
use crate::measure::metrics::Tally;
use crate::measure::stats::quantile_sorted;
use crate::model::referral::DAYS_PER_MONTH;
use crate::output::csv::number_field;
use crate::scenario::Scenario;

/// Header of `plan.csv`.
pub const PLAN_HEADER: &str = "initial_active,cohort_size,cohort_every_months,coordinators,cost_mean,training_cost,coordinator_cost,volunteer_hours,share_meeting,share_lower,share_upper,reps,seed,meets_target,chosen";

/// The coarse grid of cohort sizes and spacings (months).
const COHORT_SIZES: [u64; 4] = [0, 2, 4, 8];
const COHORT_SPACINGS: [u64; 3] = [3, 6, 12];
/// The most refinement steps.
const MAX_REFINEMENTS: usize = 20;

/// What `plan` is asked.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub target: WaitTarget,
    pub years: u32,
    pub max_sessions_per_volunteer: Option<f64>,
    /// Dollars per volunteer hour (0: hours counted, not priced).
    pub volunteer_hour_value: f64,
    /// Search the coordinators (the scenario has `[staff]`).
    pub staff: bool,
    /// Largest initial pool and most coordinators tried.
    pub max_initial: u64,
    pub max_coordinators: u64,
    /// The scenario's own levers, where the searches start.
    pub start: Levers,
    pub seed: u64,
    /// The seed of the verification of the chosen plan.
    pub fresh_seed: u64,
    pub reps: u64,
    pub threads: usize,
    pub progress: bool,
    pub cancel: Cancel,
}

/// One plan's levers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Levers {
    pub coordinators: u64,
    pub cohort_every_months: u64,
    pub cohort_size: u64,
    pub initial_active: u64,
}

impl Levers {
    /// The `--set`s of this plan (and the horizon).
    pub fn overrides(&self, years: u32, staff: bool) -> Vec<String> {
        let mut all = vec![
            format!("simulation.intake_months={}", years * 12),
            format!("mediators.initial_active={}", self.initial_active),
            format!("mediators.cohort_size={}", self.cohort_size),
            format!("mediators.cohort_every_months={}", self.cohort_every_months),
        ];
        if staff {
            all.push(format!("staff.coordinators={}", self.coordinators));
        }
        all
    }
}

/// One plan tried (a row of `plan.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub levers: Levers,
    pub cost_mean: f64,
    pub training_cost: f64,
    pub coordinator_cost: f64,
    pub volunteer_hours: f64,
    pub share_meeting: f64,
    pub share_lower: f64,
    pub share_upper: f64,
    pub reps: u64,
    pub seed: u64,
    pub meets_target: bool,
    /// Month by month (program months): mean active volunteers, mean
    /// volunteers starting training, mean sessions per active volunteer.
    pub active_by_month: Vec<f64>,
    pub trained_by_month: Vec<f64>,
    pub sessions_per_volunteer_by_month: Vec<f64>,
}

/// The plan chosen, every candidate, and the chosen plan on fresh seeds.
#[derive(Debug, Clone)]
pub struct PlanResult {
    pub chosen: Option<Candidate>,
    pub verification: Option<Candidate>,
    pub candidates: Vec<Candidate>,
}

/// One replication against the plan's target, and its cost parts.
struct PlanStats {
    meets: bool,
    training: f64,
    coordinators: f64,
    hours: f64,
    active: Vec<f64>,
    trained: Vec<f64>,
    sessions_per_volunteer: Vec<f64>,
}

fn plan_stats(
    scenario: &Scenario,
    levers: &Levers,
    options: &PlanOptions,
    tally: Box<Tally>,
) -> PlanStats {
    let c = &tally.caseload;
    let intake = scenario.intake_months() as usize;
    let target = &options.target;
    let months = tally.months();
    let sessions_per_volunteer: Vec<f64> = (0..months)
        .map(|m| {
            let active = c.active_days[m] / DAYS_PER_MONTH;
            if active > 0.0 {
                c.mediator_sessions[m] as f64 / active
            } else if c.mediator_sessions[m] == 0 {
                0.0
            } else {
                f64::MAX
            }
        })
        .collect();
    let meets = (0..intake).all(|m| {
        let mut waits = match target.wait_to {
            WaitTo::Assignment => c.waits.month(m).to_vec(),
            WaitTo::Session => c.session_waits_by_month.month(m).to_vec(),
        };
        // A case returned to the agency was never served.
        waits.extend(std::iter::repeat_n(f64::MAX, c.returned[m] as usize));
        let within = waits.is_empty() || {
            waits.sort_by(f64::total_cmp);
            quantile_sorted(&waits, target.quantile) <= target.wait_days
        };
        within
            && options
                .max_sessions_per_volunteer
                .is_none_or(|s| sessions_per_volunteer[m] <= s)
    });
    // Cohorts starting after the last intake month serve no referral: not
    // part of the plan.
    let trained: u64 = c.trained[..intake].iter().sum();
    let coordinators = if options.staff {
        levers.coordinators
    } else {
        1
    };
    PlanStats {
        meets,
        training: tally.costs.training_per_mediator * trained as f64,
        coordinators: tally.costs.coordinator_per_month * (coordinators * intake as u64) as f64,
        hours: c.hours.iter().sum(),
        active: c.active_days.iter().map(|d| d / DAYS_PER_MONTH).collect(),
        trained: c.trained.iter().map(|&t| t as f64).collect(),
        sessions_per_volunteer,
    }
}

/// Runs one plan's replications at `seed`.
fn evaluate(
    pool: &rayon::ThreadPool,
    text: &str,
    origin: &str,
    overrides: &[String],
    levers: Levers,
    seed: u64,
    options: &PlanOptions,
) -> Result<Candidate> {
    let mut all = overrides.to_vec();
    all.extend(levers.overrides(options.years, options.staff));
    let scenario = Scenario::from_toml_str(text, origin, &all)?;
    let bar = progress_bar(
        options.reps,
        options.progress,
        &format!(
            "replications: pool {} + {} every {} months",
            levers.initial_active, levers.cohort_size, levers.cohort_every_months
        ),
    );
    let jobs: Vec<(&Scenario, u64)> = (0..options.reps).map(|rep| (&scenario, rep)).collect();
    let stats = engine::replicate(pool, &jobs, seed, &options.cancel, &bar, |tally| {
        plan_stats(&scenario, &levers, options, tally)
    })?;
    bar.finish_and_clear();
    let n = stats.len() as f64;
    let mean = |f: &dyn Fn(&PlanStats) -> f64| stats.iter().map(f).sum::<f64>() / n;
    let by_month = |f: &dyn Fn(&PlanStats) -> &Vec<f64>| -> Vec<f64> {
        let months = stats.first().map_or(0, |s| f(s).len());
        (0..months)
            .map(|m| stats.iter().map(|s| f(s)[m].min(1e12)).sum::<f64>() / n)
            .collect()
    };
    let meeting = stats.iter().filter(|s| s.meets).count() as f64;
    let (share_lower, share_upper) = wilson(meeting, n);
    let training_cost = mean(&|s| s.training);
    let coordinator_cost = mean(&|s| s.coordinators);
    let volunteer_hours = mean(&|s| s.hours);
    Ok(Candidate {
        levers,
        cost_mean: training_cost
            + coordinator_cost
            + volunteer_hours * options.volunteer_hour_value,
        training_cost,
        coordinator_cost,
        volunteer_hours,
        share_meeting: meeting / n,
        share_lower,
        share_upper,
        reps: options.reps,
        seed,
        meets_target: meeting / n >= options.target.confidence,
        active_by_month: by_month(&|s| &s.active),
        trained_by_month: by_month(&|s| &s.trained),
        sessions_per_volunteer_by_month: by_month(&|s| &s.sessions_per_volunteer),
    })
}

/// The candidates tried so far, by levers.
struct Search<'a> {
    pool: rayon::ThreadPool,
    text: &'a str,
    origin: &'a str,
    overrides: &'a [String],
    options: &'a PlanOptions,
    tried: BTreeMap<Levers, Candidate>,
}

impl Search<'_> {
    /// Whether a plan meets the target (run once, then cached).
    fn meets(&mut self, levers: Levers) -> Result<bool> {
        if let Some(c) = self.tried.get(&levers) {
            return Ok(c.meets_target);
        }
        let o = self.options;
        let c = evaluate(
            &self.pool,
            self.text,
            self.origin,
            self.overrides,
            levers,
            o.seed,
            o,
        )?;
        let meets = c.meets_target;
        self.tried.insert(levers, c);
        Ok(meets)
    }

    /// The smallest initial pool meeting the target with these cohorts and
    /// coordinators, if any up to the largest.
    fn smallest_pool(
        &mut self,
        coordinators: u64,
        size: u64,
        every: u64,
    ) -> Result<Option<Levers>> {
        // A pool that can never hold two mediators is no plan (and not a
        // valid scenario with co-mediation).
        let least = 2u64.saturating_sub(size);
        let at = |k: u64| Levers {
            coordinators,
            cohort_every_months: every,
            cohort_size: size,
            initial_active: least + k,
        };
        let n = self.options.max_initial.saturating_sub(least);
        let start = self.options.start.initial_active.saturating_sub(least);
        Ok(smallest_meeting(n, start, |k| self.meets(at(k)))?.map(at))
    }

    fn cost(&self, levers: &Levers) -> f64 {
        self.tried[levers].cost_mean
    }

    /// The cheapest of some feasible plans (ties: the smaller levers).
    fn cheapest(&self, list: &[Levers]) -> Option<Levers> {
        list.iter()
            .copied()
            .min_by(|a, b| self.cost(a).total_cmp(&self.cost(b)).then(a.cmp(b)))
    }
}

/// Searches for the cheapest plan (see the module comment).
pub fn plan(
    text: &str,
    origin: &str,
    overrides: &[String],
    options: &PlanOptions,
) -> Result<PlanResult> {
    let mut search = Search {
        pool: engine::thread_pool(options.threads)?,
        text,
        origin,
        overrides,
        options,
        tried: BTreeMap::new(),
    };
    let start = options.start;
    // 1. Coordinators, with ample volunteers.
    let coordinator_choices: Vec<u64> = if options.staff {
        let ample = Levers {
            initial_active: options.max_initial,
            ..start
        };
        let fewest = smallest_meeting(
            options.max_coordinators - 1,
            start.coordinators.max(1) - 1,
            |k| {
                search.meets(Levers {
                    coordinators: k + 1,
                    ..ample
                })
            },
        )?;
        match fewest {
            None => Vec::new(),
            Some(k) if k + 1 >= options.max_coordinators => vec![k + 1],
            Some(k) => vec![k + 1, k + 2],
        }
    } else {
        vec![start.coordinators]
    };
    // 2. The coarse grid, each point with its smallest initial pool.
    let mut feasible: Vec<Levers> = Vec::new();
    for &coordinators in &coordinator_choices {
        for size in COHORT_SIZES {
            // Without cohorts the spacing does not matter.
            let spacings: &[u64] = if size == 0 { &[12] } else { &COHORT_SPACINGS };
            for &every in spacings {
                feasible.extend(search.smallest_pool(coordinators, size, every)?);
            }
        }
    }
    // 3. Local refinement of (K, E) around the cheapest, until no
    // neighbour is cheaper.
    let mut best = search.cheapest(&feasible);
    for _ in 0..MAX_REFINEMENTS {
        let Some(current) = best else { break };
        let mut neighbours = Vec::new();
        let (k, e) = (current.cohort_size, current.cohort_every_months);
        for (size, every) in [
            (k + 1, e),
            (k.saturating_sub(1), e),
            (k, e + 1),
            (k, e.saturating_sub(1).max(1)),
        ] {
            if (size, every) != (k, e) && (size > 0 || every == 12) && every <= 24 {
                neighbours.extend(search.smallest_pool(current.coordinators, size, every)?);
            }
        }
        feasible.extend(&neighbours);
        neighbours.push(current);
        let next = search.cheapest(&neighbours);
        if next == Some(current) {
            break;
        }
        best = next;
    }
    let chosen = best.map(|l| search.tried[&l].clone());
    let verification = match &chosen {
        Some(c) => Some(evaluate(
            &search.pool,
            text,
            origin,
            overrides,
            c.levers,
            options.fresh_seed,
            options,
        )?),
        None => None,
    };
    Ok(PlanResult {
        chosen,
        verification,
        candidates: search.tried.into_values().collect(),
    })
}

/// Writes `plan.csv`: every candidate tried, then the chosen plan on fresh
/// seeds (`chosen` = `verification`).
pub fn write_plan(out: &mut impl Write, result: &PlanResult) -> io::Result<()> {
    writeln!(out, "{PLAN_HEADER}")?;
    let chosen = result.chosen.as_ref().map(|c| c.levers);
    let rows = result
        .candidates
        .iter()
        .map(|c| {
            (
                c,
                if Some(c.levers) == chosen {
                    "true"
                } else {
                    "false"
                },
            )
        })
        .chain(result.verification.iter().map(|c| (c, "verification")));
    for (c, mark) in rows {
        let l = &c.levers;
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            l.initial_active,
            l.cohort_size,
            l.cohort_every_months,
            l.coordinators,
            number_field(c.cost_mean),
            number_field(c.training_cost),
            number_field(c.coordinator_cost),
            number_field(c.volunteer_hours),
            number_field(c.share_meeting),
            number_field(c.share_lower),
            number_field(c.share_upper),
            c.reps,
            c.seed,
            c.meets_target,
            mark
        )?;
    }
    Ok(())
}
