//! Speed of the simulation, reported per youth: one replication of the
//! shipped `vors_la` scenario (about 480 youths), and the same at 600
//! referrals a month (about 7,200 youths), where per-replication overhead
//! is amortized. Run: `cargo bench --bench pipeline`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vomsim::Scenario;
use vomsim::engine::simulate_replication;

fn scenario(overrides: &[&str]) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/vors_la.toml");
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    Scenario::load(&path, &overrides).expect("the shipped scenario is valid")
}

fn replication(c: &mut Criterion) {
    let mut group = c.benchmark_group("replication");
    for (name, overrides) in [
        ("vors_la", &[][..]),
        ("vors_la_600_per_month", &["referrals.per_month=600"][..]),
    ] {
        let scenario = scenario(overrides);
        let (_, youths) = simulate_replication(&scenario, 1, 0);
        group.throughput(Throughput::Elements(youths));
        let mut rep = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                rep += 1;
                black_box(simulate_replication(&scenario, 1, rep % 64))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, replication);
criterion_main!(benches);
