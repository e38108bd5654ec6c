//! Vulnerability findings ranked by runtime use: which advisories affect which component
//! versions, how bad they are, what to upgrade to, and whether the program really loaded the
//! component — and, where the advisory names the vulnerable modules or functions, those.
//!
//! Traps:
//! - One vulnerability has many ids (PYSEC, GHSA, CVE …) and may come as several records; records
//!   whose ids overlap are one finding, reported once under every id.
//! - A withdrawn advisory never matches.
//! - An advisory names packages as its ecosystem spells them (`PyYAML`); names compare only after
//!   the ecosystem's normalisation.
//! - Runtime use is evidence, not a guess: a component seen in no runtime report is `unknown`,
//!   never "not loaded".

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use runbom_model::advisory::Affected;
use runbom_model::runtime::LinkedCode;
use runbom_model::{Advisory, Ecosystem, PackageName};
use runbom_versions::{Bound, Match, VersionError, affects, lowest_fixed_above};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::severity::Severity;

pub mod components;

/// A component to audit: one version of one package, and what is known of its use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub ecosystem: Ecosystem,
    pub name: PackageName,
    pub version: String,
    pub usage: Usage,
    /// Where the component was seen (`installed`, a runtime report, an SBOM), for the reader.
    pub sources: Vec<String>,
    /// For a component of a binary whose function table was read (Go): the code linked in and
    /// the platform it was built for. `None` without that evidence.
    pub linked: Option<Arc<LinkedCode>>,
}

/// What the runtime evidence says of a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "use", rename_all = "kebab-case")]
pub enum Usage {
    /// Some observed process loaded these modules of it (sorted).
    Loaded { modules: Vec<String> },
    /// Installed where a runtime report was taken, and never loaded there.
    InstalledNotLoaded,
    /// No runtime evidence either way.
    Unknown,
}

impl Usage {
    /// The union of two pieces of evidence: loaded anywhere is loaded (modules merged); a report
    /// that saw it unloaded beats no report.
    pub fn merge(self, other: Usage) -> Usage {
        match (self, other) {
            (Usage::Loaded { modules: a }, Usage::Loaded { modules: b }) => {
                let modules: BTreeSet<String> = a.into_iter().chain(b).collect();
                Usage::Loaded {
                    modules: modules.into_iter().collect(),
                }
            }
            (loaded @ Usage::Loaded { .. }, _) | (_, loaded @ Usage::Loaded { .. }) => loaded,
            (Usage::InstalledNotLoaded, _) | (_, Usage::InstalledNotLoaded) => {
                Usage::InstalledNotLoaded
            }
            (Usage::Unknown, Usage::Unknown) => Usage::Unknown,
        }
    }
}

/// An advisory record and every id of the vulnerability it describes (after the store merged
/// aliases; at least the record's own id and aliases).
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub advisory: &'a Advisory,
    pub ids: &'a [String],
}

/// The package a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingPackage {
    pub ecosystem: Ecosystem,
    pub name: PackageName,
    pub version: String,
}

/// The code an advisory names as vulnerable, and whether it was loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VulnerableCode {
    /// As the advisory names them: `module:attribute` (PyPA), `package.Symbol` (Go), function
    /// paths (`affects.functions`).
    pub named: Vec<String>,
    /// The modules (or Go packages) holding that code.
    pub modules: Vec<String>,
    /// Which of `modules` were loaded: `None` without runtime evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loaded: Option<Vec<String>>,
    /// Which of `named` are linked into the binary (a symbol of a Go binary's function table):
    /// `None` when the component came with no function table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linked: Option<Vec<String>>,
}

impl VulnerableCode {
    /// Evidence that the named code is not there: none of its modules loaded, or none of its
    /// symbols linked into the binary.
    pub fn absent(&self) -> bool {
        self.loaded.as_ref().is_some_and(Vec::is_empty)
            || self.linked.as_ref().is_some_and(Vec::is_empty)
    }
}

/// An accepted finding: the `runbom.toml` ignore that covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IgnoreState {
    /// The id the ignore names.
    pub id: String,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The ignore's day has passed: it no longer hides the finding.
    pub expired: bool,
}

