//! The expected inventory: what an SBOM or lockfile says should be installed and running.
//!
//! Identity is by PURL when the source gives one and by (ecosystem, normalised name) always, so a
//! CycloneDX component and a `requirements.txt` pin for the same package meet.

use serde::{Deserialize, Serialize};

use crate::{Ecosystem, PackageName};

/// Every component one expected-inventory file lists, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedInventory {
    /// The reader that produced it, e.g. `cyclonedx/json` or `python/requirements`.
    pub format: String,
    /// The file it was read from, as given.
    pub source: String,
    pub components: Vec<ExpectedComponent>,
    /// The file that lists the source checksum of every module a build of this inventory
    /// compiled (the `go.sum` beside a `go.mod`): a component built from source whose checksum
    /// it does not list was never verified by that build. `None` where the source lists
    /// checksums in part or not at all (an SBOM, a previous binary built from vendored source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_file: Option<String>,
    /// The source lists requirements a build may leave out: a `go.mod` lists the module graph's
    /// requirements (`// indirect` ones, and modules only tests of dependencies import), which
    /// the linker prunes from a binary. One that nothing runs is then no sign of a wrong build.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lists_unbuilt: bool,
}

impl ExpectedInventory {
    /// The first component with this PURL (compared without qualifiers and subpath).
    pub fn by_purl(&self, purl: &str) -> Option<&ExpectedComponent> {
        let wanted = purl_identity(purl);
        self.components
            .iter()
            .find(|c| c.purl.as_deref().map(purl_identity) == Some(wanted))
    }

    /// Every component with this ecosystem and normalised name (a lockfile may pin one name
    /// more than once, per platform or marker).
    pub fn by_name<'a>(
        &'a self,
        ecosystem: Ecosystem,
        name: &'a PackageName,
    ) -> impl Iterator<Item = &'a ExpectedComponent> + 'a {
        self.components
            .iter()
            .filter(move |c| c.ecosystem == Some(ecosystem) && &c.name == name)
    }
}

/// A PURL without its `?qualifiers` and `#subpath`, which do not change the package's identity.
fn purl_identity(purl: &str) -> &str {
    let end = purl.find(['?', '#']).unwrap_or(purl.len());
    &purl[..end]
}

/// One expected component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedComponent {
    /// `None` when the source names no ecosystem (an SBOM component without a PURL).
    pub ecosystem: Option<Ecosystem>,
    /// The name exactly as written in the source.
    pub raw_name: String,
    /// The name normalised for its ecosystem (PEP 503 for PyPI).
    pub name: PackageName,
    pub version: ExpectedVersion,
    pub purl: Option<String>,
    pub hashes: Vec<ComponentHash>,
    /// SPDX identifiers or expressions, or free licence names as the source writes them.
    pub licenses: Vec<String>,
    /// An environment marker (`sys_platform == "win32"`): the component is expected only where
    /// it holds.
    pub marker: Option<String>,
    /// Where in the source file the component is declared.
    pub location: SourceLocation,
}

impl ExpectedComponent {
    /// A component of `ecosystem` named `raw_name` at `version`, declared at `location`, with no
    /// PURL, hashes, licences or marker (yet).
    pub fn new(
        ecosystem: Ecosystem,
        raw_name: &str,
        version: ExpectedVersion,
        location: SourceLocation,
    ) -> Self {
        ExpectedComponent {
            ecosystem: Some(ecosystem),
            raw_name: raw_name.to_owned(),
            name: PackageName::new(ecosystem, raw_name),
            version,
            purl: None,
            hashes: Vec::new(),
            licenses: Vec::new(),
            marker: None,
            location,
        }
    }
}

/// The version a source expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum ExpectedVersion {
    /// One exact version (`==1.2.3`, a lockfile entry, an SBOM component version).
    Exact(String),
    /// A specifier that allows a range (`>=1.2,<2`).
    Specifier(String),
    /// A direct reference (`pkg @ https://…`, a VCS URL) with no version of its own.
    Url(String),
    /// No version given.
    Unspecified,
}

impl ExpectedVersion {
    pub fn exact(&self) -> Option<&str> {
        match self {
            Self::Exact(v) => Some(v),
            _ => None,
        }
    }
}

/// A hash the source records for the component's artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentHash {
    /// Lower-case algorithm name without separators: `sha256`, `sha512`, `md5`, `blake2b256`.
    pub algorithm: String,
    /// Lower-case hex digest.
    pub hex: String,
}

impl ComponentHash {
    /// The algorithm of a Go module's source checksum as `go.sum` and a binary's build
    /// information write it (`h1:` + base64 of Go's dirhash). Its `hex` keeps that text whole
    /// (`h1:…`, base64 is case-sensitive), so it is built directly, not through [`Self::new`].
    pub const GO_SUM: &'static str = "h1";

    /// A Go module's source checksum `h1:…` as written in go.sum or the build information.
    pub fn go_sum(sum: &str) -> Self {
        ComponentHash {
            algorithm: Self::GO_SUM.to_owned(),
            hex: sum.to_owned(),
        }
    }

    /// Normalises the algorithm name (`SHA-256` -> `sha256`) and the digest case.
    pub fn new(algorithm: &str, hex: &str) -> Self {
        let algorithm = algorithm
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        Self {
            algorithm,
            hex: hex.trim().to_ascii_lowercase(),
        }
    }
}

/// A place in a source file: 1-based line, or a JSON-pointer-like path for structured formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    pub file: String,
    pub line: Option<usize>,
    /// e.g. `/components/3` or `package[2]`.
    pub path: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(name: &str, purl: Option<&str>) -> ExpectedComponent {
        ExpectedComponent {
            ecosystem: Some(Ecosystem::PyPi),
            raw_name: name.to_owned(),
            name: PackageName::pypi(name),
            version: ExpectedVersion::Exact("1.0".to_owned()),
            purl: purl.map(str::to_owned),
            hashes: vec![],
            licenses: vec![],
            marker: None,
            location: SourceLocation {
                file: "x".to_owned(),
                line: Some(1),
                path: None,
            },
        }
    }

    #[test]
    fn identity_by_purl_ignores_qualifiers_and_by_name_normalises() {
        let inventory = ExpectedInventory {
            format: "test".to_owned(),
            source: "x".to_owned(),
            components: vec![
                component("Foo.Bar", Some("pkg:pypi/foo-bar@1.0?file_name=x.whl")),
                component("baz", None),
            ],
            checksum_file: None,
            lists_unbuilt: false,
        };
        assert!(inventory.by_purl("pkg:pypi/foo-bar@1.0").is_some());
        assert!(inventory.by_purl("pkg:pypi/foo-bar@2.0").is_none());
        let name = PackageName::pypi("foo_bar");
        assert_eq!(inventory.by_name(Ecosystem::PyPi, &name).count(), 1);
    }

    #[test]
    fn hash_algorithm_names_are_normalised() {
        assert_eq!(ComponentHash::new("SHA-256", "AB").algorithm, "sha256");
        assert_eq!(ComponentHash::new("SHA-256", "AB").hex, "ab");
    }
}
