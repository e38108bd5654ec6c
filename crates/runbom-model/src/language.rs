//! The languages whose running programs runbom observes, and the package ecosystem each one's
//! components belong to. A report says which language an instance ran; each component says its
//! own ecosystem (one program can load components of several: a Python program's Go helper).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Ecosystem;

/// A language runtime runbom can observe, spelled in lowercase on the wire.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Reports of schema v1 (Python only) carry no language: they are Python.
    #[default]
    Python,
    Go,
    Ruby,
    Perl,
    Tcl,
}

impl Language {
    pub const ALL: [Language; 5] = [
        Language::Python,
        Language::Go,
        Language::Ruby,
        Language::Perl,
        Language::Tcl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Go => "go",
            Language::Ruby => "ruby",
            Language::Perl => "perl",
            Language::Tcl => "tcl",
        }
    }

    /// What its users call one installed component: a Python distribution, a Go module.
    pub fn component_noun(self) -> &'static str {
        match self {
            Language::Python | Language::Perl => "distribution",
            Language::Go => "module",
            Language::Ruby => "gem",
            Language::Tcl => "package",
        }
    }

    /// What of a component is loaded: Python modules, Go packages, Ruby/Perl/Tcl files.
    pub fn unit_noun(self) -> &'static str {
        match self {
            Language::Python => "module",
            Language::Go => "package",
            Language::Ruby | Language::Perl | Language::Tcl => "file",
        }
    }

    /// The ecosystem of the packages this language loads.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Language::Python => Ecosystem::PyPi,
            Language::Go => Ecosystem::Go,
            Language::Ruby => Ecosystem::RubyGems,
            Language::Perl => Ecosystem::Cpan,
            Language::Tcl => Ecosystem::Tcl,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language name runbom does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language `{0}` (known: python, go, ruby, perl, tcl)")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::ALL
            .into_iter()
            .find(|l| l.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownLanguage(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_map_to_their_ecosystem() {
        for language in Language::ALL {
            assert_eq!(language.as_str().parse::<Language>(), Ok(language));
            let json = serde_json::to_string(&language).unwrap();
            assert_eq!(json, format!("\"{language}\""));
        }
        assert_eq!(Language::Go.ecosystem(), Ecosystem::Go);
        assert!("cobol".parse::<Language>().is_err());
    }
}