/// One vulnerability in one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The advisory's id (the first record id, in sorted order, of the merged records).
    pub id: String,
    /// Every other id of the same vulnerability, sorted.
    pub aliases: Vec<String>,
    /// The advisory's summary, or the first line of its details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The highest severity of the merged records; `None` when none carries one runbom reads.
    pub severity: Option<Severity>,
    pub package: FindingPackage,
    /// The affected ranges the version fell in, e.g. `>=1.0, <1.2.3` or `==5.3` (listed).
    pub affected: Vec<String>,
    /// The lowest version above the running one that no merged record affects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    pub runtime: Usage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerable_code: Option<VulnerableCode>,
    /// Set when `runbom.toml` ignores the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore: Option<IgnoreState>,
    pub sources: Vec<String>,
}

impl Finding {
    /// The id and every alias.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// Hidden by an ignore that has not expired.
    pub fn is_ignored(&self) -> bool {
        self.ignore.as_ref().is_some_and(|i| !i.expired)
    }

    /// 0 loaded (and the named vulnerable code, if any, loaded or linked), 1 loaded but the
    /// named code not loaded or not linked in, 2 installed but not loaded, 3 unknown.
    pub fn runtime_rank(&self) -> u8 {
        match &self.runtime {
            Usage::Loaded { .. } => match &self.vulnerable_code {
                Some(code) if code.absent() => 1,
                _ => 0,
            },
            Usage::InstalledNotLoaded => 2,
            Usage::Unknown => 3,
        }
    }
}

/// A component whose version could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unchecked {
    pub package: FindingPackage,
    pub error: String,
}

/// What one advisory record says of one component.
#[derive(Debug)]
struct Hit<'a> {
    candidate: Candidate<'a>,
    affected: Vec<String>,
    fixed: Option<String>,
    severity: Option<Severity>,
    code: Option<NamedCode>,
}

/// The findings of one component against the advisories that name its package (others are
/// ignored, so a store may over-select).
pub fn match_component(
    component: &Component,
    candidates: &[Candidate<'_>],
) -> Result<Vec<Finding>, Unchecked> {
    let mut hits = Vec::new();
    for candidate in candidates {
        if candidate.advisory.is_withdrawn() {
            continue;
        }
        for entry in candidate
            .advisory
            .affected
            .iter()
            .filter(|a| names(a, component))
        {
            let hit = hit(component, *candidate, entry).map_err(|err| Unchecked {
                package: package(component),
                error: err.to_string(),
            })?;
            hits.extend(hit);
        }
    }
    Ok(merge_aliases(hits)
        .into_iter()
        .map(|group| finding(component, group))
        .collect())
}

/// Whether any of `entries` (an advisory's `affected` entries, or part of them) may affect
/// `component`: one names it and holds its version, or its version cannot be compared (so that
/// [`match_component`] reports that). A prefilter for the store: exactly the records for which
/// this is false give [`match_component`] no hit.
pub fn may_affect(component: &Component, entries: &[Affected]) -> bool {
    entries
        .iter()
        .filter(|entry| names(entry, component))
        .any(|entry| {
            affects(component.ecosystem, entry, &component.version)
                .map_or(true, |verdict| verdict.is_affected())
        })
}

fn names(affected: &Affected, component: &Component) -> bool {
    let Some(package) = &affected.package else {
        return false;
    };
    affected.ecosystem() == Some(Ok(component.ecosystem))
        && PackageName::new(component.ecosystem, &package.name) == component.name
}

fn hit<'a>(
    component: &Component,
    candidate: Candidate<'a>,
    entry: &Affected,
) -> Result<Option<Hit<'a>>, VersionError> {
    let verdict = affects(component.ecosystem, entry, &component.version)?;
    if !verdict.is_affected() {
        return Ok(None);
    }
    Ok(Some(Hit {
        candidate,
        affected: verdict.matches.iter().map(range_text).collect(),
        fixed: lowest_fixed_above(component.ecosystem, entry, &component.version)?,
        severity: Severity::of(candidate.advisory, Some(entry)),
        code: named_code(entry, component.linked.as_deref()),
    }))
}

