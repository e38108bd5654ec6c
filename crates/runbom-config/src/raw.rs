//! Step one of reading `runbom.toml`: the TOML shape, with spans, before any value is checked.
//! Unknown keys and wrong types are reported here; every error in the file is collected, not only
//! the first, and whatever parsed is kept so step two can check its values too.

use toml_span::de_helpers::{TableHelper, expected};
use toml_span::value::ValueInner;
use toml_span::{Error, Spanned, Value};

/// The whole file as written. New sections are added here and in `policy::Config`.
#[derive(Debug, Default)]
pub struct RawConfig {
    pub licenses: Option<RawLicenses>,
    pub bans: Option<RawBans>,
    pub versions: Option<RawVersions>,
    pub advisories: Option<RawAdvisories>,
    pub freshness: Option<RawFreshness>,
    pub verify: Option<RawVerify>,
    pub enforce: Option<RawEnforce>,
    pub redact: Option<RawRedact>,
}

#[derive(Debug, Default)]
pub struct RawLicenses {
    pub allow: Vec<Spanned<String>>,
    pub deny: Vec<Spanned<String>>,
    pub unknown: Option<Spanned<String>>,
    pub exceptions: Vec<RawLicenseException>,
}

#[derive(Debug)]
pub struct RawLicenseException {
    pub name: Spanned<String>,
    pub allow: Vec<Spanned<String>>,
}

#[derive(Debug, Default)]
pub struct RawBans {
    pub deny: Vec<RawBan>,
    pub allow: Option<Vec<Spanned<String>>>,
}

#[derive(Debug)]
pub struct RawBan {
    pub name: Spanned<String>,
    pub versions: Option<Spanned<String>>,
    pub reason: Option<String>,
}

#[derive(Debug, Default)]
pub struct RawVersions {
    pub minimum: Vec<RawMinimum>,
}

#[derive(Debug)]
pub struct RawMinimum {
    pub name: Spanned<String>,
    pub version: Spanned<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Default)]
pub struct RawAdvisories {
    pub severity_threshold: Option<Spanned<String>>,
    pub ignore: Vec<RawIgnore>,
    pub osv_url: Option<Spanned<String>>,
}

#[derive(Debug)]
pub struct RawIgnore {
    pub id: Spanned<String>,
    pub reason: String,
    pub expires: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub struct RawFreshness {
    pub max_days_behind: Option<Spanned<u32>>,
    pub yanked: Option<Spanned<String>>,
    pub max_years_without_release: Option<Spanned<u32>>,
}

#[derive(Debug, Default)]
pub struct RawVerify {
    pub tooling: Option<Spanned<String>>,
}

#[derive(Debug, Default)]
pub struct RawEnforce {
    pub mode: Option<Spanned<String>>,
    pub fail: Option<Spanned<String>>,
    pub first_party: Option<Vec<Spanned<String>>>,
    pub listed: Option<Spanned<bool>>,
    pub bans: Option<Spanned<bool>>,
    pub integrity: Option<Spanned<bool>>,
}

#[derive(Debug, Default)]
pub struct RawRedact {
    pub names: Vec<Spanned<String>>,
    pub patterns: Vec<Spanned<String>>,
}

/// Reads the whole document; shape errors go to `errors`, the rest is returned.
pub fn read(value: &mut Value<'_>, errors: &mut Vec<Error>) -> RawConfig {
    let Some(mut th) = table(value, errors) else {
        return RawConfig::default();
    };
    let config = RawConfig {
        licenses: section(&mut th, "licenses", errors, licenses),
        bans: section(&mut th, "bans", errors, bans),
        versions: section(&mut th, "versions", errors, versions),
        advisories: section(&mut th, "advisories", errors, advisories),
        freshness: section(&mut th, "freshness", errors, freshness),
        verify: section(&mut th, "verify", errors, verify),
        enforce: section(&mut th, "enforce", errors, enforce),
        redact: section(&mut th, "redact", errors, redact),
    };
    finish(th, errors);
    config
}

fn table<'de>(value: &mut Value<'de>, errors: &mut Vec<Error>) -> Option<TableHelper<'de>> {
    match TableHelper::new(value) {
        Ok(th) => Some(th),
        Err(e) => {
            errors.extend(e.errors);
            None
        }
    }
}

fn finish(th: TableHelper<'_>, errors: &mut Vec<Error>) {
    if let Err(e) = th.finalize(None) {
        errors.extend(e.errors);
    }
}

fn section<'de, T>(
    th: &mut TableHelper<'de>,
    key: &'static str,
    errors: &mut Vec<Error>,
    read: impl FnOnce(&mut Value<'de>, &mut Vec<Error>) -> Option<T>,
) -> Option<T> {
    let (_, mut value) = th.take(key)?;
    read(&mut value, errors)
}

