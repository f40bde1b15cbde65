//! What one replication reports: a tally of counts in fixed arrays indexed
//! by group and month, turned into the named metrics of DESIGN.md's
//! contract (`metric`, `group`, `month`).
//!
//! The metric catalog and a replication's values come from one traversal,
//! `emit`, so the keys and values can never fall out of step. A value
//! that is undefined in a replication (a ratio over an empty group) is NaN
//! here and is left out of that replication's rows downstream.

use crate::measure::estimators::{self, Counts, DesignInputs, DesignTally, Estimate, Estimator};
use crate::measure::names::{group, metric};
use crate::measure::propensity::{self, StudyYouth};
use crate::measure::stats::{kaplan_meier, quantile_sorted};
use crate::model::consent::Consent;
use crate::model::costs::{CostTally, Costs};
use crate::model::design::Shape;
use crate::model::queue::Caseload;
use crate::model::recidivism::{EventLog, PotentialOutcomes};
use crate::model::referral::{DAYS_PER_MONTH, Youth};
use crate::model::restitution::Restitution;
use crate::model::session::Mode;
use crate::model::time::{MAX_EFFECTS, MAX_FOLLOW_UP_MONTHS, averted_months};

pub use crate::model::time::effect_months;

/// A youth's own group: where its case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Mediated,
    VictimDeclined,
    OffenderDeclined,
    ReturnedWait,
    /// Randomized to the control arm: never offered mediation.
    Control,
}

impl Disposition {
    pub fn group(self) -> Group {
        match self {
            Disposition::Mediated => Group::Mediated,
            Disposition::VictimDeclined => Group::VictimDeclined,
            Disposition::OffenderDeclined => Group::OffenderDeclined,
            Disposition::ReturnedWait => Group::ReturnedWait,
            Disposition::Control => Group::RctControl,
        }
    }
}

/// The reported groups (DESIGN.md), in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Referred,
    Mediated,
    VictimDeclined,
    OffenderDeclined,
    ReturnedWait,
    NotMediated,
    /// The mediated youths' counterfactual (their `T0`).
    MediatedUntreated,
    /// The randomized control arm (only when the scenario randomizes).
    RctControl,
    /// The court-processed comparison pool, never referred (only when the
    /// scenario has one).
    ComparisonPool,
}

/// Number of groups.
const GROUPS: usize = 9;

/// Length of the intervals of the piecewise hazard ratio, months.
pub const HAZARD_INTERVAL_MONTHS: usize = crate::model::time::EFFECT_STEP_MONTHS;
/// The most intervals a horizon can have.
const INTERVALS: usize = MAX_EFFECTS;

/// Follow-up months of the longest horizon: the histograms' length.
const MONTHS: usize = MAX_FOLLOW_UP_MONTHS;

impl Group {
    pub const ALL: [Group; GROUPS] = [
        Group::Referred,
        Group::Mediated,
        Group::VictimDeclined,
        Group::OffenderDeclined,
        Group::ReturnedWait,
        Group::NotMediated,
        Group::MediatedUntreated,
        Group::RctControl,
        Group::ComparisonPool,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Referred => group::REFERRED,
            Group::Mediated => group::MEDIATED,
            Group::VictimDeclined => group::VICTIM_DECLINED,
            Group::OffenderDeclined => group::OFFENDER_DECLINED,
            Group::ReturnedWait => group::RETURNED_WAIT,
            Group::NotMediated => group::NOT_MEDIATED,
            Group::MediatedUntreated => group::MEDIATED_UNTREATED,
            Group::RctControl => group::RCT_CONTROL,
            Group::ComparisonPool => group::COMPARISON_POOL,
        }
    }
}

/// Restitution sums for one group.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RestitutionTally {
    pub youths: u64,
    pub monetary: u64,
    pub monetary_completed: u64,
    pub dollars_set: f64,
    pub dollars_paid: f64,
    pub service: u64,
    pub service_completed: u64,
    pub hours_set: f64,
    pub hours_done: f64,
}

impl RestitutionTally {
    fn add(&mut self, r: &Restitution) {
        self.youths += 1;
        if r.obligations.amount > 0.0 {
            self.monetary += 1;
            self.monetary_completed += u64::from(r.payment_completed);
            self.dollars_set += r.obligations.amount;
            self.dollars_paid += r.paid;
        }
        if r.obligations.hours > 0.0 {
            self.service += 1;
            self.service_completed += u64::from(r.service_completed);
            self.hours_set += r.obligations.hours;
            self.hours_done += r.hours_done;
        }
    }
}

/// Counts by group and follow-up month, on the heap: five of them are most
/// of a tally's bytes, and a tally built on the stack was copied whole
/// into its box (callgrind: 11M of 566M instructions copying, at 200
/// replications of vors_la); boxed one by one, they are zeroed where they
/// lie.
pub(crate) type ByGroupMonth = Box<[[u64; MONTHS]; GROUPS]>;

