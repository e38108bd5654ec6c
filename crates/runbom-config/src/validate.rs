//! Step two of reading `runbom.toml`: checks every value (SPDX ids, PEP 440 versions and
//! specifiers, dates, levels) and builds the validated `Config`, collecting every diagnostic.

use std::str::FromStr;

use codespan_reporting::diagnostic::{Diagnostic, Label};
use pep440_rs::{Version, VersionSpecifiers};
use runbom_model::PackageName;
use toml_span::Spanned;

use crate::policy::{
    Advisories, AdvisoryIgnore, Ban, Bans, Config, Date, Enforce, EnforceMode, EnforceRule,
    FailPolicy, Freshness, Level, LicenseException, Licenses, Located, MinimumVersion, Origin,
    Redactor, Severity, Verify, Versions,
};
use crate::raw::RawConfig;

struct Checker<'a> {
    text: &'a str,
    diagnostics: Vec<Diagnostic<()>>,
}

impl Checker<'_> {
    fn origin(&self, offset: usize) -> Origin {
        let before = &self.text[..offset.min(self.text.len())];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Origin {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }

    fn located<T>(&self, value: T, span: toml_span::Span) -> Located<T> {
        Located {
            value,
            origin: self.origin(span.start),
        }
    }

    fn error(&mut self, code: &str, message: String, span: toml_span::Span, label: String) {
        self.diagnostics.push(
            Diagnostic::error()
                .with_code(code)
                .with_message(message)
                .with_labels(vec![Label::primary((), span).with_message(label)]),
        );
    }

    fn error_with_help(
        &mut self,
        code: &str,
        message: String,
        span: toml_span::Span,
        label: String,
        help: String,
    ) {
        self.error(code, message, span, label);
        if let Some(last) = self.diagnostics.last_mut() {
            last.notes.push(format!("help: {help}"));
        }
    }

    fn license(&mut self, raw: &Spanned<String>) -> Option<Located<spdx::Licensee>> {
        match spdx::Licensee::parse(&raw.value) {
            Ok(licensee) => Some(self.located(licensee, raw.span)),
            Err(_) => {
                let help = spdx::imprecise_license_id(&raw.value).map_or_else(
                    || "use an id from https://spdx.org/licenses/".to_owned(),
                    |(id, _)| format!("did you mean `{}`?", id.name),
                );
                self.error_with_help(
                    "bad-spdx-id",
                    format!("`{}` is not an SPDX licence id", raw.value),
                    raw.span,
                    "unknown licence id".to_owned(),
                    help,
                );
                None
            }
        }
    }

    fn licenses(&mut self, raw: &[Spanned<String>]) -> Vec<Located<spdx::Licensee>> {
        raw.iter().filter_map(|l| self.license(l)).collect()
    }

    fn package(&self, raw: &Spanned<String>) -> Option<Located<String>> {
        let name = PackageName::pypi(&raw.value);
        Some(self.located(name.as_str().to_owned(), raw.span))
    }

    fn version(&mut self, raw: &Spanned<String>) -> Option<Located<Version>> {
        match Version::from_str(&raw.value) {
            Ok(v) => Some(self.located(v, raw.span)),
            Err(e) => {
                self.error_with_help(
                    "bad-version",
                    format!("`{}` is not a PEP 440 version", raw.value),
                    raw.span,
                    first_line(&e.to_string()),
                    "write a version such as `2.2.2` or `1.0rc1`".to_owned(),
                );
                None
            }
        }
    }

    fn specifiers(&mut self, raw: &Spanned<String>) -> Option<Located<VersionSpecifiers>> {
        match VersionSpecifiers::from_str(&raw.value) {
            Ok(v) => Some(self.located(v, raw.span)),
            Err(e) => {
                self.error_with_help(
                    "bad-version",
                    format!("`{}` is not a PEP 440 version range", raw.value),
                    raw.span,
                    first_line(&e.to_string()),
                    "write specifiers such as `<3` or `>=1.2, <1.4`".to_owned(),
                );
                None
            }
        }
    }

    fn level(&mut self, raw: &Spanned<String>) -> Option<Located<Level>> {
        let level = match raw.value.as_str() {
            "deny" => Level::Deny,
            "warn" => Level::Warn,
            "allow" => Level::Allow,
            other => {
                self.error(
                    "bad-value",
                    format!("`{other}` is not a level"),
                    raw.span,
                    "expected `deny`, `warn` or `allow`".to_owned(),
                );
                return None;
            }
        };
        Some(self.located(level, raw.span))
    }

    /// `[verify] tooling`: `"strict"` is true, `"note"` false.
    fn tooling(&mut self, raw: &Spanned<String>) -> Option<Located<bool>> {
        let strict = match raw.value.as_str() {
            "strict" => true,
            "note" => false,
            other => {
                self.error(
                    "bad-value",
                    format!("`{other}` is not a tooling mode"),
                    raw.span,
                    "expected `note` or `strict`".to_owned(),
                );
                return None;
            }
        };
        Some(self.located(strict, raw.span))
    }

    fn severity(&mut self, raw: &Spanned<String>) -> Option<Located<Severity>> {
        let severity = match raw.value.to_ascii_lowercase().as_str() {
            "low" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => {
                self.error(
                    "bad-value",
                    format!("`{}` is not a severity", raw.value),
                    raw.span,
                    "expected `low`, `medium`, `high` or `critical`".to_owned(),
                );
                return None;
            }
        };
        Some(self.located(severity, raw.span))
    }

    fn date(&mut self, raw: &Spanned<String>) -> Option<Located<Date>> {
        match parse_date(&raw.value) {
            Some(date) => Some(self.located(date, raw.span)),
            None => {
                self.error(
                    "bad-date",
                    format!("`{}` is not a date", raw.value),
                    raw.span,
                    "expected `YYYY-MM-DD`".to_owned(),
                );
                None
            }
        }
    }

    /// `[redact]`: the names as written, each pattern compiled (a bad one is an error at its place).
    fn redact(&mut self, raw: &crate::raw::RawRedact) -> Redactor {
        let names: Vec<String> = raw.names.iter().map(|n| n.value.clone()).collect();
        let mut patterns = Vec::new();
        for pattern in &raw.patterns {
            match Redactor::new(&[], std::slice::from_ref(&pattern.value)) {
                Ok(_) => patterns.push(pattern.value.clone()),
                Err(e) => self.error(
                    "bad-pattern",
                    format!("`{}` is not a regular expression", pattern.value),
                    pattern.span,
                    e.reason,
                ),
            }
        }
        Redactor::new(&names, &patterns).unwrap_or_default()
    }

    /// `[enforce]`: the mode, the fail policy, first-party directories and the rules.
    fn enforce(&mut self, raw: crate::raw::RawEnforce) -> Enforce {
        let mode = raw.mode.as_ref().and_then(|m| {
            let mode = match m.value.as_str() {
                "monitor" => EnforceMode::Monitor,
                "enforce" => EnforceMode::Enforce,
                other => {
                    self.error(
                        "bad-value",
                        format!("`{other}` is not an enforcement mode"),
                        m.span,
                        "expected `monitor` or `enforce`".to_owned(),
                    );
                    return None;
                }
            };
            Some(self.located(mode, m.span))
        });
        let fail = raw.fail.as_ref().and_then(|f| {
            let fail = match f.value.as_str() {
                "open" => FailPolicy::Open,
                "closed" => FailPolicy::Closed,
                other => {
                    self.error(
                        "bad-value",
                        format!("`{other}` is not a failure policy"),
                        f.span,
                        "expected `open` or `closed`".to_owned(),
                    );
                    return None;
                }
            };
            Some(self.located(fail, f.span))
        });
        let first_party = raw
            .first_party
            .unwrap_or_default()
            .iter()
            .map(|d| self.located(d.value.clone(), d.span))
            .collect();
        let rules = [
            (EnforceRule::Listed, raw.listed),
            (EnforceRule::Bans, raw.bans),
            (EnforceRule::Integrity, raw.integrity),
        ]
        .into_iter()
        .filter_map(|(rule, on)| on.map(|on| (rule, self.located(on.value, on.span))))
        .collect();
        Enforce {
            mode,
            fail,
            first_party,
            rules,
        }
    }

    fn located_u32(&self, raw: &Spanned<u32>) -> Located<u32> {
        self.located(raw.value, raw.span)
    }
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches(':')
        .to_owned()
}

