//! The output files' rows: `summary.csv`, `replications.csv`,
//! `diagnosis.csv` and `agents.csv` in the columns of DESIGN.md's contract,
//! their headers, and the one number formatter every CSV uses.
//!
//! Serializing is separate from where bytes go (every writer takes any
//! `io::Write`), so formats are testable without files; [`super::folder`]
//! decides where the bytes land.

use std::io::{self, Write};

use crate::engine::replication::AgentRecord;
use crate::measure::diagnosis::DiagnosisRow;
use crate::measure::metrics::{Disposition, MetricKey};
use crate::measure::stats::summarize_finite;

/// Header of `summary.csv` of a run (a sweep adds its parameters after
/// `point`).
pub const SUMMARY_HEADER: &str = "point,metric,group,month,mean,sd,q025,q500,q975,reps";
/// Header of `replications.csv` of a run.
pub const REPLICATIONS_HEADER: &str = "point,rep,metric,group,month,value";
/// Header of `diagnosis.csv` of a run (a sweep puts its point columns first).
pub const DIAGNOSIS_HEADER: &str = "estimator,month,estimand,mean,bias,rmse,coverage,power,reps,median,log_bias,log_rmse,undefined";
/// Header of `compare.csv`: one row per run B compared with run A (the
/// baseline) and compared metric; `b` names run B's folder.
pub const COMPARE_HEADER: &str =
    "metric,group,month,a_mean,b_mean,difference,lower,upper,better,p_a_better,paired,b";
/// Header of `size.csv` (DESIGN.md), written by `vomsim size`.
pub const SIZE_HEADER: &str = "value,active_mediators_mean,wait_days_q,returned_share,meets_target,share_meeting,share_lower,share_upper,reps,wait_to,wait_days,quantile,confidence,max_returned_share";
/// Header of `size.csv` as vomsim wrote it before the bisection (issue 19):
/// still recognized by `--force`.
pub const SIZE_HEADER_GRID: &str =
    "value,active_mediators_mean,wait_days_q,returned_share,meets_target";
/// Header of `sensitivity.csv`, written by a Sobol sweep
/// (`analysis::sweep::sobol`) and read by the report.
pub const SENSITIVITY_HEADER: &str = "metric,group,month,parameter,first_order,first_lower,first_upper,total,total_lower,total_upper";
/// Header of `power.csv`, written by `vomsim power`.
pub const POWER_HEADER: &str = "value,power,lower,upper,reps,undefined";
/// Header of `calibration.csv`, written by `vomsim calibrate`.
pub const CALIBRATION_HEADER: &str =
    "metric,group,month,target,tolerance,achieved,lower,upper,status,closest,source";

/// The leading columns of a row: which point it belongs to. A run has the
/// single column `point` = 0; a sweep adds one column per swept parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPrefix {
    /// Header names, comma-separated (e.g. `point,mediators.initial_active`).
    pub columns: String,
    /// This point's values, comma-separated (e.g. `3,20`).
    pub values: String,
}

impl RowPrefix {
    /// The prefix of a run's rows.
    pub fn run() -> RowPrefix {
        RowPrefix {
            columns: "point".to_string(),
            values: "0".to_string(),
        }
    }

    pub fn summary_header(&self) -> String {
        format!(
            "{},metric,group,month,mean,sd,q025,q500,q975,reps",
            self.columns
        )
    }

    pub fn replications_header(&self) -> String {
        format!("{},rep,metric,group,month,value", self.columns)
    }
}

