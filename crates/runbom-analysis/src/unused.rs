//! Installed but never used: the distributions that no runtime report loaded, merged over many
//! reports (many runs, many instances), with their size and why each is installed. "Why" walks
//! `Requires-Dist` by normalised name. Environment markers are ignored (a requirement counts
//! whatever the platform), except that requirements behind an `extra` are skipped: an extra is
//! rarely what pulled a package in, and counting every extra would blame the wrong package.

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
}

/// Merges `reports`: a distribution loaded by any process of any report is used.
pub fn unused(reports: &[RuntimeReport]) -> UnusedReport {
    let mut seen: BTreeMap<PackageName, Seen> = BTreeMap::new();
    for report in reports {
        for dist in &report.distributions {
            let entry = seen.entry(dist.normalized_name.clone()).or_default();
            if entry.name.is_empty() {
                entry.name = dist.name.clone();
            }
            entry.versions.insert(dist.version.clone());
            entry.size = entry.size.max(dist.size);
            entry.loaded |= dist.loaded();
            entry.requires.extend(
                dist.requires_dist
                    .iter()
                    .filter_map(|r| requirement_name(r)),
            );
        }
    }
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
