//! Costs and benefits: what the program costs, what the agency saves, and
//! what the rearrests it averts are worth, per replication.
//!
//! Costs are the program's own spending: the implementation package and
//! case database (seed 003: $4,000 and $7,000 per agency), training each
//! volunteer (seed 003: $2,000 per person), a coordinator every month the
//! program takes referrals and a cost per mediated case (assumptions). Benefits, as the
//! Washington State Institute for Public Policy counts them, are avoided
//! costs: each rearrest averted within the 30-month follow-up (the same
//! youths with and without mediation, from their potential outcomes) saves
//! the justice system's and the victims' costs of a rearrest, and each case
//! mediated is one the referring agency no longer handles. Restitution is a
//! transfer from youths to victims, reported but not counted as a benefit.
//! Everything is discounted to the program's start at an annual rate.
//!
//! Parameter uncertainty (a two-level Monte Carlo): a cost given as
//! `{ low, high }` is drawn uniformly once per replication, from a stream
//! of its own, so benefit-cost results carry both kinds of uncertainty.

use crate::model::draws::{StreamRng, costs_rng, open01};
use crate::model::referral::DAYS_PER_MONTH;

/// A cost parameter: fixed, or uniform between bounds per replication.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Uncertain {
    pub low: f64,
    pub high: f64,
}

impl Uncertain {
    fn draw(self, rng: &mut StreamRng) -> f64 {
        // Always one draw, so each parameter keeps its own number.
        let u = open01(rng);
        self.low + (self.high - self.low) * u
    }
}

/// Validated cost parameters.
#[derive(Debug, Clone)]
pub(crate) struct CostParams {
    pub implementation_package: Uncertain,
    pub case_database: Uncertain,
    pub training_per_mediator: Uncertain,
    pub coordinator_per_month: Uncertain,
    pub per_mediation_case: Uncertain,
    pub agency_per_case: Uncertain,
    pub justice_per_rearrest: Uncertain,
    pub victim_per_rearrest: Uncertain,
    pub discount_rate: Uncertain,
}

/// One replication's costs.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Costs {
    pub implementation_package: f64,
    pub case_database: f64,
    pub training_per_mediator: f64,
    pub coordinator_per_month: f64,
    pub per_mediation_case: f64,
    pub agency_per_case: f64,
    pub justice_per_rearrest: f64,
    pub victim_per_rearrest: f64,
    pub discount_rate: f64,
    /// Months the program operates (takes referrals): the coordinator is
    /// paid over these, not over the tail months that only let the last
    /// cases finish (their sessions are still charged per case).
    pub operating_months: usize,
    /// ln(1 + rate) / 12: discounting is exp(-months * this), computed once
    /// (a power per youth would cost more than the rest of its money sums).
    pub log_discount_per_month: f64,
}

impl CostParams {
    /// This replication's costs, from its own stream.
    pub fn draw(&self, replication_key: u64, operating_months: usize) -> Costs {
        let mut rng = costs_rng(replication_key);
        let mut costs = Costs {
            implementation_package: self.implementation_package.draw(&mut rng),
            case_database: self.case_database.draw(&mut rng),
            training_per_mediator: self.training_per_mediator.draw(&mut rng),
            coordinator_per_month: self.coordinator_per_month.draw(&mut rng),
            per_mediation_case: self.per_mediation_case.draw(&mut rng),
            agency_per_case: self.agency_per_case.draw(&mut rng),
            justice_per_rearrest: self.justice_per_rearrest.draw(&mut rng),
            victim_per_rearrest: self.victim_per_rearrest.draw(&mut rng),
            discount_rate: self.discount_rate.draw(&mut rng),
            operating_months,
            log_discount_per_month: 0.0,
        };
        costs.log_discount_per_month = costs.discount_rate.ln_1p() / 12.0;
        costs
    }
}

impl Costs {
    /// Discount factor of a time `months` after the program's start.
    pub fn discount(&self, months: f64) -> f64 {
        (-months * self.log_discount_per_month).exp()
    }