/// Counts of one replication. Event histograms count first events by the
/// follow-up month they fall in (month m holds times in (m-1, m]).
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    /// The design's arms and groups (the control arm, the comparison pool
    /// and their estimators are reported only when the scenario has them).
    pub shape: Shape,
    pub youths: [u64; GROUPS],
    pub rearrest: ByGroupMonth,
    pub reconviction: ByGroupMonth,
    /// Months at risk of a first rearrest, by group and 6-month interval.
    pub person_months: [[f64; INTERVALS]; GROUPS],
    /// What the study designs need.
    pub design: DesignTally,
    /// What a study observes of the mediated and of the comparison (the
    /// pool, or without one everyone not mediated), for the matched and
    /// weighted designs.
    pub study: Vec<StudyYouth>,
    /// Every youth's first rearrest under `T0` and `T1` (for the ATE).
    pub everyone: [[u64; MONTHS]; 2],
    /// Restitution of the mediated and of the victim-declined comparison.
    pub restitution: [RestitutionTally; 2],
    /// Youths with any obligation, and youths who completed every one, by
    /// group.
    pub obligated: [u64; GROUPS],
    pub completed_in_full: [u64; GROUPS],
    /// Days from referral to disposition, summed by group.
    pub days_to_disposition: [f64; GROUPS],
    /// Every rearrest by group and follow-up month, in the youth's realized
    /// world (the untreated one for `mediated_untreated`), when counted.
    pub events: ByGroupMonth,
    /// With a study end: first rearrests a study observes (before the youth
    /// is censored), youths censored without one, by group and follow-up
    /// month, and youths disposed after the study ended (never followed).
    pub observed: ByGroupMonth,
    pub censored: ByGroupMonth,
    pub unfollowed: [u64; GROUPS],
    /// Offenses in the pre-period and in as many months after disposition,
    /// summed by group.
    pub offenses_before: [u64; GROUPS],
    pub offenses_after: [u64; GROUPS],
    /// Mediated youths by mode ([`Mode::ALL`] order), and those whose
    /// session ended in an agreement.
    pub modes: [u64; 3],
    pub agreements: u64,
    /// Referrals and consents by program month of referral.
    pub referrals: Vec<u64>,
    pub offender_consents: Vec<u64>,
    pub victim_consents: Vec<u64>,
    /// The queue's month-by-month caseload.
    pub caseload: Caseload,
    /// Every queued case's wait (until assignment or return), in days.
    pub waits: Vec<f64>,
    /// This replication's costs (drawn once) and the money sums.
    pub costs: Costs,
    pub money: CostTally,
    /// Outcomes by race, sex, age and offense (`equity.rs`).
    pub equity: super::equity::EquityTally,
}

impl Tally {
    /// An empty tally reporting `months` program months of caseload.
    pub fn new(months: usize, shape: Shape, costs: Costs) -> Tally {
        Tally {
            shape,
            youths: [0; GROUPS],
            rearrest: Box::new([[0; MONTHS]; GROUPS]),
            reconviction: Box::new([[0; MONTHS]; GROUPS]),
            person_months: [[0.0; INTERVALS]; GROUPS],
            design: DesignTally::default(),
            study: Vec::new(),
            everyone: [[0; MONTHS]; 2],
            restitution: [RestitutionTally::default(); 2],
            obligated: [0; GROUPS],
            completed_in_full: [0; GROUPS],
            days_to_disposition: [0.0; GROUPS],
            modes: [0; 3],
            agreements: 0,
            events: Box::new([[0; MONTHS]; GROUPS]),
            observed: Box::new([[0; MONTHS]; GROUPS]),
            censored: Box::new([[0; MONTHS]; GROUPS]),
            unfollowed: [0; GROUPS],
            offenses_before: [0; GROUPS],
            offenses_after: [0; GROUPS],
            referrals: vec![0; months],
            offender_consents: vec![0; months],
            victim_consents: vec![0; months],
            caseload: Caseload::new(months),
            waits: Vec::new(),
            costs,
            money: CostTally::default(),
            equity: Default::default(),
        }
    }

    /// Program months reported.
    pub fn months(&self) -> usize {
        self.referrals.len()
    }

    /// Counts a referral and its consents in its program month.
    pub fn add_referral(&mut self, month: usize, consent: &Consent) {
        if month < self.months() {
            self.referrals[month] += 1;
            self.offender_consents[month] += u64::from(consent.offender_agreed());
            self.victim_consents[month] += u64::from(consent.victim_agreed());
        }
    }
}

#[inline]
fn month_index(t: f64) -> usize {
    // `t.ceil() as usize` without the call to libm's `ceil` (the default
    // x86-64 target has no rounding instruction): the conversion truncates
    // (and sends NaN and negatives to 0, huge values to the maximum), and a
    // fraction left over rounds up. A test holds the two equal.
    let whole = t as usize;
    let ceil = whole.saturating_add(usize::from((whole as f64) < t));
    ceil.clamp(1, MONTHS) - 1
}

impl Tally {
    /// Counts one youth's case in group `g`: its restitution and its days
    /// from referral to disposition.
    fn count_case(&mut self, g: Group, restitution: &Restitution, days_to_disposition: f64) {
        let g = g as usize;
        let obligated = restitution.obligations.amount > 0.0 || restitution.obligations.hours > 0.0;
        self.obligated[g] += u64::from(obligated);
        self.completed_in_full[g] += u64::from(restitution.all_completed());
        self.days_to_disposition[g] += days_to_disposition;
    }

    /// Counts one youth in group `g` with first events `rearrest` and
    /// `reconviction` (months since disposition).
    fn count(&mut self, g: Group, rearrest: Option<f64>, reconviction: Option<f64>) {
        let at_risk = self.months_at_risk(rearrest);
        self.count_at_risk(g, rearrest, reconviction, &at_risk);
    }

