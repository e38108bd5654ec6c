//! Readers that turn SBOMs and lockfiles into an [`ExpectedInventory`], one module per format,
//! each behind the [`InventoryReader`] trait and registered in [`READERS`]; advisory formats
//! (OSV JSON/YAML, ruby-advisory-db) behind their own trait in [`advisories`]; writers of SBOM
//! and VEX documents in [`write`].

pub mod advisories;
pub mod attestation;
mod cpanfile_snapshot;
mod cyclonedx_json;
mod cyclonedx_xml;
mod error;
mod gemfile_lock;
mod go_mod;
pub mod go_sum;
pub mod index;
mod locked;
mod pipfile_lock;
mod poetry_lock;
mod purl;
mod pylock;
mod requirements;
pub mod sniff;
mod spdx_json;
mod toml_lock;
mod uv_lock;
pub mod write;

use std::path::Path;

use runbom_model::expected::ExpectedInventory;

pub use error::SourceError;
use sniff::Shape;

/// One expected-inventory format.
pub trait InventoryReader: Sync {
    /// Stable name used in output and on the command line, e.g. `cyclonedx/json`.
    fn name(&self) -> &'static str;
    /// Whether this reader claims the file, from what it holds (never its name); `Err` says
    /// why it does not fit.
    fn fits(&self, shape: &Shape, contents: &str) -> Result<(), String>;
    /// Whether `file_name` is this format's conventional name (`uv.lock`, `*.cdx.json`): used
    /// only when no reader fits the content (a truncated file), so that the reader of its kind
    /// names the broken place.
    fn conventional_name(&self, file_name: &str) -> bool;
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
    &go_mod::GoMod,
    &gemfile_lock::GemfileLock,
    &cpanfile_snapshot::CpanfileSnapshot,
    &requirements::Requirements,
];

/// The reader with this stable name.
pub fn reader_by_name(name: &str) -> Option<&'static dyn InventoryReader> {
    READERS.iter().copied().find(|r| r.name() == name)
}

/// Reads `path` with the first reader its content fits.
pub fn read_expected(path: &Path) -> Result<ExpectedInventory, SourceError> {
    read_expected_as(path, None)
}

/// Reads `path` with `forced` (a reader's stable name, e.g. `requirements`), else with the first
/// reader its content fits; a file no reader fits is an error naming every format tried and why
/// it did not fit.
pub fn read_expected_as(
    path: &Path,
    forced: Option<&str>,
) -> Result<ExpectedInventory, SourceError> {
    let contents = std::fs::read_to_string(path).map_err(|source| SourceError::Io {
        file: path.display().to_string(),
        source,
    })?;
    if let Some(name) = forced {
        let reader = reader_by_name(name).ok_or_else(|| SourceError::UnknownReader {
            name: name.to_owned(),
            known: READERS.iter().map(|r| r.name()).collect(),
        })?;
        return reader.read(path, &contents);
    }
    let shape = Shape::of(&contents);
    let mut tried = Vec::new();
    for reader in READERS {
        match reader.fits(&shape, &contents) {
            Ok(()) => return reader.read(path, &contents),
            Err(why) => tried.push((reader.name(), why)),
        }
    }
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(reader) = READERS.iter().find(|r| r.conventional_name(file_name)) {
        return reader.read(path, &contents);
    }
    Err(SourceError::UnknownFormat {
        file: path.display().to_string(),
        tried: tried
            .iter()
            .map(|(name, why)| format!("\n  {name}: {why}"))
            .collect(),
    })
}

#[cfg(test)]
pub(crate) mod testdata {
    use std::path::PathBuf;

    use runbom_model::expected::{ExpectedComponent, ExpectedInventory};

    use crate::sniff::Shape;
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
        let fits = reader.fits(&Shape::of(&contents), &contents);
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert!(
            fits.is_ok() || reader.conventional_name(file_name),
            "{name} not detected: {fits:?}"
        );
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
    fn a_file_no_reader_fits_names_every_format_tried_and_why() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("notes.md");
        std::fs::write(&path, "# Notes\n\nSome *prose* here.\n").expect("write");
        let error = read_expected(&path).expect_err("unknown").to_string();
        assert!(
            error.contains("notes.md` is not an expected inventory"),
            "{error}"
        );
        for reader in READERS {
            assert!(
                error.contains(&format!("\n  {}: ", reader.name())),
                "{error}"
            );
        }
        assert!(error.contains("line 3 is not a requirement"), "{error}");
        assert!(error.contains("not a JSON object"), "{error}");
    }

    /// The format is told by content: the names teams really give their files.
    #[test]
    fn reads_lockfiles_whatever_their_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cases = [
            (
                "requirements/uv-export.requirements.txt",
                "requirements.lock",
                "python/requirements",
            ),
            (
                "requirements/uv-export.requirements.txt",
                "base.txt",
                "python/requirements",
            ),
            ("uv/uv.lock", "deps.toml", "python/uv-lock"),
            ("poetry/poetry.lock", "lock", "python/poetry-lock"),
            ("pylock/pylock.toml", "release.lock", "python/pylock"),
            ("pipenv/Pipfile.lock", "pipenv.json", "python/pipfile-lock"),
            (
                "cyclonedx/requirements__file_with-hashes_1.6.cdx.json",
                "bom",
                "cyclonedx/json",
            ),
            (
                "spdx/SPDXJSONExample-v2.3.spdx.json",
                "sbom.json",
                "spdx/json",
            ),
        ];
        for (fixture, name, format) in cases {
            let path = dir.path().join(name);
            std::fs::copy(testdata::path(fixture), &path).expect("copy");
            let inventory = read_expected(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(inventory.format, format, "{name}");
        }
        let forced = dir.path().join("forced");
        std::fs::write(&forced, "requests==2.32.3\n").expect("write");
        let inventory = read_expected_as(&forced, Some("python/requirements")).expect("forced");
        assert_eq!(inventory.components.len(), 1);
        let unknown = read_expected_as(&forced, Some("yaml")).expect_err("no such format");
        assert!(
            unknown.to_string().contains("known: cyclonedx/json"),
            "{unknown}"
        );
    }
}
