//! The resolved scenario as the user's own file: what `vomsim validate`
//! prints. The file is read with `toml_edit`, so its comments and layout
//! stay; each value is set to its resolved value (a `--set` applied, a
//! whole number given for a float key written as a float), and every key
//! and table the file leaves out is added at its resolved value, marked
//! `# default` (or `# --set`). Fed back to `vomsim validate`, the text
//! resolves to the same scenario.

use toml_edit::{DocumentMut, InlineTable, Item, Table, Value};

use super::RawScenario;

/// The comment on a key the file did not write, at its default.
const DEFAULT_MARK: &str = "# default";
/// The comment on a key the file did not write, given by `--set`.
const SET_MARK: &str = "# --set";

/// `text` (a scenario file that resolved to `resolved`, with `overrides`
/// applied) with every value resolved and every missing key added.
pub fn resolved_document(text: &str, resolved: &RawScenario, overrides: &[String]) -> String {
    let mut document: DocumentMut = text
        .parse()
        .expect("the scenario parsed before it was resolved");
    let tree = match toml::Value::try_from(resolved) {
        Ok(toml::Value::Table(t)) => t,
        _ => unreachable!("RawScenario serializes to a TOML table"),
    };
    let set: Vec<&str> = overrides
        .iter()
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let context = Context { set: &set };
    context.merge_table(document.as_table_mut(), &tree, "");
    // Tables in schema order: a table the file lacks goes after the one
    // before it in the schema, and the file's own tables keep their order
    // where it is the schema's.
    let mut position = 0;
    order_tables(document.as_table_mut(), &tree, &mut position);
    document.to_string()
}

struct Context<'a> {
    /// Keys given by `--set`.
    set: &'a [&'a str],
}

impl Context<'_> {
    /// The comment for a key the file did not write.
    fn mark(&self, path: &str) -> &'static str {
        let by_set = self.set.iter().any(|k| {
            path == *k || path.starts_with(&format!("{k}.")) || k.starts_with(&format!("{path}."))
        });
        if by_set { SET_MARK } else { DEFAULT_MARK }
    }

    /// Sets every key of a standard (or dotted) table to its resolved value.
    fn merge_table(&self, table: &mut Table, tree: &toml::Table, path: &str) {
        for (key, resolved) in tree {
            let full = join(path, key);
            match table.get_mut(key) {
                Some(item) => self.merge_item(item, resolved, &full),
                None => {
                    let item = match resolved {
                        toml::Value::Table(sub) if !is_cost_range(sub) => {
                            let mut new = Table::new();
                            // Shown only once it holds a value.
                            new.set_implicit(true);
                            if table.is_dotted() {
                                new.set_dotted(true);
                            } else {
                                new.decor_mut().set_prefix("\n");
                            }
                            self.merge_table(&mut new, sub, &full);
                            Item::Table(new)
                        }
                        value => {
                            let mut value = edit_value(value);
                            value
                                .decor_mut()
                                .set_suffix(format!("  {}", self.mark(&full)));
                            Item::Value(value)
                        }
                    };
                    if item.is_value() {
                        table.set_implicit(false);
                    }
                    table.insert(key, item);
                }
            }
        }
    }

    /// Sets one item of the file to its resolved value.
    fn merge_item(&self, item: &mut Item, resolved: &toml::Value, path: &str) {
        match (item, resolved) {
            (Item::Table(table), toml::Value::Table(sub)) => self.merge_table(table, sub, path),
            (Item::Value(Value::InlineTable(inline)), toml::Value::Table(sub)) => {
                let added = merge_inline(inline, sub);
                if !added.is_empty() {
                    let decor = inline.decor_mut();
                    let commented = decor
                        .suffix()
                        .and_then(|s| s.as_str())
                        .is_some_and(|s| s.contains('#'));
                    if !commented {
                        decor.set_suffix(format!("  {}: {}", self.mark(path), added.join(", ")));
                    }
                }
            }
            (Item::Value(old), value) => {
                if !same(old, value) {
                    let mut new = edit_value(value);
                    *new.decor_mut() = old.decor().clone();
                    if self.mark(path) == SET_MARK {
                        // The file's comment was about the file's value.
                        let mut was = old.clone();
                        was.decor_mut().clear();
                        let rest = old.decor().suffix().and_then(|s| s.as_str()).unwrap_or("");
                        let rest = match rest.trim() {
                            "" => String::new(),
                            comment => format!(" {comment}"),
                        };
                        new.decor_mut().set_suffix(format!(
                            "  {SET_MARK} (the file has {}){rest}",
                            was.to_string().trim()
                        ));
                    }
                    *old = new;
                }
            }
            (item, value) => {
                // A table in the file, one value resolved (a cost range
                // set to one number by --set).
                let mut new = edit_value(value);
                new.decor_mut().set_suffix(format!("  {}", self.mark(path)));
                *item = Item::Value(new);
            }
        }
    }
}