    /// A youth's months at risk of a first rearrest in each hazard interval
    /// of follow-up: computed once per youth and added to each of its
    /// groups by [`Tally::count_at_risk`].
    fn months_at_risk(&self, rearrest: Option<f64>) -> [f64; INTERVALS] {
        let at_risk = rearrest.unwrap_or(self.shape.horizon as f64);
        let intervals = self.shape.horizon / HAZARD_INTERVAL_MONTHS;
        let mut months = [0.0; INTERVALS];
        for (k, months) in months[..intervals].iter_mut().enumerate() {
            let start = (k * HAZARD_INTERVAL_MONTHS) as f64;
            *months = (at_risk - start).clamp(0.0, HAZARD_INTERVAL_MONTHS as f64);
        }
        months
    }

    /// [`Tally::count`] with the months at risk already computed.
    fn count_at_risk(
        &mut self,
        g: Group,
        rearrest: Option<f64>,
        reconviction: Option<f64>,
        at_risk: &[f64; INTERVALS],
    ) {
        let g = g as usize;
        self.youths[g] += 1;
        if let Some(t) = rearrest {
            self.rearrest[g][month_index(t)] += 1;
        }
        if let Some(t) = reconviction {
            self.reconviction[g][month_index(t)] += 1;
        }
        let intervals = self.shape.horizon / HAZARD_INTERVAL_MONTHS;
        for (months, add) in self.person_months[g][..intervals].iter_mut().zip(at_risk) {
            *months += add;
        }
    }

    /// Adds one youth's money: agency cases with and without the program,
    /// rearrests averted (untreated against realized), restitution paid.
    fn add_money(
        &mut self,
        youth: &Youth,
        disposition: Disposition,
        restitution: &Restitution,
        outcomes: &PotentialOutcomes,
        disposition_day: f64,
    ) {
        let (costs, money) = (&self.costs, &mut self.money);
        let at_referral = costs.discount_day(youth.referral_day);
        money.agency_cases_without += at_referral;
        money.paid += restitution.paid;
        if disposition != Disposition::Mediated {
            // A declined case returns on its referral day: one discount.
            money.agency_cases_with += if disposition_day == youth.referral_day {
                at_referral
            } else {
                costs.discount_day(disposition_day)
            };
            // Realized and untreated worlds are the same youth's: nothing
            // averted (the sums below would add exactly zero).
            return;
        }
        let (untreated, realized) = (outcomes.rearrest[0], outcomes.rearrest[1]);
        // Months 12 and the horizon (the second unused when they are one),
        // as `averted_months` lists them: no allocation per youth.
        for (averted, month) in money
            .averted
            .iter_mut()
            .zip([12.0, self.shape.horizon as f64])
        {
            let by = |t: Option<f64>| i64::from(t.is_some_and(|t| t <= month));
            *averted += by(untreated) - by(realized);
        }
        let start = disposition_day / DAYS_PER_MONTH;
        let discounted = |t: Option<f64>| t.map_or(0.0, |t| costs.discount(start + t));
        money.averted_discounted += discounted(untreated) - discounted(realized);
    }

    /// Adds one referred youth.
    pub fn add(&mut self, case: &CaseRecord) {
        self.equity.add(case, self.shape.horizon);
        let CaseRecord {
            youth,
            disposition,
            restitution,
            outcomes,
            wait_days,
            disposition_day,
            session,
            business_victim,
            in_trial,
            events,
        } = *case;
        if let Some(w) = wait_days {
            self.waits.push(w);
        }
        if let Some((mode, agreed)) = session {
            self.modes[mode as usize] += 1;
            self.agreements += u64::from(agreed);
        }
        let days = disposition_day - youth.referral_day;
        self.count_case(Group::Referred, restitution, days);
        self.count_case(disposition.group(), restitution, days);
        if disposition != Disposition::Mediated {
            self.count_case(Group::NotMediated, restitution, days);
        }
        self.add_money(youth, disposition, restitution, outcomes, disposition_day);
        let mediated = disposition == Disposition::Mediated;
        let world = usize::from(mediated);
        let (rearrest, reconviction) = (outcomes.rearrest[world], outcomes.reconviction[world]);
        if self.shape.recurrent {
            self.count_events(Group::Referred, outcomes, events, world);
            self.count_events(disposition.group(), outcomes, events, world);
            if mediated {
                self.count_events(Group::MediatedUntreated, outcomes, events, 0);
            } else {
                self.count_events(Group::NotMediated, outcomes, events, world);
            }
        }
        if self.shape.study_end > 0 {
            // Months a study could follow this youth before it ended.
            let followed = self.shape.study_end as f64 - disposition_day / DAYS_PER_MONTH;
            self.count_observed(Group::Referred, rearrest, followed);
            self.count_observed(disposition.group(), rearrest, followed);
            if !mediated {
                self.count_observed(Group::NotMediated, rearrest, followed);
            }
        }
        let at_risk = self.months_at_risk(rearrest);
        self.count_at_risk(Group::Referred, rearrest, reconviction, &at_risk);
        self.count_at_risk(disposition.group(), rearrest, reconviction, &at_risk);
        if mediated {
            self.count(
                Group::MediatedUntreated,
                outcomes.rearrest[0],
                outcomes.reconviction[0],
            );
            self.restitution[0].add(restitution);
        } else {
            self.count_at_risk(Group::NotMediated, rearrest, reconviction, &at_risk);
            if disposition == Disposition::VictimDeclined {
                self.restitution[1].add(restitution);
            }
        }
        for (w, counts) in self.everyone.iter_mut().enumerate() {
            if let Some(t) = outcomes.rearrest[w] {
                counts[month_index(t)] += 1;
            }
        }
        // The adjusted designs compare the mediated with the pool when there
        // is one, else with everyone not mediated.
        if mediated || !self.shape.pool {
            self.study
                .push(StudyYouth::new(youth, business_victim, mediated, rearrest));
        }

        let design = &mut self.design;
        match disposition {
            Disposition::Mediated => design.strata[estimators::stratum(youth)][0].add(rearrest),
            Disposition::VictimDeclined => {
                design.strata[estimators::stratum(youth)][1].add(rearrest)
            }
            _ => {}
        }
        if self.shape.randomized && in_trial {
            if disposition == Disposition::Control {
                design.control.add(rearrest);
            } else {
                design.offered.add(rearrest);
                design.offered_untreated.add(outcomes.rearrest[0]);
                if mediated {
                    design.participants.add(rearrest);
                } else {
                    design.nonparticipants.add(rearrest);
                }
            }
        }
    }

