//! Designs that adjust for what a study observes: a logistic propensity
//! score on the observed covariates, then 1:1 nearest-neighbour matching
//! (`matched`) or inverse-probability weighting (`ipw`) of the comparison
//! group to the mediated youths.
//!
//! A study observes age, sex, race, offense, prior arrests and victim type;
//! never latent risk or motivation. Selection on those (victims declining
//! riskier youths, motivated youths consenting) is what these designs
//! cannot remove, and it shows up as bias against `true_att`.
//!
//! The propensity model is fitted here by iteratively reweighted least
//! squares (Newton's method on the log-likelihood) with a small ridge
//! penalty: 14 coefficients, a few hundred to a few thousand youths per
//! replication. A crate (`linfa-logistic`, `smartcore`) would bring a linear
//! algebra stack for one 14×14 solve; the solve here is a Cholesky
//! factorization of a few lines. The ridge keeps the fit defined when a
//! category is empty (no violent offenses) or separates the groups.
//!
//! Matching: with replacement, on the logit of the score, within a caliper
//! of 0.2 standard deviations of that logit (Austin 2011, the usual rule),
//! a tie's weight split evenly among the tied comparison youths (youths
//! with the same covariates share a score); mediated youths without a
//! comparison youth inside the caliper are left out. Weighting: ATT weights, 1 for the mediated and `e/(1-e)` for the
//! comparison. Both report the ratio of cumulative rearrest at each effect
//! month with a delta-method interval on the log scale that treats the
//! weights (match counts) as fixed, as many applied studies do; it ignores
//! the score's estimation, so coverage is a diagnosand to read, not a
//! promise.

use crate::measure::estimators::Estimate;
use crate::model::referral::Youth;
use crate::model::time::{EFFECT_STEP_MONTHS, MAX_EFFECTS};

const K: usize = MAX_EFFECTS;

/// Coefficients of the propensity model: intercept, age - 15, male, four
/// race contrasts (Hispanic the reference), five offense contrasts
/// (vandalism the reference), prior arrests, business victim.
pub const COVARIATES: usize = 14;

/// Width of the tables Newton's sums are accumulated in: a power of two
/// at least [`COVARIATES`].
const WIDE: usize = 16;

/// Ridge penalty on every coefficient but the intercept.
const RIDGE: f64 = 1e-3;

/// Caliper of the matching, in standard deviations of the score's logit.
const CALIPER_SD: f64 = 0.2;

/// What a study observes of one youth, and the youth's first rearrest:
/// compact, since a replication keeps one per mediated or comparison youth.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StudyYouth {
    age: u8,
    male: bool,
    race: u8,
    offense: u8,
    prior_arrests: u8,
    business_victim: bool,
    /// Mediated (the treated), or in the comparison group.
    pub treated: bool,
    /// Months to the first rearrest; infinite if none in follow-up.
    rearrest: f32,
}

impl StudyYouth {
    pub fn new(youth: &Youth, business_victim: bool, treated: bool, rearrest: Option<f64>) -> Self {
        StudyYouth {
            age: youth.age,
            male: youth.male,
            race: youth.race as u8,
            offense: youth.offense as u8,
            prior_arrests: youth.prior_arrests,
            business_victim,
            treated,
            rearrest: rearrest.map_or(f32::INFINITY, |t| t as f32),
        }
    }

    /// The covariate row of the propensity model (the definition
    /// [`Pattern::of_youth`] is checked against).
    #[cfg(test)]
    fn row(&self) -> [f64; COVARIATES] {
        let mut x = [0.0; COVARIATES];
        x[0] = 1.0;
        x[1] = f64::from(self.age) - 15.0;
        x[2] = f64::from(u8::from(self.male));
        if self.race > 0 {
            x[2 + self.race as usize] = 1.0;
        }
        if self.offense > 0 {
            x[6 + self.offense as usize] = 1.0;
        }
        x[12] = f64::from(self.prior_arrests);
        x[13] = f64::from(u8::from(self.business_victim));
        x
    }

    /// The observed covariates packed in one word: equal exactly when the
    /// covariate rows are.
    fn pattern_key(&self) -> u64 {
        u64::from(self.age)
            | u64::from(self.male) << 8
            | u64::from(self.race) << 16
            | u64::from(self.offense) << 24
            | u64::from(self.prior_arrests) << 32
            | u64::from(self.business_victim) << 40
    }

    /// Whether the youth was rearrested by effect month `k`.
    fn rearrested_by(&self, k: usize) -> bool {
        f64::from(self.rearrest) <= ((k + 1) * EFFECT_STEP_MONTHS) as f64
    }
}

/// The two adjusted designs' estimates at every effect month.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adjusted {
    pub matched: [Estimate; K],
    pub ipw: [Estimate; K],
}

impl Adjusted {
    pub const UNDEFINED: Adjusted = Adjusted {
        matched: [Estimate::UNDEFINED; K],
        ipw: [Estimate::UNDEFINED; K],
    };
}

/// Fits the propensity score and estimates both designs at the first
/// `effects` effect months.
pub(crate) fn adjusted(youths: &[StudyYouth], effects: usize) -> Adjusted {
    let treated = youths.iter().filter(|y| y.treated).count();
    if treated == 0 || treated == youths.len() {
        return Adjusted::UNDEFINED;
    }
    let (patterns, of_youth) = patterns(youths);
    let Some(beta) = fit_logistic(youths, &patterns) else {
        return Adjusted::UNDEFINED;
    };
    // Youths who share a row share its score: one logit per row.
    let logits: Vec<f64> = patterns.iter().map(|p| p.dot(&beta)).collect();
    let controls: Vec<u32> = patterns.iter().map(|p| p.controls()).collect();
    let scored = Scored {
        youths,
        of_youth: &of_youth,
        logits: &logits,
        controls: &controls,
    };
    Adjusted {
        matched: matched(&scored, effects),
        ipw: weighted(&scored, effects),
    }
}

