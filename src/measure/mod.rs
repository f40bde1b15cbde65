//! What one replication reports: the tally of every youth's outcome
//! ([`metrics`]: the metric and group names and the per-replication
//! values), the study designs' per-replication estimators ([`estimators`],
//! with the propensity-score designs in [`propensity`])
//! and their diagnosis across replications ([`diagnosis`]),
//! and the statistics both use ([`stats`]). Imports only the model below.

mod benefits;
pub mod diagnosis;
pub mod equity;
pub mod estimators;
pub mod metrics;
pub mod names;
pub mod propensity;
pub mod stats;
