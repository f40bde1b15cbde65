//! Stage 5, the volunteer mediator pool and the case queue: when a
//! consented case gets its session, or whether it goes back to the agency.
//!
//! Mediators are agents (seed 003: volunteers trained for 25 hours, who
//! commit to at least one mediation a month for 12 sessions). An initial
//! pool is active at program start; training cohorts join every few months
//! and become active after their training; each mediator leaves at a
//! monthly rate, lower while still within the 12-session commitment. An
//! active mediator holds at most `max_cases_per_mediator` cases at once.
//!
//! Consented cases wait first-in, first-out for the one or two mediators
//! they need (co-mediation; seed 003: "facilitated by one or two volunteer
//! mediators"), who are the least loaded available (ties: lowest id). A
//! case holds them for its duration (preparation, separate pre-meetings in
//! about 80% of cases per seed 000, then the 1 to 1.5 hour session per seed
//! 003) and ends in the session. A case still waiting after
//! `max_wait_days`, or whose youth is rearrested while waiting, returns to
//! the agency. With a constant pool, one mediator per case, Poisson
//! arrivals, exponential durations and no returns, this is the M/M/c queue
//! (`tests/queue.rs` checks it against Erlang C).
//!
//! Time is in program days; the queue is a discrete-event simulation over a
//! binary heap whose ties are broken by insertion order (`events.rs`), so it is
//! deterministic.

use std::collections::VecDeque;

mod events;

use events::{EventHeap, EventKind};

use crate::model::draws::{YouthDraws, attrition_uniform, normal_quantile, slot};
use crate::model::referral::{DAYS_PER_MONTH, Youth};
use crate::model::staff::StaffLoad;

/// Case durations' distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum DurationDistribution {
    /// Log-normal with this location and scale (days).
    LogNormal { log_mean: f64, log_sd: f64 },
    /// Exponential with this mean (days).
    Exponential { mean: f64 },
}

/// Validated mediator-pool parameters.
#[derive(Debug, Clone)]
pub(crate) struct MediatorParams {
    pub initial_active: u32,
    pub cohort_size: u32,
    pub cohort_every_months: u32,
    pub training_days: f64,
    pub commitment_sessions: u32,
    pub attrition_during_commitment: f64,
    pub attrition_after_commitment: f64,
    pub max_cases_per_mediator: u32,
    pub comediation_share: f64,
    pub duration: DurationDistribution,
    pub max_wait_days: f64,
    pub rearrest_returns_case: bool,
    pub preparation_hours: f64,
    pub premeeting_share: f64,
    pub premeeting_hours: f64,
    pub session_hours_min: f64,
    pub session_hours_max: f64,
}

impl DurationDistribution {
    /// A duration in days from a uniform and its standard normal quantile.
    pub fn days(self, u: f64, z: impl FnOnce(f64) -> f64) -> f64 {
        match self {
            DurationDistribution::LogNormal { log_mean, log_sd } => {
                (log_mean + log_sd * z(u)).exp()
            }
            DurationDistribution::Exponential { mean } => -mean * u.ln(),
        }
    }
}

impl MediatorParams {
    /// A consented case as the queue sees it, read from the youth's draws;
    /// `rearrest_months` is the youth's first rearrest while waiting
    /// (`RecidivismParams::first_rearrest_waiting`), `hours_scale` its
    /// mediation mode's factor on the mediators' hours.
    pub fn queue_case(
        &self,
        youth: &Youth,
        draws: &YouthDraws,
        rearrest_months: Option<f64>,
        hours_scale: f64,
    ) -> QueueCase {
        let u = &draws.u;
        let premeetings = if u[slot::PREMEETING] < self.premeeting_share {
            2.0 * self.premeeting_hours
        } else {
            0.0
        };
        let session = self.session_hours_min
            + (self.session_hours_max - self.session_hours_min) * u[slot::SESSION_HOURS];
        QueueCase {
            arrival_day: youth.referral_day,
            referral_day: youth.referral_day,
            needs_two: u[slot::COMEDIATION] < self.comediation_share,
            duration_days: self.duration.days(u[slot::CASE_DURATION], normal_quantile),
            rearrest_day: rearrest_months
                .map(|months| youth.referral_day + months * DAYS_PER_MONTH),
            hours_per_mediator: (self.preparation_hours + premeetings + session) * hours_scale,
        }
    }

    /// Program months of caseload reported: the intake period, then long
    /// enough for the last referrals to wait and be mediated (at most 24
    /// months more).
    pub fn tail_months(&self) -> u32 {
        let mean_duration = match self.duration {
            DurationDistribution::LogNormal { log_mean, log_sd } => {
                (log_mean + log_sd * log_sd / 2.0).exp()
            }
            DurationDistribution::Exponential { mean } => mean,
        };
        let days = self.max_wait_days + 3.0 * mean_duration;
        ((days / DAYS_PER_MONTH).ceil() as u32).clamp(1, MAX_TAIL_MONTHS)
    }
}

