//! Stage 6, the mediation session: does it end in a signed agreement, and
//! what does the agreement hold (monetary restitution, community service,
//! an apology)? VORS sessions discuss "money, community service, and/or
//! letter of apology" and document the agreement (seed 003).

use crate::model::draws::{YouthDraws, normal_quantile, slot};

/// Validated mediation parameters.
#[derive(Debug, Clone)]
pub(crate) struct MediationParams {
    pub agreement_probability: f64,
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
    /// The session's outcome for one youth.
    pub fn mediate(&self, draws: &YouthDraws) -> Agreement {
        let u = &draws.u;
        if u[slot::AGREEMENT] >= self.agreement_probability {
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
