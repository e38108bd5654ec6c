//! Installed but never used: the distributions that no runtime report loaded, merged over many
//! reports (many runs, many instances), with their size and why each is installed. "Why" walks
//! `Requires-Dist` by normalised name. Environment markers are ignored (a requirement counts
//! whatever the platform), except that requirements behind an `extra` are skipped: an extra is
//! rarely what pulled a package in, and counting every extra would blame the wrong package.
//! [`prune`] turns the same evidence into a smaller requirements file: what was loaded anywhere,
//! plus what that needs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use runbom_model::{PackageName, RuntimeReport};
use serde::Serialize;

/// The `schema` value of the JSON form.
pub const UNUSED_SCHEMA: &str = "runbom.unused/v1";

/// One distribution installed in some report's environment and loaded by none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusedDistribution {
    pub name: String,
    pub normalized_name: PackageName,
    /// Every version seen installed, sorted.
    pub versions: Vec<String>,
    /// Bytes on disk (RECORD sizes); the largest seen.
    pub size: u64,
    /// Installed distributions whose `Requires-Dist` names it directly, sorted.
    pub required_by: Vec<PackageName>,
    /// Loaded distributions that pull it in, directly or through other requirements, sorted.
    /// Empty with `required_by` empty: a top-level install nothing needs.
    pub pulled_in_by: Vec<PackageName>,
}

impl UnusedDistribution {
    /// Installed directly (no installed distribution requires it).
    pub fn top_level(&self) -> bool {
        self.required_by.is_empty()
    }
}

/// The merged answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnusedReport {
    pub schema: String,
    /// How many runtime reports were merged.
    pub reports: usize,
    /// Installed distributions seen, over all reports.
    pub installed: usize,
    /// Loaded by at least one report.
    pub loaded: usize,
    /// Sorted by size, largest first, then by name.
    pub unused: Vec<UnusedDistribution>,
    /// Sum of `unused[].size`.
    pub unused_size: u64,
}

#[derive(Default)]
struct Seen {
    name: String,
    versions: BTreeSet<String>,
    size: u64,
    loaded: bool,
    requires: BTreeSet<PackageName>,
    /// Names of its modules that some report loaded.
    modules: BTreeSet<String>,
}

/// Every installed distribution of `reports`, merged by normalised name.
fn gather(reports: &[RuntimeReport]) -> BTreeMap<PackageName, Seen> {
    let mut seen: BTreeMap<PackageName, Seen> = BTreeMap::new();
    for dist in reports.iter().flat_map(|r| &r.distributions) {
        let entry = seen.entry(dist.normalized_name.clone()).or_default();
        if entry.name.is_empty() {
            entry.name = dist.name.clone();
        }
        entry.versions.insert(dist.version.clone());
        entry.size = entry.size.max(dist.size);
        entry.loaded |= dist.loaded();
        let requires = dist
            .requires_dist
            .iter()
            .filter_map(|r| requirement_name(r));
        entry.requires.extend(requires);
        entry
            .modules
            .extend(dist.modules.iter().map(|m| m.name.clone()));
    }
    seen
}

/// Merges `reports`: a distribution loaded by any process of any report is used.
pub fn unused(reports: &[RuntimeReport]) -> UnusedReport {
    let seen = gather(reports);
    let mut required_by: BTreeMap<&PackageName, BTreeSet<&PackageName>> = BTreeMap::new();
    for (name, dist) in &seen {
        for requirement in &dist.requires {
            if requirement != name && seen.contains_key(requirement) {
                required_by.entry(requirement).or_default().insert(name);
            }
        }
    }
    let mut unused: Vec<UnusedDistribution> = seen
        .iter()
        .filter(|(_, dist)| !dist.loaded)
        .map(|(name, dist)| UnusedDistribution {
            name: dist.name.clone(),
            normalized_name: name.clone(),
            versions: dist.versions.iter().cloned().collect(),
            size: dist.size,
            required_by: required_by
                .get(name)
                .map(|r| r.iter().map(|n| (*n).clone()).collect())
                .unwrap_or_default(),
            pulled_in_by: loaded_ancestors(name, &required_by, &seen),
        })
        .collect();
    unused.sort_by(|a, b| {
        b.size
            .cmp(&a.size)
            .then(a.normalized_name.cmp(&b.normalized_name))
    });
    UnusedReport {
        schema: UNUSED_SCHEMA.to_owned(),
        reports: reports.len(),
        installed: seen.len(),
        loaded: seen.values().filter(|d| d.loaded).count(),
        unused_size: unused.iter().map(|d| d.size).sum(),
        unused,
    }
}

