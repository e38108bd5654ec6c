//! The one way every command reads an expected inventory named on its command line: an SBOM or a
//! lockfile (`runbom_sources`, told apart by content) or an executable — a Go binary, typically
//! the previous release's (`go/binary`).

use std::path::Path;

use runbom_ecosystems::go::binary::looks_native;
use runbom_ecosystems::go::expected as go_binary;
use runbom_model::expected::ExpectedInventory;

/// Reads `path` as the format `forced` names, else as what its content is.
pub fn read_as(path: &Path, forced: Option<&str>) -> anyhow::Result<ExpectedInventory> {
    match forced {
        Some(go_binary::FORMAT) => Ok(go_binary::read_expected(path)?),
        Some(_) => Ok(runbom_sources::read_expected_as(path, forced)?),
        // `MZ` may also start a text file: one that is no executable is read as text.
        None if looks_native(path) => go_binary::read_expected(path).or_else(|binary| {
            runbom_sources::read_expected(path).map_err(|_| anyhow::Error::new(binary))
        }),
        None => Ok(runbom_sources::read_expected(path)?),
    }
}

/// Reads `path` as what its content is.
pub fn read(path: &Path) -> anyhow::Result<ExpectedInventory> {
    read_as(path, None)
}