    /// Counts what a study ending at `shape.study_end` observes of a youth it
    /// can follow `followed` months: the first rearrest if it came by then,
    /// else a censoring (none when followed to the horizon).
    fn count_observed(&mut self, g: Group, rearrest: Option<f64>, followed: f64) {
        let g = g as usize;
        if followed <= 0.0 {
            self.unfollowed[g] += 1;
            return;
        }
        match rearrest {
            Some(t) if t <= followed => self.observed[g][month_index(t)] += 1,
            _ if followed < self.shape.horizon as f64 => {
                self.censored[g][month_index(followed)] += 1
            }
            _ => {}
        }
    }

    /// Counts a youth's rearrests of `world` in group `g`: by month, and
    /// in the pre-period and the window after disposition.
    fn count_events(
        &mut self,
        g: Group,
        outcomes: &PotentialOutcomes,
        log: &EventLog,
        world: usize,
    ) {
        let g = g as usize;
        for &t in &log.times[world] {
            self.events[g][month_index(t)] += 1;
        }
        self.offenses_before[g] += u64::from(outcomes.offenses_before);
        self.offenses_after[g] += u64::from(outcomes.offenses_after[world]);
    }

    /// Adds one youth of the comparison pool: never referred, processed by
    /// the court (its untreated world).
    pub fn add_pool(
        &mut self,
        youth: &Youth,
        business_victim: bool,
        outcomes: &PotentialOutcomes,
        log: &EventLog,
    ) {
        if self.shape.recurrent {
            self.count_events(Group::ComparisonPool, outcomes, log, 0);
        }
        let (rearrest, reconviction) = (outcomes.rearrest[0], outcomes.reconviction[0]);
        self.count(Group::ComparisonPool, rearrest, reconviction);
        self.study
            .push(StudyYouth::new(youth, business_victim, false, rearrest));
    }

    /// The groups this tally reports, in output order.
    pub fn groups(&self) -> Vec<Group> {
        Group::ALL
            .into_iter()
            .filter(|g| match g {
                Group::RctControl => self.shape.randomized,
                Group::ComparisonPool => self.shape.pool,
                _ => true,
            })
            .collect()
    }
}

/// One referred youth's case, as the tally counts it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CaseRecord<'a> {
    pub youth: &'a Youth,
    pub disposition: Disposition,
    pub restitution: &'a Restitution,
    pub outcomes: &'a PotentialOutcomes,
    /// Days a consented case waited (until assignment or return).
    pub wait_days: Option<f64>,
    pub disposition_day: f64,
    /// A mediated youth's mode and whether the session ended in agreement.
    pub session: Option<(Mode, bool)>,
    pub business_victim: bool,
    /// Whether the youth is in the randomized trial (everyone, unless the
    /// trial randomizes only consented cases).
    pub in_trial: bool,
    /// The youth's rearrests in each world, when the scenario counts them.
    pub events: &'a EventLog,
}

/// One row key of `summary.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricKey {
    pub metric: &'static str,
    pub group: &'static str,
    /// Follow-up month (outcomes, effects) or program month (caseload).
    pub month: Option<u32>,
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        f64::NAN
    }
}

/// Cumulative incidence by month from a histogram of first events (to the
/// longest horizon; a tally's histograms are empty past its own).
fn cumulative_incidence(histogram: &[u64; MONTHS], youths: u64) -> [f64; MONTHS] {
    let mut running = 0;
    std::array::from_fn(|m| {
        running += histogram[m];
        ratio(running as f64, youths as f64)
    })
}

