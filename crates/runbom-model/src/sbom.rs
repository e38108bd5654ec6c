//! A bill of materials as runbom writes it (CycloneDX or SPDX): the document's identity, the tool
//! that wrote it, and its components with their identity, hashes, licences and — for an SBOM of
//! what ran — the runtime evidence behind each one.
//!
//! Trap: a component's `hashes` are of the artifact it was installed from (wheel or sdist), as in
//! a lockfile; the installed files' own sha256 belong to the evidence, per loaded file.

use crate::expected::{ComponentHash, ExpectedInventory};

/// One bill of materials, written in the order given (the builder sorts).
#[derive(Debug, Clone, PartialEq)]
pub struct Sbom {
    /// `urn:uuid:…`, stable for the same inputs.
    pub serial_number: String,
    /// RFC 3339, UTC, whole seconds (`2026-11-25T10:00:05Z`).
    pub timestamp: String,
    /// The tool that wrote it.
    pub tool: Tool,
    /// The application the components belong to, when known.
    pub subject: Option<Subject>,
    pub components: Vec<SbomComponent>,
}

/// The writing tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Tool {
    /// runbom at `version`.
    pub fn runbom(version: &str) -> Self {
        Self {
            name: "runbom".to_owned(),
            version: version.to_owned(),
        }
    }
}

/// The application an SBOM describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub name: String,
    pub version: Option<String>,
}

impl Subject {
    /// The application the first report that names one is of.
    pub fn of_reports(reports: &[crate::runtime::RuntimeReport]) -> Option<Subject> {
        reports
            .iter()
            .find_map(|r| r.app.clone())
            .map(|name| Subject {
                name,
                version: None,
            })
    }
}

/// One component.
#[derive(Debug, Clone, PartialEq)]
pub struct SbomComponent {
    /// Unique within the document (CycloneDX `bom-ref`; SPDX ids are derived from it).
    pub bom_ref: String,
    pub name: String,
    pub version: Option<String>,
    pub purl: Option<String>,
    /// Artifact hashes (wheel or sdist), as a lockfile records them.
    pub hashes: Vec<ComponentHash>,
    /// SPDX expressions where known, else licence names as written.
    pub licenses: Vec<String>,
    pub evidence: Option<Evidence>,
}

/// Why the component is in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// Overall confidence in the component's identity, 0 to 1.
    pub confidence: f64,
    /// How the identity was established.
    pub methods: Vec<IdentityMethod>,
    /// Where the component was seen: its loaded module files.
    pub occurrences: Vec<Occurrence>,
}

/// One way the identity was established.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityMethod {
    pub technique: Technique,
    /// 0 to 1.
    pub confidence: f64,
    /// What the method saw, for a reader.
    pub value: String,
}

/// Evidence techniques (CycloneDX 1.6 `evidenceTechnique`) runbom uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Technique {
    /// The runtime hook saw the interpreter import the component's modules.
    Instrumentation,
    /// The distribution's installed metadata (`*.dist-info/METADATA`, RECORD) names it.
    ManifestAnalysis,
    /// Loaded files hashed and compared with RECORD.
    HashComparison,
}

impl Technique {
    /// The CycloneDX spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instrumentation => "instrumentation",
            Self::ManifestAnalysis => "manifest-analysis",
            Self::HashComparison => "hash-comparison",
        }
    }
}

/// One loaded file of a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The file's path where it ran.
    pub location: String,
    /// The dotted module name.
    pub module: String,
    /// Lower-case hex sha256 of the file when the report was written.
    pub sha256: Option<String>,
    /// The file against RECORD: `verified`, `mismatch`, `unrecorded` or `unreadable`.
    pub integrity: Option<String>,
}

impl Occurrence {
    /// One line for CycloneDX `additionalContext` and SPDX comments.
    pub fn context(&self) -> String {
        let mut text = format!("module `{}`", self.module);
        if let Some(sha256) = &self.sha256 {
            text.push_str(&format!("; sha256 {sha256}"));
        }
        if let Some(integrity) = &self.integrity {
            text.push_str(&format!("; RECORD: {integrity}"));
        }
        text
    }
}

impl Sbom {
    /// An expected inventory as an SBOM, components in file order and without evidence: for
    /// converting an SBOM or lockfile from one format to another.
    pub fn from_expected(
        inventory: &ExpectedInventory,
        serial_number: String,
        timestamp: String,
        tool: Tool,
    ) -> Self {
        let mut refs = BomRefs::default();
        let components = inventory
            .components
            .iter()
            .map(|c| {
                let version = c.version.exact().map(str::to_owned);
                let base = c.purl.clone().unwrap_or_else(|| match &version {
                    Some(v) => format!("{}@{v}", c.raw_name),
                    None => c.raw_name.clone(),
                });
                SbomComponent {
                    bom_ref: refs.unique(base),
                    name: c.raw_name.clone(),
                    version,
                    purl: c.purl.clone(),
                    hashes: c.hashes.clone(),
                    licenses: c.licenses.clone(),
                    evidence: None,
                }
            })
            .collect();
        Self {
            serial_number,
            timestamp,
            tool,
            subject: None,
            components,
        }
    }
}

/// Hands out `bom-ref`s, suffixing `#2`, `#3` … to repeats so each is unique.
#[derive(Debug, Default)]
pub struct BomRefs {
    used: std::collections::HashMap<String, usize>,
}

impl BomRefs {
    pub fn unique(&mut self, base: String) -> String {
        let count = self.used.entry(base.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            base
        } else {
            format!("{base}#{count}")
        }
    }
}

/// A `urn:uuid:` (RFC 4122 layout, version 4 bits) made from a 16-byte digest of the inputs, so
/// the same inputs give the same serial number.
pub fn serial_number_from_digest(digest: &[u8; 16]) -> String {
    let mut bytes = *digest;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_numbers_have_the_uuid_layout() {
        let serial = serial_number_from_digest(&[0xff; 16]);
        assert_eq!(serial, "urn:uuid:ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn repeated_bom_refs_get_a_suffix() {
        let mut refs = BomRefs::default();
        assert_eq!(refs.unique("a".into()), "a");
        assert_eq!(refs.unique("a".into()), "a#2");
        assert_eq!(refs.unique("b".into()), "b");
    }
}
