//! What is computed across runs: `size` ([`sizing`]), `plan` ([`plan`]), `power`
//! ([`power`]), `compare` ([`compare`]), `calibrate` ([`calibration`]) and
//! sweeps with their
//! sensitivity indices ([`sweep`]). Each drives the engine and writes
//! through `output`.

pub mod calibration;
pub mod compare;
pub mod plan;
pub mod power;
pub mod sizing;
pub mod sweep;