/// Writes `summary.csv` rows (with the header if `header`): one row per
/// metric defined in at least one replication, summarized over the
/// replications where it was defined. Metrics are summarized in parallel
/// (each one serially over replications, so the numbers do not depend on
/// the threads) and written in catalog order.
///
/// Formatting runs on `pool`, the command's `--threads` pool: on rayon's
/// global pool it would take every core of a shared node.
pub fn write_summary(
    out: &mut impl Write,
    pool: &rayon::ThreadPool,
    prefix: &RowPrefix,
    header: bool,
    catalog: &[MetricKey],
    values: &[Vec<f64>],
) -> io::Result<()> {
    use rayon::prelude::*;
    if header {
        writeln!(out, "{}", prefix.summary_header())?;
    }
    let lead = format!("{},", prefix.values);
    let chunks: Vec<Vec<u8>> = pool.install(|| {
        catalog
            .par_iter()
            .enumerate()
            .chunks(64)
            .map(|keys| {
                // This chunk's values gathered a replication at a time, a
                // short run of each one's vector, rather than a metric at a
                // time, which reads one value of every replication's
                // vector per metric (at 10,000 replications that gather
                // was most of the cost of this file).
                let first = keys.first().map_or(0, |&(i, _)| i);
                let mut columns: Vec<Vec<f64>> = (0..keys.len())
                    .map(|_| Vec::with_capacity(values.len()))
                    .collect();
                for rep in values {
                    for (column, &v) in columns.iter_mut().zip(&rep[first..first + keys.len()]) {
                        if v.is_finite() {
                            column.push(v);
                        }
                    }
                }
                let mut text = Vec::new();
                for ((_, key), column) in keys.into_iter().zip(&mut columns) {
                    let Some(s) = summarize_finite(column) else {
                        continue;
                    };
                    text.extend_from_slice(lead.as_bytes());
                    push_key(&mut text, key);
                    push_number(&mut text, s.mean);
                    text.push(b',');
                    // `optional_field`: an undefined sd is left empty.
                    if let Some(sd) = s.sd.filter(|sd| sd.is_finite()) {
                        push_number(&mut text, sd);
                    }
                    for q in [s.q025, s.q500, s.q975] {
                        text.push(b',');
                        push_number(&mut text, q);
                    }
                    text.push(b',');
                    text.extend_from_slice(itoa::Buffer::new().format(s.reps).as_bytes());
                    text.push(b'\n');
                }
                text
            })
            .collect()
    });
    for chunk in chunks {
        out.write_all(&chunk)?;
    }
    Ok(())
}

/// Appends the columns fixed by the metric, `metric,group,month,`.
fn push_key(text: &mut Vec<u8>, key: &MetricKey) {
    text.extend_from_slice(key.metric.as_bytes());
    text.push(b',');
    text.extend_from_slice(key.group.as_bytes());
    text.push(b',');
    if let Some(month) = key.month {
        text.extend_from_slice(itoa::Buffer::new().format(month).as_bytes());
    }
    text.push(b',');
}

/// Replications formatted together and handed to the writer at once, per
/// thread of the pool: small enough that writing the first block overlaps
/// formatting nearly all the others (a 200-replication run has a dozen
/// blocks), large enough that each thread gets several replications.
const REPS_PER_BLOCK_PER_THREAD: usize = 8;

/// Writes `replications.csv` rows (with the header if `header`): every
/// defined value of every replication, formatted on `pool` (as for
/// [`write_summary`]); see [`ReplicationRows::write_from`].
pub fn write_replications(
    out: &mut impl Write,
    pool: &rayon::ThreadPool,
    prefix: &RowPrefix,
    header: bool,
    catalog: &[MetricKey],
    values: &[Vec<f64>],
) -> io::Result<()> {
    if header {
        writeln!(out, "{}", prefix.replications_header())?;
    }
    ReplicationRows::new(prefix, catalog).write_from(out, pool, 0, values)
}

