//! Replays the fuzz corpus (`fuzz/corpus/scenario/`) and every input the
//! fuzzer found crashing (`fuzz/regressions/scenario/`, kept after the fix)
//! through the fuzz target's checks, on the stable toolchain.

use std::fs;
use std::path::Path;

#[test]
fn fuzz_corpus_and_crashes_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut replayed = 0;
    for folder in ["corpus/scenario", "regressions/scenario"] {
        let Ok(entries) = fs::read_dir(root.join(folder)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let data = fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| vomsim::fuzzing::scenario_bytes(&data));
            assert!(result.is_ok(), "{} panics", path.display());
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no fuzz inputs found under {}",
        root.display()
    );
}
