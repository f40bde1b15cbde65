//! The research design layered on the program: which youths a study could
//! compare. A randomized control arm (before consent, as in an
//! intention-to-treat trial, or after both parties consented, as in a
//! consent-first trial) and a court-processed comparison pool of youths from
//! the same population who were never referred (court as usual), whose
//! latent risk may differ from the referred youths'.
//!
//! None of this is in the Los Angeles program (seed 003 compares mediated
//! youths with youths whose victims declined); published evaluations of
//! youth mediation mostly compare with court-processed youths, matched or
//! weighted on what the study observes.

use rand_distr::{Distribution, Poisson};

use crate::model::draws::StreamRng;

/// Validated design parameters.
#[derive(Debug, Clone)]
pub(crate) struct DesignParams {
    /// Share of referrals (or of consented cases) randomized to control.
    pub rct_control_share: f64,
    /// Randomize only cases both parties consented to.
    pub randomize_after_consent: bool,
    /// Mean pool youths per intake month (0: no pool).
    pub pool_per_month: f64,
    /// Shift of the pool's latent risk, in standard deviations.
    pub pool_risk_shift: f64,
}

/// What a scenario's outputs hold: its design's arms and groups, and the
/// months of follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// A randomized control arm.
    pub randomized: bool,
    /// Randomized after consent (a consent-first trial).
    pub after_consent: bool,
    /// A court-processed comparison pool.
    pub pool: bool,
    /// Months of follow-up (`outcomes.follow_up_months`).
    pub horizon: usize,
    /// Every rearrest is counted (`recidivism.recurrent`, or a pre-period).
    pub recurrent: bool,
    /// Months of the pre-period (0: none).
    pub pre_period: usize,
    /// The program month at which the study ends (0: none).
    pub study_end: usize,
    /// Paid staff (`[staff]` with coordinators): the staff queue's metrics.
    pub staff: bool,
}

impl Default for Shape {
    /// No randomization, no pool, the default follow-up.
    fn default() -> Self {
        Shape {
            randomized: false,
            after_consent: false,
            pool: false,
            horizon: crate::model::time::DEFAULT_FOLLOW_UP_MONTHS,
            recurrent: false,
            pre_period: 0,
            study_end: 0,
            staff: false,
        }
    }
}

impl DesignParams {
    /// What this design reports; the follow-up's fields are the caller's
    /// (see `Scenario::shape`).
    pub fn shape(&self) -> Shape {
        let randomized = self.rct_control_share > 0.0;
        Shape {
            randomized,
            after_consent: randomized && self.randomize_after_consent,
            pool: self.pool_per_month > 0.0,
            ..Shape::default()
        }
    }

    /// The number of pool youths in intake month `month` (Poisson), from
    /// the pool's own arrival stream.
    pub fn pool_count(&self, rng: &mut StreamRng) -> u32 {
        if self.pool_per_month <= 0.0 {
            return 0;
        }
        // Validation keeps the rate positive and finite.
        let poisson = Poisson::new(self.pool_per_month).expect("validated pool rate");
        poisson.sample(rng) as u32
    }
}
