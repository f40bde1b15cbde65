//! Fuzzes scenario parsing and validation, `--set` overrides and sweep
//! files: whatever the bytes, vomsim must answer with a scenario or an
//! error, never a panic (the checks are `vomsim::fuzzing::scenario_bytes`,
//! which `tests/fuzz_regressions.rs` replays on the corpus).
//!
//!     RUSTC_BOOTSTRAP=1 cargo fuzz run scenario -- -max_total_time=600
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vomsim::fuzzing::scenario_bytes(data);
});
