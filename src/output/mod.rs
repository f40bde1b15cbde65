//! Everything vomsim writes for people and tools to read: the CSV rows and
//! the one number formatter ([`csv`]), the output folder and atomic files
//! ([`folder`]), `manifest.json` of every kind of folder ([`manifest`]), the
//! one rule for what `--force` may replace and what is an input
//! (`ownership`), and the HTML report ([`report`]; of `size` and `plan`
//! folders, [`planning_report`]).
//!
//! Sits above the engine (it writes what replications produced) and below
//! the analyses and commands, which write through it as they go (a sweep
//! writes each finished point at once, so a killed sweep keeps its work).

pub mod csv;
pub mod folder;
pub mod manifest;
pub(crate) mod ownership;
pub mod parquet;
pub mod planning_report;
pub mod report;
