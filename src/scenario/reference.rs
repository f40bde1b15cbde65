//! The scenario reference (`docs/scenario-reference.md`), read as data: one
//! row per key, with its meaning and range and its default's source. It is
//! the one source of the comments `vomsim init` writes.
//!
//! The table lies between the `<!-- reference:start -->` and
//! `<!-- reference:end -->` markers. Each row has three cells: the key in
//! backticks, its meaning, and its default with that default's source. A
//! key may name one value (`referrals.male_share`), every key of a map table
//! (`referrals.race_shares.<race>`), or say something about a whole table
//! (`costs.*`).

/// The reference page, compiled in.
const PAGE: &str = include_str!("../../docs/scenario-reference.md");

/// One row of the reference table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The key as written, without backticks: `referrals.per_month`,
    /// `referrals.race_shares.<race>` or `costs.*`.
    pub key: String,
    /// Meaning, unit and range.
    pub meaning: String,
    /// The default and where it comes from.
    pub default_source: String,
}

/// What a row of the reference says a key is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// One value (a number, a list, a cost range).
    Value,
    /// Every key of a map table (`...<offense>`).
    Map,
    /// A note on a whole table (`costs.*`).
    Table,
}

impl Row {
    /// The dotted path the row is about (`referrals.race_shares` for
    /// `referrals.race_shares.<race>`, `costs` for `costs.*`) and its kind.
    pub fn path(&self) -> (&str, RowKind) {
        if let Some(table) = self.key.strip_suffix(".*") {
            return (table, RowKind::Table);
        }
        match self.key.rsplit_once('.') {
            Some((table, last)) if last.starts_with('<') && last.ends_with('>') => {
                (table, RowKind::Map)
            }
            _ => (self.key.as_str(), RowKind::Value),
        }
    }
}

/// The rows of the reference table compiled into vomsim, read leniently: a
/// row short of cells has them empty, and a row without a key is skipped
/// (the test of [`parse`] fails on either; [`super::scenario_template`]
/// refuses a key without a default and source).
pub fn rows() -> Vec<Row> {
    read(PAGE, false).unwrap_or_default()
}

/// The rows of the key table of a reference page, or what is wrong with it.
/// Lines between the markers that are not table rows are ignored; the
/// header and separator rows are skipped.
pub fn parse(page: &str) -> Result<Vec<Row>, String> {
    read(page, true)
}

fn read(page: &str, strict: bool) -> Result<Vec<Row>, String> {
    let start = page
        .find("<!-- reference:start")
        .ok_or("no `<!-- reference:start -->` marker")?;
    let end = page[start..]
        .find("<!-- reference:end")
        .ok_or("no `<!-- reference:end -->` marker after the start")?;
    let mut rows = Vec::new();
    for (number, line) in page[start..start + end].lines().enumerate().skip(1) {
        let line = line.trim();
        if !line.starts_with('|') {
            continue;
        }
        let cells = cells(line);
        if cells
            .first()
            .is_some_and(|c| c == "key" || c.starts_with("---"))
        {
            continue;
        }
        if strict && cells.len() != 3 {
            return Err(format!(
                "row {number} of the key table has {} cells, not 3: {line}",
                cells.len()
            ));
        }
        let cell = |i: usize| cells.get(i).cloned().unwrap_or_default();
        let key = cell(0);
        let Some(key) = key
            .strip_prefix('`')
            .and_then(|k| k.strip_suffix('`'))
            .filter(|k| !k.is_empty() && !k.contains('`'))
        else {
            if strict {
                return Err(format!(
                    "row {number} of the key table does not start with a key in backticks: {line}"
                ));
            }
            continue;
        };
        rows.push(Row {
            key: key.to_string(),
            meaning: cell(1),
            default_source: cell(2),
        });
    }
    Ok(rows)
}

/// The cells of a Markdown table row, trimmed; `\|` is a literal bar, and a
/// bar inside backticks does not split.
fn cells(line: &str) -> Vec<String> {
    let inner = line.strip_prefix('|').unwrap_or(line);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut in_code = false;
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().expect("one cell").push('|');
                chars.next();
            }
            '`' => {
                in_code = !in_code;
                cells.last_mut().expect("one cell").push(c);
            }
            '|' if !in_code => cells.push(String::new()),
            _ => cells.last_mut().expect("one cell").push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_three_cells_and_a_default_source() {
        let rows = parse(PAGE).unwrap();
        assert!(rows.len() > 80, "{} rows", rows.len());
        for row in &rows {
            assert!(!row.meaning.is_empty(), "`{}` has no meaning", row.key);
            assert!(
                !row.default_source.is_empty(),
                "`{}` has an empty third column (default and its source)",
                row.key
            );
        }
        let mut keys: Vec<_> = rows.iter().map(|r| r.key.as_str()).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(before, keys.len(), "a key has two rows");
    }

    /// Every default that came from Los Angeles says so by name.
    #[test]
    fn los_angeles_defaults_say_so() {
        for row in rows() {
            let text = &row.default_source;
            if text.contains("seed 003") || text.contains("calibrated") {
                assert!(text.contains("Los Angeles VORS"), "`{}`: {text}", row.key);
            }
        }
    }

    #[test]
    fn rows_are_read_tolerantly() {
        let page = "intro\n<!-- reference:start -->\n\
                    | key | meaning | default and its source |\n\
                    | --- | --- | --- |\n\
                    | `a.b` | A `x | y` bar \\| here. | 1 — assumption |\n\
                    \n\
                    | `a.m.<offense>` | A map. | 0 — assumption |\n\
                    | `a.*` | A note. | see below |\n\
                    <!-- reference:end -->\n| `z` | outside | ignored |\n";
        let rows = parse(page).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].meaning, "A `x | y` bar | here.");
        assert_eq!(rows[0].path(), ("a.b", RowKind::Value));
        assert_eq!(rows[1].path(), ("a.m", RowKind::Map));
        assert_eq!(rows[2].path(), ("a", RowKind::Table));
        let two = "<!-- reference:start -->\n| `a` | only two |\n<!-- reference:end -->";
        assert!(parse(two).unwrap_err().contains("not 3"));
        // Read leniently, the missing cell is empty.
        assert_eq!(read(two, false).unwrap()[0].default_source, "");
        assert!(parse("no markers").is_err());
    }
}
