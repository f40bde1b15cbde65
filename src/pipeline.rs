//! One replication: every referred youth through every stage of DESIGN.md's
//! "life of one case", into a [`Tally`].
//!
//! The youths of a replication are generated first (in arrival order), then
//! taken through consent, the wait, mediation or the return to the agency,
//! restitution and recidivism. They live only as long as the replication.

use crate::consent::Consent;
use crate::draws::{self, YouthDraws};
use crate::mediation::Agreement;
use crate::metrics::{Disposition, Tally};
use crate::recidivism::PotentialOutcomes;
use crate::referral::{Offense, Youth};
use crate::restitution::Restitution;
use crate::scenario::Scenario;

/// One youth's full record, for `agents.csv`.
#[derive(Debug, Clone)]
pub struct AgentRecord {
    pub youth: Youth,
    pub consent: Consent,
    pub disposition: Disposition,
    /// Days from referral to disposition (the session, or the return).
    pub wait_days: f64,
    pub disposition_day: f64,
    /// The session's outcome (mediated youths only).
    pub agreement: Option<Agreement>,
    pub restitution: Restitution,
    pub outcomes: PotentialOutcomes,
}

/// Generates the referrals of one replication, in arrival order.
fn referrals(scenario: &Scenario, replication_key: u64) -> Vec<(Youth, YouthDraws)> {
    let mut arrivals = draws::arrivals_rng(replication_key);
    let mut cases = Vec::new();
    for month in 0..scenario.intake_months() {
        let count = scenario.referral.count(month, &mut arrivals);
        let start = cases.len();
        for index in 0..count {
            let youth_draws = YouthDraws::new(replication_key, month, index);
            let youth = scenario.referral.youth(month, index, &youth_draws);
            cases.push((youth, youth_draws));
        }
        cases[start..].sort_by(|a, b| a.0.referral_day.total_cmp(&b.0.referral_day));
    }
    cases
}

/// Simulates one replication; with `agents`, records every youth.
pub(crate) fn simulate(
    scenario: &Scenario,
    replication_key: u64,
    mut agents: Option<&mut Vec<AgentRecord>>,
) -> Tally {
    let mut tally = Tally::default();
    for (youth, youth_draws) in &mut referrals(scenario, replication_key) {
        let consent = scenario.consent.decide(youth, youth_draws);
        let disposition = if !consent.offender {
            Disposition::OffenderDeclined
        } else if !consent.victim {
            Disposition::VictimDeclined
        } else {
            Disposition::Mediated
        };

        let (wait_days, agreement, restitution) = if disposition == Disposition::Mediated {
            let agreement = scenario.mediation.mediate(youth_draws);
            let restitution = scenario
                .restitution
                .mediated
                .complete(agreement.obligations, youth_draws);
            (
                scenario.mediators.delay_days(youth_draws),
                Some(agreement),
                restitution,
            )
        } else {
            let order = scenario.restitution.court_order.order(youth_draws);
            let restitution = scenario
                .restitution
                .court_completion
                .complete(order, youth_draws);
            (0.0, None, restitution)
        };

        // The treated potential world's effect modifiers. For a youth who was
        // not mediated, whether restitution would have been completed is read
        // from the same draws as if the session had happened.
        let completed = if scenario.raw.treatment.restitution_completed_log_hr_scale == 1.0 {
            false
        } else if agreement.is_some() {
            restitution.all_completed()
        } else {
            let potential = scenario.mediation.mediate(youth_draws);
            scenario
                .restitution
                .mediated
                .complete(potential.obligations, youth_draws)
                .all_completed()
        };
        let modifier = usize::from(youth.offense == Offense::Violent) + 2 * usize::from(completed);
        let outcomes = scenario
            .recidivism
            .potential_outcomes(youth, modifier, youth_draws);

        tally.add(disposition, &restitution, &outcomes);
        if let Some(records) = agents.as_deref_mut() {
            records.push(AgentRecord {
                youth: *youth,
                consent,
                disposition,
                wait_days,
                disposition_day: youth.referral_day + wait_days,
                agreement,
                restitution,
                outcomes,
            });
        }
    }
    tally
}
