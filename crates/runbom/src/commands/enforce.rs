//! The enforcement table for `runbom run --enforce` and `runbom hook install --enforce`: the
//! expected inventory, `runbom.toml` and the interpreter's installed inventory made into the table
//! the hook loads (`runbom_ecosystems::{python,ruby,perl}::enforce`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use runbom_analysis::enforce::{ConfigPlace, Installed, plan, plan_of};
use runbom_config::Config;
use runbom_ecosystems::cache::cache_root;
use runbom_ecosystems::perl::enforce as perl_enforce;
use runbom_ecosystems::perl::inventory::PerlInventory;
use runbom_ecosystems::python::enforce::{EnforceError, TableSummary, write_table};
use runbom_ecosystems::python::hash_cache::HashCache;
use runbom_ecosystems::ruby::GemInventory;
use runbom_ecosystems::ruby::enforce as ruby_enforce;
use runbom_model::Ecosystem;
use runbom_model::enforce::{EnforceMode, EnforcementPlan, FailPolicy};
use runbom_model::expected::ExpectedInventory;
use runbom_model::inventory::Inventory;

use crate::cli::{EnforceArgs, EnforceModeArg};
use crate::commands::config::load_project_config;

/// A table written, and what the hook must know besides it.
pub struct PreparedTable {
    pub path: PathBuf,
    pub fail: FailPolicy,
    pub mode: EnforceMode,
    pub summary: TableSummary,
}

impl PreparedTable {
    /// The variables that tell a hooked process where its table is and what to do without it.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            (
                runbom_ecosystems::python::enforce::TABLE_ENV,
                self.path.display().to_string(),
            ),
            ("RUNBOM_ENFORCE_FAIL", fail_word(self.fail).to_owned()),
        ]
    }

    /// One line for the user: what is enforced, and files already changed.
    pub fn describe(&self, expected: &Path) -> String {
        let mode = match self.mode {
            EnforceMode::Enforce => "enforcing",
            EnforceMode::Monitor => "monitoring",
        };
        let mut line = format!(
            "runbom: {mode} `{}`: {} distributions, {} refused, {} files",
            expected.display(),
            self.summary.distributions,
            self.summary.refused,
            self.summary.files
        );
        if !self.summary.changed.is_empty() {
            line.push_str(&format!(
                "; {} already differ from RECORD (e.g. `{}`)",
                self.summary.changed.len(),
                self.summary.changed[0].display()
            ));
        }
        line
    }
}

pub fn fail_word(fail: FailPolicy) -> &'static str {
    match fail {
        FailPolicy::Open => "open",
        FailPolicy::Closed => "closed",
    }
}

/// Reads `args.enforce` and the config, and writes the table for `inventory` to `path`.
pub fn prepare(
    args: &EnforceArgs,
    expected: &Path,
    inventory: &Inventory,
    path: &Path,
) -> anyhow::Result<PreparedTable> {
    let plan = plan_for(args, expected, |expected, config, place, mode| {
        plan(expected, inventory, config, Some(place), mode)
    })?;
    let hashes = HashCache::open(cache_root().as_deref());
    let summary = write_table(path, &plan, inventory, &hashes)?;
    hashes.save();
    Ok(PreparedTable {
        path: path.to_owned(),
        fail: plan.fail,
        mode: plan.mode,
        summary,
    })
}

/// The same for a Ruby interpreter's gems (Ruby's variant of the table).
pub fn prepare_ruby(
    args: &EnforceArgs,
    expected: &Path,
    inventory: &GemInventory,
    path: &Path,
) -> anyhow::Result<PreparedTable> {
    let gems: Vec<_> = ruby_enforce::planned(inventory)
        .map(|gem| (gem, ruby_enforce::package_name(gem)))
        .collect();
    let installed = gems.iter().map(|(gem, name)| Installed {
        name: &gem.name,
        normalized: name,
        version: &gem.version,
        location: &gem.gem_dir,
    });
    prepare_of(
        args,
        expected,
        path,
        Ecosystem::RubyGems,
        installed,
        |plan| ruby_enforce::write_table(path, plan, inventory),
    )
}

/// The same for a perl's distributions (Perl's variant of the table).
pub fn prepare_perl(
    args: &EnforceArgs,
    expected: &Path,
    inventory: &PerlInventory,
    path: &Path,
) -> anyhow::Result<PreparedTable> {
    let dists: Vec<_> = perl_enforce::planned(inventory)
        .map(|dist| (dist, perl_enforce::package_name(dist)))
        .collect();
    let installed = dists.iter().map(|(dist, name)| Installed {
        name: &dist.name,
        normalized: name,
        version: &dist.version,
        location: &dist.location,
    });
    prepare_of(args, expected, path, Ecosystem::Cpan, installed, |plan| {
        perl_enforce::write_table(path, plan, inventory)
    })
}

/// The plan for `installed` packages of `ecosystem`, handed to `write` (the language's table
/// writer, writing to `path`).
fn prepare_of<'a>(
    args: &EnforceArgs,
    expected: &Path,
    path: &Path,
    ecosystem: Ecosystem,
    installed: impl Iterator<Item = Installed<'a>>,
    write: impl FnOnce(&EnforcementPlan) -> Result<TableSummary, EnforceError>,
) -> anyhow::Result<PreparedTable> {
    let plan = plan_for(args, expected, |expected, config, place, mode| {
        plan_of(ecosystem, expected, installed, config, Some(place), mode)
    })?;
    let summary = write(&plan)?;
    Ok(PreparedTable {
        path: path.to_owned(),
        fail: plan.fail,
        mode: plan.mode,
        summary,
    })
}

/// Reads the expected inventory and the config, and asks `make` for the plan.
fn plan_for(
    args: &EnforceArgs,
    expected: &Path,
    make: impl FnOnce(
        &ExpectedInventory,
        &Config,
        ConfigPlace<'_>,
        Option<EnforceMode>,
    ) -> EnforcementPlan,
) -> anyhow::Result<EnforcementPlan> {
    let expected_inventory = runbom_sources::read_expected(expected).with_context(|| {
        format!(
            "cannot read the expected inventory `{}`",
            expected.display()
        )
    })?;
    let config = load_project_config(args.config.as_deref())?.unwrap_or_default();
    let config_path = args
        .config
        .clone()
        .or_else(|| Some(PathBuf::from("runbom.toml")).filter(|p| p.is_file()));
    let config_dir = config_path
        .as_deref()
        .and_then(|p| std::path::absolute(p).ok())
        .and_then(|p| p.parent().map(Path::to_owned))
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    let name = config_path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "runbom.toml".to_owned());
    let place = ConfigPlace {
        name: &name,
        dir: &config_dir,
    };
    let mode = args.mode.map(|m| match m {
        EnforceModeArg::Monitor => EnforceMode::Monitor,
        EnforceModeArg::Enforce => EnforceMode::Enforce,
    });
    Ok(make(&expected_inventory, &config, place, mode))
}
