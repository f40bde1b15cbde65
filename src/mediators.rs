//! Stage 5, the wait for mediators: when a consented case gets its session.
//!
//! For now the wait is a log-normal delay from referral to the session, with
//! the scenario's mean and standard deviation; the volunteer mediator pool
//! and its queue replace it in a later issue.

use crate::draws::{YouthDraws, normal_quantile, slot};

/// Validated parameters of the wait (log-normal location and scale, days).
#[derive(Debug, Clone)]
pub(crate) struct MediatorParams {
    pub delay_log_mean: f64,
    pub delay_log_sd: f64,
}

impl MediatorParams {
    /// Log-normal parameters from the delay's mean and standard deviation.
    pub fn from_mean_sd(mean: f64, sd: f64) -> MediatorParams {
        let variance = (1.0 + (sd / mean).powi(2)).ln();
        MediatorParams {
            delay_log_mean: mean.ln() - variance / 2.0,
            delay_log_sd: variance.sqrt(),
        }
    }

    /// Days from referral to the session for one consented case.
    pub fn delay_days(&self, draws: &YouthDraws) -> f64 {
        (self.delay_log_mean + self.delay_log_sd * normal_quantile(draws.u[slot::DELAY])).exp()
    }
}
