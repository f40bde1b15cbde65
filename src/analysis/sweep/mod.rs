//! Scenario sweeps: a scenario file with a `[sweep]` table naming the
//! parameters to vary, by dotted key, and how.
//!
//! ```toml
//! [sweep]
//! design = "grid"                    # grid (default), lhs or sobol
//! [sweep.parameters]
//! "mediators.initial_active" = [10, 20, 40]                          # a list
//! "consent.victim_probability" = { start = 0.3, stop = 0.7, steps = 5 }  # a range
//! ```
//!
//! A grid is the cartesian product of the lists and ranges (the first
//! parameter varies slowest). With `design = "lhs"` every parameter takes
//! bounds `{ low = .., high = .. }` and `points` Latin hypercube points are
//! drawn; with `design = "sobol"`, `base_samples` N gives Saltelli's N(d+2)
//! points for first-order and total Sobol indices of the chosen `outputs`
//! (see [`sobol`]). Each combination is a point, validated as a scenario.
//! `replications_file = false` skips `replications.csv`, which holds over a
//! thousand rows per replication (summary.csv and diagnosis.csv remain).
//! Every point runs the same replications (common random numbers), so
//! differences between points are not swamped by noise.
//!
//! The `[sweep]` table is read through its serde mirror, [`schema`]: an
//! unknown key is refused with the nearest valid one, as in a scenario.
//!
//! The files, by job: `spec.rs` reads and validates the sweep file into a
//! [`Sweep`] (through [`schema`]); `sampling.rs` generates a design's
//! points; [`run`] runs and resumes points, writing [`fragments`];
//! `assemble.rs` prepares the output folder and assembles its final files;
//! `merge.rs` merges shards; `fingerprint.rs` identifies a sweep's results;
//! [`sobol`] computes the indices.

mod assemble;
mod fingerprint;
pub mod fragments;
mod merge;
pub mod run;
mod sampling;
pub mod schema;
pub mod sobol;
mod spec;

pub use run::{Shard, spread_order};
pub use spec::{Design, MAX_POINTS, Output, Sweep, field};
