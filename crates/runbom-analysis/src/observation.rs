//! The time span a set of runtime reports covers, and whether it is whole: the evidence window
//! behind an SBOM of what ran and behind every VEX claim.
//!
//! Trap: a report that is not `complete` was written while its program still ran (a periodic
//! flush); what it says was never loaded may still be loaded later in the same session.

use runbom_model::RuntimeReport;
use sha2::{Digest, Sha256};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// A report time that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("runtime report `{report}`: `{field}` is not an RFC 3339 time: `{value}`")]
pub struct ObservationError {
    pub report: String,
    pub field: &'static str,
    pub value: String,
}

/// What a set of reports observed, and over which time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationWindow {
    /// Every report id, sorted and deduplicated.
    pub reports: Vec<String>,
    /// The earliest `started_at`.
    pub from: OffsetDateTime,
    /// The latest `reported_at`.
    pub to: OffsetDateTime,
    /// The reports written before their program ended (`complete: false`), sorted.
    pub incomplete: Vec<String>,
}

impl ObservationWindow {
    /// The window of `reports`; `None` when there are none.
    pub fn of(reports: &[RuntimeReport]) -> Result<Option<Self>, ObservationError> {
        let mut window: Option<Self> = None;
        for report in reports {
            let started = parse(report, "started_at", &report.started_at)?;
            let reported = parse(report, "reported_at", &report.reported_at)?;
            let w = window.get_or_insert_with(|| Self {
                reports: Vec::new(),
                from: started,
                to: reported,
                incomplete: Vec::new(),
            });
            w.from = w.from.min(started);
            w.to = w.to.max(reported);
            w.reports.push(report.report_id.clone());
            if !report.complete {
                w.incomplete.push(report.report_id.clone());
            }
        }
        if let Some(w) = &mut window {
            w.reports.sort();
            w.reports.dedup();
            w.incomplete.sort();
            w.incomplete.dedup();
        }
        Ok(window)
    }

    /// Whole seconds from `from` to `to`.
    pub fn seconds(&self) -> i64 {
        (self.to - self.from).whole_seconds()
    }

    /// A `urn:uuid:` that is the same for the same reports and `purpose`.
    pub fn serial_number(&self, purpose: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(purpose.as_bytes());
        for id in &self.reports {
            hasher.update(b"\n");
            hasher.update(id.as_bytes());
        }
        let digest = hasher.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        runbom_model::sbom::serial_number_from_digest(&first)
    }
}

fn parse(
    report: &RuntimeReport,
    field: &'static str,
    value: &str,
) -> Result<OffsetDateTime, ObservationError> {
    OffsetDateTime::parse(value, &Rfc3339).map_err(|_| ObservationError {
        report: report.report_id.clone(),
        field,
        value: value.to_owned(),
    })
}

/// `2026-11-25T10:00:05Z`: UTC, whole seconds, as SPDX and CycloneDX both accept.
pub fn utc_seconds(time: OffsetDateTime) -> String {
    let t = time.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_seconds_drops_fractions_and_offsets() {
        let t = OffsetDateTime::parse("2026-11-25T12:00:05.75+02:00", &Rfc3339).unwrap();
        assert_eq!(utc_seconds(t), "2026-11-25T10:00:05Z");
    }
}