/// Walks every metric of a replication in contract order, calling `out`
/// with its key and value.
pub(crate) fn emit(tally: &Tally, out: &mut impl FnMut(MetricKey, f64)) {
    let key = |metric, group: Group, month| MetricKey {
        metric,
        group: group.name(),
        month,
    };
    let referred = tally.youths[Group::Referred as usize] as f64;
    out(key(metric::REFERRALS, Group::Referred, None), referred);
    let groups = &tally.groups()[..];
    for &group in groups {
        if group != Group::MediatedUntreated && group != Group::ComparisonPool {
            let share = ratio(tally.youths[group as usize] as f64, referred);
            out(key(metric::SHARE, group, None), share);
        }
    }

    let horizon = tally.shape.horizon;
    let mut incidence = [[[0.0; MONTHS]; GROUPS]; 2];
    let outcomes = [
        (metric::REARREST, &tally.rearrest),
        (metric::RECONVICTION, &tally.reconviction),
    ];
    for (metric_index, (metric, histograms)) in outcomes.into_iter().enumerate() {
        for &group in groups {
            let g = group as usize;
            incidence[metric_index][g] = cumulative_incidence(&histograms[g], tally.youths[g]);
            for (m, v) in incidence[metric_index][g][..horizon].iter().enumerate() {
                out(key(metric, group, Some(m as u32 + 1)), *v);
            }
        }
    }
    // Adjudication: the share of youths rearrested by the horizon who were
    // convicted by it.
    for &group in groups {
        let g = group as usize;
        let rearrested: u64 = tally.rearrest[g][..horizon].iter().sum();
        let convicted: u64 = tally.reconviction[g][..horizon].iter().sum();
        out(
            key(metric::CONVICTION_GIVEN_REARREST, group, None),
            ratio(convicted as f64, rearrested as f64),
        );
    }
    emit_counts(tally, groups, out);

    for (i, group) in [Group::Mediated, Group::VictimDeclined]
        .into_iter()
        .enumerate()
    {
        let r = &tally.restitution[i];
        let rows = [
            (
                metric::MONETARY_AGREED,
                ratio(r.monetary as f64, r.youths as f64),
            ),
            (
                metric::MONETARY_COMPLETED,
                ratio(r.monetary_completed as f64, r.monetary as f64),
            ),
            (
                metric::DOLLARS_PAID_SHARE,
                ratio(r.dollars_paid, r.dollars_set),
            ),
            (
                metric::SERVICE_AGREED,
                ratio(r.service as f64, r.youths as f64),
            ),
            (
                metric::SERVICE_COMPLETED,
                ratio(r.service_completed as f64, r.service as f64),
            ),
            (
                metric::SERVICE_HOURS_SHARE,
                ratio(r.hours_done, r.hours_set),
            ),
        ];
        for (metric, v) in rows {
            out(key(metric, group, None), v);
        }
    }

    emit_program_variants(tally, groups, out);
    emit_effects(tally, &incidence[0], out);
    emit_survival(tally, groups, out);
    emit_caseload(tally, out);
    emit_policy(tally, out);
    super::benefits::emit(tally, out);
    super::equity::emit(tally, out);
}

/// With a study end: the share rearrested by each month among everyone, as
/// a study that ignores censoring would report it (`rearrest_observed`),
/// and the life-table (actuarial Kaplan-Meier) survival that handles the
/// censoring (`km_observed`): youths censored in a month count as at risk
/// for half of it.
fn emit_censored(tally: &Tally, groups: &[Group], out: &mut impl FnMut(MetricKey, f64)) {
    let horizon = tally.shape.horizon;
    for &group in groups {
        let g = group as usize;
        let youths = tally.youths[g] as f64;
        let mut running = 0;
        for m in 0..horizon {
            running += tally.observed[g][m];
            let key = MetricKey {
                metric: metric::REARREST_OBSERVED,
                group: group.name(),
                month: Some(m as u32 + 1),
            };
            out(key, ratio(running as f64, youths));
        }
    }
    for &group in groups {
        let g = group as usize;
        let mut at_start = (tally.youths[g] - tally.unfollowed[g]) as f64;
        let mut survival = 1.0;
        for m in 0..horizon {
            let (events, censored) = (tally.observed[g][m] as f64, tally.censored[g][m] as f64);
            let at_risk = at_start - censored / 2.0;
            if at_risk > 0.0 {
                survival *= 1.0 - events / at_risk;
            } else if at_start <= 0.0 {
                survival = f64::NAN;
            }
            at_start -= events + censored;
            let key = MetricKey {
                metric: metric::KM_OBSERVED,
                group: group.name(),
                month: Some(m as u32 + 1),
            };
            out(key, survival);
        }
    }
}

/// Reoffense counts, when the scenario counts every rearrest: the mean
/// number of rearrests per youth by follow-up month; with a pre-period, the
/// offenses per youth before referral and in as many months after
/// disposition, and their percent change.
fn emit_counts(tally: &Tally, groups: &[Group], out: &mut impl FnMut(MetricKey, f64)) {
    if !tally.shape.recurrent {
        return;
    }
    for &group in groups {
        let g = group as usize;
        let youths = tally.youths[g] as f64;
        let mut running = 0;
        for (m, count) in tally.events[g][..tally.shape.horizon].iter().enumerate() {
            running += count;
            let key = MetricKey {
                metric: metric::REARRESTS_PER_YOUTH,
                group: group.name(),
                month: Some(m as u32 + 1),
            };
            out(key, ratio(running as f64, youths));
        }
    }
    if tally.shape.pre_period == 0 {
        return;
    }
    for &group in groups {
        let g = group as usize;
        let youths = tally.youths[g] as f64;
        let (before, after) = (
            tally.offenses_before[g] as f64,
            tally.offenses_after[g] as f64,
        );
        let key = |metric| MetricKey {
            metric,
            group: group.name(),
            month: None,
        };
        out(key(metric::OFFENSES_BEFORE), ratio(before, youths));
        out(key(metric::OFFENSES_AFTER), ratio(after, youths));
        out(
            key(metric::OFFENSE_CHANGE),
            100.0 * (ratio(after, before) - 1.0),
        );
    }
}