/// The rows of `replications.csv`, by far the largest output (vors_la:
/// about 70 KB per replication, 728 MB at 10,000), so built for
/// throughput. Rows are laid out as bytes: the columns fixed by the metric
/// and the replication once, numbers by [`push_number`]. A run writes each
/// replication as soon as it and those before it are simulated
/// ([`ReplicationRows::write_one`], while the pool simulates the next
/// ones), and what remains when the simulation ends in parallel blocks
/// ([`ReplicationRows::write_from`]); a sweep writes a point's at once.
/// Either way replications are written in order: the same bytes for any
/// thread count.
#[derive(Debug)]
pub struct ReplicationRows {
    /// The point's columns and their comma.
    point: String,
    /// `metric,group,month,` of each catalog entry.
    keys: Vec<Vec<u8>>,
    /// Their total length, to size a replication's text at once.
    keys_len: usize,
    /// The keys padded to [`KEY_ROOM`] bytes, when every one fits.
    padded: Option<Vec<[u8; KEY_ROOM]>>,
    /// [`ReplicationRows::write_one`]'s text, its room reused.
    text: Vec<u8>,
}

/// Room for a row's leading columns (`point,rep,`) and for its key
/// (`metric,group,month,`, at most 50 bytes in the shipped scenarios)
/// copied whole, as a constant number of bytes, the bytes past their end
/// then cut off again: a copy of a length known only at run time is a
/// call to `memcpy`, which for these few bytes cost about as much as
/// formatting the number.
const LEAD_ROOM: usize = 32;
const KEY_ROOM: usize = 64;

impl ReplicationRows {
    pub fn new(prefix: &RowPrefix, catalog: &[MetricKey]) -> ReplicationRows {
        let keys: Vec<Vec<u8>> = catalog
            .iter()
            .map(|key| {
                let mut text = Vec::new();
                push_key(&mut text, key);
                text
            })
            .collect();
        let padded = keys
            .iter()
            .map(|key| {
                let mut room = [0; KEY_ROOM];
                room.get_mut(..key.len())?.copy_from_slice(key);
                Some(room)
            })
            .collect();
        ReplicationRows {
            point: format!("{},", prefix.values),
            keys_len: keys.iter().map(Vec::len).sum(),
            keys,
            padded,
            text: Vec::new(),
        }
    }

    /// Writes the rows of replication `rep`, formatted on this thread.
    pub fn write_one(&mut self, out: &mut impl Write, rep: usize, row: &[f64]) -> io::Result<()> {
        let mut text = std::mem::take(&mut self.text);
        self.format(&mut text, rep, row);
        let written = out.write_all(&text);
        self.text = text;
        written
    }

    /// Writes the rows of replications `first..first + values.len()`
    /// (`values` are theirs), formatted in parallel on `pool` a block at a
    /// time, while a thread of its own feeds the pool block after block
    /// and this one writes the previous ones: the write system calls
    /// (copying into the page cache) overlap formatting instead of
    /// following it, and only a few blocks are ever in memory, never the
    /// whole text.
    pub fn write_from(
        &self,
        out: &mut impl Write,
        pool: &rayon::ThreadPool,
        first: usize,
        values: &[Vec<f64>],
    ) -> io::Result<()> {
        let block = REPS_PER_BLOCK_PER_THREAD * pool.current_num_threads().max(1);
        if pool.current_thread_index().is_some() {
            // Called from one of the pool's own threads, which would wait
            // for blocks the pool cannot format while it waits: format
            // here.
            return self.write_in_turn(out, pool, first, values, block);
        }
        std::thread::scope(|scope| {
            // Two blocks may wait to be written while the pool formats a
            // third: enough to keep both sides busy, a few megabytes at most.
            let (send, formatted) = std::sync::mpsc::sync_channel::<Vec<Vec<u8>>>(2);
            // Written blocks come back to be formatted into again: fresh
            // buffers cost page faults to fill and to give back, about as
            // much as the formatting itself.
            let (give_back, written) = std::sync::mpsc::channel::<Vec<Vec<u8>>>();
            let feeding = std::thread::Builder::new().spawn_scoped(scope, move || {
                for (b, reps) in values.chunks(block).enumerate() {
                    let texts = written.try_recv().unwrap_or_default();
                    // A writer that failed has stopped listening: stop too.
                    if send
                        .send(self.format_block(pool, first + b * block, reps, texts))
                        .is_err()
                    {
                        break;
                    }
                }
            });
            if feeding.is_err() {
                // No thread to be had (a process limit): format and write
                // in turn, the same bytes, without the overlap.
                return self.write_in_turn(out, pool, first, values, block);
            }
            for texts in formatted {
                for text in &texts {
                    out.write_all(text)?;
                }
                // The formatter may be done and gone: then nobody needs it.
                let _ = give_back.send(texts);
            }
            Ok(())
        })
    }