/// Sets an inline table's keys to their resolved values; returns the keys
/// it added (an inline table holds no comments).
fn merge_inline(inline: &mut InlineTable, tree: &toml::Table) -> Vec<String> {
    let mut added = Vec::new();
    for (key, resolved) in tree {
        match (inline.get_mut(key), resolved) {
            (Some(Value::InlineTable(sub)), toml::Value::Table(sub_tree)) => {
                added.extend(
                    merge_inline(sub, sub_tree)
                        .into_iter()
                        .map(|k| format!("{key}.{k}")),
                );
            }
            (Some(old), value) => {
                if !same(old, value) {
                    let mut new = edit_value(value);
                    *new.decor_mut() = old.decor().clone();
                    *old = new;
                }
            }
            (None, value) => {
                inline.insert(key, edit_value(value));
                added.push(key.clone());
            }
        }
    }
    if !added.is_empty() {
        // Spacing as toml_edit writes it (an inline table has no comments).
        inline.fmt();
    }
    added
}

/// Gives every standard table a position in schema order (see
/// [`resolved_document`]).
fn order_tables(table: &mut Table, tree: &toml::Table, position: &mut isize) {
    for (key, resolved) in tree {
        let toml::Value::Table(sub_tree) = resolved else {
            continue;
        };
        if let Some(Item::Table(sub)) = table.get_mut(key) {
            if !sub.is_dotted() {
                *position += 1;
                sub.set_position(Some(*position));
            }
            order_tables(sub, sub_tree, position);
        }
    }
}

/// Whether the file's value already is the resolved value, in its type
/// (`8` is not the float `8.0`).
fn same(old: &Value, resolved: &toml::Value) -> bool {
    match (old, resolved) {
        (Value::String(a), toml::Value::String(b)) => a.value() == b,
        (Value::Integer(a), toml::Value::Integer(b)) => a.value() == b,
        (Value::Float(a), toml::Value::Float(b)) => a.value() == b,
        (Value::Boolean(a), toml::Value::Boolean(b)) => a.value() == b,
        (Value::Array(a), toml::Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::InlineTable(a), toml::Value::Table(b)) => {
            a.len() == b.len() && b.iter().all(|(k, y)| a.get(k).is_some_and(|x| same(x, y)))
        }
        _ => false,
    }
}

/// A resolved value as `toml_edit` writes it (floats keep a decimal point).
fn edit_value(value: &toml::Value) -> Value {
    value
        .to_string()
        .parse()
        .expect("a TOML value reads back as a TOML value")
}

