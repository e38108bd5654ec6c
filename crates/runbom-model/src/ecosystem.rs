//! The package ecosystems runbom knows, named as OSV names them (`PyPI`, `Go`, `RubyGems` …).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A package ecosystem, spelled on the wire exactly as the OSV schema spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Ecosystem {
    #[serde(rename = "PyPI")]
    PyPi,
    #[serde(rename = "Go")]
    Go,
    #[serde(rename = "RubyGems")]
    RubyGems,
    #[serde(rename = "CPAN")]
    Cpan,
    #[serde(rename = "Tcl")]
    Tcl,
    #[serde(rename = "npm")]
    Npm,
    #[serde(rename = "crates.io")]
    CratesIo,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 7] = [
        Ecosystem::PyPi,
        Ecosystem::Go,
        Ecosystem::RubyGems,
        Ecosystem::Cpan,
        Ecosystem::Tcl,
        Ecosystem::Npm,
        Ecosystem::CratesIo,
    ];

    /// The OSV name, e.g. `PyPI`.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::PyPi => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::RubyGems => "RubyGems",
            Ecosystem::Cpan => "CPAN",
            Ecosystem::Tcl => "Tcl",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "crates.io",
        }
    }

    /// Whether one installed unit holds many packages side by side (Debian's `tcllib` is some
    /// 450 Tcl packages, several at two versions), so that a package installed but never loaded
    /// says little about what was meant to ship.
    pub fn installs_in_bundles(self) -> bool {
        matches!(self, Ecosystem::Tcl)
    }

    /// Whether any advisory database covers this ecosystem's packages (OSV, RubySec, CPANSA …):
    /// none does for Tcl, so that auditing Tcl says so rather than finding nothing.
    pub fn has_advisory_source(self) -> bool {
        !matches!(self, Ecosystem::Tcl)
    }

    /// The package-URL type (`pkg:<type>/…`) of this ecosystem.
    pub fn purl_type(self) -> &'static str {
        match self {
            Ecosystem::PyPi => "pypi",
            Ecosystem::Go => "golang",
            Ecosystem::RubyGems => "gem",
            Ecosystem::Cpan => "cpan",
            Ecosystem::Tcl => "generic",
            Ecosystem::Npm => "npm",
            Ecosystem::CratesIo => "cargo",
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An ecosystem name runbom does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown ecosystem `{0}` (known: PyPI, Go, RubyGems, CPAN, Tcl, npm, crates.io)")]
pub struct UnknownEcosystem(pub String);

impl FromStr for Ecosystem {
    type Err = UnknownEcosystem;

    /// Accepts the OSV name case-insensitively, and the common aliases `pypi`, `python`,
    /// `golang`, `gem`, `ruby`, `perl`, `cargo`, `rust`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        let ecosystem = match lower.as_str() {
            "pypi" | "python" => Ecosystem::PyPi,
            "go" | "golang" => Ecosystem::Go,
            "rubygems" | "gem" | "ruby" => Ecosystem::RubyGems,
            "cpan" | "perl" => Ecosystem::Cpan,
            "tcl" => Ecosystem::Tcl,
            "npm" => Ecosystem::Npm,
            "crates.io" | "cargo" | "rust" => Ecosystem::CratesIo,
            _ => return Err(UnknownEcosystem(s.to_owned())),
        };
        Ok(ecosystem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osv_names_round_trip() {
        for ecosystem in Ecosystem::ALL {
            assert_eq!(ecosystem.as_str().parse::<Ecosystem>(), Ok(ecosystem));
            let json = serde_json::to_string(&ecosystem).unwrap();
            assert_eq!(json, format!("\"{}\"", ecosystem.as_str()));
        }
    }

    #[test]
    fn unknown_ecosystem_is_named() {
        let err = "Hackage".parse::<Ecosystem>().unwrap_err();
        assert!(err.to_string().contains("`Hackage`"));
    }
}