    /// [`ReplicationRows::write_from`] without a feeding thread: each
    /// block formatted on `pool`, then written.
    fn write_in_turn(
        &self,
        out: &mut impl Write,
        pool: &rayon::ThreadPool,
        first: usize,
        values: &[Vec<f64>],
        block: usize,
    ) -> io::Result<()> {
        let mut texts = Vec::new();
        for (b, reps) in values.chunks(block).enumerate() {
            texts = self.format_block(pool, first + b * block, reps, texts);
            for text in &texts {
                out.write_all(text)?;
            }
        }
        Ok(())
    }

    /// The rows of replications `first..first + reps.len()`, one text per
    /// replication, formatted on `pool` into `texts` (earlier texts, their
    /// room reused).
    fn format_block(
        &self,
        pool: &rayon::ThreadPool,
        first: usize,
        reps: &[Vec<f64>],
        mut texts: Vec<Vec<u8>>,
    ) -> Vec<Vec<u8>> {
        use rayon::prelude::*;
        texts.resize_with(reps.len(), Vec::new);
        pool.install(|| {
            texts
                .par_iter_mut()
                .zip(reps)
                .enumerate()
                .for_each(|(offset, (text, row))| self.format(text, first + offset, row));
        });
        texts
    }

    /// Writes into `text` the rows of replication `rep`: one per defined
    /// value.
    fn format(&self, text: &mut Vec<u8>, rep: usize, row: &[f64]) {
        let mut lead = Vec::with_capacity(self.point.len() + 24);
        lead.extend_from_slice(self.point.as_bytes());
        lead.extend_from_slice(itoa::Buffer::new().format(rep).as_bytes());
        lead.push(b',');
        text.clear();
        // Room for every row with a number of up to 20 characters (most
        // are), so the text rarely grows.
        text.reserve(self.keys_len + row.len() * (lead.len() + 21));
        if let Some(padded) = &self.padded
            && lead.len() <= LEAD_ROOM
        {
            let mut lead_room = [0; LEAD_ROOM];
            lead_room[..lead.len()].copy_from_slice(&lead);
            for ((key, room), v) in self.keys.iter().zip(padded).zip(row) {
                if v.is_finite() {
                    let start = text.len() + lead.len();
                    text.extend_from_slice(&lead_room);
                    text.truncate(start);
                    text.extend_from_slice(room);
                    text.truncate(start + key.len());
                    push_number(text, *v);
                    text.push(b'\n');
                }
            }
            return;
        }
        for (key, v) in self.keys.iter().zip(row) {
            if v.is_finite() {
                text.extend_from_slice(&lead);
                text.extend_from_slice(key);
                push_number(text, *v);
                text.push(b'\n');
            }
        }
    }
}

/// Writes `diagnosis.csv` rows; an undefined coverage or power is left
/// empty. The prefix's columns lead each row (`point` for a run, with a
/// sweep's parameters after it).
pub fn write_diagnosis(
    out: &mut impl Write,
    prefix: Option<&RowPrefix>,
    header: bool,
    rows: &[DiagnosisRow],
) -> io::Result<()> {
    let (lead_columns, lead) = match prefix {
        Some(p) => (format!("{},", p.columns), format!("{},", p.values)),
        None => (String::new(), String::new()),
    };
    if header {
        writeln!(out, "{lead_columns}{DIAGNOSIS_HEADER}")?;
    }
    for r in rows {
        writeln!(
            out,
            "{lead}{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.estimator,
            r.month,
            r.estimand,
            r.mean,
            r.bias,
            r.rmse,
            optional_field(r.coverage),
            optional_field(r.power),
            r.reps,
            number_field(r.median),
            number_field(r.log_bias),
            number_field(r.log_rmse),
            r.undefined,
        )?;
    }
    Ok(())
}

