//! Speed of the simulation, reported per youth. (a) The floor: the least
//! work any youth's lifecycle needs (16 uniform draws, one exponential
//! draw, and accumulating a 30-month piecewise hazard until it passes that
//! draw) on the project's generator, Xoshiro256++; and the model's
//! arithmetic alone (its uniforms, normal quantiles, `exp` and `ln` per
//! youth, nothing else). (b) The full pipeline
//! per youth: one replication of `vors_la` at 600 referrals a month (about
//! 7,050 youths, per-replication overhead amortized). (c) One replication
//! of the shipped `vors_la` (about 480 youths). The 10-point sweep is in
//! `benches/sweep.rs`. Run: `cargo bench --bench pipeline`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use vomsim::Scenario;
use vomsim::engine::simulate_replication;
use vomsim::model::normal_quantile;

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

/// A uniform in (0, 1) as the project draws it.
#[inline]
fn open01(rng: &mut Xoshiro256PlusPlus) -> f64 {
    ((rng.next_u64() >> 12) as f64 + 0.5) * (1.0 / (1u64 << 52) as f64)
}

/// A stream seeded as `draws` seeds a youth's: the generator's state is
/// the first four outputs of SplitMix64 from `key` (what `seed_from_u64`
/// computes, without its generic byte buffer).
fn seeded(key: u64) -> Xoshiro256PlusPlus {
    let mut seed = [0u8; 32];
    for (n, bytes) in seed.chunks_exact_mut(8).enumerate() {
        let mut z = key.wrapping_add((n as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        bytes.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    Xoshiro256PlusPlus::from_seed(seed)
}

/// [`open01`] as `draws` computes it: the 52 bits as a mantissa, without an
/// integer-to-float conversion.
#[inline]
fn open01_bits(rng: &mut Xoshiro256PlusPlus) -> f64 {
    f64::from_bits(0x3ff0_0000_0000_0000 | (rng.next_u64() >> 12)) - (1.0 - f64::EPSILON / 2.0)
}

fn floor(c: &mut Criterion) {
    // A declining monthly hazard (vors_la's baseline shape), cumulated.
    let cumulative: [f64; 31] = std::array::from_fn(|m| 0.17 * (m as f64 / 12.0).powf(0.8));
    let youths = 10_000u64;
    let mut group = c.benchmark_group("per_youth");
    group.throughput(Throughput::Elements(youths));
    group.bench_function("floor", |b| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        b.iter(|| {
            let mut total = 0.0;
            for _ in 0..youths {
                let mut sum = 0.0;
                for _ in 0..16 {
                    sum += open01(&mut rng);
                }
                let e = -open01(&mut rng).ln();
                let month = cumulative[1..].iter().position(|&c| c >= e).unwrap_or(30);
                total += sum + month as f64;
            }
            black_box(total)
        })
    });
    // The model's own arithmetic, per youth, and nothing else: a block of
    // 28 uniforms from a freshly seeded stream (seeded and converted as
    // `draws` does it: four SplitMix64 words, the bits laid into a
    // mantissa), three normal quantiles (AS 241, the model's function),
    // seven `exp` and four `ln` (the counts callgrind finds per youth in
    // `vors_la`: hazards, logistic consents, log-normal amounts,
    // discounting). Left out: the keyed uniforms and the mixing of stream
    // keys. Roughly what no layout of the stages avoids without changing
    // the model's numbers; issue 21's 10x target against the NumPy peer is
    // about 160 ns per youth.
    group.bench_function("arithmetic", |b| {
        let mut key = 0u64;
        b.iter(|| {
            let mut total = 0.0;
            for _ in 0..youths {
                key += 1;
                let mut rng = seeded(key);
                let u: [f64; 28] = std::array::from_fn(|_| open01_bits(&mut rng));
                let z: [f64; 3] = std::array::from_fn(|i| normal_quantile(u[i]));
                let mut sum = z[0] + z[1] + z[2];
                for i in 0..7 {
                    sum += (z[i % 3] * 0.3 - u[3 + i]).exp();
                }
                for i in 0..4 {
                    sum += u[10 + i].ln();
                }
                total += sum + u[14..].iter().sum::<f64>();
            }
            black_box(total)
        })
    });
    let scenario = scenario(&["referrals.per_month=600"]);
    let (_, pipeline_youths) = simulate_replication(&scenario, 1, 0);
    group.throughput(Throughput::Elements(pipeline_youths));
    let mut rep = 0;
    group.bench_function("pipeline", |b| {
        b.iter(|| {
            rep += 1;
            black_box(simulate_replication(&scenario, 1, rep % 64))
        })
    });
    group.finish();
}

criterion_group!(benches, floor, replication);
criterion_main!(benches);
