//! Per-replication cost of a sweep against a run, output writing included:
//! `run` of vors_la at 100 replications (simulate, summarize, write every
//! file) against a sweep of 10 points x 100 replications of the same
//! scenario (fragments, assembly, every file), both per replication. The
//! replications per point are the same, so the difference is the sweep's
//! own machinery: point scenarios, fragments, assembly. (A point with fewer
//! replications costs more per replication in any case: its summary rows
//! are spread over fewer replications.) Run: `cargo bench --bench sweep`.

use std::fs;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vomsim::Scenario;
use vomsim::analysis::sweep::Sweep;
use vomsim::analysis::sweep::run::{self as sweep_run, SweepOptions};
use vomsim::cancel::Cancel;
use vomsim::engine::{self, RunOptions};
use vomsim::output::csv::{self, RowPrefix};
use vomsim::output::folder::OutputDir;

fn scenario_text() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/vors_la.toml"))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let text = scenario_text();
    let scenario = Scenario::from_toml_str(&text, "vors_la.toml", &[]).unwrap();
    let sweep_text = format!(
        "{text}\n[sweep]\n[sweep.parameters]\n\"mediators.initial_active\" = {{ start = 10, stop = 46, steps = 10 }}\n"
    );
    let sweep = Sweep::from_toml_str(&sweep_text, "sweep.toml", &[]).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Formatting on the run's own pool, as `vomsim run --threads 1` does.
    let pool = engine::thread_pool(1).unwrap();

    let mut group = c.benchmark_group("per_replication");
    group.sample_size(10);
    group.throughput(Throughput::Elements(100));
    group.bench_function("run_100_reps", |b| {
        b.iter(|| {
            let options = RunOptions {
                seed: 1,
                reps: 100,
                threads: 1,
                progress: false,
                agents_reps: 0,
                cancel: Cancel::never(),
            };
            let result = engine::run(&scenario, &options).unwrap();
            let output = OutputDir::prepare(&tmp.path().join("run"), true).unwrap();
            output
                .write_file("summary.csv", |w| {
                    csv::write_summary(
                        w,
                        &pool,
                        &RowPrefix::run(),
                        true,
                        &result.catalog,
                        &result.values,
                    )
                })
                .unwrap();
            output
                .write_file("replications.csv", |w| {
                    csv::write_replications(
                        w,
                        &pool,
                        &RowPrefix::run(),
                        true,
                        &result.catalog,
                        &result.values,
                    )
                })
                .unwrap();
            let diagnosis = vomsim::measure::diagnosis::diagnose(&result.catalog, &result.values);
            output
                .write_file("diagnosis.csv", |w| {
                    csv::write_diagnosis(w, None, true, &diagnosis)
                })
                .unwrap();
            output
                .write_file("manifest.json", |w| std::io::Write::write_all(w, b"{}"))
                .unwrap();
            black_box(output.commit().unwrap());
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("sweep_10_points_x_100_reps", |b| {
        b.iter(|| {
            let options = SweepOptions {
                seed: 1,
                reps: 100,
                threads: 1,
                progress: false,
                shard: None,
                resume: false,
                force: true,
                cancel: Cancel::never(),
            };
            black_box(sweep_run::run(&sweep, &tmp.path().join("sweep"), &options).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
