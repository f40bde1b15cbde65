//! One replication: every referred youth through every stage of DESIGN.md's
//! "life of one case", into a `Tally`.
//!
//! The youths of a replication are generated first (in arrival order), then
//! taken through consent, the wait, mediation or the return to the agency,
//! restitution and recidivism. They live only as long as the replication.

use crate::measure::metrics::{CaseRecord, Disposition, Tally};
use crate::model::consent::Consent;
use crate::model::draws::{self, YouthDraws, keyed, slot};
use crate::model::queue::{CaseFate, run_queue};
use crate::model::recidivism::{EventLog, Hazard, PotentialOutcomes, treated_index};
use crate::model::referral::{DAYS_PER_MONTH, Offense, Youth};
use crate::model::restitution::Restitution;
use crate::model::session::{Agreement, Mode};
use crate::model::staff::run_staff;
use crate::scenario::Scenario;

/// One youth's full record, for `agents.csv`.
#[derive(Debug, Clone)]
pub struct AgentRecord {
    pub youth: Youth,
    pub consent: Consent,
    pub disposition: Disposition,
    /// Days a consented case waited in the queue: until mediators were
    /// assigned, or until it was returned (`None` if never queued).
    pub wait_days: Option<f64>,
    pub disposition_day: f64,
    /// The mediation's mode and outcome (mediated youths only).
    pub mode: Option<Mode>,
    pub agreement: Option<Agreement>,
    pub restitution: Restitution,
    pub outcomes: PotentialOutcomes,
}

/// The referrals of one replication, in generation order.
struct Referrals {
    youths: Vec<Youth>,
    all_draws: Vec<YouthDraws>,
    intakes: Vec<Intake>,
    /// The order in which they arrive (the draws are large: the index is
    /// sorted, not the records).
    order: Vec<u32>,
}

/// What is settled about a youth at referral: randomization and consent,
/// the mode of mediation (as it happened or as it would have: the same
/// keyed draw in both potential worlds) and the terms of its rearrest
/// intensity (for the wait and the outcomes). Read as the youth's block
/// is drawn, while it is in the cache (in passes of their own over all
/// blocks, each block was fetched again).
#[derive(Debug, Clone, Copy)]
struct Intake {
    /// In the randomized control arm.
    control: bool,
    consent: Consent,
    mode: Mode,
    hazard: Hazard,
}

/// A youth's [`Intake`]. Randomized before consent, a youth in the control
/// arm is never offered mediation, so nobody is asked; a consent-first
/// trial (`after_consent`) randomizes only cases both parties agreed to.
fn intake(
    scenario: &Scenario,
    after_consent: bool,
    youth: &Youth,
    youth_draws: &YouthDraws,
) -> Intake {
    let arm = youth_draws.u[slot::ARM] < scenario.design.rct_control_share;
    let (control, consent) = if after_consent {
        let consent = scenario.consent.decide(youth, youth_draws);
        (consent.both() && arm, consent)
    } else if arm {
        (true, Consent::NOT_ASKED)
    } else {
        (false, scenario.consent.decide(youth, youth_draws))
    };
    Intake {
        control,
        consent,
        mode: scenario.mediation.mode(youth_draws),
        hazard: scenario.recidivism.hazard(youth, youth_draws),
    }
}

