//! The layer rule of `src/` (CONTRIBUTING.md): each folder may import only
//! the folders of its own layer or below, so the life of one case never
//! depends on how it is run, measured, analysed, written or asked for.
//!
//! | layer | folders |
//! | --- | --- |
//! | 0 | `error.rs`, `cancel.rs` (serve every layer) |
//! | 1 | `model/` |
//! | 2 | `scenario/`, `measure/` |
//! | 3 | `engine/` |
//! | 4 | `output/` |
//! | 5 | `analysis/` |
//! | 6 | `commands/` |
//! | 7 | `lib.rs`, `main.rs`, `fuzzing.rs` |
//!
//! The test reads every `crate::` path in every source file (in `use`
//! lines and in code alike, comments and strings excepted) and fails, naming
//! the file, the line and the path, if a file reaches above its layer.

use std::fs;
use std::path::{Path, PathBuf};

/// The layer of a top-level module or file of `src/`.
fn layer(top: &str) -> Option<u8> {
    Some(match top {
        "error" | "cancel" => 0,
        "model" => 1,
        "scenario" | "measure" => 2,
        "engine" => 3,
        "output" => 4,
        "analysis" => 5,
        "commands" => 6,
        "lib" | "main" | "fuzzing" => 7,
        _ => return None,
    })
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A line without its `//` comment and string literals (roughly: enough for
/// this code base, whose strings hold no `crate::` that matters).
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                chars.next();
            }
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            _ if !in_string => code.push(c),
            _ => {}
        }
    }
    code
}

/// The top-level modules a line names through `crate::`.
fn crate_paths(code: &str) -> Vec<String> {
    code.match_indices("crate::")
        .filter(|(at, _)| {
            // `crate::` itself, not `vomsim_crate::` or similar.
            *at == 0 || !code[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_')
        })
        .map(|(at, m)| {
            code[at + m.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// Every `use crate::{a, b::c}` group names several top-level modules.
fn grouped(code: &str) -> Vec<String> {
    let Some(at) = code.find("crate::{") else {
        return Vec::new();
    };
    let inner = &code[at + "crate::{".len()..];
    let mut depth = 0;
    let mut names = Vec::new();
    let mut current = String::new();
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                names.push(std::mem::take(&mut current));
            }
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    names.push(current);
    names
        .iter()
        .map(|n| {
            n.trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        })
        .filter(|n: &String| !n.is_empty())
        .collect()
}

#[test]
fn no_layer_imports_a_higher_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 30, "found {} source files", files.len());
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let own = layer(&top).unwrap_or_else(|| {
            panic!(
                "{} is in no layer: add its folder to tests/layers.rs and CONTRIBUTING.md",
                relative.display()
            )
        });
        let text = fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = code_of(line);
            let mut names = crate_paths(&code);
            names.extend(grouped(&code));
            for name in names.into_iter().filter(|n| !n.is_empty()) {
                checked += 1;
                match layer(&name) {
                    Some(theirs) if theirs > own => violations.push(format!(
                        "{}:{}: layer {own} ({top}) imports crate::{name} (layer {theirs})",
                        relative.display(),
                        number + 1
                    )),
                    Some(_) => {}
                    // Re-exports at the crate root (`crate::Result`,
                    // `crate::Scenario`) are items of lower layers.
                    None if matches!(name.as_str(), "Result" | "Error" | "Scenario") => {}
                    None => violations.push(format!(
                        "{}:{}: crate::{name} is in no layer",
                        relative.display(),
                        number + 1
                    )),
                }
            }
        }
    }
    assert!(
        checked > 100,
        "only {checked} crate paths found: is the scan broken?"
    );
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The scan itself: it sees plain, nested and grouped paths, and ignores
/// comments and strings.
#[test]
fn the_scan_finds_paths() {
    assert_eq!(crate_paths("use crate::model::draws;"), ["model"]);
    assert_eq!(
        crate_paths("let x = crate::engine::run(crate::output::csv::f());"),
        ["engine", "output"]
    );
    assert_eq!(
        grouped("use crate::{engine, output::csv};"),
        ["engine", "output"]
    );
    assert!(crate_paths(&code_of("// crate::commands")).is_empty());
    assert!(crate_paths(&code_of(r#"let s = "crate::commands";"#)).is_empty());
}
