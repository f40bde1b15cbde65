//! Stages 2-4, consent: does the youth agree to meet the victim, and does
//! the victim agree to meet the youth?
//!
//! Offender consent is a logistic model of motivation and offense, or always
//! yes when the court orders participation. By default the victim is asked
//! only after the youth consents (as in VORS, where either party's refusal
//! returns the case to the referring agency); programs that ask the victim
//! first (`consent.order = "victim_first"`) ask the youth only after the
//! victim consents, which changes who is ever asked and so who fills each
//! declined group. Victim consent is a logistic model of offense and victim
//! type (business or individual), with an optional loading on the youth's
//! latent risk. That loading is the self-selection channel of the VORS
//! comparison group, whose youths consented but whose victims declined
//! (seed 003).

use crate::model::draws::{YouthDraws, logistic, slot};
use crate::model::referral::Youth;

/// Validated consent parameters (log-odds scale).
#[derive(Debug, Clone)]
pub(crate) struct ConsentParams {
    pub court_ordered: bool,
    /// The victim is asked first (`consent.order = "victim_first"`).
    pub victim_first: bool,
    pub offender_intercept: f64,
    pub offender_motivation: f64,
    pub offender_offense: [f64; 6],
    pub victim_intercept: f64,
    pub victim_offense: [f64; 6],
    pub victim_business_share: [f64; 6],
    pub victim_business: f64,
    pub victim_risk: f64,
}

/// The consent decisions of one case: `None` where a party was never asked
/// (the other party declined first, or the case is in the control arm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    pub business_victim: bool,
    pub offender: Option<bool>,
    pub victim: Option<bool>,
}

impl Consent {
    /// A case whose parties were never asked (the randomized control arm).
    pub const NOT_ASKED: Consent = Consent {
        business_victim: false,
        offender: None,
        victim: None,
    };

    /// Whether both parties agreed: the case goes to the mediators.
    pub fn both(&self) -> bool {
        self.offender == Some(true) && self.victim == Some(true)
    }

    /// Whether the youth said yes.
    pub fn offender_agreed(&self) -> bool {
        self.offender == Some(true)
    }

    /// Whether the victim said yes.
    pub fn victim_agreed(&self) -> bool {
        self.victim == Some(true)
    }

    /// Whether the youth declined (the youth's refusal ends the case
    /// whoever was asked first).
    pub fn offender_declined(&self) -> bool {
        self.offender == Some(false)
    }
}

impl ConsentParams {
    /// Probability that the youth consents.
    pub fn offender_probability(&self, youth: &Youth) -> f64 {
        if self.court_ordered {
            return 1.0;
        }
        logistic(
            self.offender_intercept
                + self.offender_motivation * youth.motivation
                + self.offender_offense[youth.offense as usize],
        )
    }

    /// Probability that the victim consents.
    pub fn victim_probability(&self, youth: &Youth, business_victim: bool) -> f64 {
        let business = if business_victim {
            self.victim_business
        } else {
            0.0
        };
        logistic(
            self.victim_intercept
                + self.victim_offense[youth.offense as usize]
                + business
                + self.victim_risk * youth.risk,
        )
    }

    /// Whether the case's victim is a business (a study observes it).
    pub fn business_victim(&self, youth: &Youth, draws: &YouthDraws) -> bool {
        draws.u[slot::VICTIM_TYPE] < self.victim_business_share[youth.offense as usize]
    }

    /// Both decisions for one case.
    pub fn decide(&self, youth: &Youth, draws: &YouthDraws) -> Consent {
        let u = &draws.u;
        let business_victim = self.business_victim(youth, draws);
        let offender = || u[slot::OFFENDER_CONSENT] < self.offender_probability(youth);
        let victim = || u[slot::VICTIM_CONSENT] < self.victim_probability(youth, business_victim);
        let (offender, victim) = if self.victim_first {
            let victim = victim();
            (victim.then(offender), Some(victim))
        } else {
            let offender = offender();
            (Some(offender), offender.then(victim))
        };
        Consent {
            business_victim,
            offender,
            victim,
        }
    }
}