pub use crate::model::time::MAX_TAIL_MONTHS;

/// Most mediators one replication may ever hold: the initial pool plus
/// every training cohort of the program months. Every mediator is visited
/// at every month's end (attrition), so the pool costs memory and time per
/// month; real programs have tens to hundreds of volunteers.
pub const MAX_MEDIATORS_PER_REPLICATION: u64 = 100_000;

/// Most mediators one replication can hold over `months` program months:
/// the initial pool and a cohort at the end of every `cohort_every_months`
/// (none leave the vector; departed ones are only marked).
pub(crate) fn max_mediators(params: &MediatorParams, months: u64) -> u64 {
    let cohorts = months / u64::from(params.cohort_every_months.max(1));
    u64::from(params.initial_active) + u64::from(params.cohort_size) * cohorts
}

/// A consented case as the queue sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueueCase {
    /// Program day the case reaches the queue (its referral, or the end of
    /// its intake by paid staff).
    pub arrival_day: f64,
    /// Program day of the referral (for the wait to the session).
    pub referral_day: f64,
    pub needs_two: bool,
    pub duration_days: f64,
    /// Program day the youth would be rearrested while waiting, if any.
    pub rearrest_day: Option<f64>,
    /// Hours each assigned mediator spends on the case.
    pub hours_per_mediator: f64,
}

/// What became of a queued case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum CaseFate {
    /// Mediators were assigned on `assigned_day`; the session was held on
    /// `session_day`.
    Mediated { assigned_day: f64, session_day: f64 },
    /// Returned to the agency on `day` (waited too long, or rearrested).
    Returned { day: f64 },
}

/// Values recorded month by month (each assigned case's wait in its
/// month of assignment), in one flat list: recorded in any order, then
/// grouped by month ([`ByMonth::finish`]), each month's values in the order
/// they were recorded.
///
/// Why flat: a vector per month grew three or four times in each of some
/// forty months of every replication, and those reallocations were most
/// of the queue's memory traffic (vors_la).
#[derive(Debug, Clone)]
pub(crate) struct ByMonth {
    /// (month, value) pairs, as recorded; emptied by `finish`.
    recorded: Vec<(u32, f64)>,
    /// The values grouped by month; month `m`'s are
    /// `values[starts[m]..starts[m + 1]]`.
    values: Vec<f64>,
    starts: Vec<u32>,
}

impl ByMonth {
    /// No value yet in any of `months` months.
    pub fn new(months: usize) -> ByMonth {
        ByMonth {
            recorded: Vec::new(),
            values: Vec::new(),
            starts: vec![0; months + 1],
        }
    }

    fn reserve(&mut self, values: usize) {
        self.recorded.reserve(values);
    }

    /// Records `value` in month `month` (index: program month - 1).
    pub fn push(&mut self, month: usize, value: f64) {
        debug_assert!(month + 1 < self.starts.len(), "month {month} out of range");
        self.recorded.push((month as u32, value));
    }

    /// Groups the values recorded by month (a stable counting sort: each
    /// month keeps the order of recording). Values recorded after this
    /// take another `finish`.
    pub fn finish(&mut self) {
        let months = self.starts.len() - 1;
        let mut counts = vec![0u32; months + 1];
        for &(m, _) in &self.recorded {
            counts[m as usize + 1] += 1;
        }
        // Values already grouped stay first in their months.
        for m in 0..months {
            counts[m + 1] += self.starts[m + 1] - self.starts[m];
        }
        let mut starts = counts;
        for m in 1..=months {
            starts[m] += starts[m - 1];
        }
        let mut values = vec![0.0; starts[months] as usize];
        let mut next = starts.clone();
        for m in 0..months {
            for &v in self.month(m) {
                values[next[m] as usize] = v;
                next[m] += 1;
            }
        }
        for &(m, v) in &self.recorded {
            values[next[m as usize] as usize] = v;
            next[m as usize] += 1;
        }
        // Its room goes too: the grouped values are kept with the tally.
        self.recorded = Vec::new();
        self.values = values;
        self.starts = starts;
    }

    /// The values of month `m` (index: program month - 1), as of the last
    /// [`ByMonth::finish`].
    pub fn month(&self, m: usize) -> &[f64] {
        debug_assert!(self.recorded.is_empty(), "read before finish");
        &self.values[self.starts[m] as usize..self.starts[m + 1] as usize]
    }
}