/// Breadth-first up the reverse requirement graph, collecting loaded distributions.
fn loaded_ancestors(
    name: &PackageName,
    required_by: &BTreeMap<&PackageName, BTreeSet<&PackageName>>,
    seen: &BTreeMap<PackageName, Seen>,
) -> Vec<PackageName> {
    let mut found = BTreeSet::new();
    let mut visited = BTreeSet::from([name]);
    let mut queue = VecDeque::from([name]);
    while let Some(current) = queue.pop_front() {
        for parent in required_by.get(current).into_iter().flatten() {
            if !visited.insert(*parent) {
                continue;
            }
            if seen.get(*parent).is_some_and(|d| d.loaded) {
                found.insert((*parent).clone());
            }
            queue.push_back(parent);
        }
    }
    found.into_iter().collect()
}

/// A pruned requirements file: every distribution some report loaded, plus what those need by
/// `Requires-Dist` (no extras), transitively — pinned — and every other one left out with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pruned {
    /// `(name as installed, version)`, by normalised name.
    pub keep: Vec<(String, String)>,
    /// `(name, version, why it was left out)`, by normalised name.
    pub removed: Vec<(String, String, String)>,
}

/// Prunes the installed distributions of `reports` to what they used. Installer tooling that
/// only its own `.pth` loaded is left out as `pip freeze` leaves it out. A distribution seen at
/// several versions is pinned at the highest (PEP 440).
pub fn prune(reports: &[RuntimeReport]) -> Pruned {
    let seen = gather(reports);
    let tooling = |name: &PackageName| {
        let modules = seen.get(name).map(|d| &d.modules).into_iter().flatten();
        crate::verify::is_unused_tooling(name, modules)
    };
    let mut needed: BTreeSet<&PackageName> = BTreeSet::new();
    let mut queue: VecDeque<&PackageName> = seen
        .iter()
        .filter(|(name, d)| d.loaded && !tooling(name))
        .map(|(name, _)| name)
        .collect();
    while let Some(name) = queue.pop_front() {
        if !needed.insert(name) {
            continue;
        }
        let requires = seen.get(name).map(|d| &d.requires).into_iter().flatten();
        queue.extend(requires.filter(|r| seen.contains_key(*r)));
    }
    let mut pruned = Pruned {
        keep: Vec::new(),
        removed: Vec::new(),
    };
    for (name, dist) in &seen {
        let version = highest(&dist.versions);
        if needed.contains(name) {
            pruned.keep.push((dist.name.clone(), version));
            continue;
        }
        let why = if tooling(name) {
            "installer tooling, left out as `pip freeze` leaves it out".to_owned()
        } else {
            format!(
                "never loaded in {} report{}, and nothing loaded requires it",
                reports.len(),
                if reports.len() == 1 { "" } else { "s" }
            )
        };
        pruned.removed.push((dist.name.clone(), version, why));
    }
    pruned
}

/// The highest of `versions` by PEP 440 (by text for one that is not PEP 440).
fn highest(versions: &BTreeSet<String>) -> String {
    versions
        .iter()
        .max_by(|a, b| {
            match (
                runbom_versions::Pep440Version::parse(a),
                runbom_versions::Pep440Version::parse(b),
            ) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => a.cmp(b),
            }
        })
        .cloned()
        .unwrap_or_default()
}

/// The normalised name of a PEP 508 requirement, `None` for one behind an `extra` marker.
fn requirement_name(requirement: &str) -> Option<PackageName> {
    let (spec, marker) = requirement.split_once(';').unwrap_or((requirement, ""));
    if marker.contains("extra") {
        return None;
    }
    let name: String = spec
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    (!name.is_empty()).then(|| PackageName::pypi(&name))
}

#[cfg(test)]
mod tests;
