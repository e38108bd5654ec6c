//! Licences: what a component's metadata says, normalised to an SPDX expression with a
//! confidence and the source it came from, and whether that expression is acceptable under the
//! `[licenses]` policy.
//!
//! Sources, best first: PEP 639 `License-Expression`, the free-text `License` field, trove
//! `License ::` classifiers (several classifiers are joined with `AND`: nothing says they are
//! alternatives). Traps: the free-text field is often a whole licence text, or `UNKNOWN`; a
//! classifier such as `BSD License` names a family, not a licence.

mod classifiers;
mod free_text;

use std::fmt;

use runbom_config::policy::{Licenses, Located, Origin};
use runbom_model::PackageName;
use runbom_model::inventory::LicenseSources;
use serde::Serialize;
use spdx::{Expression, LicenseReq, Licensee, ParseMode};

/// How sure runbom is that the SPDX expression is the component's licence. Ordered: `Unknown`
/// is the weakest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// No licence could be found or read.
    Unknown,
    /// Guessed: a licence family without a version, a licence text recognised by its wording.
    Inferred,
    /// A known spelling mapped to its SPDX id (`Apache 2.0`, `MIT License`, a trove classifier).
    Normalised,
    /// Declared as a valid SPDX expression.
    Exact,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Unknown => "unknown",
            Confidence::Inferred => "inferred",
            Confidence::Normalised => "normalised",
            Confidence::Exact => "exact",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseSource {
    /// PEP 639 `License-Expression`.
    Expression,
    /// The free-text `License` field.
    LicenseField,
    /// Trove `License ::` classifiers.
    Classifiers,
    /// The licences an SBOM or lockfile declares for the component.
    Declared,
    /// Nothing was found.
    None,
}

impl LicenseSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseSource::Expression => "License-Expression",
            LicenseSource::LicenseField => "License",
            LicenseSource::Classifiers => "classifiers",
            LicenseSource::Declared => "declared",
            LicenseSource::None => "none",
        }
    }
}

/// A component's licence as runbom understands it.
#[derive(Debug, Clone)]
pub struct ResolvedLicense {
    expression: Option<Expression>,
    confidence: Confidence,
    source: LicenseSource,
    /// What was written, shortened to one line.
    raw: Option<String>,
}

impl ResolvedLicense {
    fn unknown(raw: Option<String>) -> Self {
        Self {
            expression: None,
            confidence: Confidence::Unknown,
            source: LicenseSource::None,
            raw,
        }
    }

    fn found(
        expression: Expression,
        confidence: Confidence,
        source: LicenseSource,
        raw: &str,
    ) -> Self {
        Self {
            expression: Some(expression),
            confidence,
            source,
            raw: Some(one_line(raw)),
        }
    }

    /// The SPDX expression, when one was found.
    pub fn expression(&self) -> Option<&Expression> {
        self.expression.as_ref()
    }

    /// The SPDX expression as text.
    pub fn spdx(&self) -> Option<&str> {
        self.expression.as_ref().map(Expression::as_ref)
    }

    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    pub fn source(&self) -> LicenseSource {
        self.source
    }

    /// The metadata the answer was read from, on one line and at most 80 characters.
    pub fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }
}

fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 80 {
        format!("{}…", line.chars().take(79).collect::<String>())
    } else {
        line
    }
}

/// Normalises a distribution's licence metadata: the `License-Expression` when it parses, else
/// the better of the `License` field and the classifiers (the field wins a tie).
pub fn resolve(sources: &LicenseSources) -> ResolvedLicense {
    let mut unparsed = None;
    if let Some(expression) = sources.expression.as_deref().map(str::trim) {
        if let Ok(e) = Expression::parse(expression) {
            return ResolvedLicense::found(
                e,
                Confidence::Exact,
                LicenseSource::Expression,
                expression,
            );
        }
        if let Some(e) = parse_lax(expression) {
            return ResolvedLicense::found(
                e,
                Confidence::Normalised,
                LicenseSource::Expression,
                expression,
            );
        }
        unparsed = Some(one_line(expression));
    }
    let field = sources
        .license
        .as_deref()
        .filter(|l| !l.trim().is_empty() && l.trim() != "UNKNOWN")
        .and_then(|text| free_text(text, LicenseSource::LicenseField));
    let classifiers = from_classifiers(&sources.classifiers);
    let best = match (field, classifiers) {
        (Some(f), Some(c)) if c.confidence > f.confidence => Some(c),
        (Some(f), _) => Some(f),
        (None, c) => c,
    };
    best.unwrap_or_else(|| {
        ResolvedLicense::unknown(unparsed.or_else(|| sources.license.as_deref().map(one_line)))
    })
}