    /// Discount factor of a program day.
    pub fn discount_day(&self, day: f64) -> f64 {
        self.discount(day / DAYS_PER_MONTH)
    }
}

/// Money sums of one replication, accumulated youth by youth.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CostTally {
    /// Discounted agency cases with the program (everyone not mediated, at
    /// disposition) and without it (everyone, at referral).
    pub agency_cases_with: f64,
    pub agency_cases_without: f64,
    /// Discounted rearrests averted within 30 months: the sum over youths
    /// of the discounted untreated rearrest less the realized one.
    pub averted_discounted: f64,
    /// Rearrests averted by 12 and by 30 months (undiscounted counts).
    /// By the months of [`crate::model::time::averted_months`].
    pub averted: [i64; 2],
    /// Restitution paid to victims, dollars (not discounted).
    pub paid: f64,
}

impl Costs {
    /// The program's own spending over `months` program months, discounted
    /// to its start: the implementation package and case database at once,
    /// training each volunteer when their class starts (`trained` by month),
    /// and at mid-month the coordinator over the months the program takes
    /// referrals (`operating_months`, not the tail that lets the last cases
    /// finish) and each session held (`sessions` by month).
    pub fn program_cost(&self, trained: &[u64], sessions: &[u64], months: usize) -> f64 {
        let mut program = self.implementation_package + self.case_database;
        for month in 0..months {
            let mid = self.discount(month as f64 + 0.5);
            program +=
                self.discount(month as f64) * self.training_per_mediator * trained[month] as f64;
            let coordinator = if month < self.operating_months {
                self.coordinator_per_month
            } else {
                0.0
            };
            program += mid * (coordinator + self.per_mediation_case * sessions[month] as f64);
        }
        program
    }

    /// What the program saves, discounted: the rearrests it averts (their
    /// justice and victim costs) and the referring agency's cases it no
    /// longer handles. WSIPP's convention: avoided costs are benefits; costs
    /// are the program's own spending; restitution is a transfer.
    pub fn benefits(&self, money: &CostTally) -> f64 {
        let agency_saved =
            self.agency_per_case * (money.agency_cases_without - money.agency_cases_with);
        (self.justice_per_rearrest + self.victim_per_rearrest) * money.averted_discounted
            + agency_saved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without discounting, the program costs its one-off items, training,
    /// sessions and the coordinator over the operating months only.
    #[test]
    fn program_cost_pays_the_coordinator_while_the_program_operates() {
        let c = Costs {
            implementation_package: 4000.0,
            case_database: 7000.0,
            training_per_mediator: 2000.0,
            coordinator_per_month: 100.0,
            per_mediation_case: 10.0,
            operating_months: 2,
            ..Costs::default()
        };
        // Three program months: two of intake, one of tail.
        let cost = c.program_cost(&[5, 0, 1], &[0, 3, 4], 3);
        assert_eq!(cost, 11000.0 + 2000.0 * 6.0 + 100.0 * 2.0 + 10.0 * 7.0);
    }

    #[test]
    fn fixed_costs_stay_fixed_and_ranges_vary_by_replication() {
        let fixed = Uncertain {
            low: 5.0,
            high: 5.0,
        };
        let range = Uncertain {
            low: 1.0,
            high: 2.0,
        };
        let params = CostParams {
            implementation_package: fixed,
            case_database: fixed,
            training_per_mediator: fixed,
            coordinator_per_month: fixed,
            per_mediation_case: fixed,
            agency_per_case: fixed,
            justice_per_rearrest: range,
            victim_per_rearrest: fixed,
            discount_rate: Uncertain {
                low: 0.03,
                high: 0.03,
            },
        };
        let (a, b) = (params.draw(1, 12), params.draw(2, 12));
        assert_eq!(a.implementation_package, 5.0);
        assert_ne!(a.justice_per_rearrest, b.justice_per_rearrest);
        assert!((1.0..=2.0).contains(&a.justice_per_rearrest));
        assert_eq!(
            params.draw(1, 12),
            a,
            "the same replication draws the same costs"
        );
        assert!((a.discount(12.0) - 1.0 / 1.03).abs() < 1e-12);
    }
}