/// Header of `agents.csv`.
pub const AGENTS_HEADER: &str = "rep,id,intake_month,referral_day,age,sex,race,offense,prior_arrests,\
risk,motivation,victim_type,offender_consent,victim_consent,group,wait_days,disposition_day,\
agreement,apology,amount_dollars,paid_dollars,payment_completed,service_hours,service_hours_done,\
service_completed,time_months,event,t0_months,event0,t1_months,event1,reconviction_time_months,\
reconviction_event,mediation_mode";

fn bit(b: bool) -> u8 {
    u8::from(b)
}

/// A consent answer: 1 or 0, empty when the party was never asked.
fn answer(b: Option<bool>) -> String {
    b.map_or(String::new(), |b| bit(b).to_string())
}

/// Time and event indicator, censored at the end of follow-up (`horizon`).
fn censored(t: Option<f64>, horizon: usize) -> (f64, u8) {
    t.map_or((horizon as f64, 0), |t| (t, 1))
}

/// Writes the header of `agents.csv`.
pub fn write_agents_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{AGENTS_HEADER}")
}

/// Writes the rows of `agents.csv` of replication `rep`: one per youth,
/// times censored at `horizon` months of follow-up.
pub fn write_agents(
    out: &mut impl Write,
    rep: u64,
    agents: &[AgentRecord],
    horizon: usize,
) -> io::Result<()> {
    for (id, a) in agents.iter().enumerate() {
        let y = &a.youth;
        let mediated = a.disposition == Disposition::Mediated;
        let world = usize::from(mediated);
        let (time, event) = censored(a.outcomes.rearrest[world], horizon);
        let (t0, event0) = censored(a.outcomes.rearrest[0], horizon);
        let (t1, event1) = censored(a.outcomes.rearrest[1], horizon);
        let (conviction, convicted) = censored(a.outcomes.reconviction[world], horizon);
        let r = &a.restitution;
        writeln!(
            out,
            "{rep},{id},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            // 1-based, as program months are everywhere else.
            y.month + 1,
            y.referral_day,
            y.age,
            if y.male { "male" } else { "female" },
            y.race.name(),
            y.offense.name(),
            y.prior_arrests,
            y.risk,
            y.motivation,
            if a.consent.business_victim {
                "business"
            } else {
                "individual"
            },
            answer(a.consent.offender),
            answer(a.consent.victim),
            a.disposition.group().name(),
            a.wait_days.map_or_else(String::new, |w| w.to_string()),
            a.disposition_day,
            a.agreement
                .map_or(String::new(), |g| bit(g.reached).to_string()),
            bit(r.obligations.apology),
            r.obligations.amount,
            r.paid,
            bit(r.payment_completed),
            r.obligations.hours,
            r.hours_done,
            bit(r.service_completed),
            time,
            event,
            t0,
            event0,
            t1,
            event1,
            conviction,
            convicted,
            a.mode.map_or("", |m| m.name()),
        )?;
    }
    Ok(())
}

