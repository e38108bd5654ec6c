//! `runbom versions contains`: is a version in an OSV range or a requirement string, and why.

use anyhow::{Context, bail};
use runbom_model::Ecosystem;
use runbom_model::advisory::{Affected, Range};
use runbom_versions::pep440::Operator;
use runbom_versions::{
    GemRequirement, GemVersion, Pep440Specifiers, Pep440Version, TclRequirement, TclVersion,
    Verdict, affects,
};
use serde::Serialize;

use crate::cli::{PlumbingFormat, VersionsContainsArgs};
use crate::commands::ExitStatus;

/// The answer, with the reasons printed one per line (text) or as a JSON object.
#[derive(Debug, Serialize)]
struct Answer {
    ecosystem: Ecosystem,
    version: String,
    contained: bool,
    reasons: Vec<String>,
    /// For OSV ranges: which ranges matched and which were skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<Verdict>,
}

pub fn run(args: &VersionsContainsArgs) -> anyhow::Result<ExitStatus> {
    let ecosystem = super::ecosystem(&args.ecosystem)?;
    let range = args.range.trim();
    let version = args.candidate.as_str();
    let answer = if range.starts_with(['{', '[']) {
        osv(ecosystem, range, version)?
    } else {
        let (contained, reasons) = match ecosystem {
            Ecosystem::PyPi => pep440(range, version)?,
            Ecosystem::RubyGems => gem_requirement(range, version)?,
            Ecosystem::Tcl => tcl_requirements(range, version)?,
            other => bail!(
                "`--range` must be OSV range JSON for {other} (requirement strings are \
                 understood for PyPI, RubyGems and Tcl)"
            ),
        };
        Answer {
            ecosystem,
            version: version.to_owned(),
            contained,
            reasons,
            verdict: None,
        }
    };
    match args.format {
        PlumbingFormat::Text => {
            for reason in &answer.reasons {
                println!("{reason}");
            }
        }
        PlumbingFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
    }
    Ok(if answer.contained {
        ExitStatus::Success
    } else {
        ExitStatus::Findings
    })
}

/// Accepts one range object, an array of ranges, or an `affected` object.
fn osv(ecosystem: Ecosystem, json: &str, version: &str) -> anyhow::Result<Answer> {
    let value: serde_json::Value = serde_json::from_str(json).context("`--range` is not JSON")?;
    let affected: Affected = if value.is_array() {
        Affected {
            ranges: serde_json::from_value::<Vec<Range>>(value)
                .context("`--range` is not an array of OSV ranges")?,
            ..Affected::default()
        }
    } else if value.get("type").is_some() {
        Affected {
            ranges: vec![
                serde_json::from_value::<Range>(value).context("`--range` is not an OSV range")?,
            ],
            ..Affected::default()
        }
    } else {
        serde_json::from_value(value).context("`--range` is not an OSV `affected` object")?
    };
    let verdict = affects(ecosystem, &affected, version)?;
    let mut reasons: Vec<String> = verdict
        .skipped
        .iter()
        .map(|skipped| format!("skipped range #{}: {}", skipped.range, skipped.reason))
        .collect();
    if verdict.is_affected() {
        reasons.extend(
            verdict
                .matches
                .iter()
                .map(|matched| format!("{version} is contained: {matched}")),
        );
    } else {
        reasons.push(format!("{version} is not contained in any range"));
    }
    Ok(Answer {
        ecosystem,
        version: version.to_owned(),
        contained: verdict.is_affected(),
        reasons,
        verdict: Some(verdict),
    })
}

fn pep440(specifiers: &str, version: &str) -> anyhow::Result<(bool, Vec<String>)> {
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
    Ok(if failing.is_empty() {
        (true, vec![format!("{version} satisfies `{set}`")])
    } else {
        (
            false,
            vec![format!(
                "{version} does not satisfy `{}`",
                failing.join(",")
            )],
        )
    })
}

/// A `Gem::Requirement` string such as `~> 1.2, >= 1.2.3`.
fn gem_requirement(requirement: &str, version: &str) -> anyhow::Result<(bool, Vec<String>)> {
    let requirement = GemRequirement::parse(requirement)?;
    let version = GemVersion::parse(version)?;
    Ok(if requirement.satisfied_by(&version) {
        (true, vec![format!("{version} satisfies `{requirement}`")])
    } else {
        (
            false,
            vec![format!("{version} does not satisfy `{requirement}`")],
        )
    })
}

/// Tcl requirements separated by spaces (`8.5 9-`), as `package vsatisfies` takes them: any one
/// satisfied is enough.
fn tcl_requirements(requirements: &str, version: &str) -> anyhow::Result<(bool, Vec<String>)> {
    let parsed = requirements
        .split_whitespace()
        .map(TclRequirement::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let version = TclVersion::parse(version.trim())?;
    Ok(if runbom_versions::tcl::vsatisfies(&version, &parsed) {
        (true, vec![format!("{version} satisfies `{requirements}`")])
    } else {
        (
            false,
            vec![format!("{version} does not satisfy `{requirements}`")],
        )
    })
}