/// What programs other than VORS report: the modes of mediation, the
/// agreement rate, completion in full by group, and days to disposition.
fn emit_program_variants(tally: &Tally, groups: &[Group], out: &mut impl FnMut(MetricKey, f64)) {
    let referred = tally.youths[Group::Referred as usize] as f64;
    for mode in Mode::ALL {
        let name = match mode {
            Mode::FaceToFace => group::FACE_TO_FACE,
            Mode::Indirect => group::INDIRECT,
            Mode::Conference => group::CONFERENCE,
        };
        let key = MetricKey {
            metric: metric::MEDIATION_MODE,
            group: name,
            month: None,
        };
        out(key, ratio(tally.modes[mode as usize] as f64, referred));
    }
    let mediated = tally.youths[Group::Mediated as usize] as f64;
    out(
        MetricKey {
            metric: metric::AGREEMENT_RATE,
            group: group::MEDIATED,
            month: None,
        },
        ratio(tally.agreements as f64, mediated),
    );
    let realized = || {
        groups
            .iter()
            .filter(|&&g| g != Group::MediatedUntreated && g != Group::ComparisonPool)
    };
    for &g in realized().filter(|&&g| g != Group::Referred) {
        let key = MetricKey {
            metric: metric::COMPLETED_IN_FULL,
            group: g.name(),
            month: None,
        };
        let g = g as usize;
        out(
            key,
            ratio(tally.completed_in_full[g] as f64, tally.obligated[g] as f64),
        );
    }
    for &g in realized() {
        let key = MetricKey {
            metric: metric::DAYS_TO_DISPOSITION,
            group: g.name(),
            month: None,
        };
        let g = g as usize;
        out(
            key,
            ratio(tally.days_to_disposition[g], tally.youths[g] as f64),
        );
    }
}

/// Costs and benefits of the replication, group `program` (see
/// [`crate::model::costs`]). Rearrests averted and the cost per rearrest averted
/// are given at follow-up months 12 and 30; the rest has no month.
fn emit_policy(tally: &Tally, out: &mut impl FnMut(MetricKey, f64)) {
    let c = &tally.costs;
    let m = &tally.money;
    let caseload = &tally.caseload;
    let referrals = tally.youths[Group::Referred as usize] as f64;
    let program = c.program_cost(&caseload.trained, &caseload.sessions, tally.months());
    let benefits = c.benefits(m);
    let key = |metric, month| MetricKey {
        metric,
        group: group::PROGRAM,
        month,
    };
    out(
        key(metric::COST_PER_REFERRAL, None),
        ratio(program, referrals),
    );
    out(
        key(metric::RESTITUTION_PAID_PER_REFERRAL, None),
        ratio(m.paid, referrals),
    );
    let months = averted_months(tally.shape.horizon);
    for (averted, &month) in m.averted.iter().zip(&months) {
        out(
            key(metric::REARRESTS_AVERTED_PER_100, Some(month)),
            ratio(100.0 * *averted as f64, referrals),
        );
    }
    for (averted, &month) in m.averted.iter().zip(&months) {
        let per = if *averted > 0 {
            program / *averted as f64
        } else {
            f64::NAN
        };
        out(key(metric::COST_PER_REARREST_AVERTED, Some(month)), per);
    }
    out(
        key(metric::NET_BENEFIT_PER_REFERRAL, None),
        ratio(benefits - program, referrals),
    );
    out(
        key(metric::BENEFIT_COST_RATIO, None),
        ratio(benefits, program),
    );
    let exceed = if referrals > 0.0 {
        f64::from(u8::from(benefits > program))
    } else {
        f64::NAN
    };
    out(key(metric::P_BENEFITS_EXCEED_COSTS, None), exceed);
}