/// Whether a resolved table is a cost range `{ low, high }`: one value.
fn is_cost_range(table: &toml::Table) -> bool {
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
    use crate::scenario::Scenario;

    /// validate's text, and what it resolves to read back.
    fn round_trip(text: &str, overrides: &[&str]) -> (String, Scenario, Scenario) {
        let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        let first = Scenario::from_toml_str(text, "t.toml", &overrides).unwrap();
        let printed = resolved_document(text, &first.raw, &overrides);
        let again = Scenario::from_toml_str(&printed, "printed.toml", &[])
            .unwrap_or_else(|e| panic!("{e}\n{printed}"));
        (printed, first, again)
    }

    #[test]
    fn the_shipped_scenario_keeps_its_comments() {
        let text = include_str!("../../scenarios/vors_la.toml");
        let (printed, first, again) = round_trip(text, &[]);
        assert_eq!(first.raw, again.raw);
        // Every line stays; only what the file leaves out is added.
        let lines: Vec<&str> = printed.lines().collect();
        for line in text.lines() {
            assert!(lines.contains(&line), "lost: {line}\n{printed}");
        }
        assert!(
            printed.contains("rct_control_share = 0.0  # default"),
            "{printed}"
        );
    }

    #[test]
    fn set_values_and_missing_keys_are_written() {
        let text = "# my program\nname = \"mine\"  # the name\n\n[referrals]\n# per month\nper_month = 8  # a guess\nmale_share = 0.5\n\n[costs]\njustice_per_rearrest = { low = 6000 }\n";
        let (printed, first, again) = round_trip(
            text,
            &[
                "referrals.male_share=0.6",
                "mediators.initial_active=12",
                "costs.victim_per_rearrest=3000",
            ],
        );
        assert_eq!(first.raw, again.raw);
        for kept in ["# my program", "# the name", "# per month", "# a guess"] {
            assert!(printed.contains(kept), "{kept} lost:\n{printed}");
        }
        assert!(printed.contains("per_month = 8.0  # a guess"), "{printed}");
        assert!(
            printed.contains("male_share = 0.6  # --set (the file has 0.5)\n"),
            "{printed}"
        );
        assert!(
            printed.contains("initial_active = 12  # --set"),
            "{printed}"
        );
        assert!(
            printed.contains("victim_per_rearrest = 3000.0  # --set"),
            "{printed}"
        );
        assert!(
            printed.contains("second_arrest_share = 0.3  # default"),
            "{printed}"
        );
        assert!(
            printed.contains(
                "justice_per_rearrest = { low = 6000.0, high = 15000.0 }  # default: high"
            ),
            "{printed}"
        );
        // Tables in schema order: simulation before referrals, costs last.
        let at = |header: &str| printed.find(header).unwrap_or_else(|| panic!("{header}"));
        assert!(at("[simulation]") < at("[referrals]"));
        assert!(at("[referrals]") < at("[referrals.race_shares]"));
        assert!(at("[treatment]") < at("[design]"));
        assert!(at("[design]") < at("[costs]"));
    }

    #[test]
    fn dotted_and_partial_tables_resolve_the_same() {
        for text in [
            "[referrals]\nrace_shares.hispanic = 0.573\n",
            "[referrals.offense_shares]\nvandalism = 0.25\n",
            "[restitution.court_ordered.completion]\npayment_probability = 0.5\n",
            "recidivism.offense_log_hr = { burglary = 0.35 }\n",
            "[costs.justice_per_rearrest]\nlow = 6000.0\n",
            "referrals = { per_month = 8, race_shares = { hispanic = 0.573 } }\n",
            "referrals.per_month = 8\n[mediators]\ninitial_active = 5\n",
            "[treatment]\nhalf_life_months = 6\n[simulation]\nseed = 1\n",
            "",
        ] {
            let (_, first, again) = round_trip(text, &[]);
            assert_eq!(first.raw, again.raw, "{text}");
        }
        let (printed, first, again) = round_trip(
            "[costs.justice_per_rearrest]\nlow = 6000.0\nhigh = 7000.0\n",
            &["costs.justice_per_rearrest=5000"],
        );
        assert_eq!(first.raw, again.raw, "{printed}");
    }
}
