//! The gemspec parser fed hostile text: arbitrary strings, and a real gemspec (Debian's rack)
//! with characters changed or cut short anywhere. Any answer is fine but a panic or a hang.

use proptest::prelude::*;

use super::gemspec;

const RACK: &str = include_str!("testdata/rack-2.2.22.gemspec");

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = gemspec::parse(&text);
        let _ = gemspec::parse(&format!("Gem::Specification.new do |s|\n  s.name = {text}\n"));
    }

    #[test]
    fn a_damaged_real_gemspec_never_panics(
        changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..8),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let mut chars: Vec<char> = RACK.chars().collect();
        for (at, value) in changes {
            let at = at.index(chars.len());
            chars[at] = value;
        }
        if let Some(cut) = cut {
            chars.truncate(cut.index(chars.len()));
        }
        let text: String = chars.into_iter().collect();
        let _ = gemspec::parse(&text);
    }
}