/// Effect ratios at the effect months: the true effects, then each design's
/// estimate, then the designs' 95% bounds.
fn emit_effects(
    tally: &Tally,
    rearrest: &[[f64; MONTHS]; GROUPS],
    out: &mut impl FnMut(MetricKey, f64),
) {
    let months: Vec<usize> = effect_months(tally.shape.horizon).collect();
    let effects = months.len();
    let everyone_untreated = cumulative_incidence(&tally.everyone[0], tally.youths[0]);
    let everyone_treated = cumulative_incidence(&tally.everyone[1], tally.youths[0]);
    let d = &tally.design;
    let counts = |g: Group, k: usize| {
        let g = g as usize;
        let events: u64 = tally.rearrest[g][..months[k]].iter().sum();
        (events, tally.youths[g])
    };
    let incidence = |c: &Counts, k: usize| ratio(c.events[k] as f64, c.youths as f64);
    let at = |curve: &[f64; MONTHS], k: usize| curve[months[k] - 1];
    let by_month = |f: &dyn Fn(usize) -> f64| (0..effects).map(f).collect::<Vec<f64>>();

    let (mediated, untreated) = (
        &rearrest[Group::Mediated as usize],
        &rearrest[Group::MediatedUntreated as usize],
    );
    let mut truths: Vec<(&'static str, Vec<f64>)> = vec![
        (
            group::TRUE_ATT,
            by_month(&|k| ratio(at(mediated, k), at(untreated, k))),
        ),
        (
            group::TRUE_ATE,
            by_month(&|k| ratio(at(&everyone_treated, k), at(&everyone_untreated, k))),
        ),
    ];
    if tally.shape.randomized {
        truths.push((
            group::TRUE_ITT,
            by_month(&|k| ratio(incidence(&d.offered, k), incidence(&d.offered_untreated, k))),
        ));
    }
    let adjusted = propensity::adjusted(&tally.study, effects);
    let estimate = |estimator: Estimator, k: usize| {
        estimator.estimate(&DesignInputs {
            mediated: counts(Group::Mediated, k),
            not_mediated: counts(Group::NotMediated, k),
            victim_declined: counts(Group::VictimDeclined, k),
            design: d,
            adjusted: &adjusted,
            k,
        })
    };
    // Difference-in-differences reads counts in a window, not the curves:
    // its rows come last, at the window's month.
    let estimates: Vec<(&'static str, Vec<Estimate>)> = Estimator::in_output(tally.shape)
        .filter(|&e| e != Estimator::Did)
        .map(|e| (e.name(), (0..effects).map(|k| estimate(e, k)).collect()))
        .collect();

    let mut row = |metric: &'static str, group: &'static str, k: usize, value: f64| {
        let month = Some(months[k] as u32);
        out(
            MetricKey {
                metric,
                group,
                month,
            },
            value,
        )
    };
    for (name, values) in &truths {
        for (k, v) in values.iter().enumerate() {
            row(metric::EFFECT_RATIO, name, k, *v);
        }
    }
    for (metric, field) in [
        (metric::EFFECT_RATIO, 0),
        (metric::EFFECT_RATIO_LOWER, 1),
        (metric::EFFECT_RATIO_UPPER, 2),
    ] {
        for (name, values) in &estimates {
            for (k, e) in values.iter().enumerate() {
                row(metric, name, k, [e.ratio, e.lower, e.upper][field]);
            }
        }
    }
    if tally.shape.pre_period > 0 {
        let month = Some(tally.shape.pre_period as u32);
        let key = |metric, group| MetricKey {
            metric,
            group,
            month,
        };
        let before = |g: Group| tally.offenses_before[g as usize];
        let after = |g: Group| tally.offenses_after[g as usize];
        out(
            key(metric::EFFECT_RATIO, group::TRUE_RATE_ATT),
            ratio(
                after(Group::Mediated) as f64,
                after(Group::MediatedUntreated) as f64,
            ),
        );
        let e = estimators::did(
            (after(Group::Mediated), before(Group::Mediated)),
            (after(Group::NotMediated), before(Group::NotMediated)),
        );
        for (metric, value) in [
            (metric::EFFECT_RATIO, e.ratio),
            (metric::EFFECT_RATIO_LOWER, e.lower),
            (metric::EFFECT_RATIO_UPPER, e.upper),
        ] {
            out(key(metric, group::DID), value);
        }
    }
}

/// Kaplan-Meier survival from a first rearrest, with Greenwood log-scale
/// 95% bounds, for every realized group by follow-up month; then the
/// piecewise hazard ratio of each comparison by 6-month interval.
fn emit_survival(tally: &Tally, groups: &[Group], out: &mut impl FnMut(MetricKey, f64)) {
    let realized: Vec<Group> = groups
        .iter()
        .copied()
        .filter(|&g| g != Group::MediatedUntreated)
        .collect();
    let curves: Vec<_> = realized
        .iter()
        .map(|&g| {
            let events = &tally.rearrest[g as usize][..tally.shape.horizon];
            kaplan_meier(events, tally.youths[g as usize])
        })
        .collect();
    for (metric, field) in [
        (metric::KM_SURVIVAL, 0),
        (metric::KM_LOWER, 1),
        (metric::KM_UPPER, 2),
    ] {
        for (&g, curve) in realized.iter().zip(&curves) {
            for (m, point) in curve.iter().enumerate() {
                let month = Some(m as u32 + 1);
                let value = [point.survival, point.lower, point.upper][field];
                out(
                    MetricKey {
                        metric,
                        group: g.name(),
                        month,
                    },
                    value,
                );
            }
        }
    }
    if tally.shape.study_end > 0 {
        // The pool has no study end of its own (it was never referred).
        let referred: Vec<Group> = realized
            .iter()
            .copied()
            .filter(|&g| g != Group::ComparisonPool)
            .collect();
        emit_censored(tally, &referred, out);
    }
    let hazard = |g: Group, k: usize| {
        let g = g as usize;
        let start = k * HAZARD_INTERVAL_MONTHS;
        let events: u64 = tally.rearrest[g][start..start + HAZARD_INTERVAL_MONTHS]
            .iter()
            .sum();
        ratio(events as f64, tally.person_months[g][k])
    };
    for (name, treated, comparison) in [
        (group::TRUE_ATT, Group::Mediated, Group::MediatedUntreated),
        (group::NAIVE, Group::Mediated, Group::NotMediated),
        (group::VORS_DESIGN, Group::Mediated, Group::VictimDeclined),
    ] {
        for k in 0..tally.shape.horizon / HAZARD_INTERVAL_MONTHS {
            let month = Some(((k + 1) * HAZARD_INTERVAL_MONTHS) as u32);
            let value = ratio(hazard(treated, k), hazard(comparison, k));
            out(
                MetricKey {
                    metric: metric::HAZARD_RATIO,
                    group: name,
                    month,
                },
                value,
            );
        }
    }
}

/// The monthly caseload, group `program`, month = program month.
fn emit_caseload(tally: &Tally, out: &mut impl FnMut(MetricKey, f64)) {
    let c = &tally.caseload;
    let mut series = |metric: &'static str, value: &dyn Fn(usize) -> f64| {
        for m in 0..tally.months() {
            let key = MetricKey {
                metric,
                group: group::PROGRAM,
                month: Some(m as u32 + 1),
            };
            out(key, value(m));
        }
    };
    series(metric::REFERRALS, &|m| tally.referrals[m] as f64);
    series(metric::OFFENDER_CONSENTS, &|m| {
        tally.offender_consents[m] as f64
    });
    series(metric::VICTIM_CONSENTS, &|m| {
        tally.victim_consents[m] as f64
    });
    series(metric::SESSIONS, &|m| c.sessions[m] as f64);
    series(metric::BACKLOG, &|m| c.backlog[m] as f64);
    series(metric::ACTIVE_MEDIATORS, &|m| {
        c.active_days[m] / DAYS_PER_MONTH
    });
    series(metric::TRAINING_MEDIATORS, &|m| {
        c.training_days[m] / DAYS_PER_MONTH
    });
    series(metric::MEDIATOR_HOURS, &|m| c.hours[m]);
    series(metric::UTILIZATION, &|m| {
        ratio(c.busy_slot_days[m], c.available_slot_days[m])
    });
    series(metric::WAIT_DAYS_MEAN, &|m| {
        let waits = c.waits.month(m);
        ratio(waits.iter().sum(), waits.len() as f64)
    });
    // One buffer for every month's sort (a copy per month was an
    // allocation per month of every replication).
    let sorted = std::cell::RefCell::new(Vec::new());
    series(metric::WAIT_DAYS_P90, &|m| {
        let waits = c.waits.month(m);
        if waits.is_empty() {
            return f64::NAN;
        }
        let mut sorted = sorted.borrow_mut();
        sorted.clear();
        sorted.extend_from_slice(waits);
        sorted.sort_by(f64::total_cmp);
        quantile_sorted(&sorted, 0.9)
    });
    series(metric::RETURNED_WAIT, &|m| c.returned[m] as f64);
    // The burden per volunteer (seed 003: a commitment of one mediation a
    // month), over the month's mean active mediators.
    series(metric::SESSIONS_PER_ACTIVE_VOLUNTEER, &|m| {
        ratio(
            c.mediator_sessions[m] as f64,
            c.active_days[m] / DAYS_PER_MONTH,
        )
    });
    series(metric::HOURS_PER_ACTIVE_VOLUNTEER, &|m| {
        ratio(c.hours[m], c.active_days[m] / DAYS_PER_MONTH)
    });
    // Paid staff's queue, only with [staff] (unlimited staff reports
    // nothing, so its outputs are those of a program without the stage).
    if tally.shape.staff {
        series(metric::STAFF_UTILIZATION, &|m| {
            ratio(
                c.staff.busy_days.get(m).copied().unwrap_or(0.0),
                c.staff_coordinators as f64 * DAYS_PER_MONTH,
            )
        });
        series(metric::INTAKE_WAIT_DAYS, &|m| {
            let waits = c.staff.waits.get(m).map_or(&[][..], Vec::as_slice);
            ratio(waits.iter().sum(), waits.len() as f64)
        });
    }
}