/// Generates the referrals of one replication.
fn referrals(scenario: &Scenario, after_consent: bool, replication_key: u64) -> Referrals {
    let mut arrivals = draws::arrivals_rng(replication_key);
    // Room for the expected referrals and five standard deviations more,
    // so the records are rarely moved by a reallocation.
    let expected: f64 = (0..scenario.intake_months())
        .map(|m| scenario.referral.rate(m))
        .sum();
    let capacity = (expected + 5.0 * expected.sqrt() + 16.0) as usize;
    let mut youths = Vec::with_capacity(capacity);
    let mut all_draws = Vec::with_capacity(capacity);
    let mut intakes = Vec::with_capacity(capacity);
    let mut order = Vec::with_capacity(capacity);
    // One month's (arrival day, case) keys, put in order without reading
    // the large records.
    let mut keys: Vec<(f64, u32)> = Vec::new();
    let mut sort = MonthSort::default();
    for month in 0..scenario.intake_months() {
        let count = scenario.referral.count(month, &mut arrivals);
        keys.clear();
        // The blocks are laid out blank and filled where they lie.
        let start = all_draws.len();
        let month_key = draws::youth_month_key(replication_key, month);
        all_draws.resize(start + count as usize, YouthDraws::BLANK);
        for (index, youth_draws) in (0..count).zip(&mut all_draws[start..]) {
            youth_draws.fill_month(month_key, index);
            let youth = scenario.referral.youth(month, index, youth_draws);
            intakes.push(intake(scenario, after_consent, &youth, youth_draws));
            keys.push((youth.referral_day, youths.len() as u32));
            youths.push(youth);
        }
        sort.append(&keys, f64::from(month) * DAYS_PER_MONTH, &mut order);
    }
    Referrals {
        youths,
        all_draws,
        intakes,
        order,
    }
}

/// Sorts one month's arrivals by (day, generation order), as a stable sort
/// by day would, in about linear time: arrival days are spread evenly over
/// the month, so a bucket per arrival holds about one. The bucket is a
/// nondecreasing function of the day (a subtraction and a product, each
/// rounded monotonically), so concatenated buckets are in day order but
/// within each; an insertion sort finishes those few.
#[derive(Default)]
struct MonthSort {
    /// Each arrival's bucket, then where each bucket starts.
    buckets: Vec<u32>,
    starts: Vec<u32>,
    sorted: Vec<(f64, u32)>,
}

impl MonthSort {
    /// Appends the cases of `keys` (days from `first_day` on, cases in
    /// generation order) to `order`.
    fn append(&mut self, keys: &[(f64, u32)], first_day: f64, order: &mut Vec<u32>) {
        let n = keys.len();
        if n == 0 {
            return;
        }
        let scale = n as f64 / DAYS_PER_MONTH;
        self.buckets.clear();
        self.buckets.extend(
            keys.iter()
                .map(|&(day, _)| (((day - first_day) * scale) as usize).min(n - 1) as u32),
        );
        self.starts.clear();
        self.starts.resize(n + 1, 0);
        for &b in &self.buckets {
            self.starts[b as usize + 1] += 1;
        }
        for b in 1..=n {
            self.starts[b] += self.starts[b - 1];
        }
        self.sorted.clear();
        self.sorted.resize(n, (0.0, 0));
        for (&key, &b) in keys.iter().zip(&self.buckets) {
            let start = &mut self.starts[b as usize];
            self.sorted[*start as usize] = key;
            *start += 1;
        }
        let before = |a: (f64, u32), b: (f64, u32)| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).is_lt();
        for i in 1..n {
            let key = self.sorted[i];
            let mut j = i;
            while j > 0 && before(key, self.sorted[j - 1]) {
                self.sorted[j] = self.sorted[j - 1];
                j -= 1;
            }
            self.sorted[j] = key;
        }
        order.extend(self.sorted.iter().map(|&(_, case)| case));
    }
}

