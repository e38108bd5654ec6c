//! The enforcement plan: for every installed distribution, whether the hook may let it be
//! imported, from the expected inventory and the policy (`[bans]`, `[enforce]`). Pure: the
//! language's module adds the files' stat and hashes when it writes the table the hook loads.
//! Traps: a ban wins over a listing; installer tooling (pip, setuptools, wheel) is allowed unlisted
//! unless `[verify] tooling = "strict"`, as `pip freeze` leaves it out; an environment marker does
//! not narrow a pin here (a pin for another platform still allows its version).

use std::path::{Path, PathBuf};

use runbom_config::Config;
use runbom_model::Ecosystem;
use runbom_model::enforce::{
    DistributionVerdict, EnforceMode, EnforceRule, EnforcementPlan, FailPolicy, RuleSetting,
    Verdict,
};
use runbom_model::expected::{ExpectedComponent, ExpectedInventory};
use runbom_model::inventory::{Inventory, normalize_path};

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
    let is_on = |rule: EnforceRule| rules.iter().any(|r| r.rule == rule && r.on);
    let line_of = |rule: EnforceRule| rules.iter().find(|r| r.rule == rule).map_or(0, |r| r.line);
    let strict_tooling = config
        .verify
        .strict_tooling
        .as_ref()
        .is_some_and(|s| s.value);
    let distributions = inventory
        .active()
        .map(|dist| {
            let mut verdict = Verdict::Allowed;
            if is_on(EnforceRule::Bans)
                && let Some((ban, which, origin)) = bans_of(
                    &config.bans,
                    Ecosystem::PyPi,
                    &dist.name,
                    Some(&dist.version),
                )
                .next()
            {
                let reason = ban
                    .reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default();
                verdict = Verdict::Refused {
                    rule: EnforceRule::Bans,
                    why: format!("banned ({which}){reason}"),
                    line: origin.line,
                };
            } else if is_on(EnforceRule::Listed) {
                let pins: Vec<&ExpectedComponent> = expected
                    .by_name(Ecosystem::PyPi, &dist.normalized_name)
                    .collect();
                let tooling = !strict_tooling && is_installer_tooling(&dist.normalized_name);
                if pins.is_empty() && !tooling {
                    verdict = Verdict::Refused {
                        rule: EnforceRule::Listed,
                        why: format!("not in the expected inventory `{}`", expected.source),
                        line: line_of(EnforceRule::Listed),
                    };
                } else if !pins.is_empty()
                    && !pins
                        .iter()
                        .any(|pin| accepts(Ecosystem::PyPi, &pin.version, &dist.version))
                {
                    let wanted: Vec<String> = pins.iter().map(|p| display_version(p)).collect();
                    verdict = Verdict::Refused {
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
            }
            DistributionVerdict {
                name: dist.name.clone(),
                version: dist.version.clone(),
                location: dist.location.clone(),
                verdict,
            }
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

#[cfg(test)]
mod tests;