/// `>=1.0, <1.2.3`, `<=2.1` (last affected), `>=3.0` (no fix), `all versions`, `==5.3` (listed).
pub fn range_text(matched: &Match) -> String {
    match matched {
        Match::Listed { version } => format!("=={version}"),
        Match::Range {
            introduced, until, ..
        } => {
            let lower = (introduced != "0").then(|| format!(">={introduced}"));
            let upper = until.as_ref().map(|bound| match bound {
                Bound::Fixed(v) => format!("<{v}"),
                Bound::LastAffected(v) => format!("<={v}"),
            });
            let parts: Vec<String> = lower.into_iter().chain(upper).collect();
            if parts.is_empty() {
                "all versions".to_owned()
            } else {
                parts.join(", ")
            }
        }
    }
}

/// The vulnerable code an `affected` entry names, as (names, modules), from the forms real
/// records use: PyPA `ecosystem_specific.imports[{modules, attribute}]`, Go
/// `ecosystem_specific.imports[{path, symbols}]`, and `functions` lists (`affects.functions` in
/// `database_specific`, RustSec's `ecosystem_specific.functions`). For a binary of a known
/// platform, the names of a Go import restricted to other `goos`/`goarch` values are kept apart:
/// they are not vulnerable code of this binary even where the same symbol is linked in.
fn named_code(entry: &Affected, platform: Option<&LinkedCode>) -> Option<NamedCode> {
    let mut named = BTreeSet::new();
    let mut modules = BTreeSet::new();
    let (mut here, mut elsewhere) = (BTreeSet::new(), BTreeSet::new());
    let blocks = [&entry.ecosystem_specific, &entry.database_specific];
    for block in blocks.into_iter().flatten() {
        for import in array(block.get("imports")) {
            let names = if applies_to(import, platform) {
                &mut here
            } else {
                &mut elsewhere
            };
            imports(import, names, &mut BTreeSet::new());
            imports(import, &mut named, &mut modules);
        }
        let functions = array(block.get("functions"))
            .chain(array(block.get("affects").and_then(|a| a.get("functions"))));
        for function in functions.filter_map(Value::as_str) {
            named.insert(function.to_owned());
            modules.insert(module_of(function).to_owned());
        }
    }
    let elsewhere = elsewhere.difference(&here).cloned().collect();
    (!named.is_empty()).then(|| {
        let (named, modules) = (named.into_iter().collect(), modules.into_iter().collect());
        (named, modules, elsewhere)
    })
}

/// Whether a Go import's `goos`/`goarch` lists (absent: every platform) hold the binary's.
fn applies_to(import: &Value, platform: Option<&LinkedCode>) -> bool {
    let Some(platform) = platform else {
        return true;
    };
    let allows = |key: &str, value: &str| {
        let listed: Vec<&str> = array(import.get(key)).filter_map(Value::as_str).collect();
        listed.is_empty() || value.is_empty() || listed.contains(&value)
    };
    allows("goos", &platform.os) && allows("goarch", &platform.arch)
}

/// Names of vulnerable code, the modules holding it, and the names that are vulnerable code only
/// on other platforms than the binary's.
type NamedCode = (Vec<String>, Vec<String>, Vec<String>);