/// The study's youths, each youth's covariate row (an index into `logits`),
/// each row's logit of the score and each row's comparison youths (counted
/// while grouping, not in another pass over the youths).
struct Scored<'a> {
    youths: &'a [StudyYouth],
    of_youth: &'a [u32],
    logits: &'a [f64],
    controls: &'a [u32],
}

impl Scored<'_> {
    fn logit(&self, youth: usize) -> f64 {
        self.logits[self.of_youth[youth] as usize]
    }
}

#[cfg(test)]
fn dot(a: &[f64; COVARIATES], b: &[f64; COVARIATES]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Youths who share every observed covariate: one row of the propensity
/// model, how many youths have it and how many of them were treated.
struct Pattern {
    /// The row's nonzero entries (index, value), in index order: a row has
    /// at most seven (one per covariate family), so the score's sum
    /// ([`Pattern::dot`]) skips the zeros without testing them. The entries
    /// past `nonzeros` are unused.
    nonzero: [(usize, f64); 7],
    nonzeros: usize,
    /// The same row by covariate family, for Newton's sums.
    family: Family,
    youths: f64,
    treated: f64,
}

/// A covariate row by family: the values of the covariates every row has
/// a place for, and the index of its race and offense contrasts
/// ([`WIDE`]` - 1` for the reference category, which has none).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Family {
    age: f64,
    male: f64,
    race: usize,
    offense: usize,
    priors: f64,
    business: f64,
}

impl Family {
    /// The families of a covariate row (the definition
    /// [`Pattern::of_youth`]'s are checked against).
    #[cfg(test)]
    fn of_row(row: &[f64; COVARIATES]) -> Family {
        let contrast = |indexes: std::ops::Range<usize>| {
            indexes
                .into_iter()
                .find(|&i| row[i] != 0.0)
                .unwrap_or(WIDE - 1)
        };
        Family {
            age: row[1],
            male: row[2],
            race: contrast(3..7),
            offense: contrast(7..12),
            priors: row[12],
            business: row[13],
        }
    }
}

impl Pattern {
    /// The pattern of `youth`'s row, its nonzero entries read off the
    /// covariates directly (the same entries, in the same order, as
    /// [`Pattern::new`] finds in [`StudyYouth::row`]; a test holds them
    /// equal): most youths of a replication have a row of their own, and
    /// building and scanning the dense row was a third of the grouping.
    fn of_youth(youth: &StudyYouth) -> Pattern {
        let mut nonzero = [(0, 0.0); 7];
        let mut nonzeros = 0;
        let mut push = |i: usize, x: f64| {
            if x != 0.0 {
                nonzero[nonzeros] = (i, x);
                nonzeros += 1;
            }
        };
        push(0, 1.0);
        push(1, f64::from(youth.age) - 15.0);
        push(2, f64::from(u8::from(youth.male)));
        if youth.race > 0 {
            push(2 + youth.race as usize, 1.0);
        }
        if youth.offense > 0 {
            push(6 + youth.offense as usize, 1.0);
        }
        push(12, f64::from(youth.prior_arrests));
        push(13, f64::from(u8::from(youth.business_victim)));
        let contrast = |category: u8, first: usize| {
            if category > 0 {
                first - 1 + category as usize
            } else {
                WIDE - 1
            }
        };
        let family = Family {
            age: f64::from(youth.age) - 15.0,
            male: f64::from(u8::from(youth.male)),
            race: contrast(youth.race, 3),
            offense: contrast(youth.offense, 7),
            priors: f64::from(youth.prior_arrests),
            business: f64::from(u8::from(youth.business_victim)),
        };
        Pattern {
            nonzero,
            nonzeros,
            family,
            youths: 0.0,
            treated: 0.0,
        }
    }

    #[cfg(test)]
    fn new(row: [f64; COVARIATES]) -> Pattern {
        let mut nonzero = [(0, 0.0); 7];
        let mut nonzeros = 0;
        for (i, &x) in row.iter().enumerate().filter(|(_, x)| **x != 0.0) {
            nonzero[nonzeros] = (i, x);
            nonzeros += 1;
        }
        Pattern {
            nonzero,
            nonzeros,
            family: Family::of_row(&row),
            youths: 0.0,
            treated: 0.0,
        }
    }

    /// How many of the row's youths are in the comparison group.
    fn controls(&self) -> u32 {
        (self.youths - self.treated) as u32
    }

    fn nonzero(&self) -> &[(usize, f64)] {
        &self.nonzero[..self.nonzeros]
    }

    /// `beta · row`, over the nonzero entries (the same sum: the zeros
    /// add nothing).
    fn dot(&self, beta: &[f64; COVARIATES]) -> f64 {
        self.nonzero().iter().map(|&(i, x)| beta[i] * x).sum()
    }

    /// [`Pattern::dot`] with `beta` in a table `WIDE` wide (zeros past
    /// `COVARIATES`): the same products summed in the same order, without
    /// a bounds check per entry in Newton's steps.
    fn wide_dot(&self, beta: &[f64; WIDE]) -> f64 {
        self.nonzero()
            .iter()
            .map(|&(i, x)| beta[i % WIDE] * x)
            .sum()
    }
}

/// Groups packed covariate keys (see [`StudyYouth::pattern_key`]): an
/// open-addressing table with linear probing, one multiply to hash
/// (Fibonacci hashing), sized once for every youth of the replication.
///
/// Why not std's `HashMap`: it was sized for a quarter of the youths but
/// ended with half of them as distinct rows at 480 youths, so it grew twice
/// a replication, and its entry lookups alone were 1.3% of a run.
/// The keys come from the program, not from an adversary, and the table
/// only groups them (the rows keep their order of first appearance).
///
/// Sized for the youths expected, up to [`KeyTable::FIRST_KEYS`] keys, and
/// doubled whenever it would be more than half full: the distinct rows are
/// bounded by the covariates' combinations, not by the youths, so a table
/// for every youth of a very large replication would be mostly empty.
struct KeyTable {
    /// (key, row) per slot; [`KeyTable::EMPTY`] marks a free slot.
    slots: Vec<(u64, u32)>,
    /// Right shift taking a hash's top bits to a slot.
    shift: u32,
    /// Keys in the table.
    keys: usize,
}