/// The program's month-by-month caseload (index: program month - 1).
#[derive(Debug, Clone)]
pub(crate) struct Caseload {
    pub sessions: Vec<u64>,
    pub backlog: Vec<u64>,
    /// Mediator-days active and in training (mean mediators = days / month length).
    pub active_days: Vec<f64>,
    pub training_days: Vec<f64>,
    pub hours: Vec<f64>,
    /// Mediator-sessions held (a co-mediated session counts for both
    /// volunteers), for the burden per active volunteer.
    pub mediator_sessions: Vec<u64>,
    /// Case-slot days in use and available (utilization = busy / available).
    pub busy_slot_days: Vec<f64>,
    pub available_slot_days: Vec<f64>,
    /// Queue waits of the cases assigned in each month.
    pub waits: ByMonth,
    pub returned: Vec<u64>,
    /// Volunteers who started training (or joined the initial pool) in each
    /// month, for the training costs.
    pub trained: Vec<u64>,
    /// Every queued case's days from referral to its session, or to its
    /// return to the agency (whatever the month; `size --target session`).
    pub session_waits: Vec<f64>,
    /// Days from referral to session of the sessions held in each month.
    pub session_waits_by_month: ByMonth,
    /// Paid staff's intake queue (empty without `[staff]`), and its
    /// coordinators.
    pub staff: StaffLoad,
    pub staff_coordinators: u32,
}

impl Caseload {
    /// The caseload of a queue of `cases` cases: room for every case's
    /// waits at once (grown case by case, they were reallocated a few
    /// times per replication).
    fn with_cases(months: usize, cases: usize) -> Caseload {
        let mut caseload = Caseload::new(months);
        caseload.waits.reserve(cases);
        caseload.session_waits_by_month.reserve(cases);
        caseload.session_waits.reserve(cases);
        caseload
    }

    pub fn new(months: usize) -> Caseload {
        Caseload {
            sessions: vec![0; months],
            backlog: vec![0; months],
            active_days: vec![0.0; months],
            training_days: vec![0.0; months],
            hours: vec![0.0; months],
            mediator_sessions: vec![0; months],
            busy_slot_days: vec![0.0; months],
            available_slot_days: vec![0.0; months],
            waits: ByMonth::new(months),
            returned: vec![0; months],
            trained: vec![0; months],
            session_waits: Vec::new(),
            session_waits_by_month: ByMonth::new(months),
            staff: StaffLoad::default(),
            staff_coordinators: 0,
        }
    }
}

#[derive(Debug, Clone)]
struct Mediator {
    active_from: f64,
    cases: u32,
    sessions: u32,
    /// Stops taking cases; departs when its last case ends.
    leaving: bool,
    departed: bool,
    /// Its activation was handled (at once for the initial pool).
    activated: bool,
}

impl Mediator {
    fn available(&self, day: f64, max_cases: u32) -> bool {
        !self.departed && !self.leaving && self.active_from <= day && self.cases < max_cases
    }

    /// Its entry in `Queue::loads`.
    fn load(&self) -> u32 {
        if self.activated && !self.departed && !self.leaving {
            self.cases
        } else {
            u32::MAX
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    Waiting,
    Assigned { day: f64, mediators: [u32; 2] },
    Done,
}

/// The queue of one replication, in motion.
struct Queue<'a> {
    params: &'a MediatorParams,
    cases: &'a [QueueCase],
    replication_key: u64,
    months: usize,
    mediators: Vec<Mediator>,
    /// Each mediator's cases if it was activated and has not left (nor is
    /// leaving), else `u32::MAX`: unless someone in training could have
    /// become active at this very instant, exactly the
    /// mediators `pick` may choose from, in a dense array it scans fast.
    /// Kept in step with every change of a mediator (`sync`).
    loads: Vec<u32>,
    events: EventHeap,
    waiting: VecDeque<u32>,
    waiting_count: u64,
    status: Vec<Status>,
    fates: Vec<Option<CaseFate>>,
    caseload: Caseload,
    /// Time of the last event, and what held since then: slots busy and
    /// available, mediators active and in training. Kept up to date by every
    /// change of a mediator or a case, so no event rescans the pool.
    clock: f64,
    busy_slots: f64,
    available_slots: f64,
    active_count: f64,
    training_count: f64,
}

/// The mediator of least load below `max` (ties: lowest id) other than
/// `except`, as `pick`'s scan finds it: an idle one ends the search.
fn least_loaded(loads: &[u32], except: u32, max: u32) -> Option<u32> {
    // An idle mediator is as little loaded as any can be: the first one is
    // the answer (a busy pool of one-case volunteers has no other).
    let idle = match loads.get(except as usize) {
        Some(_) => first_idle(&loads[..except as usize])
            .or_else(|| first_idle(&loads[except as usize + 1..]).map(|i| i + except as usize + 1)),
        None => first_idle(loads),
    };
    if let Some(id) = idle {
        return Some(id as u32);
    }
    if max <= 1 {
        return None;
    }
    let mut best: Option<(u32, u32)> = None;
    for (id, &load) in loads.iter().enumerate() {
        let id = id as u32;
        if load >= max || id == except {
            continue;
        }
        if best.is_none_or(|(least, _)| load < least) {
            best = Some((load, id));
            if load == 0 {
                break;
            }
        }
    }
    best.map(|(_, id)| id)
}

/// The index of the first zero in `loads`, eight entries at a time (the
/// test of a block of eight compiles to a few vector instructions).
fn first_idle(loads: &[u32]) -> Option<usize> {
    let mut blocks = loads.chunks_exact(8);
    let mut start = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |any, &load| any | (load == 0)) {
            return block.iter().position(|&load| load == 0).map(|i| start + i);
        }
        start += 8;
    }
    blocks
        .remainder()
        .iter()
        .position(|&load| load == 0)
        .map(|i| start + i)
}

