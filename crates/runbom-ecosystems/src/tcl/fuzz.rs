//! The `pkgIndex.tcl` reader fed hostile text: arbitrary bytes, and Debian tcllib's real indexes
//! (when installed) with characters changed or cut short anywhere. Any answer is fine but a panic
//! or a hang; every problem names a line of the text.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use runbom_versions::TclVersion;

use super::pkgindex;

/// Real indexes: tcllib's, Tk's and Tcl's own, as this machine has them.
fn real_indexes() -> &'static [String] {
    static INDEXES: OnceLock<Vec<String>> = OnceLock::new();
    INDEXES.get_or_init(|| {
        let mut texts = Vec::new();
        for root in ["/usr/share/tcltk", "/usr/lib/tcltk"] {
            let Ok(entries) = std::fs::read_dir(root) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let Ok(subdirs) = std::fs::read_dir(entry.path()) else {
                    continue;
                };
                for sub in subdirs.filter_map(Result::ok) {
                    if let Ok(text) = std::fs::read_to_string(sub.path().join("pkgIndex.tcl")) {
                        texts.push(text);
                    }
                }
            }
        }
        texts.sort();
        texts
    })
}

fn check(text: &str) {
    let tcl = TclVersion::parse("8.6.13").ok();
    let index = pkgindex::parse(Path::new("/x/pkgIndex.tcl"), text, tcl.as_ref());
    let lines = text.lines().count().max(1) + 1;
    for problem in &index.problems {
        let line = problem.line.unwrap_or(1);
        assert!((1..=lines).contains(&line), "{problem} of {lines} lines");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn tcl_like_text_never_panics(text in "[a-z $\\[\\]{}\"\\\\;#\n]{0,400}") {
        check(&text);
    }

    #[test]
    fn a_damaged_real_index_never_panics(
        pick in any::<prop::sample::Index>(),
        changes in proptest::collection::vec((any::<prop::sample::Index>(), "[\\[\\]{}\"\\\\;\n#$ a]"), 1..6),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let indexes = real_indexes();
        if indexes.is_empty() {
            return Ok(());
        }
        let mut text: Vec<char> = indexes[pick.index(indexes.len())].chars().collect();
        for (at, replacement) in changes {
            if !text.is_empty() {
                let at = at.index(text.len());
                text[at] = replacement.chars().next().unwrap_or(' ');
            }
        }
        if let Some(cut) = cut {
            text.truncate(cut.index(text.len() + 1));
        }
        check(&text.into_iter().collect::<String>());
    }
}

#[test]
fn every_real_index_reads_without_a_problem() {
    for text in real_indexes() {
        let tcl = TclVersion::parse("8.6.13").ok();
        let index = pkgindex::parse(Path::new("/x/pkgIndex.tcl"), text, tcl.as_ref());
        assert!(index.problems.is_empty(), "{:?}", index.problems);
    }
}