/// Appends `v` exactly as `format!("{v}")` writes it: for a finite `v`, the
/// shortest decimal that reads back as `v`, never in exponent notation.
///
/// Why: std's formatting was most of the time spent writing
/// `replications.csv`. Zeros and whole numbers (a fifth of its values:
/// counts, shares of 0 or 1) are written as integers, which they are
/// exactly. Other values take `zmij`'s shortest digits, several times
/// faster than std's (and a third faster than `ryu`'s, which it replaced),
/// laid out here as bytes the way std places the decimal point (no
/// `String` or UTF-8 checks on the way). The digits are the same as std's
/// but on an exact tie between two shortest candidates, which std rounds
/// up and `zmij` (like `ryu`) to even: numbers that may tie go to std, as
/// do infinities and NaN. A test holds the two equal over a million
/// values.
pub fn push_number(text: &mut Vec<u8>, v: f64) {
    // Below 2^53 every whole double is an integer an i64 holds exactly,
    // and std writes it with all its digits and no point. (-0.0 is not
    // whole-and-negative here: std writes it `-0`, so it goes to std.)
    // (Whole is tested by a round trip through i64 rather than `trunc`,
    // which x86-64's baseline instructions make a call into libm.)
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if v.abs() < EXACT {
        let whole = v as i64;
        if whole as f64 == v && !(whole == 0 && v.is_sign_negative()) {
            extend_short(text, itoa::Buffer::new().format(whole).as_bytes());
            return;
        }
    }
    if !v.is_finite() || v == 0.0 || may_tie(v) {
        let _ = write!(text, "{v}");
        return;
    }
    let mut buffer = zmij::Buffer::new();
    let shortest = buffer.format_finite(v).as_bytes();
    // Without an exponent and not a whole number (`zmij` ends those in
    // `.0`), `zmij` has already placed the point as std does: `123.456`,
    // `0.000123`. (Whole numbers from 2^53 up have no fractional bits, so
    // `may_tie` sent them to std above: what comes past here with `.0` or
    // `e+` is a safeguard should that test change, not a path taken.)
    // (An exponent is in the last five bytes, `e-308`: looked for there
    // by hand, as `contains` would call memchr for a few bytes.)
    if shortest.last() != Some(&b'0') && !shortest.iter().rev().take(5).any(|&b| b == b'e') {
        extend_short(text, shortest);
        return;
    }
    // `zmij` writes `[-]digits[.digits][e(+|-)digits]`: gather the digits,
    // where its point falls among them and its exponent.
    let (negative, unsigned) = match shortest.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, shortest),
    };
    let mut digits = [0u8; 32];
    let (mut len, mut whole, mut exponent) = (0usize, None, 0i32);
    let mut bytes = unsigned.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'0'..=b'9' => {
                if len == digits.len() {
                    // Never from `zmij` (at most 17 digits and 5 zeros).
                    let _ = write!(text, "{v}");
                    return;
                }
                digits[len] = b;
                len += 1;
            }
            b'.' => whole = Some(len),
            b'e' => {
                let mut sign = 1;
                for &e in bytes.by_ref() {
                    match e {
                        b'-' => sign = -1,
                        b'0'..=b'9' => exponent = exponent * 10 + i32::from(e - b'0'),
                        _ => {}
                    }
                }
                exponent *= sign;
            }
            _ => {}
        }
    }
    let whole = whole.unwrap_or(len);
    // The significant digits, and where the decimal point falls in them.
    let leading = digits[..len].iter().take_while(|&&b| b == b'0').count();
    let trailing = digits[leading..len]
        .iter()
        .rev()
        .take_while(|&&b| b == b'0')
        .count();
    let significant = &digits[leading..len - trailing];
    let point = whole as i32 + exponent - leading as i32;
    if negative {
        text.push(b'-');
    }
    let count = significant.len() as i32;
    if point <= 0 {
        text.extend_from_slice(b"0.");
        text.resize(text.len() + (-point) as usize, b'0');
        text.extend_from_slice(significant);
    } else if point >= count {
        text.extend_from_slice(significant);
        text.resize(text.len() + (point - count) as usize, b'0');
    } else {
        let (before, after) = significant.split_at(point as usize);
        text.extend_from_slice(before);
        text.push(b'.');
        text.extend_from_slice(after);
    }
}