impl KeyTable {
    /// No packed key sets the top bit (they use the low 41 bits).
    const EMPTY: u64 = u64::MAX;

    /// Most keys a new table has room for (64 KB of slots); it grows
    /// past them when it must.
    const FIRST_KEYS: usize = 1 << 12;

    /// A table with room for `keys` keys (at most [`KeyTable::FIRST_KEYS`])
    /// before it grows.
    fn with_keys(keys: usize) -> KeyTable {
        KeyTable::with_slots(
            (2 * keys.min(KeyTable::FIRST_KEYS))
                .next_power_of_two()
                .max(16),
        )
    }

    fn with_slots(slots: usize) -> KeyTable {
        KeyTable {
            slots: vec![(KeyTable::EMPTY, 0); slots],
            shift: 64 - slots.trailing_zeros(),
            keys: 0,
        }
    }

    /// The table twice as large, with the same keys and rows.
    fn grow(&mut self) {
        let mut larger = KeyTable::with_slots(2 * self.slots.len());
        for &(key, row) in self.slots.iter().filter(|s| s.0 != KeyTable::EMPTY) {
            larger.row_or_insert(key, row);
        }
        *self = larger;
    }

    /// The row of `key`, or `new_row` (recorded as the key's) if the key
    /// is not in the table yet.
    fn row_or_insert(&mut self, key: u64, new_row: u32) -> u32 {
        if 2 * (self.keys + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize;
        loop {
            let slot = &mut self.slots[at];
            if slot.0 == key {
                return slot.1;
            }
            if slot.0 == KeyTable::EMPTY {
                *slot = (key, new_row);
                self.keys += 1;
                return new_row;
            }
            at = (at + 1) & mask;
        }
    }
}

/// The distinct covariate rows of `youths`, in order of first appearance,
/// and each youth's row (an index into them).
///
/// Why: every covariate is categorical or a small count, so a replication
/// of thousands of youths has far fewer distinct rows, and the logistic
/// likelihood of youths sharing a row is one binomial term. Newton's steps
/// then cost one pass over the rows instead of one over the youths (the
/// fit was a fifth of a replication's time at 600 referrals a month).
///
/// The rows are reserved for every youth: half the youths had a row of
/// their own at 480 youths, and growing the rows one doubling at a time
/// moved them seven times a replication.
fn patterns(youths: &[StudyYouth]) -> (Vec<Pattern>, Vec<u32>) {
    let mut table = KeyTable::with_keys(youths.len());
    let mut patterns: Vec<Pattern> = Vec::with_capacity(youths.len().min(KeyTable::FIRST_KEYS));
    let mut of_youth = Vec::with_capacity(youths.len());
    for y in youths {
        let at = table.row_or_insert(y.pattern_key(), patterns.len() as u32);
        if at as usize == patterns.len() {
            patterns.push(Pattern::of_youth(y));
        }
        let pattern = &mut patterns[at as usize];
        pattern.youths += 1.0;
        pattern.treated += f64::from(u8::from(y.treated));
        of_youth.push(at);
    }
    (patterns, of_youth)
}

/// Logistic regression of `treated` on the covariates by Newton's method
/// (IRLS) with a ridge penalty, over the distinct covariate rows; `None` if
/// a step is not finite or the system is not positive definite. After 50
/// steps the last one stands (Newton converges in a handful on these few
/// covariates).
fn fit_logistic(youths: &[StudyYouth], patterns: &[Pattern]) -> Option<[f64; COVARIATES]> {
    let mut beta = [0.0; COVARIATES];
    // Start at the treated share, which is where most of the fit is.
    let share = youths.iter().filter(|y| y.treated).count() as f64 / youths.len() as f64;
    beta[0] = (share / (1.0 - share)).ln();
    for _ in 0..50 {
        let wide_beta: [f64; WIDE] = std::array::from_fn(|i| beta.get(i).copied().unwrap_or(0.0));
        let (gradient, wide) = newton_sums(patterns, &wide_beta);
        let mut gradient: [f64; COVARIATES] = std::array::from_fn(|i| gradient[i]);
        let mut hessian: [[f64; COVARIATES]; COVARIATES] =
            std::array::from_fn(|i| std::array::from_fn(|j| wide[i][j]));
        for i in 1..COVARIATES {
            gradient[i] -= RIDGE * beta[i];
            hessian[i][i] += RIDGE;
        }
        let step = solve_cholesky(&hessian, &gradient)?;
        let mut largest: f64 = 0.0;
        for (b, s) in beta.iter_mut().zip(step) {
            *b += s;
            largest = largest.max(s.abs());
        }
        if !largest.is_finite() {
            return None;
        }
        if largest < 1e-8 {
            return Some(beta);
        }
    }
    Some(beta)
}

/// The sums of one Newton step at `beta`: the gradient and the Hessian's
/// lower triangle, in tables `WIDE` wide (indexed by covariate; row and
/// column `WIDE - 1` take what absent covariates add, and are never read).
///
/// Every cell is the sum over the rows, in their order, of the terms
/// `(w * xi) * xj` (and `residual * xi`) the sparse sums over each row's
/// nonzero entries added, with a row's zero entries adding `w * 0`, a
/// zero: a sum that starts at +0 never becomes -0, so a zero term leaves
/// it unchanged (and a step whose `w` is not finite makes the intercept's
/// cell NaN either way, which the Cholesky factorization refuses). A test
/// holds the sums to the sparse ones, bit for bit.
///
/// Why: the cells of the covariates every row has a place for (intercept,
/// age, male, prior arrests, business victim) are sums in registers
/// across the rows. Added in the tables, each row's terms waited on the
/// previous row's stores to the same cells (a third of the adjusted
/// designs' time went to those stores); only the race and offense cells,
/// which move with the row, stay in the tables.
fn newton_sums(patterns: &[Pattern], beta: &[f64; WIDE]) -> ([f64; WIDE], [[f64; WIDE]; WIDE]) {
    let mut gradient = [0.0; WIDE];
    let mut wide = [[0.0; WIDE]; WIDE];
    // The fixed cells: gradient at 0, 1, 2, 12, 13, and the Hessian's
    // lower triangle among those indexes, row by row.
    let (mut g0, mut g1, mut g2, mut g12, mut g13) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut h00, mut h10, mut h11, mut h20, mut h21, mut h22) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut h12_0, mut h12_1, mut h12_2, mut h12_12) = (0.0, 0.0, 0.0, 0.0);
    let (mut h13_0, mut h13_1, mut h13_2, mut h13_12, mut h13_13) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for pattern in patterns {
        let p = 1.0 / (1.0 + (-pattern.wide_dot(beta)).exp());
        let residual = pattern.treated - pattern.youths * p;
        let w = pattern.youths * p * (1.0 - p);
        let Family {
            age: a,
            male: m,
            race: r,
            offense: o,
            priors: q,
            business: b,
        } = pattern.family;
        // (`% WIDE` changes no index, every one being below it: said so,
        // the compiler drops the bounds checks of the tables.)
        let (r, o) = (r % WIDE, o % WIDE);
        // `w * xi` once per row entry, as the sparse sums did; an entry of
        // 1 (the intercept, a race or an offense) multiplies exactly.
        let (wa, wm, wq, wb) = (w * a, w * m, w * q, w * b);
        g0 += residual;
        g1 += residual * a;
        g2 += residual * m;
        g12 += residual * q;
        g13 += residual * b;
        gradient[r] += residual;
        gradient[o] += residual;
        h00 += w;
        h10 += wa;
        h11 += wa * a;
        h20 += wm;
        h21 += wm * a;
        h22 += wm * m;
        h12_0 += wq;
        h12_1 += wq * a;
        h12_2 += wq * m;
        h12_12 += wq * q;
        h13_0 += wb;
        h13_1 += wb * a;
        h13_2 += wb * m;
        h13_12 += wb * q;
        h13_13 += wb * b;
        let race_row = &mut wide[r];
        race_row[0] += w;
        race_row[1] += wa;
        race_row[2] += wm;
        race_row[r] += w;
        let offense_row = &mut wide[o];
        offense_row[0] += w;
        offense_row[1] += wa;
        offense_row[2] += wm;
        offense_row[r] += w;
        offense_row[o] += w;
        wide[12][r] += wq;
        wide[12][o] += wq;
        wide[13][r] += wb;
        wide[13][o] += wb;
    }
    [
        gradient[0],
        gradient[1],
        gradient[2],
        gradient[12],
        gradient[13],
    ] = [g0, g1, g2, g12, g13];
    [wide[0][0], wide[1][0], wide[1][1]] = [h00, h10, h11];
    [wide[2][0], wide[2][1], wide[2][2]] = [h20, h21, h22];
    [wide[12][0], wide[12][1], wide[12][2], wide[12][12]] = [h12_0, h12_1, h12_2, h12_12];
    [wide[13][0], wide[13][1], wide[13][2]] = [h13_0, h13_1, h13_2];
    [wide[13][12], wide[13][13]] = [h13_12, h13_13];
    (gradient, wide)
}

