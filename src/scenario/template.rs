//! The complete scenario file `vomsim init` writes: every key of the schema
//! at its default, in schema order, each with its meaning, range, default
//! and source from the scenario reference ([`super::reference`]).
//!
//! The keys come from the schema (the serialized defaults), the comments
//! from the reference, so a key added to either flows in; a key the
//! reference does not document makes [`scenario_template`] fail (and its
//! test with it) rather than write a key without a comment.

use toml::{Table, Value};

use super::keys;
use super::reference::{self, Row, RowKind};

/// The words of the first line that mark a file written by `vomsim init`
/// (what `init --force` checks before it overwrites a file).
pub const INIT_MARK: &str = "made by `vomsim init`";

/// Width the comments are wrapped to.
const WIDTH: usize = 79;

/// The complete scenario file for a scenario called `name`: a header, then
/// every key at its default, each after its comment. Errs with the keys the
/// reference does not document (or gives no default and source).
pub fn scenario_template(name: &str) -> Result<String, Vec<String>> {
    let mut defaults = keys::default_tree();
    defaults.insert("name".to_string(), Value::String(name.to_string()));
    let rows = reference::rows();
    let mut out = String::new();
    out.push_str(&format!(
        "# {name}: a vomsim scenario, {INIT_MARK} (vomsim {}).\n",
        env!("CARGO_PKG_VERSION")
    ));
    for line in [
        "#",
        "# Every value below is the Los Angeles VORS default (scenarios/vors_la.toml)",
        "# unless you edit it. Above each key: what it means and its allowed range,",
        "# then its default and where that default comes from. Both are taken from",
        "# docs/scenario-reference.md; docs/sources.md names the seeds. Check an edit",
        "# with `vomsim validate FILE`, then `vomsim run FILE`.",
    ] {
        out.push_str(line);
        out.push('\n');
    }
    let mut missing = Vec::new();
    write_table(&defaults, "", &rows, &mut out, &mut missing);
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

/// Writes one table's values (after its header, if any), then its
/// sub-tables, each with its header.
fn write_table(
    table: &Table,
    path: &str,
    rows: &[Row],
    out: &mut String,
    missing: &mut Vec<String>,
) {
    let (values, tables): (Vec<_>, Vec<_>) = table.iter().partition(|(_, v)| is_value(v));
    for (key, value) in values {
        let full = join(path, key);
        out.push('\n');
        match row(rows, &full, RowKind::Value) {
            Some(row) => comment(row, out),
            None => missing.push(full),
        }
        out.push_str(&format!("{key} = {value}\n"));
    }
    for (key, value) in tables {
        let Value::Table(sub) = value else {
            unreachable!("partitioned")
        };
        let full = join(path, key);
        let map = row(rows, &full, RowKind::Map);
        let note = map.or_else(|| row(rows, &full, RowKind::Table));
        // A table with no values of its own (`[restitution]`) needs no
        // header: its sub-tables name it.
        let header = map.is_some() || sub.values().any(is_value);
        if note.is_some() || header {
            out.push('\n');
        }
        if let Some(row) = note {
            comment(row, out);
        }
        if header {
            out.push_str(&format!("[{full}]\n"));
        }
        if map.is_some() {
            // One row documents every key of a map table.
            for (k, v) in sub {
                out.push_str(&format!("{k} = {v}\n"));
            }
        } else {
            write_table(sub, &full, rows, out, missing);
        }
    }
}

/// The row of `path` of this kind, if the reference has one.
fn row<'a>(rows: &'a [Row], path: &str, kind: RowKind) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.path() == (path, kind) && !r.default_source.is_empty())
}

/// The row's meaning, then its default and source, as wrapped comment lines.
fn comment(row: &Row, out: &mut String) {
    wrap(&row.meaning, out);
    wrap(&format!("Default: {}", row.default_source), out);
}

/// `# `-prefixed lines of at most [`WIDTH`] characters (a longer word
/// stands alone).
fn wrap(text: &str, out: &mut String) {
    // A comparison stays with its number (`>= 0`).
    let mut words: Vec<String> = Vec::new();
    for word in text.split_whitespace() {
        match words.last_mut() {
            Some(last) if matches!(last.as_str(), ">=" | "<=" | ">" | "<" | "=") => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
    }
    let mut line = String::from("#");
    for word in &words {
        if line.len() > 1 && line.chars().count() + 1 + word.chars().count() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// Whether a default is written as one value (a cost range included), not
/// as a table of its own.
fn is_value(value: &Value) -> bool {
    !matches!(value, Value::Table(t) if !is_cost_range(t))
}

/// Whether a table is a cost range `{ low, high }`: one value.
fn is_cost_range(table: &Table) -> bool {
    table.len() == 2 && table.contains_key("low") && table.contains_key("high")
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{RawScenario, Scenario};

    #[test]
    fn every_key_is_documented_and_the_file_resolves_to_the_defaults() {
        let text = scenario_template("mine").unwrap_or_else(|missing| {
            panic!("docs/scenario-reference.md has no row for {missing:?}")
        });
        let scenario = Scenario::from_toml_str(&text, "mine.toml", &[]).unwrap();
        let expected = RawScenario {
            name: "mine".to_string(),
            ..RawScenario::default()
        };
        assert_eq!(scenario.raw, expected);
    }

    /// Every key is written (nothing left to a hidden default), each value
    /// key after its comment, and the comments are wrapped.
    #[test]
    fn the_file_is_complete_and_commented() {
        let text = scenario_template("mine").unwrap();
        let written: Table = text.parse().unwrap();
        let mut defaults = keys::default_tree();
        defaults.insert("name".into(), Value::String("mine".into()));
        assert_eq!(written, defaults);
        assert!(text.lines().next().unwrap().contains(INIT_MARK));
        assert!(text.contains("Los Angeles VORS default"));
        let lines: Vec<&str> = text.lines().collect();
        // A map table's keys share the comment above its header.
        let mut header_commented = false;
        for (i, line) in lines.iter().enumerate() {
            assert!(line.chars().count() <= WIDTH, "too long: {line}");
            if line.starts_with('[') {
                header_commented = lines[i - 1].starts_with('#');
            } else if line.contains(" = ") && !line.starts_with('#') {
                let above = lines[i - 1];
                assert!(
                    above.starts_with('#') || (header_commented && !above.is_empty()),
                    "no comment above {line}"
                );
            }
        }
        assert!(text.contains("[costs]"));
        assert!(text.contains("justice_per_rearrest = { low = 5000.0, high = 15000.0 }"));
    }

    #[test]
    fn wrap_keeps_lines_short() {
        let mut out = String::new();
        wrap(&"word ".repeat(40), &mut out);
        assert!(out.lines().all(|l| l.len() <= WIDTH && l.starts_with("# ")));
        assert_eq!(out.split_whitespace().filter(|w| *w == "word").count(), 40);
        let mut out = String::new();
        wrap(&format!("{} >= 0.", "x".repeat(WIDTH - 5)), &mut out);
        assert!(out.ends_with("\n# >= 0.\n"), "{out}");
    }
}