/// The metric catalog for `months` program months, with or without the
/// randomized design: every key a replication reports, in order.
pub fn catalog(months: usize, shape: Shape) -> Vec<MetricKey> {
    let mut keys = Vec::new();
    emit(&Tally::new(months, shape, Costs::default()), &mut |k, _| {
        keys.push(k)
    });
    keys
}

/// A replication's values, aligned with [`catalog`].
pub(crate) fn values(tally: &Tally) -> Vec<f64> {
    // Room for every shipped scenario's values (about 1,500 with the equity
    // and disposition rows), so the vector is not regrown a dozen times per
    // replication; callers that keep it shrink it to size.
    let mut values = Vec::with_capacity(4096);
    emit(tally, &mut |_, v| values.push(v));
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOMIZED: Shape = Shape {
        randomized: true,
        after_consent: false,
        pool: false,
        horizon: 30,
        recurrent: false,
        pre_period: 0,
        study_end: 0,
        staff: false,
    };

    #[test]
    fn catalog_and_values_align() {
        let keys = catalog(3, Shape::default());
        assert_eq!(
            keys.len(),
            values(&Tally::new(3, Shape::default(), Costs::default())).len()
        );
        let program = keys.iter().filter(|k| k.group == group::PROGRAM).count();
        assert_eq!(
            program,
            14 * 3 + 9,
            "caseload by month, then the policy rows"
        );
        assert_eq!(keys[0].metric, metric::REFERRALS);
        let effects = keys
            .iter()
            .filter(|k| k.metric == metric::EFFECT_RATIO)
            .count();
        assert_eq!(effects, 7 * 5, "2 truths, 5 designs, 5 effect months");
        let randomized = catalog(3, RANDOMIZED);
        let effects = randomized
            .iter()
            .filter(|k| k.metric == metric::EFFECT_RATIO)
            .count();
        assert_eq!(effects, 10 * 5, "3 truths, 7 designs, 5 effect months");
        assert!(randomized.iter().any(|k| k.group == group::RCT_CONTROL));
        assert!(!keys.iter().any(|k| k.group == group::RCT_CONTROL));
    }

    #[test]
    fn undefined_ratios_are_nan() {
        let v = values(&Tally::new(2, Shape::default(), Costs::default()));
        assert_eq!(v[0], 0.0);
        assert!(v[1].is_nan(), "share of nobody is undefined");
    }

    #[test]
    fn month_index_is_the_ceiling_clamped() {
        let reference = |t: f64| (t.ceil() as usize).clamp(1, MONTHS) - 1;
        let special = [
            0.0,
            -0.0,
            -0.5,
            -3.0,
            1e-300,
            0.999_999_999_999_999_9,
            1.0,
            1.000_000_000_000_000_2,
            29.5,
            119.0,
            119.5,
            120.0,
            121.0,
            1e18,
            1e19,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        let mut state = 7u64;
        let spread = (0..100_000).map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 130.0
        });
        for t in special.into_iter().chain(spread) {
            assert_eq!(month_index(t), reference(t), "t={t}");
        }
    }

    #[test]
    fn month_index_puts_times_in_their_month() {
        assert_eq!(month_index(0.01), 0);
        assert_eq!(month_index(1.0), 0);
        assert_eq!(month_index(1.01), 1);
        assert_eq!(month_index(30.0), 29);
    }
}