/// Solves `A x = b` for a symmetric positive definite `A` given by its
/// lower triangle; `None` if it is not positive definite.
fn solve_cholesky(
    a: &[[f64; COVARIATES]; COVARIATES],
    b: &[f64; COVARIATES],
) -> Option<[f64; COVARIATES]> {
    let n = COVARIATES;
    let mut l = [[0.0; COVARIATES]; COVARIATES];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - sum;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - sum) / l[j][j];
            }
        }
    }
    let mut z = [0.0; COVARIATES];
    for i in 0..n {
        let sum: f64 = (0..i).map(|k| l[i][k] * z[k]).sum();
        z[i] = (b[i] - sum) / l[i][i];
    }
    let mut x = [0.0; COVARIATES];
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| l[k][i] * x[k]).sum();
        x[i] = (z[i] - sum) / l[i][i];
    }
    Some(x)
}

/// The first effect month (of the first `effects`) by which the youth was
/// rearrested, or `effects` if none.
///
/// The month is computed, then corrected by the exact comparison of
/// [`StudyYouth::rearrested_by`] (so a time on a boundary falls where the
/// search over months put it): a search over the months was a tenth of the
/// adjusted designs' time.
fn first_effect_month(youth: &StudyYouth, effects: usize) -> usize {
    let t = f64::from(youth.rearrest);
    if effects == 0 || t.is_nan() || t > (effects * EFFECT_STEP_MONTHS) as f64 {
        return effects;
    }
    // The truncated quotient (no call to libm's `ceil`): at most one month
    // from the answer, which the comparisons below settle exactly.
    let mut k = ((t / EFFECT_STEP_MONTHS as f64) as usize).min(effects - 1);
    while k > 0 && youth.rearrested_by(k - 1) {
        k -= 1;
    }
    while !youth.rearrested_by(k) {
        k += 1;
    }
    k
}

