//! Keys by dotted path: which keys exist (the tree of the defaults), the
//! nearest valid key for a typo, and `--set KEY=VALUE` overrides.
//!
//! The set of valid keys is read off the serialized defaults, so the schema
//! in `schema.rs` stays the one place that defines them.

use toml::{Table, Value};

use super::schema::RawScenario;
use crate::error::{Error, Result};

/// Every valid key, as a TOML tree of the default values.
pub(super) fn default_tree() -> Table {
    match Value::try_from(RawScenario::default()) {
        Ok(Value::Table(t)) => t,
        _ => unreachable!("RawScenario serializes to a TOML table"),
    }
}

/// Checks that every key of `table` exists in `defaults`, recursively.
pub(super) fn check_known(
    table: &Table,
    defaults: &Table,
    origin: &str,
    prefix: &str,
) -> Result<()> {
    for (key, value) in table {
        let path = join(prefix, key);
        match defaults.get(key) {
            // A sweep file given where a scenario belongs (`vomsim run`):
            // say which command reads it.
            None if prefix.is_empty() && key == "sweep" && value.is_table() => {
                return Err(Error::Syntax {
                    origin: origin.to_string(),
                    message: "this is a sweep file (it has a [sweep] table), which `vomsim sweep` runs: \
                              `vomsim sweep FILE` runs every point of it; to run its scenario once, \
                              remove the [sweep] table (or give the scenario file it was made from)"
                        .to_string(),
                });
            }
            None => {
                return Err(Error::UnknownKey {
                    origin: origin.to_string(),
                    suggestion: elsewhere(&path)
                        .map(str::to_string)
                        .or_else(|| nearest(key, defaults).map(|k| join(prefix, k))),
                    key: path,
                });
            }
            Some(Value::Table(sub_defaults)) => {
                if let Value::Table(sub) = value {
                    check_known(sub, sub_defaults, origin, &path)?;
                }
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The resolved scenario tree: the defaults, with every key that `given`
/// names put in its place, recursively. A table given in part keeps every
/// key it does not name at *that table's* default (a court completion key
/// falls back to the court completion default, never the mediated one, and
/// an offense map given one offense keeps the others' defaults), which is
/// what serde's struct-level `default` cannot do: it would fill the rest of
/// a nested table from its type's `Default`, shared by every table of that
/// type. A cost whose default is a range `{ low, high }` given one bound
/// keeps the other; a cost whose default is one number, given as a table,
/// must give both bounds (there is no default bound to keep). Keys are
/// checked against the defaults before this runs.
pub(super) fn merged_with_defaults(given: &Table, defaults: &Table) -> Table {
    let mut resolved = defaults.clone();
    merge_into(&mut resolved, given);
    resolved
}

fn merge_into(resolved: &mut Table, given: &Table) {
    for (key, value) in given {
        match (resolved.get_mut(key), value) {
            (Some(Value::Table(default)), Value::Table(sub)) => merge_into(default, sub),
            _ => {
                resolved.insert(key.clone(), value.clone());
            }
        }
    }
}

/// A key's last part read as `name[index]`: one element of a list key
/// (`treatment.piecewise_hazard_ratios[0]`). `None` when the part has no
/// index; an error text when its brackets do not hold a whole number.
pub fn split_index(part: &str) -> Option<std::result::Result<(&str, usize), String>> {
    let open = part.find('[')?;
    let (name, rest) = part.split_at(open);
    let inside = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
    Some(match inside.and_then(|i| i.trim().parse::<usize>().ok()) {
        Some(index) if !name.is_empty() => Ok((name, index)),
        _ => Err(format!(
            "`{part}` is not a list element: write NAME[INDEX], INDEX a whole number from 0"
        )),
    })
}

/// The value at a dotted key in a resolved scenario tree; the last part
/// may name a list element (`key[0]`). `None` if there is none.
pub fn value_at<'a>(tree: &'a Value, key: &str) -> Option<&'a Value> {
    let (path, last) = key.rsplit_once('.').unwrap_or(("", key));
    let parent = if path.is_empty() {
        tree
    } else {
        path.split('.')
            .try_fold(tree, |node, part| node.get(part))?
    };
    match split_index(last) {
        None => parent.get(last),
        Some(Ok((name, index))) => parent.get(name)?.as_array()?.get(index),
        Some(Err(_)) => None,
    }
}

/// Applies one `KEY=VALUE` to `table`; returns the key. VALUE is read as a
/// TOML value, or as a string where it is not one. The key's last part may
/// name one element of a list key, `KEY[INDEX]=VALUE`: the list (the
/// file's, or the default) is set with that element replaced.
pub(super) fn apply_override(table: &mut Table, defaults: &Table, arg: &str) -> Result<String> {
    let bad = |message: String| Error::BadOverride {
        arg: arg.to_string(),
        message,
    };
    let Some((key, value_text)) = arg.split_once('=') else {
        return Err(bad(
            "expected KEY=VALUE, e.g. referrals.per_month=60".to_string()
        ));
    };
    let key = key.trim();
    let full_key = key;
    // `KEY[INDEX]`: the list key and the element's index.
    let (key, element) = match split_index(key.rsplit('.').next().unwrap_or(key)) {
        None => (key, None),
        Some(Err(message)) => return Err(bad(message)),
        Some(Ok((_, index))) => (key.rsplit_once('[').map_or(key, |(k, _)| k), Some(index)),
    };
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad(format!("`{key}` is not a dotted key path")));
    }
    if value_text.contains(['\n', '\r']) {
        return Err(bad(
            "the value spans more than one line; give one value per --set".to_string(),
        ));
    }
    let value = parse_value(value_text.trim()).map_err(bad)?;

    // The path must exist in the schema.
    let mut level = defaults;
    for (i, part) in parts.iter().enumerate() {
        let so_far = parts[..i].join(".");
        match level.get(*part) {
            None => {
                let path = join(&so_far, part);
                return Err(Error::UnknownKey {
                    origin: "--set".to_string(),
                    suggestion: elsewhere(&path)
                        .map(str::to_string)
                        .or_else(|| nearest(part, level).map(|k| join(&so_far, k))),
                    key: path,
                });
            }
            Some(Value::Table(sub)) if i + 1 < parts.len() => level = sub,
            Some(Value::Table(sub)) => {
                // A whole table may be set inline; its keys are checked too.
                if let Value::Table(given) = &value {
                    check_known(given, sub, "--set", key)?;
                } else if !is_cost_range(sub) {
                    // (A cost given as a range by default may be set to one
                    // number, as in a file.)
                    return Err(bad(format!("`{key}` is a table; set one of its keys")));
                }
            }
            Some(_) if i + 1 < parts.len() => {
                return Err(bad(format!(
                    "`{}` is a value, not a table",
                    join(&so_far, part)
                )));
            }
            Some(_) => {}
        }
    }

    // One element of a list: the list as the file gives it (or as the
    // default), with that element replaced.
    let value = match element {
        None => value,
        Some(index) => {
            let Some(Value::Array(default_list)) = table_value(defaults, key) else {
                return Err(bad(format!(
                    "`{key}` is not a list, so `{full_key}` names nothing"
                )));
            };
            if matches!(value, Value::Array(_) | Value::Table(_)) {
                return Err(bad(format!("`{full_key}` is one element: give one value")));
            }
            let mut list = match table_value(table, key) {
                Some(Value::Array(given)) => given.clone(),
                _ => default_list.clone(),
            };
            let Some(slot) = list.get_mut(index) else {
                return Err(bad(format!(
                    "`{key}` has {} elements, so index {index} is out of range (indexes start at 0)",
                    list.len()
                )));
            };
            *slot = value;
            Value::Array(list)
        }
    };

    // Insert, creating intermediate tables.
    let mut node = table;
    for part in &parts[..parts.len() - 1] {
        let entry = node
            .entry(part.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        node = match entry {
            Value::Table(t) => t,
            _ => return Err(bad(format!("`{part}` in the file is not a table"))),
        };
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(full_key.to_string())
}

/// The value at a dotted key (no index) of a table, if any.
fn table_value<'a>(table: &'a Table, key: &str) -> Option<&'a Value> {
    let (path, last) = key.rsplit_once('.').unwrap_or(("", key));
    let mut node = table;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        node = node.get(part)?.as_table()?;
    }
    node.get(last)
}