/// Parses a near-SPDX expression (`GPL-2.0`, `MIT/Apache-2.0`, `gpl-3.0+`) into its canonical
/// spelling. The `spdx` crate's imprecise names are left out (see [`free_text`]).
fn parse_lax(text: &str) -> Option<Expression> {
    let mode = ParseMode {
        allow_imprecise_license_names: false,
        ..ParseMode::LAX
    };
    Expression::parse_mode(text, mode).ok()?;
    let canonical = Expression::canonicalize(text)
        .ok()?
        .unwrap_or_else(|| text.to_owned());
    Expression::parse(&canonical).ok()
}

/// Normalises the licences an SBOM or lockfile declares: each entry as an SPDX expression or a
/// free licence name; several entries are joined with `AND`.
pub fn resolve_declared(licenses: &[String]) -> ResolvedLicense {
    let resolved: Vec<ResolvedLicense> = licenses
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            free_text(l, LicenseSource::Declared)
                .unwrap_or_else(|| ResolvedLicense::unknown(Some(one_line(l))))
        })
        .collect();
    if resolved.is_empty() || resolved.iter().any(|r| r.expression.is_none()) {
        return ResolvedLicense::unknown(Some(licenses.join(", ")).filter(|s| !s.is_empty()));
    }
    let confidence = resolved
        .iter()
        .map(|r| r.confidence)
        .min()
        .unwrap_or(Confidence::Unknown);
    let joined = joined_with_and(resolved.iter().filter_map(ResolvedLicense::spdx));
    match Expression::parse(&joined) {
        Ok(e) => {
            ResolvedLicense::found(e, confidence, LicenseSource::Declared, &licenses.join(", "))
        }
        Err(_) => ResolvedLicense::unknown(Some(licenses.join(", "))),
    }
}