/// The ratio of the treated's cumulative rearrest to the weighted
/// comparison's at each of the first `effects` effect months, with a
/// delta-method interval on the log scale treating the weights as fixed.
/// `treated`: the treated youths counted (each weight 1); `comparison`:
/// (youth, weight) pairs.
///
/// One pass over the youths: each adds its weight (and squared weight) to
/// the month of its first rearrest, and the months' cumulative sums give
/// every ratio (a pass per month was a tenth of a replication's time). The
/// totals are summed in the same pass, in the same order, so the groups
/// need not be collected first (collecting them, growing each vector as it
/// went, was a twentieth of the adjusted designs' instructions).
fn by_effect_month<'a>(
    treated: impl IntoIterator<Item = &'a StudyYouth>,
    comparison: impl IntoIterator<Item = (&'a StudyYouth, f64)>,
    effects: usize,
) -> [Estimate; K] {
    let mut estimates = [Estimate::UNDEFINED; K];
    let mut treated_events = [0u64; K + 1];
    let mut n1 = 0usize;
    for y in treated {
        treated_events[first_effect_month(y, effects)] += 1;
        n1 += 1;
    }
    // Sums start at -0.0, as `Iterator::sum` does.
    let (mut total, mut total_squares) = (-0.0, -0.0);
    let (mut weights, mut squares) = ([0.0; K + 1], [0.0; K + 1]);
    for (y, w) in comparison {
        total += w;
        total_squares += w * w;
        let k = first_effect_month(y, effects);
        weights[k] += w;
        squares[k] += w * w;
    }
    let n1 = n1 as f64;
    if n1 == 0.0 || total <= 0.0 {
        return estimates;
    }
    let (mut events1, mut events0, mut squares1) = (0u64, 0.0, 0.0);
    for (k, estimate) in estimates.iter_mut().enumerate().take(effects) {
        events1 += treated_events[k];
        events0 += weights[k];
        squares1 += squares[k];
        let p1 = events1 as f64 / n1;
        let p0 = events0 / total;
        if p0 <= 0.0 {
            continue;
        }
        // The weighted variance of the comparison's indicator: the
        // rearrested contribute w²(1 - p0)², the others w²p0².
        let squares0 = (total_squares - squares1).max(0.0);
        let var_p0 = (squares1 * (1.0 - p0).powi(2) + squares0 * p0 * p0) / (total * total);
        // No treated event: a ratio of 0 without an interval.
        let se = if p1 > 0.0 {
            ((1.0 - p1) / (p1 * n1) + var_p0 / (p0 * p0)).sqrt()
        } else {
            f64::NAN
        };
        *estimate = Estimate::with_log_se(p1 / p0, se);
    }
    estimates
}

/// ATT weighting: the comparison weighted by the odds of the score.
fn weighted(scored: &Scored, effects: usize) -> [Estimate; K] {
    let odds: Vec<f64> = scored.logits.iter().map(|l| l.exp()).collect();
    let treated = scored.youths.iter().filter(|y| y.treated);
    let comparison = scored
        .youths
        .iter()
        .zip(scored.of_youth)
        .filter(|(y, _)| !y.treated)
        .map(|(y, &row)| (y, odds[row as usize]));
    by_effect_month(treated, comparison, effects)
}

/// The order of `total_cmp` as an unsigned integer's: negative numbers
/// (sign bit set) with every bit flipped, the others with the sign flipped.
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    bits ^ (((bits as i64 >> 63) as u64) | 1 << 63)
}