/// Appends `bytes` (a number's text) by two copies of a constant size
/// that overlap, the first cut back before the second ([`extend_overlapped`]
/// of 16 bytes, else of 8, else as usual): a copy of a length known only at
/// run time is a call to `memcpy` (2.4M of its instructions went with
/// this, at 200 replications of vors_la on 1 thread).
fn extend_short(text: &mut Vec<u8>, bytes: &[u8]) {
    if !extend_overlapped::<16>(text, bytes) && !extend_overlapped::<8>(text, bytes) {
        text.extend_from_slice(bytes);
    }
}

/// Appends `bytes` as its first `N` and its last `N` bytes when it has
/// `N` to `2N` of them; returns whether it did.
fn extend_overlapped<const N: usize>(text: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let (start, len) = (text.len(), bytes.len());
    match (bytes.first_chunk::<N>(), bytes.last_chunk::<N>()) {
        (Some(head), Some(tail)) if len <= 2 * N => {
            text.extend_from_slice(head);
            text.truncate(start + len - N);
            text.extend_from_slice(tail);
            true
        }
        _ => false,
    }
}

/// Whether `v`'s exact decimal expansion may be short enough (at most 18
/// significant digits) to lie exactly halfway between two shortest
/// candidates of up to 17 digits. A finite double is `m·2^e`; with `f`
/// fractional bits its expansion has exactly `f` decimal places, so its
/// significant digits are at least `f + 1` when it is 1 or more, and at
/// least `f` minus its leading zeros (at most `-k·log10 2 + 1` for
/// `v < 2^(k+1)`) below 1. Subnormals have over 700 digits.
fn may_tie(v: f64) -> bool {
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    if biased == 0 {
        return false;
    }
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    // v = mantissa · 2^exponent, and 2^k <= |v| < 2^(k+1).
    let exponent = biased - 1075;
    let k = exponent + 52;
    let fractional_bits = (-(exponent + i64::from(mantissa.trailing_zeros()))).max(0);
    let significant_at_least = if k >= 0 {
        fractional_bits + 1
    } else {
        // (Truncation is `floor` for this positive product, without the
        // call into libm that `floor` is on x86-64's baseline.)
        fractional_bits - ((-k) as f64 * std::f64::consts::LOG10_2) as i64 - 1
    };
    significant_at_least <= 18
}

/// A number as a CSV field: empty where it is undefined (never NaN or inf).
pub fn number_field(v: f64) -> String {
    if v.is_finite() {
        v.to_string()
    } else {
        String::new()
    }
}

