//! Package names as an ecosystem compares them.
//!
//! Trap: PyPI names compare after PEP 503 normalisation (`Foo.Bar_baz` == `foo-bar-baz`), but Go
//! module paths and RubyGems names are case-sensitive and must be left alone.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::Ecosystem;

/// A package name normalised on construction for its ecosystem, so that a raw name can never be
/// compared with a normalised one by mistake.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PackageName(String);

impl PackageName {
    pub fn new(ecosystem: Ecosystem, raw: &str) -> Self {
        match ecosystem {
            Ecosystem::PyPi => Self::pypi(raw),
            Ecosystem::Npm | Ecosystem::CratesIo => Self(raw.trim().to_ascii_lowercase()),
            Ecosystem::Go | Ecosystem::RubyGems | Ecosystem::Cpan | Ecosystem::Tcl => {
                Self(raw.trim().to_owned())
            }
        }
    }

    /// PEP 503: lowercase, and every run of `-`, `_` and `.` becomes one `-`.
    pub fn pypi(raw: &str) -> Self {
        let mut normalized = String::with_capacity(raw.len());
        let mut in_separator_run = false;
        for c in raw.trim().chars() {
            if matches!(c, '-' | '_' | '.') {
                if !in_separator_run {
                    normalized.push('-');
                }
                in_separator_run = true;
            } else {
                normalized.push(c.to_ascii_lowercase());
                in_separator_run = false;
            }
        }
        Self(normalized)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_normalisation() {
        for raw in [
            "Foo.Bar_baz",
            "foo-bar-baz",
            "FOO__BAR--baz",
            "foo._-bar.baz",
        ] {
            assert_eq!(PackageName::pypi(raw).as_str(), "foo-bar-baz", "{raw}");
        }
        assert_eq!(PackageName::pypi("PyYAML").as_str(), "pyyaml");
    }

    #[test]
    fn go_and_ruby_names_keep_their_case() {
        let go = PackageName::new(Ecosystem::Go, "github.com/BurntSushi/toml");
        assert_eq!(go.as_str(), "github.com/BurntSushi/toml");
        let gem = PackageName::new(Ecosystem::RubyGems, "RedCloth");
        assert_eq!(gem.as_str(), "RedCloth");
    }
}