/// Simulates one replication; with `agents`, records every youth.
pub(crate) fn simulate(
    scenario: &Scenario,
    replication_key: u64,
    mut agents: Option<&mut Vec<AgentRecord>>,
) -> Box<Tally> {
    let months = scenario.program_months();
    let costs = scenario
        .costs
        .draw(replication_key, scenario.intake_months() as usize);
    let shape = scenario.shape();
    // Boxed: the tally's arrays are tens of kilobytes, and a replication's
    // tally is handed on by value (moved into `keep`, into the summary):
    // on the heap each move is a pointer, not a copy.
    let mut tally = Box::new(Tally::new(months, shape, costs));
    let Referrals {
        youths,
        mut all_draws,
        intakes,
        order,
    } = referrals(scenario, shape.after_consent, replication_key);

    // The queue of cases both parties agreed to, in arrival order.
    let mut queue_cases = Vec::with_capacity(youths.len());
    let mut intake_days = Vec::new();
    for &i in &order {
        let (youth, youth_draws) = (&youths[i as usize], &all_draws[i as usize]);
        let Intake {
            control, consent, ..
        } = &intakes[i as usize];
        tally.add_referral(youth.month as usize, consent);
        if consent.both() && !control {
            let mode = intakes[i as usize].mode;
            let rearrest = scenario
                .recidivism
                .first_rearrest_waiting(&intakes[i as usize].hazard, youth_draws);
            queue_cases.push(scenario.mediators.queue_case(
                youth,
                youth_draws,
                rearrest,
                scenario.mediation.params(mode).hours_scale,
            ));
            if let Some(staff) = &scenario.staff {
                intake_days.push(staff.intake_days(mode, youth_draws.keyed(keyed::INTAKE)));
            }
        }
    }
    let (fates, caseload) = match &scenario.staff {
        None => run_queue(&scenario.mediators, &queue_cases, replication_key, months),
        Some(staff) => {
            // Paid staff's intake first; cases reach the volunteers as
            // their intake ends, so the queue takes them in that order.
            let arrivals: Vec<(f64, f64)> = queue_cases
                .iter()
                .zip(&intake_days)
                .map(|(c, &days)| (c.arrival_day, days))
                .collect();
            let (done, load) = run_staff(staff, &arrivals, months);
            for (case, day) in queue_cases.iter_mut().zip(done) {
                case.arrival_day = day;
            }
            let mut by_arrival: Vec<usize> = (0..queue_cases.len()).collect();
            by_arrival.sort_by(|&a, &b| {
                queue_cases[a]
                    .arrival_day
                    .total_cmp(&queue_cases[b].arrival_day)
                    .then(a.cmp(&b))
            });
            let sorted: Vec<_> = by_arrival.iter().map(|&i| queue_cases[i]).collect();
            let (sorted_fates, mut caseload) =
                run_queue(&scenario.mediators, &sorted, replication_key, months);
            let mut fates = vec![None; sorted_fates.len()];
            for (&i, fate) in by_arrival.iter().zip(sorted_fates) {
                fates[i] = Some(fate);
            }
            caseload.staff = load;
            caseload.staff_coordinators = staff.coordinators;
            let fates = fates.into_iter().map(|f| f.expect("every case has a fate"));
            (fates.collect(), caseload)
        }
    };
    tally.caseload = caseload;
    tally.waits.reserve(queue_cases.len());
    // Without a comparison pool every referred youth is in the study: room
    // for them at once (grown youth by youth, the study was moved eight
    // times a replication at vors_la's 480 youths).
    tally.study.reserve(youths.len());
    let mut fates = fates.into_iter();
    // Every rearrest of the youth at hand, when the scenario counts them.
    let mut log = EventLog::default();

    for &i in &order {
        let (youth, youth_draws) = (&youths[i as usize], &mut all_draws[i as usize]);
        let Intake {
            control,
            consent,
            mode,
            hazard,
        } = intakes[i as usize];
        let referral_day = youth.referral_day;
        // Cases not mediated leave the program on this day and go to court.
        let court = |day: f64| scenario.court.disposition_day(day, youth_draws);
        let (disposition, disposition_day, wait_days) = if control {
            (Disposition::Control, court(referral_day), None)
        } else if consent.offender_declined() {
            (Disposition::OffenderDeclined, court(referral_day), None)
        } else if !consent.both() {
            (Disposition::VictimDeclined, court(referral_day), None)
        } else {
            match fates.next().expect("one fate per queued case") {
                CaseFate::Mediated {
                    assigned_day,
                    session_day,
                } => (
                    Disposition::Mediated,
                    session_day,
                    Some(assigned_day - referral_day),
                ),
                CaseFate::Returned { day } => (
                    Disposition::ReturnedWait,
                    court(day),
                    Some(day - referral_day),
                ),
            }
        };

        let (agreement, restitution) = if disposition == Disposition::Mediated {
            let agreement = scenario.mediation.mediate(mode, youth_draws);
            let restitution = scenario.restitution.mediated.complete(
                agreement.obligations,
                youth.risk,
                youth_draws,
            );
            (Some(agreement), restitution)
        } else {
            let order = scenario.restitution.court_order.order(youth_draws);
            let restitution =
                scenario
                    .restitution
                    .court_completion
                    .complete(order, youth.risk, youth_draws);
            (None, restitution)
        };

        // The treated potential world's effect modifiers. For a youth who was
        // not mediated, whether the session would have ended in agreement and
        // restitution would have been completed are read from the same draws
        // as if the session had happened.
        let agreed = match agreement {
            Some(agreement) => agreement.reached,
            None => scenario.mediation.agrees(mode, youth_draws),
        };
        let completed = if !scenario.recidivism.restitution_modifies_effect {
            false
        } else if agreement.is_some() {
            restitution.all_completed()
        } else {
            let potential = scenario.mediation.mediate(mode, youth_draws);
            scenario
                .restitution
                .mediated
                .complete(potential.obligations, youth.risk, youth_draws)
                .all_completed()
        };
        let modifier = treated_index(youth.offense == Offense::Violent, completed, agreed, mode);
        let outcomes = scenario.recidivism.potential_outcomes_of(
            youth,
            &hazard,
            modifier,
            youth_draws,
            &mut log,
        );

        tally.add(&CaseRecord {
            youth,
            disposition,
            restitution: &restitution,
            outcomes: &outcomes,
            wait_days,
            disposition_day,
            session: agreement.map(|a| (mode, a.reached)),
            business_victim: consent.business_victim,
            in_trial: !shape.after_consent || consent.both(),
            events: &log,
        });
        if let Some(records) = agents.as_deref_mut() {
            records.push(AgentRecord {
                youth: *youth,
                consent,
                disposition,
                wait_days,
                disposition_day,
                mode: agreement.map(|_| mode),
                agreement,
                restitution,
                outcomes,
            });
        }
    }
    if shape.pool {
        add_pool(scenario, replication_key, &mut tally);
    }
    tally
}

