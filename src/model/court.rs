//! The court path: youths who are not mediated (either party declined, the
//! case was returned after waiting, or the youth is in the control arm) are
//! processed by the court, which takes time (referral, or return, to
//! disposition) and orders restitution (see [`crate::model::restitution`]).
//! Its effect on rearrest relative to no action (`court.log_hr`) is built
//! into the untreated world's hazard table ([`crate::model::recidivism`]).
//!
//! Los Angeles VORS reports no processing times (seed 003), so the default
//! disposes on the day a case leaves the program, as the model always did;
//! evaluations that compare with court-processed youths report months of
//! processing, which a scenario sets here.

use crate::model::draws::{YouthDraws, keyed, normal_quantile};

/// Validated court parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CourtParams {
    pub processing: Processing,
}

/// Days of court processing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Processing {
    /// Every case takes this many days (0: disposed at once).
    Fixed(f64),
    /// Log-normal days with this log-scale mean and sd.
    LogNormal { log_mean: f64, log_sd: f64 },
}

impl Processing {
    /// The processing of a given mean and standard deviation in days.
    pub fn from_mean_sd(mean: f64, sd: f64) -> Processing {
        if mean == 0.0 || sd == 0.0 {
            return Processing::Fixed(mean);
        }
        let variance = (1.0 + (sd / mean).powi(2)).ln();
        Processing::LogNormal {
            log_mean: mean.ln() - variance / 2.0,
            log_sd: variance.sqrt(),
        }
    }
}

impl CourtParams {
    /// The court's disposition day of a case that leaves the program on
    /// `day` (read from a keyed uniform only when processing varies).
    pub fn disposition_day(&self, day: f64, draws: &YouthDraws) -> f64 {
        match self.processing {
            Processing::Fixed(days) => day + days,
            Processing::LogNormal { log_mean, log_sd } => {
                day + (log_mean + log_sd * normal_quantile(draws.keyed(keyed::COURT_DAYS))).exp()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_normal_days_have_the_mean_and_sd_asked_for() {
        let Processing::LogNormal { log_mean, log_sd } = Processing::from_mean_sd(90.0, 45.0)
        else {
            panic!("a spread gives a log-normal");
        };
        let mean = (log_mean + log_sd * log_sd / 2.0).exp();
        let sd = mean * ((log_sd * log_sd).exp() - 1.0).sqrt();
        assert!((mean - 90.0).abs() < 1e-9 && (sd - 45.0).abs() < 1e-9);
        assert_eq!(Processing::from_mean_sd(0.0, 0.0), Processing::Fixed(0.0));
        assert_eq!(Processing::from_mean_sd(60.0, 0.0), Processing::Fixed(60.0));
    }
}
