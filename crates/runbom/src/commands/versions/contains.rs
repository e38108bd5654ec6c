//! `runbom versions contains`: is a version in an OSV range or PEP 440 specifier set, and why.

use anyhow::{Context, bail};
use runbom_model::Ecosystem;
use runbom_versions::pep440::Operator;
use runbom_versions::{
    AffectedVersions, GemRequirement, GemVersion, OsvRange, Pep440Specifiers, Pep440Version,
    TclRequirement, TclVersion,
};

use crate::cli::VersionsContainsArgs;
use crate::commands::ExitStatus;

pub fn run(args: &VersionsContainsArgs) -> anyhow::Result<ExitStatus> {
    let ecosystem = super::ecosystem(&args.ecosystem)?;
    let range = args.range.trim();
    let contained = if range.starts_with(['{', '[']) {
        osv(ecosystem, range, &args.candidate)?
    } else {
        match ecosystem {
            Ecosystem::PyPi => pep440(range, &args.candidate)?,
            Ecosystem::RubyGems => gem_requirement(range, &args.candidate)?,
            Ecosystem::Tcl => tcl_requirements(range, &args.candidate)?,
            other => bail!(
                "`--range` must be OSV range JSON for {other} (requirement strings are \
                 understood for PyPI, RubyGems and Tcl)"
            ),
        }
    };
    Ok(if contained {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    })
}

/// Accepts one range object, an array of ranges, or an `affected` object.
fn osv(ecosystem: Ecosystem, json: &str, version: &str) -> anyhow::Result<bool> {
    let value: serde_json::Value = serde_json::from_str(json).context("`--range` is not JSON")?;
    let affected: AffectedVersions = if value.is_array() {
        AffectedVersions {
            ranges: serde_json::from_value::<Vec<OsvRange>>(value)
                .context("`--range` is not an array of OSV ranges")?,
            versions: Vec::new(),
        }
    } else if value.get("type").is_some() {
        AffectedVersions {
            ranges: vec![
                serde_json::from_value::<OsvRange>(value)
                    .context("`--range` is not an OSV range")?,
            ],
            versions: Vec::new(),
        }
    } else {
        serde_json::from_value(value).context("`--range` is not an OSV `affected` object")?
    };
    let verdict = affected.affects(ecosystem, version)?;
    for skipped in &verdict.skipped {
        println!("skipped range #{}: {}", skipped.range, skipped.reason);
    }
    if verdict.is_affected() {
        for matched in &verdict.matches {
            println!("{version} is contained: {matched}");
        }
    } else {
        println!("{version} is not contained in any range");
    }
    Ok(verdict.is_affected())
}

fn pep440(specifiers: &str, version: &str) -> anyhow::Result<bool> {
    let set = Pep440Specifiers::parse(specifiers)?;
    // `===` compares raw strings, so only without it must VERSION be a PEP 440 version.
    if !set.iter().any(|s| s.operator() == Operator::Arbitrary) && !set.is_empty() {
        Pep440Version::parse(version)?;
    }
    let failing: Vec<String> = set
        .iter()
        .map(ToString::to_string)
        .filter(|spec| {
            !Pep440Specifiers::parse(spec).is_ok_and(|one| one.contains_str(version, None))
        })
        .collect();
    if failing.is_empty() {
        println!("{version} satisfies `{set}`");
        Ok(true)
    } else {
        println!("{version} does not satisfy `{}`", failing.join(","));
        Ok(false)
    }
}

/// A `Gem::Requirement` string such as `~> 1.2, >= 1.2.3`.
fn gem_requirement(requirement: &str, version: &str) -> anyhow::Result<bool> {
    let requirement = GemRequirement::parse(requirement)?;
    let version = GemVersion::parse(version)?;
    if requirement.satisfied_by(&version) {
        println!("{version} satisfies `{requirement}`");
        Ok(true)
    } else {
        println!("{version} does not satisfy `{requirement}`");
        Ok(false)
    }
}

/// Tcl requirements separated by spaces (`8.5 9-`), as `package vsatisfies` takes them: any one
/// satisfied is enough.
fn tcl_requirements(requirements: &str, version: &str) -> anyhow::Result<bool> {
    let parsed = requirements
        .split_whitespace()
        .map(TclRequirement::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let version = TclVersion::parse(version.trim())?;
    if runbom_versions::tcl::vsatisfies(&version, &parsed) {
        println!("{version} satisfies `{requirements}`");
        Ok(true)
    } else {
        println!("{version} does not satisfy `{requirements}`");
        Ok(false)
    }
}