/// Whether a default table is a cost range `{ low, high }`: one value that
/// a file or `--set` may also give as a single number.
fn is_cost_range(table: &Table) -> bool {
    table.len() == 2 && table.contains_key("low") && table.contains_key("high")
}

/// Reads VALUE as a TOML value (`3`, `0.5`, `true`, `[1, 2]`, `"x"`), or as a
/// plain string where it is not one (`court_ordered`). Text that parses as
/// more than one value (`1 foo=2` cannot, but `1\nfoo=2` could) is refused
/// rather than cut to its first value.
fn parse_value(text: &str) -> std::result::Result<Value, String> {
    match format!("v = {text}").parse::<Table>() {
        Ok(mut t) => {
            let value = t
                .remove("v")
                .unwrap_or_else(|| Value::String(text.to_string()));
            if let Some(extra) = t.keys().next() {
                return Err(format!(
                    "the value holds more than one TOML value (`{extra}` after the first); give one value per --set"
                ));
            }
            Ok(value)
        }
        Err(_) => Ok(Value::String(text.to_string())),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The valid key at this level closest to `key` by edit distance, if any is
/// close enough to be a plausible typo.
/// Keys a user may look for in one place that live in another: the
/// face-to-face mode's agreement probability is the program's
/// `mediation.agreement_probability` (one number, one key).
fn elsewhere(path: &str) -> Option<&'static str> {
    match path {
        "mediation.modes.face_to_face.agreement_probability" => {
            Some("mediation.agreement_probability")
        }
        _ => None,
    }
}

fn nearest<'a>(key: &str, level: &'a Table) -> Option<&'a str> {
    nearest_name(key, level.keys().map(String::as_str))
}

