//! Shared readers for the third-party vectors in `testdata/`.

#![allow(dead_code)]

use std::cmp::Ordering;
use std::path::PathBuf;

pub fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The result of replaying an `A <op> B` comparison file.
#[derive(Debug, Default)]
pub struct Outcome {
    pub checked: usize,
    /// Lines where a side did not parse.
    pub unparsable: Vec<String>,
    pub failures: Vec<String>,
}

/// Replays osv-scalibr's comparison format: one `A <op> B` per line (`<`, `=`, `>`), blank
/// lines and lines starting with `#` or `//` are comments. Checks both `cmp(A,B)` and
/// `cmp(B,A)`.
pub fn comparisons<V>(
    text: &str,
    parse: impl Fn(&str) -> Option<V>,
    cmp: impl Fn(&V, &V) -> Ordering,
) -> Outcome {
    let mut outcome = Outcome::default();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//") {
            continue;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        let [a, op, b] = parts[..] else {
            panic!("bad comparison line `{line}`");
        };
        let expected = match op {
            "<" => Ordering::Less,
            "=" => Ordering::Equal,
            ">" => Ordering::Greater,
            _ => panic!("bad operator in `{line}`"),
        };
        let (Some(va), Some(vb)) = (parse(a), parse(b)) else {
            outcome.unparsable.push(line.to_owned());
            continue;
        };
        outcome.checked += 1;
        if cmp(&va, &vb) != expected || cmp(&vb, &va) != expected.reverse() {
            outcome.failures.push(line.to_owned());
        }
    }
    outcome
}