fn array_of<'de, T>(
    th: &mut TableHelper<'de>,
    key: &'static str,
    errors: &mut Vec<Error>,
    mut read: impl FnMut(&mut Value<'de>, &mut Vec<Error>) -> Option<T>,
) -> Vec<T> {
    let Some((_, mut value)) = th.take(key) else {
        return Vec::new();
    };
    let span = value.span;
    match value.take() {
        ValueInner::Array(items) => items
            .into_iter()
            .filter_map(|mut item| read(&mut item, errors))
            .collect(),
        other => {
            errors.push(expected("an array", other, span));
            Vec::new()
        }
    }
}

fn licenses(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawLicenses> {
    let mut th = table(value, errors)?;
    let raw = RawLicenses {
        allow: th.optional("allow").unwrap_or_default(),
        deny: th.optional("deny").unwrap_or_default(),
        unknown: th.optional_s("unknown"),
        exceptions: array_of(&mut th, "exceptions", errors, license_exception),
    };
    finish(th, errors);
    Some(raw)
}

fn license_exception(
    value: &mut Value<'_>,
    errors: &mut Vec<Error>,
) -> Option<RawLicenseException> {
    let mut th = table(value, errors)?;
    let name = th.required_s("name").ok();
    let allow = th.optional("allow").unwrap_or_default();
    finish(th, errors);
    Some(RawLicenseException { name: name?, allow })
}

fn bans(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawBans> {
    let mut th = table(value, errors)?;
    let raw = RawBans {
        deny: array_of(&mut th, "deny", errors, ban),
        allow: th.optional("allow"),
    };
    finish(th, errors);
    Some(raw)
}

fn ban(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawBan> {
    // A bare string bans every version of that package.
    if let Some(name) = value.as_str() {
        return Some(RawBan {
            name: Spanned::with_span(name.to_owned(), value.span),
            versions: None,
            reason: None,
        });
    }
    let mut th = table(value, errors)?;
    let name = th.required_s("name").ok();
    let versions = th.optional_s("versions");
    let reason = th.optional("reason");
    finish(th, errors);
    Some(RawBan {
        name: name?,
        versions,
        reason,
    })
}

fn versions(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawVersions> {
    let mut th = table(value, errors)?;
    let raw = RawVersions {
        minimum: array_of(&mut th, "minimum", errors, minimum),
    };
    finish(th, errors);
    Some(raw)
}

fn minimum(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawMinimum> {
    let mut th = table(value, errors)?;
    let name = th.required_s("name").ok();
    let version = th.required_s("version").ok();
    let reason = th.optional("reason");
    finish(th, errors);
    Some(RawMinimum {
        name: name?,
        version: version?,
        reason,
    })
}

fn advisories(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawAdvisories> {
    let mut th = table(value, errors)?;
    let raw = RawAdvisories {
        severity_threshold: th.optional_s("severity-threshold"),
        ignore: array_of(&mut th, "ignore", errors, ignore),
        osv_url: th.optional_s("osv-url"),
    };
    finish(th, errors);
    Some(raw)
}

fn ignore(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawIgnore> {
    let mut th = table(value, errors)?;
    let id = th.required_s("id").ok();
    let reason = th.required("reason").ok();
    let expires = th.optional_s("expires");
    finish(th, errors);
    Some(RawIgnore {
        id: id?,
        reason: reason?,
        expires,
    })
}

fn freshness(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawFreshness> {
    let mut th = table(value, errors)?;
    let raw = RawFreshness {
        max_days_behind: th.optional_s("max-days-behind"),
        yanked: th.optional_s("yanked"),
        max_years_without_release: th.optional_s("max-years-without-release"),
    };
    finish(th, errors);
    Some(raw)
}

fn verify(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawVerify> {
    let mut th = table(value, errors)?;
    let raw = RawVerify {
        tooling: th.optional_s("tooling"),
    };
    finish(th, errors);
    Some(raw)
}

fn enforce(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawEnforce> {
    let mut th = table(value, errors)?;
    let raw = RawEnforce {
        mode: th.optional_s("mode"),
        fail: th.optional_s("fail"),
        first_party: th.optional("first-party"),
        listed: th.optional_s("listed"),
        bans: th.optional_s("bans"),
        integrity: th.optional_s("integrity"),
    };
    finish(th, errors);
    Some(raw)
}

fn redact(value: &mut Value<'_>, errors: &mut Vec<Error>) -> Option<RawRedact> {
    let mut th = table(value, errors)?;
    let raw = RawRedact {
        names: th.optional("names").unwrap_or_default(),
        patterns: th.optional("patterns").unwrap_or_default(),
    };
    finish(th, errors);
    Some(raw)
}