fn array(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

fn imports(import: &Value, named: &mut BTreeSet<String>, modules: &mut BTreeSet<String>) {
    let attribute = import.get("attribute").and_then(Value::as_str);
    for module in array(import.get("modules")).filter_map(Value::as_str) {
        modules.insert(module.to_owned());
        named.insert(match attribute {
            Some(attribute) => format!("{module}:{attribute}"),
            None => module.to_owned(),
        });
    }
    if let Some(path) = import.get("path").and_then(Value::as_str) {
        modules.insert(path.to_owned());
        let symbols: Vec<&str> = array(import.get("symbols"))
            .filter_map(Value::as_str)
            .collect();
        if symbols.is_empty() {
            named.insert(path.to_owned());
        }
        for symbol in symbols {
            named.insert(format!("{path}.{symbol}"));
        }
    }
}

/// `a.b.c` → `a.b`; `a::b::c` → `a::b`; a bare name is its own module.
fn module_of(function: &str) -> &str {
    function
        .rfind("::")
        .or_else(|| function.rfind('.'))
        .map_or(function, |end| &function[..end])
}

/// Groups records whose ids overlap (one vulnerability published by several databases).
fn merge_aliases(hits: Vec<Hit<'_>>) -> Vec<Vec<Hit<'_>>> {
    let mut groups: Vec<(BTreeSet<&str>, Vec<Hit<'_>>)> = Vec::new();
    for hit in hits {
        let ids: BTreeSet<&str> = hit_ids(&hit).collect();
        let (overlapping, rest): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .partition(|(group_ids, _)| !group_ids.is_disjoint(&ids));
        let mut merged = (ids, vec![hit]);
        for (group_ids, group_hits) in overlapping {
            merged.0.extend(group_ids);
            merged.1.extend(group_hits);
        }
        groups = rest;
        groups.push(merged);
    }
    groups.into_iter().map(|(_, hits)| hits).collect()
}

fn hit_ids<'a>(hit: &Hit<'a>) -> impl Iterator<Item = &'a str> {
    let advisory = hit.candidate.advisory;
    hit.candidate
        .ids
        .iter()
        .map(String::as_str)
        .chain(advisory.ids())
}

fn finding(component: &Component, hits: Vec<Hit<'_>>) -> Finding {
    let record_ids: BTreeSet<&str> = hits
        .iter()
        .map(|h| h.candidate.advisory.id.as_str())
        .collect();
    let id = record_ids.first().copied().unwrap_or_default().to_owned();
    let aliases: BTreeSet<&str> = hits.iter().flat_map(hit_ids).filter(|i| *i != id).collect();
    let affected: BTreeSet<&str> = hits
        .iter()
        .flat_map(|h| h.affected.iter().map(String::as_str))
        .collect();
    let severity = hits
        .iter()
        .filter_map(|h| h.severity.clone())
        .max_by(|a, b| a.level.cmp(&b.level).then(score(a).total_cmp(&score(b))));
    let summary = hits.iter().find_map(|h| summary(h.candidate.advisory));
    let code = hits
        .iter()
        .filter_map(|h| h.code.clone())
        .reduce(|mut a, b| {
            a.0.extend(b.0);
            a.1.extend(b.1);
            a.2.extend(b.2);
            a
        });
    Finding {
        id,
        aliases: aliases.into_iter().map(str::to_owned).collect(),
        summary,
        severity,
        package: package(component),
        affected: affected.into_iter().map(str::to_owned).collect(),
        fixed: highest_fix(component.ecosystem, &hits),
        runtime: component.usage.clone(),
        vulnerable_code: code.map(|code| vulnerable_code(code, component)),
        ignore: None,
        sources: component.sources.clone(),
    }
}

fn score(severity: &Severity) -> f64 {
    severity.score.unwrap_or(0.0)
}

fn package(component: &Component) -> FindingPackage {
    FindingPackage {
        ecosystem: component.ecosystem,
        name: component.name.clone(),
        version: component.version.clone(),
    }
}

/// The fix that clears every merged record: the highest of their lowest fixes.
fn highest_fix(ecosystem: Ecosystem, hits: &[Hit<'_>]) -> Option<String> {
    let fixes: Vec<(runbom_versions::Version, &str)> = hits
        .iter()
        .filter_map(|h| h.fixed.as_deref())
        .filter_map(|f| Some((runbom_versions::Version::parse(ecosystem, f).ok()?, f)))
        .collect();
    fixes
        .into_iter()
        .max_by(|a, b| a.0.compare(&b.0).unwrap_or(Ordering::Equal))
        .map(|(_, text)| text.to_owned())
}

const SUMMARY_CHARS: usize = 120;

/// The summary, else the first line of the details, cut to 120 characters.
fn summary(advisory: &Advisory) -> Option<String> {
    let text = advisory
        .summary
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(advisory.details.as_deref())?;
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.chars().count() <= SUMMARY_CHARS {
        return Some(line.to_owned());
    }
    let cut: String = line.chars().take(SUMMARY_CHARS - 1).collect();
    Some(format!("{}…", cut.trim_end()))
}

fn vulnerable_code(
    (named, modules, elsewhere): NamedCode,
    component: &Component,
) -> VulnerableCode {
    let named: BTreeSet<String> = named.into_iter().collect();
    let modules: BTreeSet<String> = modules.into_iter().collect();
    // A name without a symbol (a Go package path alone) is linked when any of its code is.
    let linked = component.linked.as_ref().map(|code| {
        let linked = &code.symbols;
        named
            .iter()
            .filter(|n| !elsewhere.contains(*n))
            .filter(|n| {
                // `n` itself, else the first symbol after it, which is `n.…` if any is.
                let at = linked.partition_point(|l| l.as_str() < n.as_str());
                linked.get(at).is_some_and(|l| l == *n)
                    || linked[at..]
                        .iter()
                        .take_while(|l| l.starts_with(n.as_str()))
                        .any(|l| l.as_bytes().get(n.len()) == Some(&b'.'))
            })
            .cloned()
            .collect()
    });
    let loaded = match &component.usage {
        Usage::Loaded { modules: loaded } => Some(
            modules
                .iter()
                .filter(|m| loaded.binary_search(m).is_ok())
                .cloned()
                .collect(),
        ),
        Usage::InstalledNotLoaded => Some(Vec::new()),
        Usage::Unknown => None,
    };
    VulnerableCode {
        named: named.into_iter().collect(),
        modules: modules.into_iter().collect(),
        loaded,
        linked,
    }
}

/// The default order: loaded before not loaded before unknown (see [`Finding::runtime_rank`]),
/// then severity (highest first, unknown last), then id, then package.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.runtime_rank()
            .cmp(&b.runtime_rank())
            .then_with(|| severity_key(b).total_cmp(&severity_key(a)))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
    });
}