/// An optional number as a CSV field (empty for `None`).
pub fn optional_field(v: Option<f64>) -> String {
    v.map_or_else(String::new, number_field)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
    }

    fn key(metric: &'static str, month: Option<u32>) -> MetricKey {
        MetricKey {
            metric,
            group: "mediated",
            month,
        }
    }

    #[test]
    fn summary_rows_leave_out_undefined_values() {
        let catalog = [
            key("share", None),
            key("rearrest", Some(12)),
            key("effect_ratio", Some(6)),
        ];
        let values = vec![vec![0.5, 0.1, f64::NAN], vec![0.7, 0.3, f64::NAN]];
        let mut out = Vec::new();
        write_summary(
            &mut out,
            &pool(),
            &RowPrefix::run(),
            true,
            &catalog,
            &values,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], SUMMARY_HEADER);
        assert!(
            lines[1].starts_with("0,share,mediated,,0.6,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("0,rearrest,mediated,12,0.2,"),
            "{}",
            lines[2]
        );
        assert!(lines[2].ends_with(",2"));
        assert_eq!(lines.len(), 3, "the all-undefined metric has no row");
    }

    #[test]
    fn numbers_are_written_as_std_formats_them() {
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            0.3,
            1e-7,
            1.5e-300,
            f64::MIN_POSITIVE,
            5e-324,
            1e15,
            1e16,
            1e21,
            123_456.789,
            f64::MAX,
            f64::MIN,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -5.0,
            463.0,
            9_007_199_254_740_991.0,
            -9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            0.5,
            2f64.powi(53),
            0.000_123,
            1_658_206_780_088_562.2,
            -13_271_210_409_342.312,
        ];
        // A fixed generator, so every run checks the same cases: random
        // bit patterns over every exponent; values of the sizes outputs
        // hold; and values with few fractional bits, where ties live.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..350_000 {
            let bits = f64::from_bits(next());
            if bits.is_finite() {
                cases.push(bits);
            }
            let scale = 10f64.powi((next() % 16) as i32 - 8);
            cases.push((next() >> 11) as f64 / (1u64 << 53) as f64 * scale);
            let whole = (next() >> (next() % 64)) as f64;
            let sixteenths = (next() % 4096) as f64 / 4096.0;
            cases.push(whole + sixteenths);
        }
        for v in cases {
            let mut text = Vec::new();
            push_number(&mut text, v);
            assert_eq!(
                String::from_utf8(text).unwrap(),
                format!("{v}"),
                "bits {:#x}",
                v.to_bits()
            );
        }
    }

    /// Every length, onto texts of several lengths: exactly the bytes given.
    #[test]
    fn short_texts_are_appended_whole() {
        let source: Vec<u8> = (0..48u8).map(|b| b'a' + b % 26).collect();
        for before in [0, 1, 7, 30] {
            for len in 0..=source.len() {
                let mut text = vec![b'#'; before];
                extend_short(&mut text, &source[..len]);
                let mut expected = vec![b'#'; before];
                expected.extend_from_slice(&source[..len]);
                assert_eq!(text, expected, "{before} bytes before, {len} appended");
            }
        }
    }

    #[test]
    fn replication_rows_skip_nan() {
        let catalog = [key("share", None), key("effect_ratio", Some(6))];
        let values = vec![vec![0.5, f64::NAN]];
        let mut out = Vec::new();
        write_replications(
            &mut out,
            &pool(),
            &RowPrefix::run(),
            true,
            &catalog,
            &values,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{REPLICATIONS_HEADER}\n0,0,share,mediated,,0.5\n")
        );
    }

    /// The rows of many replications, formatted in blocks by a separate
    /// thread (or on a pool thread), are the rows of each value in order,
    /// whatever the threads.
    #[test]
    fn replication_rows_are_the_same_for_any_threads() {
        let catalog = [
            key("share", None),
            key("rearrest", Some(12)),
            key("effect_ratio", Some(6)),
        ];
        let values: Vec<Vec<f64>> = (0..203)
            .map(|rep| {
                let r = rep as f64;
                vec![r / 7.0, if rep % 5 == 0 { f64::NAN } else { r }, -r * 1e-9]
            })
            .collect();
        // A sweep's point columns too long for the rows' fast layout.
        let long = RowPrefix {
            columns: "point,referrals.per_month,mediators.initial_active".to_string(),
            values: "12,123.456789012345,1234567890123456789".to_string(),
        };
        for prefix in [RowPrefix::run(), long] {
            let mut expected = format!("{}\n", prefix.replications_header());
            for (rep, row) in values.iter().enumerate() {
                for (k, v) in catalog.iter().zip(row) {
                    if v.is_finite() {
                        let month = k.month.map_or(String::new(), |m| m.to_string());
                        expected += &format!(
                            "{},{rep},{},{},{month},{v}\n",
                            prefix.values, k.metric, k.group
                        );
                    }
                }
            }
            rows_for_any_threads(&prefix, &catalog, &values, &expected);
        }
    }

    fn rows_for_any_threads(
        prefix: &RowPrefix,
        catalog: &[MetricKey],
        values: &[Vec<f64>],
        expected: &str,
    ) {
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let write = || {
                let mut out = Vec::new();
                write_replications(&mut out, &pool, prefix, true, catalog, values).unwrap();
                String::from_utf8(out).unwrap()
            };
            assert_eq!(write(), expected, "{threads} threads");
            assert_eq!(
                pool.install(write),
                expected,
                "{threads} threads, in the pool"
            );
        }
    }
}
