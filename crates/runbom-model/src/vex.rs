//! A VEX document: for each vulnerability that names a component, whether the product is
//! affected, and the runtime evidence the statement rests on (OpenVEX status names).
//!
//! Trap: `not_affected` is a claim. runbom makes it only from runtime reports that cover the
//! observation window the user asked for; each statement names the reports and their time span.

use crate::sbom::{Subject, Tool};

/// A VEX document, statements in the order given (the builder sorts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexDocument {
    /// `urn:uuid:…`, stable for the same inputs.
    pub serial_number: String,
    /// RFC 3339, UTC, whole seconds.
    pub timestamp: String,
    pub tool: Tool,
    pub subject: Option<Subject>,
    pub statements: Vec<VexStatement>,
}

/// One vulnerability in one component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexStatement {
    /// The advisory id (`PYSEC-…`, `GHSA-…`, `CVE-…`).
    pub vulnerability: String,
    /// Every other id of the same vulnerability.
    pub aliases: Vec<String>,
    pub summary: Option<String>,
    pub product: VexProduct,
    pub status: VexStatus,
    /// Set for `not_affected` only.
    pub justification: Option<Justification>,
    /// Why, in words: what was loaded or not, over which window.
    pub detail: String,
    /// For `affected`: what to do (upgrade to the fixed version when one is known).
    pub action: Option<String>,
    pub evidence: StatementEvidence,
    /// A person's analysis of it, which writers put in place of the computed one.
    pub triage: Option<TriagedAnalysis>,
}

/// The component a statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VexProduct {
    pub name: String,
    pub version: String,
    pub purl: String,
}

/// OpenVEX statuses (CycloneDX `analysis.state` equivalents in brackets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum VexStatus {
    /// The vulnerable code ran, or could have (`exploitable`).
    Affected,
    /// The evidence shows it cannot be reached (`not_affected`).
    NotAffected,
    /// Not enough evidence yet (`in_triage`).
    UnderInvestigation,
}

impl VexStatus {
    /// The OpenVEX spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Affected => "affected",
            Self::NotAffected => "not_affected",
            Self::UnderInvestigation => "under_investigation",
        }
    }
}

/// Why a component is not affected (OpenVEX justifications runbom can support with evidence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Justification {
    /// The component is not installed where the program ran.
    ComponentNotPresent,
    /// Installed, but the vulnerable modules (or the whole package) were never loaded.
    VulnerableCodeNotInExecutePath,
}

impl Justification {
    /// The OpenVEX spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ComponentNotPresent => "component_not_present",
            Self::VulnerableCodeNotInExecutePath => "vulnerable_code_not_in_execute_path",
        }
    }
}

/// The runtime reports behind a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementEvidence {
    /// The reports' ids, sorted.
    pub reports: Vec<String>,
    /// RFC 3339: the earliest start and the latest report time they cover.
    pub from: String,
    pub to: String,
    /// Whole seconds between `from` and `to`.
    pub seconds: i64,
}

impl StatementEvidence {
    /// `3 runtime reports (a, b, c) from … to …`, for documents' free-text fields.
    pub fn describe(&self) -> String {
        format!(
            "{} runtime report(s) ({}) observed from {} to {} ({}s)",
            self.reports.len(),
            self.reports.join(", "),
            self.from,
            self.to,
            self.seconds
        )
    }
}

/// CycloneDX 1.6 `impactAnalysisState`s a person may set on a finding. `resolved_with_pedigree`
/// is left out: it claims pedigree data runbom does not keep.
pub const ANALYSIS_STATES: [&str; 5] = [
    "in_triage",
    "exploitable",
    "not_affected",
    "false_positive",
    "resolved",
];

/// CycloneDX 1.6 `impactAnalysisJustification`s, the reasons a component is `not_affected`.
pub const ANALYSIS_JUSTIFICATIONS: [&str; 9] = [
    "code_not_present",
    "code_not_reachable",
    "requires_configuration",
    "requires_dependency",
    "requires_environment",
    "protected_by_compiler",
    "protected_at_runtime",
    "protected_at_perimeter",
    "protected_by_mitigating_control",
];

/// CycloneDX 1.6 `analysis.response` values: what is done about a vulnerability.
pub const ANALYSIS_RESPONSES: [&str; 5] = [
    "can_not_fix",
    "will_not_fix",
    "update",
    "rollback",
    "workaround_available",
];

/// An analysis made by a person (triage), which overrides the one computed from evidence: its
/// CycloneDX state, justification (empty unless `not_affected`), responses and detail, and who
/// made it when (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriagedAnalysis {
    pub state: String,
    pub justification: String,
    pub response: Vec<String>,
    pub detail: String,
    pub by: String,
    pub at: String,
}
