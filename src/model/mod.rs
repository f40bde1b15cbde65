//! The life of one case, stage by stage (DESIGN.md, "The life of one case"):
//! [`referral`] → [`consent`] → [`staff`] (intake by paid coordinators,
//! when set) → [`queue`] (the wait for volunteer mediators) → [`session`] (the mediation, its mode and agreement) or
//! [`court`] (the path of cases not mediated) → [`restitution`] →
//! [`recidivism`] (rearrest and reconviction in both potential worlds),
//! with [`costs`] priced per replication, and [`design`] the study layered
//! on the program (randomized arms, a comparison pool).
//!
//! Everything here works on one youth or one replication's pool and reads
//! its parameters as plain structs; it imports nothing from the layers
//! above (measure, engine, analysis, output, commands). `draws` owns the
//! random streams, [`time`] the clock's units and horizons.

pub mod consent;
pub mod costs;
pub mod court;
pub mod design;
pub(crate) mod draws;
pub mod queue;
pub mod recidivism;
pub mod referral;
pub mod restitution;
pub mod session;
pub mod staff;
pub mod time;

/// The model's normal quantile, for `benches/pipeline.rs`'s
/// `per_youth/arithmetic` (the draws module itself stays private).
#[doc(hidden)]
pub use draws::normal_quantile;
