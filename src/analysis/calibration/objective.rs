//! The objective on common random numbers: the targets' means at given
//! parameter values over fixed seeds, and the sum of squared misses in
//! tolerances, with the closest value each target reached.

use indicatif::ProgressBar;

use super::parameters::{FitParameter, to_values};
use super::targets::{Target, locate, mean_and_error};
use crate::cancel::Cancel;
use crate::engine::{self, RunOptions};
use crate::error::Result;
use crate::scenario::Scenario;

/// Evaluates targets' means for parameter values, over fixed seeds.
pub(super) struct Evaluator<'a> {
    pub(super) text: &'a str,
    pub(super) origin: &'a str,
    pub(super) overrides: &'a [String],
    pub(super) parameters: &'a [FitParameter],
    pub(super) targets: &'a [Target],
    pub(super) threads: usize,
    pub(super) cancel: Cancel,
    pub(super) evaluations: usize,
    /// Evaluations allowed (`--max-evaluations`): past it the objective
    /// returns infinity without simulating, and `capped` is set.
    pub(super) cap: usize,
    pub(super) capped: bool,
    /// The best point evaluated and its objective.
    pub(super) best: Option<(Vec<f64>, f64)>,
    /// Closest value seen per target.
    pub(super) closest: Vec<f64>,
    pub(super) bar: ProgressBar,
}

impl Evaluator<'_> {
    fn scenario(&self, values: &[f64]) -> Result<Scenario> {
        let mut all = self.overrides.to_vec();
        for (p, v) in self.parameters.iter().zip(values) {
            all.push(format!("{}={v}", p.key));
        }
        Scenario::from_toml_str(self.text, self.origin, &all)
    }

    /// Target means (and standard errors) at `values`, over `reps`
    /// replications from `seed`, with a progress bar when `progress` (the
    /// verification: one long run).
    pub(super) fn means(
        &mut self,
        values: &[f64],
        seed: u64,
        reps: u64,
        progress: bool,
    ) -> Result<Vec<(f64, f64)>> {
        let scenario = self.scenario(values)?;
        let options = RunOptions {
            seed,
            reps,
            threads: self.threads,
            progress,
            agents_reps: 0,
            cancel: self.cancel.clone(),
        };
        let run = engine::run(&scenario, &options)?;
        self.targets
            .iter()
            .map(|t| {
                let located = locate(&run.catalog, t)?;
                Ok(mean_and_error(&run.values, located))
            })
            .collect()
    }

    /// The objective at a point of the unit cube.
    pub(super) fn objective(&mut self, unit: &[f64], seed: u64, reps: u64) -> Result<f64> {
        if self.evaluations >= self.cap {
            self.capped = true;
            return Ok(f64::INFINITY);
        }
        let total = self.evaluate(unit, seed, reps)?;
        if self.best.as_ref().is_none_or(|(_, f)| total < *f) {
            self.best = Some((unit.to_vec(), total));
        }
        Ok(total)
    }

    fn evaluate(&mut self, unit: &[f64], seed: u64, reps: u64) -> Result<f64> {
        let values = to_values(self.parameters, unit);
        let means = self.means(&values, seed, reps, false)?;
        self.evaluations += 1;
        self.bar.inc(1);
        let mut total = 0.0;
        for (i, (t, (mean, _))) in self.targets.iter().zip(&means).enumerate() {
            if !mean.is_finite() {
                return Ok(f64::INFINITY);
            }
            if (mean - t.target).abs() < (self.closest[i] - t.target).abs()
                || !self.closest[i].is_finite()
            {
                self.closest[i] = *mean;
            }
            total += ((mean - t.target) / t.tolerance).powi(2);
        }
        Ok(total)
    }
}
