//! Stage 6, the mediation session: does it end in a signed agreement, and
//! what does the agreement hold (monetary restitution, community service,
//! an apology)? VORS sessions discuss "money, community service, and/or
//! letter of apology" and document the agreement (seed 003).
//!
//! A case is mediated in one of three modes, each with its own agreement
//! probability, mediator hours and effect: the face-to-face meeting of VOM
//! (seed 000: "a scheduled face-to-face meeting between victims of crime
//! and the offender"), indirect (shuttle) mediation, and a family-group or
//! community conference (seed 000: "similar in content and aims" but
//! bringing in family and community members). A youth's mode is read from a
//! keyed uniform, so it is the same in both potential worlds.

use crate::model::draws::{YouthDraws, categorical, keyed, normal_quantile, slot};

/// How a case both parties consented to is mediated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    FaceToFace,
    Indirect,
    Conference,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::FaceToFace, Mode::Indirect, Mode::Conference];

    pub fn name(self) -> &'static str {
        match self {
            Mode::FaceToFace => "face_to_face",
            Mode::Indirect => "indirect",
            Mode::Conference => "conference",
        }
    }
}

/// Validated parameters of one mode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModeParams {
    pub agreement_probability: f64,
    /// Factor on the mediators' hours of a case.
    pub hours_scale: f64,
    /// Factor on the treatment's log hazard ratio.
    pub effect_scale: f64,
}

/// Validated mediation parameters.
#[derive(Debug, Clone)]
pub(crate) struct MediationParams {
    /// Cumulative shares of the modes, in [`Mode::ALL`] order.
    pub mode_cumulative: [f64; 3],
    /// Parameters by mode, in [`Mode::ALL`] order.
    pub modes: [ModeParams; 3],
    pub monetary_probability: f64,
    pub amount: LogNormal,
    pub service_probability: f64,
    pub hours: LogNormal,
    pub apology_probability: f64,
}

/// A log-normal read from a uniform by its quantile function.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LogNormal {
    /// Log of the median.
    pub log_median: f64,
    pub log_sd: f64,
}

impl LogNormal {
    pub fn quantile(self, u: f64) -> f64 {
        (self.log_median + self.log_sd * normal_quantile(u)).exp()
    }
}

/// What a session (or a court) set: zero where there is no such obligation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Obligations {
    /// Dollars of monetary restitution.
    pub amount: f64,
    /// Hours of community service.
    pub hours: f64,
    pub apology: bool,
}

/// The outcome of one session.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Agreement {
    pub reached: bool,
    pub obligations: Obligations,
}

impl MediationParams {
    /// The youth's mode (drawn only when more than one mode has a share).
    pub fn mode(&self, draws: &YouthDraws) -> Mode {
        if self.mode_cumulative[0] >= 1.0 {
            return Mode::FaceToFace;
        }
        Mode::ALL[categorical(draws.keyed(keyed::MODE), &self.mode_cumulative)]
    }

    /// The parameters of a mode.
    pub fn params(&self, mode: Mode) -> ModeParams {
        self.modes[mode as usize]
    }

    /// Whether a session in `mode` ends in an agreement.
    pub fn agrees(&self, mode: Mode, draws: &YouthDraws) -> bool {
        draws.u[slot::AGREEMENT] < self.params(mode).agreement_probability
    }

    /// The session's outcome for one youth mediated in `mode`.
    pub fn mediate(&self, mode: Mode, draws: &YouthDraws) -> Agreement {
        let u = &draws.u;
        if !self.agrees(mode, draws) {
            return Agreement::default();
        }
        let amount = if u[slot::MONETARY] < self.monetary_probability {
            self.amount.quantile(u[slot::AMOUNT])
        } else {
            0.0
        };
        let hours = if u[slot::SERVICE] < self.service_probability {
            self.hours.quantile(u[slot::HOURS])
        } else {
            0.0
        };
        Agreement {
            reached: true,
            obligations: Obligations {
                amount,
                hours,
                apology: u[slot::APOLOGY] < self.apology_probability,
            },
        }
    }
}
