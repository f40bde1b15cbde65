//! vomsim: a parallel Monte Carlo, agent-based simulator of a youth
//! victim-offender mediation (VOM) diversion program.
//!
//! The source is laid out by job, in the order of DESIGN.md's pipeline;
//! each layer imports only the layers before it (`tests/layers.rs` checks):
//!
//! 1. [`model`]: the life of one case, stage by stage (referral, consent,
//!    the queue for volunteer mediators, the session, restitution,
//!    recidivism, costs), its random draws and time units.
//! 2. [`scenario`]: the TOML file, its defaults, `--set`, bounds and
//!    validation into the model's parameters; [`measure`]: what one
//!    replication reports (the tally and its named metrics, the design
//!    estimators, statistics).
//! 3. [`engine`]: one replication through every stage, replications in
//!    parallel, the memory and work limits.
//! 4. [`output`]: CSV rows, the output folder, what `--force` may replace,
//!    the HTML report.
//! 5. [`analysis`]: `size`, `compare`, `calibrate`, sweeps.
//! 6. [`commands`]: the command line and one function per subcommand.
//!
//! [`error`] and [`cancel`] serve every layer.
//!
//! # Reproducibility
//!
//! Every random number comes from Xoshiro256++ (`rand_xoshiro`, output
//! fixed across versions) on a stream keyed by (seed, replication) and, for
//! each youth, by its intake month and arrival index. Results are collected
//! in replication order and summarized serially, so output is
//! byte-identical for any thread count. A change to the order of draws is a
//! reproducibility break and is logged in `CHANGELOG.md`.

pub mod analysis;
pub mod cancel;
pub mod commands;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod measure;
pub mod model;
pub mod output;
pub mod scenario;

pub use commands::execute;
pub use error::{Error, Result};
pub use scenario::Scenario;
