//! One replication: every referred youth through every stage of DESIGN.md's
//! "life of one case", into a `Tally`.
//!
//! The youths of a replication are generated first (in arrival order), then
//! taken through consent, the wait, mediation or the return to the agency,
//! restitution and recidivism. They live only as long as the replication.

use crate::measure::metrics::{Disposition, Tally};
use crate::model::consent::Consent;
use crate::model::draws::{self, YouthDraws, slot};
use crate::model::queue::{CaseFate, run_queue};
use crate::model::recidivism::{PotentialOutcomes, treated_index};
use crate::model::referral::{Offense, Youth};
use crate::model::restitution::Restitution;
use crate::model::session::{Agreement, Mode};
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

/// Generates the referrals of one replication, in generation order, and
/// the order in which they arrive (records are large: the index is sorted,
/// not the records).
fn referrals(scenario: &Scenario, replication_key: u64) -> (Vec<(Youth, YouthDraws)>, Vec<u32>) {
    let mut arrivals = draws::arrivals_rng(replication_key);
    // Room for the expected referrals and five standard deviations more,
    // so the records are rarely moved by a reallocation.
    let expected: f64 = (0..scenario.intake_months())
        .map(|m| scenario.referral.rate(m))
        .sum();
    let capacity = (expected + 5.0 * expected.sqrt() + 16.0) as usize;
    let mut cases = Vec::with_capacity(capacity);
    let mut order = Vec::with_capacity(capacity);
    for month in 0..scenario.intake_months() {
        let count = scenario.referral.count(month, &mut arrivals);
        let start = cases.len();
        for index in 0..count {
            let youth_draws = YouthDraws::new(replication_key, month, index);
            let youth = scenario.referral.youth(month, index, &youth_draws);
            cases.push((youth, youth_draws));
        }
        let month_order = start as u32..cases.len() as u32;
        let first = order.len();
        order.extend(month_order);
        order[first..].sort_by(|&a, &b| {
            let day = |i: u32| cases[i as usize].0.referral_day;
            day(a).total_cmp(&day(b)).then(a.cmp(&b))
        });
    }
    (cases, order)
}

/// Simulates one replication; with `agents`, records every youth.
pub(crate) fn simulate(
    scenario: &Scenario,
    replication_key: u64,
    mut agents: Option<&mut Vec<AgentRecord>>,
) -> Tally {
    let months = scenario.program_months();
    let costs = scenario
        .costs
        .draw(replication_key, scenario.intake_months() as usize);
    let mut tally = Tally::new(months, scenario.randomized(), costs);
    let (mut cases, order) = referrals(scenario, replication_key);

    // Randomization (a youth in the control arm is never offered mediation,
    // so nobody is asked), consent, then the queue of cases both parties
    // agreed to, in arrival order.
    let control: Vec<bool> = cases
        .iter()
        .map(|(_, youth_draws)| youth_draws.u[slot::ARM] < scenario.rct_control_share)
        .collect();
    let consents: Vec<Consent> = cases
        .iter()
        .zip(&control)
        .map(|((youth, youth_draws), &control)| {
            if control {
                Consent::NOT_ASKED
            } else {
                scenario.consent.decide(youth, youth_draws)
            }
        })
        .collect();
    let mut queue_cases = Vec::with_capacity(cases.len());
    for &i in &order {
        let ((youth, youth_draws), consent) = (&cases[i as usize], &consents[i as usize]);
        tally.add_referral(youth.month as usize, consent);
        if consent.both() {
            let mode = scenario.mediation.mode(youth_draws);
            queue_cases.push(scenario.mediators.queue_case(
                youth,
                youth_draws,
                &scenario.recidivism,
                scenario.mediation.params(mode).hours_scale,
            ));
        }
    }
    let (fates, caseload) = run_queue(&scenario.mediators, &queue_cases, replication_key, months);
    tally.caseload = caseload;
    tally.waits.reserve(queue_cases.len());
    let mut fates = fates.into_iter();

    for &i in &order {
        let (youth, youth_draws) = &mut cases[i as usize];
        let consent = consents[i as usize];
        let referral_day = youth.referral_day;
        // Cases not mediated leave the program on this day and go to court.
        let court = |day: f64| scenario.court.disposition_day(day, youth_draws);
        let (disposition, disposition_day, wait_days) = if control[i as usize] {
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

        // The mode of mediation, as it happened or as it would have: the
        // same keyed draw in both potential worlds.
        let mode = scenario.mediation.mode(youth_draws);
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
        let outcomes = scenario
            .recidivism
            .potential_outcomes(youth, modifier, youth_draws);

        let session = agreement.map(|a| (mode, a.reached));
        tally.add(
            youth,
            disposition,
            &restitution,
            &outcomes,
            wait_days,
            disposition_day,
            session,
        );
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
    tally
}