/// The program month (0-based) a day falls in, if reported.
fn month_of(day: f64, months: usize) -> Option<usize> {
    // For a day not below zero, truncation is the floor (and saturates
    // for days past any month); `floor` itself is a library call on the
    // baseline x86-64 target, and this runs at every queue event.
    let m = day / DAYS_PER_MONTH;
    (m >= 0.0 && (m as usize) < months).then_some(m as usize)
}

impl Queue<'_> {
    fn push(&mut self, day: f64, kind: EventKind) {
        self.events.push(day, kind);
    }

    fn add_mediator(&mut self, active_from: f64) {
        if let Some(m) = month_of(self.clock, self.months) {
            self.caseload.trained[m] += 1;
        }
        let id = self.mediators.len() as u32;
        let activated = active_from <= self.clock;
        self.mediators.push(Mediator {
            active_from,
            cases: 0,
            sessions: 0,
            leaving: false,
            departed: false,
            activated,
        });
        self.loads.push(u32::MAX);
        self.sync(id);
        if !activated {
            self.training_count += 1.0;
            self.push(active_from, EventKind::Activation(id));
        } else {
            self.active_count += 1.0;
            self.available_slots += f64::from(self.params.max_cases_per_mediator);
        }
    }

    /// A trained mediator starts taking cases (unless it left in training).
    fn activate(&mut self, id: u32) {
        if self.mediators[id as usize].departed {
            return;
        }
        self.mediators[id as usize].activated = true;
        self.sync(id);
        self.training_count -= 1.0;
        self.active_count += 1.0;
        self.available_slots += f64::from(self.params.max_cases_per_mediator);
    }

    /// The counters recomputed from scratch (tests check the incremental
    /// ones against this after every event).
    #[cfg(test)]
    fn counts_from_scratch(&self) -> [f64; 4] {
        let max = self.params.max_cases_per_mediator;
        let (mut busy, mut available, mut active, mut training) = (0, 0, 0, 0);
        for m in self.mediators.iter().filter(|m| !m.departed) {
            if m.active_from > self.clock {
                training += 1;
                continue;
            }
            active += 1;
            busy += m.cases;
            available += if m.leaving { m.cases } else { max };
        }
        [busy, available, active, training].map(f64::from)
    }

    /// Integrates slot use from the last event to `day` (never across a
    /// month end: month ends are events).
    fn advance(&mut self, day: f64) {
        let span = day - self.clock;
        if span > 0.0
            && let Some(m) = month_of(self.clock, self.months)
        {
            let c = &mut self.caseload;
            c.busy_slot_days[m] += span * self.busy_slots;
            c.available_slot_days[m] += span * self.available_slots;
            c.active_days[m] += span * self.active_count;
            c.training_days[m] += span * self.training_count;
        }
        self.clock = day;
    }

    /// Brings mediator `id`'s entry in `loads` up to date.
    fn sync(&mut self, id: u32) {
        self.loads[id as usize] = self.mediators[id as usize].load();
    }

    /// The `need` least-loaded available mediators, if there are that many
    /// (ties: lowest id). The scan runs in id order and stops at the first
    /// idle mediator, since none can be less loaded.
    fn pick(&self, need: usize) -> Option<[u32; 2]> {
        // Nobody in training who could have become active at this very
        // instant: none at all, or every pending event (so every pending
        // activation, on the day its mediator becomes active) is later.
        if self.training_count == 0.0 || self.events.next_day().is_some_and(|day| day > self.clock)
        {
            // Fewer free slots than mediators needed among the active
            // mediators: the scan would find no one. (A busy pool answers
            // most assignments so; the scan was the queue's largest cost
            // at 600 referrals a month.)
            if self.available_slots - self.busy_slots < need as f64 - 0.5 {
                #[cfg(test)]
                assert_eq!(self.scan(need), None);
                return None;
            }
            let chosen = self.pick_by_load(need);
            #[cfg(test)]
            assert_eq!(chosen, self.scan(need), "the loads pick as the scan");
            return chosen;
        }
        self.scan(need)
    }

    /// `pick` by a scan of the mediators themselves (needed while anyone
    /// is in training: one may have become active at this very instant).
    fn scan(&self, need: usize) -> Option<[u32; 2]> {
        let max = self.params.max_cases_per_mediator;
        let mut chosen = [u32::MAX; 2];
        for k in 0..need {
            let mut best: Option<(u32, u32)> = None;
            for (i, m) in self.mediators.iter().enumerate() {
                let id = i as u32;
                if !m.available(self.clock, max) || chosen[..k].contains(&id) {
                    continue;
                }
                if best.is_none_or(|(cases, _)| m.cases < cases) {
                    best = Some((m.cases, id));
                    if m.cases == 0 {
                        break;
                    }
                }
            }
            chosen[k] = best?.1;
        }
        Some(chosen)
    }

    /// `pick` when nobody in training could have become active: every
    /// mediator that has not left and may be chosen was activated, so the
    /// available are those whose load is below the maximum, and the least
    /// loaded of lowest id is found in `loads`.
    fn pick_by_load(&self, need: usize) -> Option<[u32; 2]> {
        let max = self.params.max_cases_per_mediator;
        let first = least_loaded(&self.loads, u32::MAX, max)?;
        let second = if need == 2 {
            least_loaded(&self.loads, first, max)?
        } else {
            u32::MAX
        };
        Some([first, second])
    }

    /// Assigns waiting cases, head first, while mediators are free.
    fn assign(&mut self) {
        while let Some(&head) = self.waiting.front() {
            if self.status[head as usize] != Status::Waiting {
                self.waiting.pop_front();
                continue;
            }
            let case = self.cases[head as usize];
            let need = if case.needs_two { 2 } else { 1 };
            let Some(chosen) = self.pick(need) else {
                return;
            };
            self.waiting.pop_front();
            self.waiting_count -= 1;
            for &id in chosen.iter().filter(|&&id| id != u32::MAX) {
                self.mediators[id as usize].cases += 1;
                self.sync(id);
                self.busy_slots += 1.0;
            }
            self.status[head as usize] = Status::Assigned {
                day: self.clock,
                mediators: chosen,
            };
            if let Some(m) = month_of(self.clock, self.months) {
                self.caseload.waits.push(m, self.clock - case.arrival_day);
            }
            self.push(
                self.clock + case.duration_days,
                EventKind::SessionDone(head),
            );
        }
    }

    fn session_done(&mut self, case_index: u32) {
        let Status::Assigned { day, mediators } = self.status[case_index as usize] else {
            return;
        };
        let case = self.cases[case_index as usize];
        let mut assigned: u32 = 0;
        for &id in mediators.iter().filter(|&&id| id != u32::MAX) {
            let m = &mut self.mediators[id as usize];
            m.cases -= 1;
            m.sessions += 1;
            self.busy_slots -= 1.0;
            if m.leaving {
                // A leaving mediator offers only the cases it still holds.
                self.available_slots -= 1.0;
                if m.cases == 0 {
                    m.departed = true;
                    self.active_count -= 1.0;
                }
            }
            self.sync(id);
            assigned += 1;
        }
        if let Some(month) = month_of(self.clock, self.months) {
            self.caseload
                .session_waits_by_month
                .push(month, self.clock - case.referral_day);
            self.caseload.sessions[month] += 1;
            self.caseload.hours[month] += f64::from(assigned) * case.hours_per_mediator;
            self.caseload.mediator_sessions[month] += u64::from(assigned);
        }
        self.caseload
            .session_waits
            .push(self.clock - case.referral_day);
        self.status[case_index as usize] = Status::Done;
        self.fates[case_index as usize] = Some(CaseFate::Mediated {
            assigned_day: day,
            session_day: self.clock,
        });
    }

    fn deadline(&mut self, case_index: u32) {
        if self.status[case_index as usize] != Status::Waiting {
            return;
        }
        self.status[case_index as usize] = Status::Done;
        self.waiting_count -= 1;
        self.fates[case_index as usize] = Some(CaseFate::Returned { day: self.clock });
        let referral_day = self.cases[case_index as usize].referral_day;
        self.caseload.session_waits.push(self.clock - referral_day);
        if let Some(m) = month_of(self.clock, self.months) {
            self.caseload.returned[m] += 1;
        }
    }

    /// A case joins the queue; if it cannot be assigned at once, its
    /// waiting limit (or its youth's rearrest) is scheduled.
    fn arrival(&mut self, case_index: u32) {
        let case = self.cases[case_index as usize];
        // Rearrested during the staff's intake: back to the agency at once.
        if self.params.rearrest_returns_case
            && case.rearrest_day.is_some_and(|day| day < case.arrival_day)
        {
            self.status[case_index as usize] = Status::Done;
            self.fates[case_index as usize] = Some(CaseFate::Returned { day: self.clock });
            self.caseload
                .session_waits
                .push(self.clock - case.referral_day);
            if let Some(m) = month_of(self.clock, self.months) {
                self.caseload.returned[m] += 1;
            }
            return;
        }
        self.waiting.push_back(case_index);
        self.waiting_count += 1;
        self.assign();
        if self.status[case_index as usize] != Status::Waiting {
            return;
        }
        let waited = case.arrival_day + self.params.max_wait_days;
        let mut limit = waited;
        if self.params.rearrest_returns_case
            && let Some(day) = case.rearrest_day
        {
            limit = limit.min(day);
        }
        if limit.is_finite() {
            // Cases arrive in order, so their waiting limits come in order
            // (a rearrest's day does not).
            if limit == waited {
                self.events
                    .push_in_order(limit, EventKind::Deadline(case_index));
            } else {
                self.push(limit, EventKind::Deadline(case_index));
            }
        }
    }

    /// Records month `month` (1-based) at its end; then attrition and cohorts.
    fn month_end(&mut self, month: u32) {
        self.caseload.backlog[month as usize - 1] = self.waiting_count;
        // Attrition, with one keyed uniform per (mediator, month): the same
        // draws whatever the pool size, so `size` compares like with like.
        let max = f64::from(self.params.max_cases_per_mediator);
        for (id, m) in self.mediators.iter_mut().enumerate() {
            if m.departed || m.leaving {
                continue;
            }
            // (Sets the entry before any change: every change below makes
            // the mediator leave, whose entry is `u32::MAX`.)
            let rate = if m.sessions < self.params.commitment_sessions {
                self.params.attrition_during_commitment
            } else {
                self.params.attrition_after_commitment
            };
            let u = attrition_uniform(self.replication_key, id as u64, month);
            if u < rate {
                self.loads[id] = u32::MAX;
                m.leaving = true;
                m.departed = m.cases == 0;
                if m.active_from > self.clock {
                    self.training_count -= 1.0;
                } else {
                    self.available_slots -= max - f64::from(m.cases);
                    if m.departed {
                        self.active_count -= 1.0;
                    }
                }
            }
        }
        let p = self.params;
        if p.cohort_size > 0
            && p.cohort_every_months > 0
            && month.is_multiple_of(p.cohort_every_months)
        {
            for _ in 0..p.cohort_size {
                self.add_mediator(self.clock + p.training_days);
            }
        }
    }
}

