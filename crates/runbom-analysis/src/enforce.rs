//! The enforcement plan: for every installed distribution, whether the hook may let it be
//! imported, from the expected inventory and the policy (`[bans]`, `[enforce]`). Pure: the
//! language's module adds the files' stat and hashes when it writes the table the hook loads.
//! Traps: a ban wins over a listing; installer tooling (pip, setuptools, wheel) is allowed unlisted
//! unless `[verify] tooling = "strict"`, as `pip freeze` leaves it out; an environment marker does
//! not narrow a pin here (a pin for another platform still allows its version).

use std::path::{Path, PathBuf};

use runbom_config::Config;
use runbom_model::enforce::{
    DistributionVerdict, EnforceMode, EnforceRule, EnforcementPlan, FailPolicy, RuleSetting,
    Verdict,
};
use runbom_model::expected::{ExpectedComponent, ExpectedInventory};
use runbom_model::inventory::{Inventory, normalize_path};
use runbom_model::{Ecosystem, PackageName};

use crate::policy::bans_of;
use crate::verify::{accepts, display_version, is_installer_tooling};

/// Where the config came from, for relative first-party directories and messages.
#[derive(Debug, Clone, Copy)]
pub struct ConfigPlace<'a> {
    /// The file as given, e.g. `runbom.toml`.
    pub name: &'a str,
    /// Its directory, against which relative `first-party` directories are read.
    pub dir: &'a Path,
}

/// The plan for `inventory`'s active distributions. `mode` overrides `[enforce] mode` (the
/// command line wins over the file).
pub fn plan(
    expected: &ExpectedInventory,
    inventory: &Inventory,
    config: &Config,
    place: Option<ConfigPlace<'_>>,
    mode: Option<EnforceMode>,
) -> EnforcementPlan {
    let installed = inventory.active().map(|dist| Installed {
        name: &dist.name,
        normalized: &dist.normalized_name,
        version: &dist.version,
        location: &dist.location,
    });
    plan_of(Ecosystem::PyPi, expected, installed, config, place, mode)
}

/// One installed package as the plan sees it, of any ecosystem.
#[derive(Debug, Clone, Copy)]
pub struct Installed<'a> {
    pub name: &'a str,
    /// The name as the expected inventory is looked up by (PEP 503 for PyPI; as is for gems).
    pub normalized: &'a PackageName,
    pub version: &'a str,
    pub location: &'a Path,
}

/// The plan for `installed` packages of `ecosystem` (Python's distributions, Ruby's gems).
pub fn plan_of<'a>(
    ecosystem: Ecosystem,
    expected: &ExpectedInventory,
    installed: impl Iterator<Item = Installed<'a>>,
    config: &Config,
    place: Option<ConfigPlace<'_>>,
    mode: Option<EnforceMode>,
) -> EnforcementPlan {
    let settings = &config.enforce;
    let rules: Vec<RuleSetting> = EnforceRule::ALL
        .into_iter()
        .map(|rule| {
            let set = settings.rules.iter().find(|(r, _)| *r == rule);
            RuleSetting {
                rule,
                on: set.is_none_or(|(_, on)| on.value),
                line: set.map_or(0, |(_, on)| on.origin.line),
            }
        })
        .collect();
    let strict_tooling = config
        .verify
        .strict_tooling
        .as_ref()
        .is_some_and(|s| s.value);
    let distributions = installed
        .map(|dist| DistributionVerdict {
            name: dist.name.to_owned(),
            version: dist.version.to_owned(),
            location: dist.location.to_owned(),
            verdict: verdict(ecosystem, expected, dist, config, &rules, strict_tooling),
        })
        .collect();
    let first_party = settings
        .first_party
        .iter()
        .map(|dir| {
            let dir = PathBuf::from(&dir.value);
            normalize_path(&match place {
                Some(place) if dir.is_relative() => place.dir.join(dir),
                _ => dir,
            })
        })
        .collect();
    EnforcementPlan {
        mode: mode.unwrap_or_else(|| {
            settings
                .mode
                .as_ref()
                .map_or_else(EnforceMode::default, |m| m.value)
        }),
        fail: settings
            .fail
            .as_ref()
            .map_or(FailPolicy::default(), |f| f.value),
        rules,
        first_party,
        config: place.map(|p| p.name.to_owned()),
        expected: expected.source.clone(),
        distributions,
    }
}

/// Whether `dist` may be loaded: a ban first, then the listing.
fn verdict(
    ecosystem: Ecosystem,
    expected: &ExpectedInventory,
    dist: Installed<'_>,
    config: &Config,
    rules: &[RuleSetting],
    strict_tooling: bool,
) -> Verdict {
    let is_on = |rule: EnforceRule| rules.iter().any(|r| r.rule == rule && r.on);
    let line_of = |rule: EnforceRule| rules.iter().find(|r| r.rule == rule).map_or(0, |r| r.line);
    if is_on(EnforceRule::Bans)
        && let Some((ban, which, origin)) =
            bans_of(&config.bans, ecosystem, dist.name, Some(dist.version)).next()
    {
        let reason = ban
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        return Verdict::Refused {
            rule: EnforceRule::Bans,
            why: format!("banned ({which}){reason}"),
            line: origin.line,
        };
    }
    if !is_on(EnforceRule::Listed) {
        return Verdict::Allowed;
    }
    let pins: Vec<&ExpectedComponent> = expected.by_name(ecosystem, dist.normalized).collect();
    let tooling =
        ecosystem == Ecosystem::PyPi && !strict_tooling && is_installer_tooling(dist.normalized);
    if pins.is_empty() && !tooling {
        return Verdict::Refused {
            rule: EnforceRule::Listed,
            why: format!("not in the expected inventory `{}`", expected.source),
            line: line_of(EnforceRule::Listed),
        };
    }
    if !pins.is_empty()
        && !pins
            .iter()
            .any(|pin| accepts(ecosystem, &pin.version, dist.version))
    {
        let wanted: Vec<String> = pins.iter().map(|p| display_version(p)).collect();
        return Verdict::Refused {
            rule: EnforceRule::Listed,
            why: format!(
                "version {} but `{}` expects {}",
                dist.version,
                expected.source,
                wanted.join(" or ")
            ),
            line: line_of(EnforceRule::Listed),
        };
    }
    Verdict::Allowed
}

#[cfg(test)]
mod tests;
