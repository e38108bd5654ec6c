//! Shared by the lockfile readers: one pinned PyPI package as every lockfile describes it, turned
//! into an [`ExpectedComponent`] in one place.

use std::path::Path;

use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::{Ecosystem, PackageName};

use crate::purl;

/// A PyPI package entry of a lockfile.
pub(crate) struct LockedPackage<'a> {
    pub raw_name: &'a str,
    pub version: ExpectedVersion,
    pub hashes: Vec<ComponentHash>,
    pub marker: Option<String>,
    /// 1-based line of the entry, when the format has lines worth naming.
    pub line: Option<usize>,
    /// Where the entry sits in the document, e.g. `package[3]`.
    pub pointer: String,
}

impl LockedPackage<'_> {
    pub(crate) fn into_component(self, path: &Path) -> ExpectedComponent {
        let name = PackageName::pypi(self.raw_name);
        ExpectedComponent {
            ecosystem: Some(Ecosystem::PyPi),
            raw_name: self.raw_name.to_owned(),
            purl: purl::pypi(&name, self.version.exact()),
            name,
            version: self.version,
            hashes: self.hashes,
            licenses: Vec::new(),
            marker: self.marker,
            location: SourceLocation {
                file: path.display().to_string(),
                line: self.line,
                path: Some(self.pointer),
            },
        }
    }
}

/// `sha256:<hex>` as lockfiles write hashes; anything without an algorithm is dropped.
pub(crate) fn prefixed_hash(value: &str) -> Option<ComponentHash> {
    let (algorithm, hex) = value.split_once(':')?;
    Some(ComponentHash::new(algorithm, hex))
}

/// The inventory a lockfile reader returns.
pub(crate) fn inventory(
    format: &str,
    path: &Path,
    components: Vec<ExpectedComponent>,
) -> ExpectedInventory {
    ExpectedInventory {
        format: format.to_owned(),
        source: path.display().to_string(),
        components,
        checksum_file: None,
        lists_unbuilt: false,
    }
}