/// Parses `YYYY-MM-DD` with a real month and a day that exists in that month.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (year, month, day): (u16, u8, u8) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days)
        .contains(&day)
        .then_some(Date { year, month, day })
}

/// Checks every value of `raw`; returns the config or all diagnostics found.
pub fn validate(text: &str, raw: RawConfig) -> Result<Config, Vec<Diagnostic<()>>> {
    let mut c = Checker {
        text,
        diagnostics: Vec::new(),
    };
    let mut config = Config::default();

    if let Some(l) = raw.licenses {
        let mut licenses = Licenses {
            allow: c.licenses(&l.allow),
            deny: c.licenses(&l.deny),
            ..Licenses::default()
        };
        if let Some(unknown) = l.unknown.as_ref().and_then(|u| c.level(u)) {
            licenses.unknown = unknown;
        }
        for e in &l.exceptions {
            let name = c.package(&e.name);
            let allow = c.licenses(&e.allow);
            if let Some(name) = name {
                licenses.exceptions.push(LicenseException { name, allow });
            }
        }
        config.licenses = licenses;
    }

    if let Some(b) = raw.bans {
        let mut bans = Bans::default();
        for ban in &b.deny {
            let name = c.package(&ban.name);
            let versions = ban.versions.as_ref().and_then(|v| c.specifiers(v));
            if let Some(name) = name {
                bans.deny.push(Ban {
                    name,
                    versions,
                    reason: ban.reason.clone(),
                });
            }
        }
        bans.allow = b
            .allow
            .as_ref()
            .map(|names| names.iter().filter_map(|n| c.package(n)).collect());
        config.bans = bans;
    }

    if let Some(v) = raw.versions {
        let mut versions = Versions::default();
        for m in &v.minimum {
            let name = c.package(&m.name);
            let version = c.version(&m.version);
            if let (Some(name), Some(version)) = (name, version) {
                versions.minimum.push(MinimumVersion {
                    name,
                    version,
                    reason: m.reason.clone(),
                });
            }
        }
        config.versions = versions;
    }

    if let Some(a) = raw.advisories {
        let mut advisories = Advisories {
            severity_threshold: a.severity_threshold.as_ref().and_then(|s| c.severity(s)),
            osv_url: a
                .osv_url
                .as_ref()
                .map(|u| c.located(u.value.clone(), u.span)),
            ..Advisories::default()
        };
        for i in &a.ignore {
            let expires = i.expires.as_ref().and_then(|d| c.date(d));
            advisories.ignore.push(AdvisoryIgnore {
                id: c.located(i.id.value.clone(), i.id.span),
                reason: i.reason.clone(),
                expires,
            });
        }
        config.advisories = advisories;
    }

    if let Some(f) = raw.freshness {
        config.freshness = Freshness {
            max_days_behind: f.max_days_behind.as_ref().map(|d| c.located_u32(d)),
            yanked: f.yanked.as_ref().and_then(|y| c.level(y)),
            max_years_without_release: f
                .max_years_without_release
                .as_ref()
                .map(|y| c.located_u32(y)),
        };
    }

    if let Some(v) = raw.verify {
        config.verify = Verify {
            strict_tooling: v.tooling.as_ref().and_then(|t| c.tooling(t)),
        };
    }

    if let Some(e) = raw.enforce {
        config.enforce = c.enforce(e);
    }

    if let Some(r) = raw.redact {
        config.redact = c.redact(&r);
    }

    if c.diagnostics.is_empty() {
        Ok(config)
    } else {
        Err(c.diagnostics)
    }
}
