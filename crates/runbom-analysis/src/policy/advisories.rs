//! `[advisories]`: ignores have an expiry date; an expired ignore is itself a finding, so that
//! accepted risks are reviewed. `runbom audit` asks [`active_ignore`] before reporting a match.

use runbom_config::policy::{Advisories, AdvisoryIgnore, Date};

use super::{Code, Finding, Severity};

fn to_date(date: Date) -> Option<time::Date> {
    let month = time::Month::try_from(date.month).ok()?;
    time::Date::from_calendar_date(i32::from(date.year), month, date.day).ok()
}

fn expired(ignore: &AdvisoryIgnore, today: time::Date) -> bool {
    ignore
        .expires
        .as_ref()
        .and_then(|e| to_date(e.value))
        .is_some_and(|expires| expires < today)
}

/// The ignore that still applies to an advisory known by any of `ids` (its id and aliases).
pub fn active_ignore<'a>(
    policy: &'a Advisories,
    ids: &[&str],
    today: time::Date,
) -> Option<&'a AdvisoryIgnore> {
    policy
        .ignore
        .iter()
        .find(|i| ids.iter().any(|id| id.eq_ignore_ascii_case(&i.id.value)) && !expired(i, today))
}

pub(super) fn expired_ignores(policy: &Advisories, today: time::Date) -> Vec<Finding> {
    policy
        .ignore
        .iter()
        .filter(|i| expired(i, today))
        .map(|i| {
            let expires = i.expires.as_ref().map(|e| e.value);
            let (y, m, d) = expires.map_or((0, 0, 0), |e| (e.year, e.month, e.day));
            Finding::new(
                Code::AdvisoryIgnoreExpired,
                Severity::Error,
                format!(
                    "the ignore of `{}` expired on {y:04}-{m:02}-{d:02} (reason given: {})",
                    i.id.value, i.reason
                ),
                i.expires.as_ref().map(|e| e.origin),
                "review the advisory: fix it, or renew the ignore with a new `expires` date"
                    .to_owned(),
            )
        })
        .collect()
}