/// The comparison pool: youths of the same population, never referred,
/// processed by the court (court as usual), with their latent risk shifted
/// by `design.comparison_pool_risk_shift`. Their own streams, so a pool
/// changes no referred youth.
fn add_pool(scenario: &Scenario, replication_key: u64, tally: &mut Tally) {
    let mut arrivals = draws::pool_rng(replication_key);
    let mut log = EventLog::default();
    for month in 0..scenario.intake_months() {
        for index in 0..scenario.design.pool_count(&mut arrivals) {
            let mut youth_draws = YouthDraws::pool(replication_key, month, index);
            let mut youth = scenario.referral.youth(month, index, &youth_draws);
            youth.risk += scenario.design.pool_risk_shift;
            let business_victim = scenario.consent.business_victim(&youth, &youth_draws);
            let hazard = scenario.recidivism.hazard(&youth, &youth_draws);
            let outcomes = scenario.recidivism.potential_outcomes_of(
                &youth,
                &hazard,
                treated_index(false, false, true, Mode::FaceToFace),
                &mut youth_draws,
                &mut log,
            );
            tally.add_pool(&youth, business_victim, &outcomes, &log);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The month's bucket sort gives the order of a stable sort by day,
    /// ties (equal days, even days outside the month) included.
    #[test]
    fn month_sort_is_a_stable_sort_by_day() {
        let mut rng = draws::arrivals_rng(17);
        let first_day = 3.0 * DAYS_PER_MONTH;
        for n in [0, 1, 2, 7, 100, 1000] {
            let keys: Vec<(f64, u32)> = (0..n)
                .map(|i| {
                    let u = draws::open01(&mut rng);
                    // Coarse days, so that many tie.
                    let day = if i % 5 == 0 {
                        first_day + (u * 8.0).floor()
                    } else {
                        (3.0 + u) * DAYS_PER_MONTH
                    };
                    (day, i as u32 + 40)
                })
                .chain([
                    (first_day - 1.0, 9999),
                    (first_day + 2.0 * DAYS_PER_MONTH, 9998),
                ])
                .collect();
            let mut expected = keys.clone();
            expected.sort_by(|a, b| a.0.total_cmp(&b.0));
            let expected: Vec<u32> = expected.iter().map(|k| k.1).collect();
            let mut order = vec![5];
            MonthSort::default().append(&keys, first_day, &mut order);
            assert_eq!(order[0], 5);
            assert_eq!(order[1..], expected[..], "n = {n}");
        }
    }
}
