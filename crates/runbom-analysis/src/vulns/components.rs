//! The components an audit covers, from each kind of input: the installed environment, runtime
//! reports (with what was loaded) and expected inventories (SBOMs, lockfiles). Only the runtime
//! report carries evidence of use; the others give `unknown`.

use runbom_model::expected::ExpectedInventory;
use runbom_model::inventory::Inventory;
use std::sync::Arc;

use runbom_model::runtime::{DistributionUse, LinkedCode};
use runbom_model::{Ecosystem, RuntimeReport};

use super::{Component, Usage};

/// Every distribution found installed (shadowed copies too: they are on disk).
pub fn from_inventory(inventory: &Inventory) -> Vec<Component> {
    inventory
        .distributions
        .iter()
        .map(|dist| Component {
            ecosystem: Ecosystem::PyPi,
            name: dist.normalized_name.clone(),
            version: dist.version.clone(),
            usage: Usage::Unknown,
            sources: vec![format!("installed:{}", dist.location.display())],
            linked: None,
        })
        .collect()
}

/// Every component a runtime report lists, loaded (with its modules) or not.
pub fn from_runtime(report: &RuntimeReport, source: &str) -> Vec<Component> {
    from_uses(&report.distributions, &format!("runtime:{source}"), None)
}

/// Components as a report lists them (a runtime report's, or an artefact's own), with the
/// functions linked into the artefact when its function table was read.
pub fn from_uses(
    uses: &[DistributionUse],
    source: &str,
    linked: Option<Arc<LinkedCode>>,
) -> Vec<Component> {
    uses.iter()
        .map(|dist| Component {
            ecosystem: dist.ecosystem,
            name: dist.normalized_name.clone(),
            version: dist.version.clone(),
            usage: if dist.loaded() {
                let mut modules: Vec<String> =
                    dist.modules.iter().map(|m| m.name.clone()).collect();
                modules.sort();
                modules.dedup();
                Usage::Loaded { modules }
            } else {
                Usage::InstalledNotLoaded
            },
            sources: vec![source.to_owned()],
            linked: linked.clone(),
        })
        .collect()
}

/// Every component pinned to one exact version in a known ecosystem; the rest cannot be matched
/// and are returned apart, by raw name.
pub fn from_expected(inventory: &ExpectedInventory) -> (Vec<Component>, Vec<String>) {
    let mut components = Vec::new();
    let mut unpinned = Vec::new();
    for expected in &inventory.components {
        match (expected.ecosystem, expected.version.exact()) {
            (Some(ecosystem), Some(version)) => components.push(Component {
                ecosystem,
                name: expected.name.clone(),
                version: version.to_owned(),
                usage: Usage::Unknown,
                sources: vec![format!("expected:{}", inventory.source)],
                linked: None,
            }),
            _ => unpinned.push(expected.raw_name.clone()),
        }
    }
    (components, unpinned)
}