/// The name among `names` closest to `key` by edit distance, if any is
/// close enough to be a plausible typo (the first of equally close ones).
pub fn nearest_name<'a>(key: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|k| (edit_distance(key, k), k))
        .filter(|(d, k)| *d <= (k.len().max(key.len()) / 2).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance between two strings, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }

    #[test]
    fn nearest_ignores_unrelated_keys() {
        let t = default_tree();
        assert_eq!(nearest("referals", &t), Some("referrals"));
        assert_eq!(nearest("zzzzzzzzzzzzzzzzzzzzzz", &t), None);
    }

    #[test]
    fn values_parse_as_toml_or_string() {
        assert_eq!(parse_value("3"), Ok(Value::Integer(3)));
        assert_eq!(parse_value("0.5"), Ok(Value::Float(0.5)));
        assert_eq!(
            parse_value("court_ordered"),
            Ok(Value::String("court_ordered".into()))
        );
        assert_eq!(parse_value("\"x\""), Ok(Value::String("x".into())));
        assert!(parse_value("1\nfoo = 2").is_err());
    }

    #[test]
    fn a_partial_table_keeps_that_tables_defaults() {
        let defaults = default_tree();
        let given: Table = "[restitution.court_ordered.completion]\npayment_probability = 0.5\n"
            .parse()
            .unwrap();
        let resolved = merged_with_defaults(&given, &defaults);
        let court = &resolved["restitution"]["court_ordered"]["completion"];
        let court_default = &defaults["restitution"]["court_ordered"]["completion"];
        assert_eq!(court["payment_probability"], Value::Float(0.5));
        assert_eq!(
            court["service_probability"],
            court_default["service_probability"]
        );
        assert_ne!(
            court["service_probability"],
            defaults["restitution"]["mediated"]["service_probability"]
        );
    }

    #[test]
    fn a_cost_range_given_in_part_keeps_its_other_bound() {
        let defaults = default_tree();
        let given: Table =
            "[costs]\njustice_per_rearrest = { low = 6000.0 }\nagency_per_case = { low = 1.0 }\n"
                .parse()
                .unwrap();
        let resolved = merged_with_defaults(&given, &defaults);
        let cost = resolved["costs"]["justice_per_rearrest"]
            .as_table()
            .unwrap();
        assert_eq!(cost["low"], Value::Float(6000.0));
        assert_eq!(
            cost["high"],
            defaults["costs"]["justice_per_rearrest"]["high"]
        );
        // A fixed default has no bound to keep: the table stands alone.
        let cost = resolved["costs"]["agency_per_case"].as_table().unwrap();
        assert!(!cost.contains_key("high"), "{cost:?}");
    }

    #[test]
    fn a_list_element_is_set_by_index() {
        let defaults = default_tree();
        let mut table = Table::new();
        let key = apply_override(
            &mut table,
            &defaults,
            "treatment.piecewise_hazard_ratios[1]=0.5",
        )
        .unwrap();
        assert_eq!(key, "treatment.piecewise_hazard_ratios[1]");
        let list = table["treatment"]["piecewise_hazard_ratios"]
            .as_array()
            .unwrap();
        let default = defaults["treatment"]["piecewise_hazard_ratios"]
            .as_array()
            .unwrap();
        assert_eq!(list.len(), default.len());
        assert_eq!(list[1], Value::Float(0.5));
        assert_eq!(list[0], default[0], "the other elements keep the default");
        // A second element set keeps the first.
        apply_override(
            &mut table,
            &defaults,
            "treatment.piecewise_hazard_ratios[0]=0.4",
        )
        .unwrap();
        let list = table["treatment"]["piecewise_hazard_ratios"]
            .as_array()
            .unwrap();
        assert_eq!(
            (&list[0], &list[1]),
            (&Value::Float(0.4), &Value::Float(0.5))
        );
        let tree = Value::Table(table.clone());
        assert_eq!(
            value_at(&tree, "treatment.piecewise_hazard_ratios[0]"),
            Some(&Value::Float(0.4))
        );
        assert_eq!(
            value_at(&tree, "treatment.piecewise_hazard_ratios[9]"),
            None
        );
        for (arg, says) in [
            ("treatment.piecewise_hazard_ratios[5]=1", "out of range"),
            ("treatment.piecewise_hazard_ratios[x]=1", "NAME[INDEX]"),
            ("treatment.half_life_months[0]=1", "is not a list"),
            ("treatment.piecewise_hazard_ratios[0]=[1]", "one element"),
        ] {
            let err = apply_override(&mut table, &defaults, arg)
                .unwrap_err()
                .to_string();
            assert!(err.contains(says), "{arg}: {err}");
        }
    }
}