/// 1:1 nearest-neighbour matching with replacement on the score's logit,
/// within the caliper.
///
/// Comparison youths with the same logit (the same covariates) are one
/// candidate: a mediated youth's weight is split evenly among them. So the
/// search runs over the distinct logits, and each comparison youth's
/// weight is its logit's matches over the youths sharing it.
fn matched(scored: &Scored, effects: usize) -> [Estimate; K] {
    let youths = scored.youths;
    let n = youths.len() as f64;
    let mean = (0..youths.len()).map(|i| scored.logit(i)).sum::<f64>() / n;
    let sd = ((0..youths.len())
        .map(|i| (scored.logit(i) - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0).max(1.0))
    .sqrt();
    let caliper = CALIPER_SD * sd;
    // The comparison youths' distinct logits, ascending, and how many
    // comparison youths have each.
    let rows = scored.logits.len();
    let controls_of_row = scored.controls;
    // Rows by logit in `total_cmp`'s order, equal logits by row: the
    // order a stable sort of the rows by logit gives. Packed in one
    // integer each, an unstable sort without indirection does it (the
    // stable sort comparing logits through the rows was a twentieth of
    // the adjusted designs' time).
    let mut by_logit: Vec<u128> = Vec::with_capacity(rows);
    for (row, (&logit, &controls)) in scored.logits.iter().zip(controls_of_row).enumerate() {
        if controls > 0 {
            by_logit.push(u128::from(total_order_key(logit)) << 32 | row as u128);
        }
    }
    by_logit.sort_unstable();
    let (mut values, mut controls) = (Vec::with_capacity(rows), Vec::with_capacity(rows));
    let mut value_of_row = vec![usize::MAX; rows];
    for row in by_logit.into_iter().map(|packed| packed as u32 as usize) {
        let logit = scored.logits[row];
        if values.last() == Some(&logit) {
            *controls.last_mut().expect("a value has its count") += controls_of_row[row];
        } else {
            values.push(logit);
            controls.push(controls_of_row[row]);
        }
        value_of_row[row] = values.len() - 1;
    }
    // Each mediated youth's nearest comparison logit (the lower on a tie of
    // distances), if inside the caliper.
    let mut matches = vec![0u32; values.len()];
    let mut treated = Vec::with_capacity(youths.len());
    for (i, y) in youths.iter().enumerate().filter(|(_, y)| y.treated) {
        let l = scored.logit(i);
        let at = values.partition_point(|&v| v < l);
        let nearest = [at.checked_sub(1), (at < values.len()).then_some(at)]
            .into_iter()
            .flatten()
            .min_by(|&a, &b| (values[a] - l).abs().total_cmp(&(values[b] - l).abs()));
        let Some(v) = nearest.filter(|&v| (values[v] - l).abs() <= caliper) else {
            continue;
        };
        matches[v] += 1;
        treated.push(y);
    }
    let comparison = youths
        .iter()
        .zip(scored.of_youth)
        .filter(|(y, _)| !y.treated)
        .filter_map(|(y, &row)| {
            let v = value_of_row[row as usize];
            (matches[v] > 0).then(|| (y, f64::from(matches[v]) / f64::from(controls[v])))
        });
    by_effect_month(treated, comparison, effects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn youth(age: u8, male: bool, treated: bool, rearrest: Option<f64>) -> StudyYouth {
        StudyYouth {
            age,
            male,
            race: 0,
            offense: 0,
            prior_arrests: 0,
            business_victim: false,
            treated,
            rearrest: rearrest.map_or(f32::INFINITY, |t| t as f32),
        }
    }

    /// The fit one youth at a time, as it was before rows were grouped.
    fn fit_by_youth(youths: &[StudyYouth]) -> [f64; COVARIATES] {
        let mut beta = [0.0; COVARIATES];
        let share = youths.iter().filter(|y| y.treated).count() as f64 / youths.len() as f64;
        beta[0] = (share / (1.0 - share)).ln();
        for _ in 0..50 {
            let mut gradient = [0.0; COVARIATES];
            let mut hessian = [[0.0; COVARIATES]; COVARIATES];
            for y in youths {
                let x = y.row();
                let p = 1.0 / (1.0 + (-dot(&beta, &x)).exp());
                for i in 0..COVARIATES {
                    gradient[i] += (f64::from(u8::from(y.treated)) - p) * x[i];
                    for j in 0..=i {
                        hessian[i][j] += p * (1.0 - p) * x[i] * x[j];
                    }
                }
            }
            for i in 1..COVARIATES {
                gradient[i] -= RIDGE * beta[i];
                hessian[i][i] += RIDGE;
            }
            let step = solve_cholesky(&hessian, &gradient).unwrap();
            for (b, s) in beta.iter_mut().zip(step) {
                *b += s;
            }
        }
        beta
    }

    #[test]
    fn grouping_youths_by_covariates_leaves_the_fit_unchanged() {
        // Youths over every covariate, treatment depending on several of
        // them (a deterministic pseudo-random pattern).
        let mut youths = Vec::new();
        for i in 0u32..8000 {
            let h = i.wrapping_mul(2_654_435_761);
            youths.push(StudyYouth {
                treated: (h >> 15) % 7 < 2 + (h % 8) / 3,
                ..scrambled_youth(i)
            });
        }
        let rows = patterns(&youths).0;
        assert!(rows.len() < youths.len() / 2);
        let grouped = fit_logistic(&youths, &rows).unwrap();
        let by_youth = fit_by_youth(&youths);
        for (g, y) in grouped.iter().zip(by_youth) {
            // The same likelihood summed in another order: equal up to
            // rounding (Newton converges to 1e-8 steps; rounding is 1e-12).
            assert!((g - y).abs() < 1e-7, "{grouped:?} vs {by_youth:?}");
        }
    }

    /// The key table groups as a map from key to its first appearance
    /// does, through collisions, a half-full table and its growth (sized
    /// for fewer keys than it meets), and the grouping
    /// keeps the rows in order of first appearance with the same counts;
    /// the packed keys sort the matching's rows by logit as the stable
    /// sort did.
    #[test]
    fn the_key_table_groups_as_a_map_does() {
        for (keys, room) in [(0u64, 0), (1, 1), (7, 7), (8, 8), (100, 100), (1000, 1000)]
            .into_iter()
            .chain([(1000, 3), (10_000, 10_000)])
        {
            let mut table = KeyTable::with_keys(room);
            let mut first: HashMap<u64, u32> = HashMap::new();
            for i in 0..3 * keys {
                // `keys` distinct keys sharing their low bits, each met
                // three times in a scrambled order.
                let key = (i * 7919 % keys) << 20;
                let next = first.len() as u32;
                let expected = *first.entry(key).or_insert(next);
                assert_eq!(table.row_or_insert(key, next), expected);
            }
            assert_eq!(first.len() as u64, keys);
        }
        let youths: Vec<StudyYouth> = (0u32..3000)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761);
                let mut y = youth(
                    10 + (h % 8) as u8,
                    (h >> 3) % 3 != 0,
                    (h >> 15) % 3 == 0,
                    None,
                );
                y.race = ((h >> 5) % 5) as u8;
                y.offense = ((h >> 8) % 6) as u8;
                y.prior_arrests = ((h >> 11) % 4) as u8;
                y
            })
            .collect();
        let (rows, of_youth) = patterns(&youths);
        let mut first: HashMap<u64, usize> = HashMap::new();
        let mut counts: Vec<(f64, f64)> = Vec::new();
        for (y, &row) in youths.iter().zip(&of_youth) {
            let next = first.len();
            let expected = *first.entry(y.pattern_key()).or_insert(next);
            assert_eq!(row as usize, expected);
            if expected == counts.len() {
                counts.push((0.0, 0.0));
                assert_eq!(rows[expected].nonzero(), Pattern::of_youth(y).nonzero());
            }
            counts[expected].0 += 1.0;
            counts[expected].1 += f64::from(u8::from(y.treated));
        }
        assert_eq!(rows.len(), counts.len());
        for (row, (youths, treated)) in rows.iter().zip(counts) {
            assert_eq!((row.youths, row.treated), (youths, treated));
        }
        let mut logits = vec![1.5, -0.0, 0.0, -2.0, 1.5, f64::INFINITY, -2.0, 0.25];
        logits.extend((0..200).map(|i| f64::from(i % 17) / 4.0 - 2.0));
        let mut stable: Vec<usize> = (0..logits.len()).collect();
        stable.sort_by(|&a, &b| logits[a].total_cmp(&logits[b]));
        let mut packed: Vec<u128> = (0..logits.len())
            .map(|row| u128::from(total_order_key(logits[row])) << 32 | row as u128)
            .collect();
        packed.sort_unstable();
        let unstable: Vec<usize> = packed.iter().map(|&p| p as u32 as usize).collect();
        assert_eq!(unstable, stable);
    }

    /// A pattern read off the covariates has the dense row's nonzero
    /// entries, and the computed first effect month is the searched one,
    /// boundaries and times past the last month included.
    #[test]
    fn shortcuts_agree_with_their_definitions() {
        for i in 0u32..20_000 {
            let h = i.wrapping_mul(2_654_435_761);
            let months = [
                0.0, 0.5, 6.0, 6.000_001, 11.99, 12.0, 29.0, 30.0, 59.9, 60.0, 61.0,
            ];
            let youth = StudyYouth {
                rearrest: match (h >> 16) % 13 {
                    11 => f32::INFINITY,
                    12 => (h % 1000) as f32 / 13.0,
                    k => months[k as usize] as f32,
                },
                ..scrambled_youth(i)
            };
            assert_eq!(
                Pattern::of_youth(&youth).nonzero(),
                Pattern::new(youth.row()).nonzero()
            );
            assert_eq!(
                Pattern::of_youth(&youth).family,
                Pattern::new(youth.row()).family
            );
            for effects in 0..=K {
                let searched = (0..effects)
                    .find(|&k| youth.rearrested_by(k))
                    .unwrap_or(effects);
                assert_eq!(first_effect_month(&youth, effects), searched, "{youth:?}");
            }
        }
    }

    /// Youth `i` of a fixed scramble over every covariate's values (age 15
    /// and the reference race and offense included), never rearrested.
    fn scrambled_youth(i: u32) -> StudyYouth {
        let h = i.wrapping_mul(2_654_435_761);
        StudyYouth {
            age: 10 + (h % 9) as u8,
            male: !(h >> 4).is_multiple_of(3),
            race: ((h >> 6) % 5) as u8,
            offense: ((h >> 9) % 6) as u8,
            prior_arrests: ((h >> 12) % 5) as u8,
            business_victim: (h >> 15).is_multiple_of(4),
            treated: false,
            rearrest: f32::INFINITY,
        }
    }

    /// Newton's sums by family are the sparse sums over each row's nonzero
    /// entries to the bit: rows with and without every covariate (age 15,
    /// no race or offense contrast, no priors), weights of every size, and
    /// a `beta` that sends some rows' scores to 0 and 1.
    #[test]
    fn newton_sums_by_family_are_the_sparse_sums() {
        let sparse = |patterns: &[Pattern], beta: &[f64; WIDE]| {
            let mut gradient = [0.0; WIDE];
            let mut hessian = [[0.0; WIDE]; WIDE];
            for pattern in patterns {
                let p = 1.0 / (1.0 + (-pattern.wide_dot(beta)).exp());
                let residual = pattern.treated - pattern.youths * p;
                let w = pattern.youths * p * (1.0 - p);
                let nonzero = pattern.nonzero();
                for (a, &(i, xi)) in nonzero.iter().enumerate() {
                    gradient[i] += residual * xi;
                    for &(j, xj) in &nonzero[..=a] {
                        hessian[i][j] += w * xi * xj;
                    }
                }
            }
            (gradient, hessian)
        };
        let patterns: Vec<Pattern> = (0u32..3_000)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761);
                let mut pattern = Pattern::of_youth(&scrambled_youth(i));
                pattern.youths = f64::from(1 + (h >> 17) % 7);
                pattern.treated = f64::from((h >> 20) % 3).min(pattern.youths);
                pattern
            })
            .collect();
        for scale in [0.0, 0.1, 1.0, 40.0] {
            let beta: [f64; WIDE] = std::array::from_fn(|i| {
                if i < COVARIATES {
                    scale * (i as f64 * 0.37 - 2.1).sin()
                } else {
                    0.0
                }
            });
            let (gradient, wide) = newton_sums(&patterns, &beta);
            let (expected_gradient, expected) = sparse(&patterns, &beta);
            for i in 0..COVARIATES {
                assert_eq!(
                    gradient[i].to_bits(),
                    expected_gradient[i].to_bits(),
                    "g{i}"
                );
                for j in 0..=i {
                    assert_eq!(wide[i][j].to_bits(), expected[i][j].to_bits(), "h{i},{j}");
                }
            }
        }
    }

    #[test]
    fn cumulative_sums_give_the_ratio_month_by_month() {
        // Against the direct formula at each month: p1 / p0 and the
        // delta-method standard error from the weighted indicator variance.
        let youths: Vec<StudyYouth> = (0u32..500)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761) >> 7;
                let t = (h % 40) as f64 + 0.5;
                youth(15, true, i % 3 == 0, (t <= 30.0).then_some(t))
            })
            .collect();
        let treated: Vec<&StudyYouth> = youths.iter().filter(|y| y.treated).collect();
        let comparison: Vec<(&StudyYouth, f64)> = youths
            .iter()
            .filter(|y| !y.treated)
            .enumerate()
            .map(|(i, y)| (y, 0.5 + (i % 5) as f64))
            .collect();
        let estimates = by_effect_month(treated.iter().copied(), comparison.iter().copied(), 5);
        for (k, estimate) in estimates.iter().enumerate().take(5) {
            let n1 = treated.len() as f64;
            let p1 = treated.iter().filter(|y| y.rearrested_by(k)).count() as f64 / n1;
            let total: f64 = comparison.iter().map(|(_, w)| w).sum();
            let p0: f64 = comparison
                .iter()
                .filter(|(y, _)| y.rearrested_by(k))
                .map(|(_, w)| w)
                .sum::<f64>()
                / total;
            let var_p0: f64 = comparison
                .iter()
                .map(|(y, w)| (w * (f64::from(u8::from(y.rearrested_by(k))) - p0)).powi(2))
                .sum::<f64>()
                / (total * total);
            let se = ((1.0 - p1) / (p1 * n1) + var_p0 / (p0 * p0)).sqrt();
            let expected = Estimate::with_log_se(p1 / p0, se);
            // Sums in another order: equal up to rounding.
            assert!((estimate.ratio - expected.ratio).abs() < 1e-12, "month {k}");
            assert!((estimate.lower - expected.lower).abs() < 1e-12, "month {k}");
            assert!((estimate.upper - expected.upper).abs() < 1e-12, "month {k}");
        }
        assert!(estimates[5].ratio.is_nan());
    }

    #[test]
    fn matching_on_distinct_logits_matches_youth_by_youth() {
        // The matching as it was, one comparison youth at a time (ties
        // split among youths with the same logit), against the one over
        // distinct logits: the same weights, so the same estimates.
        let youths: Vec<StudyYouth> = (0u32..3000)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761);
                let t = ((h >> 20) % 40) as f64 + 0.5;
                let mut y = youth(10 + (h % 8) as u8, (h >> 3) % 3 != 0, false, None);
                y.race = ((h >> 5) % 5) as u8;
                y.offense = ((h >> 8) % 3) as u8;
                y.treated = (h >> 15) % 7 < 1 + (h % 8) / 3;
                y.rearrest = if t <= 30.0 { t as f32 } else { f32::INFINITY };
                y
            })
            .collect();
        let (rows, of_youth) = patterns(&youths);
        let beta = fit_logistic(&youths, &rows).unwrap();
        let logits: Vec<f64> = rows.iter().map(|p| p.dot(&beta)).collect();
        let controls: Vec<u32> = rows.iter().map(|p| p.controls()).collect();
        let scored = Scored {
            youths: &youths,
            of_youth: &of_youth,
            logits: &logits,
            controls: &controls,
        };
        let by_youth: Vec<f64> = (0..youths.len()).map(|i| scored.logit(i)).collect();
        let n = by_youth.len() as f64;
        let mean = by_youth.iter().sum::<f64>() / n;
        let sd = (by_youth.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let mut controls: Vec<(f64, usize)> = (0..youths.len())
            .filter(|&i| !youths[i].treated)
            .map(|i| (by_youth[i], i))
            .collect();
        controls.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut weights = vec![0.0; youths.len()];
        let mut treated = Vec::new();
        for i in (0..youths.len()).filter(|&i| youths[i].treated) {
            let l = by_youth[i];
            let at = controls.partition_point(|c| c.0 < l);
            let nearest = [at.checked_sub(1), (at < controls.len()).then_some(at)]
                .into_iter()
                .flatten()
                .map(|j| controls[j].0)
                .min_by(|a, b| (a - l).abs().total_cmp(&(b - l).abs()));
            let Some(lc) = nearest.filter(|lc| (lc - l).abs() <= CALIPER_SD * sd) else {
                continue;
            };
            let ties =
                controls.partition_point(|c| c.0 < lc)..controls.partition_point(|c| c.0 <= lc);
            let share = 1.0 / ties.len() as f64;
            for &(_, j) in &controls[ties] {
                weights[j] += share;
            }
            treated.push(&youths[i]);
        }
        let comparison: Vec<(&StudyYouth, f64)> = youths
            .iter()
            .zip(&weights)
            .filter(|(_, w)| **w > 0.0)
            .map(|(y, &w)| (y, w))
            .collect();
        let expected = by_effect_month(treated.iter().copied(), comparison, 5);
        let got = matched(&scored, 5);
        for k in 0..5 {
            assert!(expected[k].ratio.is_finite(), "month {k}");
            // Weights summed share by share or as one quotient: equal up
            // to rounding.
            assert!((got[k].ratio - expected[k].ratio).abs() < 1e-9, "month {k}");
            assert!((got[k].upper - expected[k].upper).abs() < 1e-9, "month {k}");
        }
    }

    #[test]
    fn the_logistic_fit_recovers_known_odds() {
        // Boys treated with odds 3 (75%), girls with odds 1/3 (25%).
        let mut youths = Vec::new();
        for i in 0..400 {
            youths.push(youth(15, true, i % 4 != 0, None));
            youths.push(youth(15, false, i % 4 == 0, None));
        }
        let beta = fit_logistic(&youths, &patterns(&youths).0).unwrap();
        assert!((beta[0] - (1.0f64 / 3.0).ln()).abs() < 1e-2, "{beta:?}");
        assert!((beta[2] - 9f64.ln()).abs() < 1e-2, "{beta:?}");
    }

    #[test]
    fn cholesky_solves_a_small_system() {
        let mut a = [[0.0; COVARIATES]; COVARIATES];
        let mut b = [0.0; COVARIATES];
        for i in 0..COVARIATES {
            a[i][i] = 2.0;
            b[i] = 2.0 * i as f64;
            if i > 0 {
                a[i][i - 1] = 0.5;
            }
        }
        let x = solve_cholesky(&a, &b).unwrap();
        // Check A x = b with the full symmetric A.
        for i in 0..COVARIATES {
            let mut sum = 2.0 * x[i];
            if i > 0 {
                sum += 0.5 * x[i - 1];
            }
            if i + 1 < COVARIATES {
                sum += 0.5 * x[i + 1];
            }
            assert!((sum - b[i]).abs() < 1e-12);
        }
    }

    #[test]
    fn adjustment_removes_observed_confounding() {
        // Boys are rearrested more (50% vs 10%) and treated more (75% vs
        // 25%); treatment does nothing. The crude ratio is biased upward;
        // matching and weighting on sex give 1.
        let mut youths = Vec::new();
        for i in 0..800 {
            // Rearrest follows i / 4, independent of treatment (i % 4).
            let boy_rearrested = ((i / 4) % 2 == 0).then_some(3.0);
            let girl_rearrested = ((i / 4) % 10 == 0).then_some(3.0);
            youths.push(youth(15, true, i % 4 != 0, boy_rearrested));
            youths.push(youth(15, false, i % 4 == 0, girl_rearrested));
        }
        let a = adjusted(&youths, 5);
        for e in [a.matched[0], a.ipw[0]] {
            assert!((e.ratio - 1.0).abs() < 0.02, "{e:?}");
            assert!(e.lower < 1.0 && e.upper > 1.0);
        }
        let crude = |treated: bool| {
            let group: Vec<_> = youths.iter().filter(|y| y.treated == treated).collect();
            group.iter().filter(|y| y.rearrested_by(0)).count() as f64 / group.len() as f64
        };
        assert!(crude(true) / crude(false) > 1.5);
    }

    #[test]
    fn without_both_groups_nothing_is_estimated() {
        let youths = vec![youth(15, true, true, None); 10];
        assert!(adjusted(&youths, 5).ipw[0].ratio.is_nan());
        assert!(adjusted(&[], 5).matched[0].ratio.is_nan());
    }
}