/// Level first, then score; a finding without severity sorts below `none`.
fn severity_key(finding: &Finding) -> f64 {
    finding
        .severity
        .as_ref()
        .map_or(-1.0, |s| s.level as u8 as f64 * 100.0 + score(s))
}

/// A `runbom.toml` `[[advisories.ignore]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// Any id of the vulnerability (`PYSEC-…`, `GHSA-…`, `CVE-…`).
    pub id: String,
    pub reason: String,
    /// `YYYY-MM-DD`: the last day the ignore holds.
    pub expires: Option<String>,
}

/// Marks every finding an ignore names; `today` is `YYYY-MM-DD`. An ignore whose day has passed
/// is kept on the finding as expired and no longer hides it.
pub fn apply_ignores(findings: &mut [Finding], ignores: &[Ignore], today: &str) {
    for finding in findings {
        let hit = ignores
            .iter()
            .find(|ignore| finding.ids().any(|id| id.eq_ignore_ascii_case(&ignore.id)));
        finding.ignore = hit.map(|ignore| IgnoreState {
            id: ignore.id.clone(),
            reason: ignore.reason.clone(),
            expires: ignore.expires.clone(),
            expired: ignore.expires.as_deref().is_some_and(|day| day < today),
        });
    }
}

/// Components with the same ecosystem, name and version are one: their usage and sources merge.
pub fn merge_components(components: impl IntoIterator<Item = Component>) -> Vec<Component> {
    let mut merged: BTreeMap<(Ecosystem, PackageName, String), Component> = BTreeMap::new();
    for component in components {
        let key = (
            component.ecosystem,
            component.name.clone(),
            component.version.clone(),
        );
        match merged.remove(&key) {
            Some(mut existing) => {
                existing.usage = existing.usage.merge(component.usage);
                // One version seen in two builds: the first build's evidence stands.
                existing.linked = existing.linked.take().or(component.linked);
                for source in component.sources {
                    if !existing.sources.contains(&source) {
                        existing.sources.push(source);
                    }
                }
                merged.insert(key, existing);
            }
            None => {
                merged.insert(key, component);
            }
        }
    }
    merged.into_values().collect()
}

#[cfg(test)]
mod tests;
