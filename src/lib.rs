//! vomsim: a parallel Monte Carlo, agent-based simulator of a youth
//! victim-offender mediation (VOM) diversion program.
//!
//! The modules follow the life of one case (DESIGN.md): [`referral`] →
//! [`consent`] → [`mediators`] (the wait) → [`mediation`] →
//! [`restitution`] → [`recidivism`]; [`pipeline`] takes one replication's
//! youths through them. [`scenario`] is the file schema and its
//! validation, [`engine`] runs replications in parallel, [`metrics`] and
//! [`stats`] turn counts into the reported numbers, [`designs`] holds
//! the study designs' estimators, and [`export`] writes
//! them (`ownership` decides what an output may replace). [`sizing`]
//! answers the planner's `size` question, [`calibration`] fits scenarios to
//! published figures, [`limits`] bounds input files, replications, threads
//! and a run's memory, and
//! [`commands`] is what the binary calls.
//!
//! # Reproducibility
//!
//! Every random number comes from Xoshiro256++ (`rand_xoshiro`, output
//! fixed across versions) on a stream keyed by (seed, replication) and, for
//! each youth, by its intake month and arrival index. Results are collected
//! in replication order and summarized serially, so output is
//! byte-identical for any thread count. A change to the order of draws is a
//! reproducibility break and is logged in `CHANGELOG.md`.

pub mod calibration;
pub mod cancel;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod engine;
pub mod error;
pub mod export;
#[doc(hidden)]
pub mod fuzzing;
pub mod limits;
pub mod measure;
pub mod model;
pub(crate) mod ownership;
pub mod report;
pub mod scenario;
pub mod sizing;
pub mod sweep;

// Transitional paths while the layout moves (issue: architecture); removed
// once every module names its new home.
pub use engine::replication as pipeline;
pub use measure::{designs, metrics, stats};
pub use model::{
    consent, costs, queue as mediators, recidivism, referral, restitution, session as mediation,
};

pub use commands::execute;
pub use error::{Error, Result};
pub use scenario::Scenario;
