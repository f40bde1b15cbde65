//! The cost of formatting the tables a run writes, apart from the disk:
//! `replications.csv` (vors_la: about 70 KB per replication, the bulk of a
//! large run's output) and `summary.csv` (a mean, standard error and three
//! quantiles of every metric across replications), from 200 replications
//! of vors_la simulated once, into a sink, on one thread (as `vomsim run
//! --threads 1` formats them). Throughput is in bytes of
//! `replications.csv`, and in replications for the summary. Issue 21's
//! target is on a whole run (writing at most a quarter of the wall time at
//! 10,000 replications, `benches/targets.sh`); this bench isolates the
//! formatting the target depends on. Run: `cargo bench --bench writing`.

use std::fs;
use std::hint::black_box;
use std::io::{self, Write};
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vomsim::Scenario;
use vomsim::cancel::Cancel;
use vomsim::engine::{self, RunOptions};
use vomsim::output::csv::{self, RowPrefix};

const REPS: u64 = 200;

/// A writer that counts the bytes it is given and keeps none.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let text =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/vors_la.toml"))
            .unwrap();
    let scenario = Scenario::from_toml_str(&text, "vors_la.toml", &[]).unwrap();
    let options = RunOptions {
        seed: 1,
        reps: REPS,
        threads: 1,
        progress: false,
        agents_reps: 0,
        cancel: Cancel::never(),
    };
    let result = engine::run(&scenario, &options).unwrap();
    let pool = engine::thread_pool(1).unwrap();
    let replications = |out: &mut Counter| {
        csv::write_replications(
            out,
            &pool,
            &RowPrefix::run(),
            true,
            &result.catalog,
            &result.values,
        )
        .unwrap()
    };
    let mut size = Counter(0);
    replications(&mut size);

    let mut group = c.benchmark_group("writing");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(size.0));
    group.bench_function("replications_csv_200_reps", |b| {
        b.iter(|| {
            let mut out = Counter(0);
            replications(&mut out);
            black_box(out.0)
        })
    });
    group.throughput(Throughput::Elements(REPS));
    group.bench_function("summary_csv_200_reps", |b| {
        b.iter(|| {
            let mut out = Counter(0);
            csv::write_summary(
                &mut out,
                &pool,
                &RowPrefix::run(),
                true,
                &result.catalog,
                &result.values,
            )
            .unwrap();
            black_box(out.0)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
