//! Readers that turn SBOMs and lockfiles into an [`ExpectedInventory`], one module per format,
//! each behind the [`InventoryReader`] trait and registered in [`READERS`]; advisory formats
//! (OSV JSON/YAML, ruby-advisory-db) behind their own trait in [`advisories`]; writers of SBOM
//! and VEX documents in [`write`].

pub mod advisories;
pub mod attestation;
mod cyclonedx_json;
mod cyclonedx_xml;
mod error;
pub mod index;
mod locked;
mod pipfile_lock;
mod poetry_lock;
mod purl;
mod pylock;
mod requirements;
mod spdx_json;
mod toml_lock;
mod uv_lock;
pub mod write;

use std::path::Path;

use runbom_model::expected::ExpectedInventory;

pub use error::SourceError;

/// One expected-inventory format.
pub trait InventoryReader: Sync {
    /// Stable name used in output and on the command line, e.g. `cyclonedx/json`.
    fn name(&self) -> &'static str;
    /// Whether this reader claims the file, from its name and its first bytes.
    fn detect(&self, path: &Path, contents: &str) -> bool;
    /// Reads the whole file. `path` names the file in errors and resolves includes.
    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError>;
}

/// Every reader, most specific first.
pub static READERS: &[&dyn InventoryReader] = &[
    &cyclonedx_json::CycloneDxJson,
    &cyclonedx_xml::CycloneDxXml,
    &spdx_json::SpdxJson,
    &uv_lock::UvLock,
    &poetry_lock::PoetryLock,
    &pipfile_lock::PipfileLock,
    &pylock::Pylock,
    &requirements::Requirements,
];

/// The reader with this stable name.
pub fn reader_by_name(name: &str) -> Option<&'static dyn InventoryReader> {
    READERS.iter().copied().find(|r| r.name() == name)
}

/// Reads `path` with the first reader that detects it.
pub fn read_expected(path: &Path) -> Result<ExpectedInventory, SourceError> {
    let contents = std::fs::read_to_string(path).map_err(|source| SourceError::Io {
        file: path.display().to_string(),
        source,
    })?;
    let reader = READERS
        .iter()
        .find(|r| r.detect(path, &contents))
        .ok_or_else(|| SourceError::UnknownFormat {
            file: path.display().to_string(),
        })?;
    reader.read(path, &contents)
}

#[cfg(test)]
pub(crate) mod testdata {
    use std::path::PathBuf;

    use runbom_model::expected::{ExpectedComponent, ExpectedInventory};

    use crate::{InventoryReader, SourceError};

    pub fn path(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(name)
    }

    /// Reads a fixture with `reader`, checking first that the reader detects it.
    pub fn read(
        reader: &dyn InventoryReader,
        name: &str,
    ) -> Result<ExpectedInventory, SourceError> {
        let path = path(name);
        let contents = std::fs::read_to_string(&path).expect("fixture");
        assert!(reader.detect(&path, &contents), "{name} not detected");
        reader.read(&path, &contents)
    }

    /// The component with this normalised name; panics when absent.
    pub fn component<'a>(inventory: &'a ExpectedInventory, name: &str) -> &'a ExpectedComponent {
        inventory
            .components
            .iter()
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| panic!("no `{name}` in {}", inventory.source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_real_fixture_is_detected_by_its_reader() {
        let cases = [
            (
                "cyclonedx/requirements__file_with-hashes_1.6.cdx.json",
                "cyclonedx/json",
            ),
            ("spdx/SPDXJSONExample-v2.3.spdx.json", "spdx/json"),
            ("uv/uv.lock", "python/uv-lock"),
            ("poetry/poetry.lock", "python/poetry-lock"),
            ("pipenv/Pipfile.lock", "python/pipfile-lock"),
            ("pylock/pylock.toml", "python/pylock"),
            (
                "requirements/uv-export.requirements.txt",
                "python/requirements",
            ),
        ];
        for (file, format) in cases {
            let inventory = read_expected(&testdata::path(file)).expect(file);
            assert_eq!(inventory.format, format, "{file}");
            assert!(!inventory.components.is_empty(), "{file}");
            assert!(reader_by_name(format).is_some());
        }
    }

    #[test]
    fn lockfiles_of_one_project_agree_on_the_pins() {
        let pins = |file: &str| {
            let inventory = read_expected(&testdata::path(file)).expect(file);
            let requests = inventory
                .components
                .iter()
                .find(|c| c.name.as_str() == "requests")
                .unwrap_or_else(|| panic!("{file}: no requests"));
            (
                requests.version.exact().map(str::to_owned),
                requests.purl.clone(),
            )
        };
        let expected = (
            Some("2.32.3".to_owned()),
            Some("pkg:pypi/requests@2.32.3".to_owned()),
        );
        for file in [
            "uv/uv.lock",
            "poetry/poetry.lock",
            "pipenv/Pipfile.lock",
            "pylock/pylock.toml",
            "requirements/uv-export.requirements.txt",
        ] {
            assert_eq!(pins(file), expected, "{file}");
        }
    }

    #[test]
    fn unknown_files_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.md");
        std::fs::write(&path, "hello").expect("write");
        let error = read_expected(&path).expect_err("unknown");
        assert!(
            error.to_string().contains("notes.md` is not a format"),
            "{error}"
        );
    }
}