/// Runs the queue of one replication: `cases` sorted by arrival; caseload
/// reported for `months` program months.
pub(crate) fn run_queue(
    params: &MediatorParams,
    cases: &[QueueCase],
    replication_key: u64,
    months: usize,
) -> (Vec<CaseFate>, Caseload) {
    // Room for every mediator the run can have, so the pool's vectors are
    // not regrown as cohorts join (bounded by the scenario's validation).
    let pool = max_mediators(params, months as u64) as usize;
    let mut queue = Queue {
        params,
        cases,
        replication_key,
        months,
        mediators: Vec::with_capacity(pool),
        loads: Vec::with_capacity(pool),
        events: EventHeap::with_capacity(cases.len() * 2 + months),
        waiting: VecDeque::new(),
        waiting_count: 0,
        status: vec![Status::Waiting; cases.len()],
        fates: vec![None; cases.len()],
        caseload: Caseload::with_cases(months, cases.len()),
        clock: 0.0,
        busy_slots: 0.0,
        available_slots: 0.0,
        active_count: 0.0,
        training_count: 0.0,
    };
    for _ in 0..params.initial_active {
        queue.add_mediator(0.0);
    }
    for month in 1..=months as u32 {
        queue.push(
            f64::from(month) * DAYS_PER_MONTH,
            EventKind::MonthEnd(month),
        );
    }
    // Arrivals come sorted: merge them with the heap of other events
    // (at equal times, the heap's events first).
    let mut next_arrival = 0usize;
    loop {
        let arrival_day = cases.get(next_arrival).map(|c| c.arrival_day);
        let heap_day = queue.events.next_day();
        match (arrival_day, heap_day) {
            (None, None) => break,
            (Some(a), h) if h.is_none_or(|h| a < h) => {
                queue.advance(a);
                queue.arrival(next_arrival as u32);
                next_arrival += 1;
            }
            _ => {
                let event = queue.events.pop().expect("peeked");
                queue.advance(event.day);
                match event.kind {
                    EventKind::MonthEnd(month) => queue.month_end(month),
                    EventKind::Activation(id) => queue.activate(id),
                    EventKind::SessionDone(case) => queue.session_done(case),
                    EventKind::Deadline(case) => queue.deadline(case),
                }
                queue.assign();
            }
        }
        // Checked once every event of this instant has been handled.
        #[cfg(test)]
        if queue
            .events
            .next_day()
            .is_none_or(|next| next > queue.clock)
            && cases
                .get(next_arrival)
                .is_none_or(|c| c.arrival_day > queue.clock)
        {
            assert_eq!(
                [
                    queue.busy_slots,
                    queue.available_slots,
                    queue.active_count,
                    queue.training_count
                ],
                queue.counts_from_scratch(),
                "incremental pool counters drifted at day {}",
                queue.clock
            );
            assert!(
                queue
                    .mediators
                    .iter()
                    .zip(&queue.loads)
                    .all(|(m, &load)| m.load() == load),
                "mediator loads drifted at day {}",
                queue.clock
            );
        }
    }
    let fates = queue
        .fates
        .into_iter()
        .map(|f| f.expect("every queued case is either mediated or returned"))
        .collect();
    let mut caseload = queue.caseload;
    caseload.waits.finish();
    caseload.session_waits_by_month.finish();
    (fates, caseload)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Grouped by month, each month in the order recorded (as a vector per
    /// month held them), values recorded after a `finish` after those before.
    #[test]
    fn by_month_groups_in_recorded_order() {
        let mut by_month = ByMonth::new(3);
        for (m, v) in [(2, 1.0), (0, 2.0), (2, 3.0), (0, 4.0), (2, 5.0)] {
            by_month.push(m, v);
        }
        assert!(by_month.month(0).is_empty(), "nothing before finish");
        by_month.finish();
        assert_eq!(by_month.month(0), [2.0, 4.0]);
        assert!(by_month.month(1).is_empty());
        assert_eq!(by_month.month(2), [1.0, 3.0, 5.0]);
        by_month.push(1, 6.0);
        by_month.push(0, 7.0);
        by_month.finish();
        assert_eq!(by_month.month(0), [2.0, 4.0, 7.0]);
        assert_eq!(by_month.month(1), [6.0]);
        assert_eq!(by_month.month(2), [1.0, 3.0, 5.0]);
    }

    fn params(initial: u32) -> MediatorParams {
        MediatorParams {
            initial_active: initial,
            cohort_size: 0,
            cohort_every_months: 0,
            training_days: 30.0,
            commitment_sessions: 12,
            attrition_during_commitment: 0.0,
            attrition_after_commitment: 0.0,
            max_cases_per_mediator: 1,
            comediation_share: 0.0,
            duration: DurationDistribution::Exponential { mean: 10.0 },
            max_wait_days: 20.0,
            rearrest_returns_case: true,
            preparation_hours: 2.0,
            premeeting_share: 0.8,
            premeeting_hours: 1.0,
            session_hours_min: 1.0,
            session_hours_max: 1.5,
        }
    }

    fn case(arrival_day: f64, duration_days: f64) -> QueueCase {
        QueueCase {
            arrival_day,
            referral_day: arrival_day,
            needs_two: false,
            duration_days,
            rearrest_day: None,
            hours_per_mediator: 3.0,
        }
    }

    #[test]
    fn fifo_with_one_mediator() {
        let cases = [
            case(1.0, 5.0),
            case(2.0, 5.0),
            case(3.0, 30.0),
            case(4.0, 1.0),
        ];
        let (fates, caseload) = run_queue(&params(1), &cases, 1, 3);
        assert_eq!(
            fates[0],
            CaseFate::Mediated {
                assigned_day: 1.0,
                session_day: 6.0
            }
        );
        assert_eq!(
            fates[1],
            CaseFate::Mediated {
                assigned_day: 6.0,
                session_day: 11.0
            }
        );
        assert_eq!(
            fates[2],
            CaseFate::Mediated {
                assigned_day: 11.0,
                session_day: 41.0
            }
        );
        // Waited past 20 days (from day 4 to day 24) while case 2 ran.
        assert_eq!(fates[3], CaseFate::Returned { day: 24.0 });
        assert_eq!(caseload.sessions, vec![2, 1, 0]);
        assert_eq!(caseload.returned, vec![1, 0, 0]);
        assert_eq!(caseload.waits.month(0), [0.0, 4.0, 8.0]);
        assert_eq!(caseload.hours[0], 6.0);
        // Referral to session (or to return), in the order they happened.
        assert_eq!(caseload.session_waits, vec![5.0, 9.0, 20.0, 38.0]);
        let utilization: Vec<f64> = (0..3)
            .map(|m| caseload.busy_slot_days[m] / caseload.available_slot_days[m])
            .collect();
        assert!(utilization.iter().all(|u| (0.0..=1.0).contains(u)));
    }

    #[test]
    fn a_case_needing_two_waits_for_two() {
        let mut p = params(2);
        p.max_wait_days = 1000.0;
        let mut two = case(2.0, 5.0);
        two.needs_two = true;
        let cases = [case(1.0, 10.0), two];
        let (fates, caseload) = run_queue(&p, &cases, 1, 1);
        assert_eq!(
            fates[1],
            CaseFate::Mediated {
                assigned_day: 11.0,
                session_day: 16.0
            }
        );
        assert_eq!(
            caseload.hours[0], 9.0,
            "two mediators' hours on the second case"
        );
        assert_eq!(caseload.sessions[0], 2);
        assert_eq!(caseload.mediator_sessions[0], 3, "the second counts twice");
    }

    #[test]
    fn rearrest_while_waiting_returns_the_case() {
        let mut waiting = case(2.0, 5.0);
        waiting.rearrest_day = Some(3.0);
        let cases = [case(1.0, 10.0), waiting];
        let (fates, _) = run_queue(&params(1), &cases, 1, 1);
        assert_eq!(fates[1], CaseFate::Returned { day: 3.0 });
    }

    #[test]
    fn no_mediators_returns_every_case() {
        let cases = [case(1.0, 10.0), case(2.0, 1.0)];
        let (fates, caseload) = run_queue(&params(0), &cases, 1, 2);
        assert!(fates.iter().all(|f| matches!(f, CaseFate::Returned { .. })));
        assert_eq!(caseload.available_slot_days, vec![0.0, 0.0]);
        assert_eq!(caseload.backlog, vec![0, 0]);
    }

    #[test]
    fn counters_stay_exact_with_attrition_cohorts_and_comediation() {
        let mut p = params(5);
        p.cohort_size = 4;
        p.cohort_every_months = 1;
        p.training_days = 40.0;
        p.attrition_during_commitment = 0.3;
        p.attrition_after_commitment = 0.5;
        p.max_cases_per_mediator = 3;
        p.commitment_sessions = 2;
        p.max_wait_days = 45.0;
        let cases: Vec<QueueCase> = (0..400)
            .map(|i| {
                let mut c = case(i as f64 * 0.45, 5.0 + (i % 7) as f64 * 3.0);
                c.needs_two = i % 3 == 0;
                c
            })
            .collect();
        // run_queue asserts the counters after every event under test.
        let (fates, caseload) = run_queue(&p, &cases, 7, 8);
        assert_eq!(fates.len(), 400);
        for m in 0..8 {
            assert!(caseload.busy_slot_days[m] <= caseload.available_slot_days[m] + 1e-9);
        }
    }

    #[test]
    fn least_loaded_is_the_lowest_id_of_least_load() {
        let max = 3;
        let loads: Vec<u32> = (0..40u32)
            .map(|i| [2, u32::MAX, 1, 3][(i % 4) as usize])
            .collect();
        assert_eq!(least_loaded(&loads, u32::MAX, max), Some(2));
        assert_eq!(least_loaded(&loads, 2, max), Some(6));
        let mut idle = loads.clone();
        idle[17] = 0;
        idle[33] = 0;
        assert_eq!(least_loaded(&idle, u32::MAX, max), Some(17));
        assert_eq!(least_loaded(&idle, 17, max), Some(33));
        assert_eq!(least_loaded(&idle, 33, 1), Some(17));
        assert_eq!(least_loaded(&loads, u32::MAX, 1), None);
        assert_eq!(least_loaded(&[0], 0, 1), None);
        assert_eq!(least_loaded(&[], u32::MAX, 1), None);
    }

    #[test]
    fn cohorts_train_then_join() {
        let mut p = params(0);
        p.cohort_size = 3;
        p.cohort_every_months = 1;
        p.training_days = 10.0;
        let (_, caseload) = run_queue(&p, &[], 1, 3);
        // The first cohort starts at the end of month 1 and trains 10 days
        // into month 2; the second starts at the end of month 2.
        let mean =
            |days: &Vec<f64>| -> Vec<f64> { days.iter().map(|d| d / DAYS_PER_MONTH).collect() };
        let (training, active) = (mean(&caseload.training_days), mean(&caseload.active_days));
        assert_eq!(training[0], 0.0);
        assert!((training[1] - 3.0 * 10.0 / DAYS_PER_MONTH).abs() < 1e-9);
        assert!((active[1] - 3.0 * (DAYS_PER_MONTH - 10.0) / DAYS_PER_MONTH).abs() < 1e-9);
        assert!((active[2] - (3.0 + 3.0 * (DAYS_PER_MONTH - 10.0) / DAYS_PER_MONTH)).abs() < 1e-9);
    }
}
