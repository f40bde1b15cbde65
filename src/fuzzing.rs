//! The checks the fuzz target runs (`fuzz/fuzz_targets/scenario.rs`), here
//! so that `cargo test` replays the fuzz corpus and every crashing input
//! found so far on the stable toolchain (`tests/fuzz_regressions.rs`).

use crate::analysis::sweep::Sweep;
use crate::engine::simulate_replication;
use crate::scenario::Scenario;

/// Parses bytes as a scenario (optionally followed by a line `---` and one
/// `KEY=VALUE` override per line) and as a sweep file. Panics only on a
/// bug: any input must give a scenario or an error. A small valid scenario
/// is also simulated for one replication, and its resolved form and what
/// `vomsim validate` prints must validate to the same scenario.
pub fn scenario_bytes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (scenario_text, overrides) = match text.split_once("\n---\n") {
        Some((s, o)) => (s, o.lines().map(str::to_string).collect::<Vec<_>>()),
        None => (text, Vec::new()),
    };
    if let Ok(scenario) = Scenario::from_toml_str(scenario_text, "fuzz.toml", &overrides) {
        let again = Scenario::from_toml_str(&scenario.to_toml(), "resolved.toml", &[])
            .expect("a resolved scenario is valid");
        assert_eq!(again.raw, scenario.raw, "resolving changes nothing");
        // What `vomsim validate` prints (the file, comments kept, missing
        // keys added) validates to the same scenario.
        let printed = crate::scenario::resolved_document(scenario_text, &scenario.raw, &overrides);
        let again = Scenario::from_toml_str(&printed, "printed.toml", &[])
            .expect("validate's output is a valid scenario");
        assert_eq!(
            again.raw, scenario.raw,
            "validate's output resolves the same"
        );
        let raw = &scenario.raw;
        let expected = raw.referrals.per_month
            * f64::from(raw.simulation.intake_months)
            * raw
                .referrals
                .monthly_multipliers
                .iter()
                .copied()
                .fold(1.0, f64::max);
        if expected <= 200.0 {
            let _ = simulate_replication(&scenario, 1, 0);
        }
    }
    let _ = Sweep::from_toml_str(scenario_text, "fuzz-sweep.toml", &overrides);
}