/// `a AND b AND …`, each part in parentheses when it has an operator of its own.
fn joined_with_and<'a>(parts: impl Iterator<Item = &'a str>) -> String {
    parts
        .map(|p| {
            if p.contains(' ') {
                format!("({p})")
            } else {
                p.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// One free-text licence: an SPDX expression as written, a known spelling, a combination of
/// spellings, a spelling followed by "with … exception", or a whole licence text.
fn free_text(text: &str, source: LicenseSource) -> Option<ResolvedLicense> {
    let trimmed = text.trim();
    let found = |spdx: &str, confidence| {
        Expression::parse(spdx)
            .ok()
            .map(|e| ResolvedLicense::found(e, confidence, source, trimmed))
    };
    if !trimmed.contains('\n') {
        if let Ok(e) = Expression::parse(trimmed) {
            let confidence = if source == LicenseSource::Declared {
                Confidence::Exact
            } else {
                Confidence::Normalised
            };
            return Some(ResolvedLicense::found(e, confidence, source, trimmed));
        }
        if let Some((spdx, confidence)) = free_text::alias(trimmed) {
            return found(spdx, confidence);
        }
        if let Some((spdx, confidence)) = free_text::combination(trimmed) {
            return found(&spdx, confidence);
        }
        if let Some(e) = parse_lax(trimmed) {
            return Some(ResolvedLicense::found(
                e,
                Confidence::Normalised,
                source,
                trimmed,
            ));
        }
        // "GPLv2-or-later with a special exception which allows …": an exception only grants
        // more, so the licence before it is a safe reading.
        let lower = trimmed.to_lowercase();
        if let Some(index) = lower.find(" with ")
            && lower[index..].contains("exception")
            && let Some((spdx, _)) = free_text::alias(&trimmed[..index])
        {
            return found(spdx, Confidence::Inferred);
        }
    }
    if let Some(spdx) = free_text::full_text(trimmed) {
        return found(spdx, Confidence::Inferred);
    }
    // "MIT License\n\nCopyright (c) …" without the full text: the first line names it.
    let first = trimmed.lines().next().unwrap_or_default();
    if first.len() < trimmed.len()
        && let Some((spdx, _)) = free_text::alias(first)
    {
        return found(spdx, Confidence::Inferred);
    }
    None
}

/// The trove classifiers that name a licence, joined with `AND`; the weakest confidence.
fn from_classifiers(classifiers: &[String]) -> Option<ResolvedLicense> {
    let mut parts: Vec<&str> = Vec::new();
    let mut confidence = Confidence::Normalised;
    let mut used = Vec::new();
    for classifier in classifiers {
        if let Some((Some(spdx), c)) = classifiers::lookup(classifier) {
            if !parts.contains(&spdx) {
                parts.push(spdx);
            }
            confidence = confidence.min(c);
            used.push(classifier.trim_start_matches("License :: ").to_owned());
        }
    }
    if parts.is_empty() {
        return None;
    }
    if parts.len() > 1 {
        confidence = confidence.min(Confidence::Inferred);
    }
    let expression = Expression::parse(&joined_with_and(parts.into_iter())).ok()?;
    Some(ResolvedLicense::found(
        expression,
        confidence,
        LicenseSource::Classifiers,
        &used.join("; "),
    ))
}

/// The judgement of one licence expression under `[licenses]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LicenseVerdict {
    /// Accepted (every licence is allowed, or no allow list is set and nothing is denied).
    Allowed,
    /// A licence in the expression is on the deny list (even as one side of an `OR`).
    Denied {
        /// The licence requirement as written in the expression.
        license: String,
        /// The deny entry that matched.
        origin: Origin,
    },
    /// The allow list does not satisfy the expression.
    NotAllowed {
        /// The licences that would have to be allowed, in expression order.
        missing: Vec<String>,
    },
    /// No licence is known.
    Unknown,
}

/// Judges `license` for the package `name` under `policy`.
///
/// A licensee without an exception (`Apache-2.0`) also accepts that licence with any `WITH`
/// exception: an exception only grants more. With no allow list, everything not denied passes.
pub fn evaluate(
    license: &ResolvedLicense,
    name: &PackageName,
    policy: &Licenses,
) -> LicenseVerdict {
    let Some(expression) = license.expression() else {
        return LicenseVerdict::Unknown;
    };
    for req in expression.requirements() {
        if let Some(deny) = policy.deny.iter().find(|d| accepts(&d.value, &req.req)) {
            return LicenseVerdict::Denied {
                license: req.req.to_string(),
                origin: deny.origin,
            };
        }
    }
    if policy.allow.is_empty() {
        return LicenseVerdict::Allowed;
    }
    let allowed: Vec<&Located<Licensee>> = policy
        .allow
        .iter()
        .chain(
            policy
                .exceptions
                .iter()
                .filter(|e| e.name.value == name.as_str())
                .flat_map(|e| e.allow.iter()),
        )
        .collect();
    let accepted = |req: &LicenseReq| allowed.iter().any(|l| accepts(&l.value, req));
    match expression.evaluate_with_failures(accepted) {
        Ok(()) => LicenseVerdict::Allowed,
        Err(failures) => LicenseVerdict::NotAllowed {
            missing: failures.iter().map(|f| f.req.to_string()).collect(),
        },
    }
}

/// Whether `licensee` covers `req`, where a licensee without an exception covers every
/// exception of its licence, and a GNU `-or-later` id covers the later versions' `-only` ids.
fn accepts(licensee: &Licensee, req: &LicenseReq) -> bool {
    if licensee.satisfies(req) || licensee.satisfies(&gnu_or_later_as_plus(req)) {
        return true;
    }
    let bare = Licensee::new(licensee.as_ref().license.clone(), None);
    licensee.as_ref().addition.is_none()
        && req.addition.is_some()
        && bare.satisfies(&LicenseReq {
            license: req.license.clone(),
            addition: None,
        })
}

/// `LGPL-2.1-or-later` as `LGPL-2.1-only+`, the form `Licensee::satisfies` compares versions in.
fn gnu_or_later_as_plus(req: &LicenseReq) -> LicenseReq {
    let only = req.license.id().and_then(|id| {
        let base = id.name.strip_suffix("-or-later")?;
        spdx::license_id(&format!("{base}-only"))
    });
    match only {
        Some(id) => LicenseReq {
            license: spdx::LicenseItem::Spdx { id, or_later: true },
            addition: req.addition.clone(),
        },
        None => req.clone(),
    }
}

#[cfg(test)]
mod tests;
