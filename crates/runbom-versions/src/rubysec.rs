//! ruby-advisory-db (`rubysec`) semantics: a version is vulnerable unless it satisfies one of the
//! `patched_versions` or `unaffected_versions` requirements; and the conversion of that rule into
//! OSV `ECOSYSTEM` events.
//!
//! Traps:
//! - The advisory lists the *safe* versions; the affected set is the complement of their union.
//! - `~> 2.1.3` compares the candidate's release, so `2.2.0.rc1` (release `2.2.0`) is not covered
//!   by it although `2.2.0.rc1 < 2.2`. The exact end of that safe interval is the lowest possible
//!   pre-release of `2.2`, which is `2.2.A` (letters sort below numbers, `A` first).
//! - OSV cannot say "from just after `v`": a safe `<= v` or `= v` followed by an affected stretch
//!   becomes `introduced: v`, which wrongly includes `v` itself. Such spots are reported as
//!   [`Conversion::inexact`].

use std::cmp::Ordering;

use crate::rubygems::{GemOperator, GemRequirement, GemVersion};
use runbom_model::advisory::Event;

/// ruby-advisory-db's rule (bundler-audit's `Advisory#vulnerable?`): vulnerable unless the version
/// satisfies one of the `patched` or `unaffected` requirements.
pub fn vulnerable(
    patched: &[GemRequirement],
    unaffected: &[GemRequirement],
    version: &GemVersion,
) -> bool {
    !patched
        .iter()
        .chain(unaffected)
        .any(|r| r.satisfied_by(version))
}

/// The OSV events equivalent to an advisory's `patched_versions` and `unaffected_versions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Events of one `ECOSYSTEM` range, sorted.
    pub events: Vec<Event>,
    /// Versions the events wrongly report as affected (each is the last safe version before an
    /// affected stretch, which OSV cannot exclude).
    pub inexact: Vec<String>,
}

#[derive(Debug, Clone)]
enum Lower {
    Unbounded,
    Included(GemVersion),
    Excluded(GemVersion),
}

#[derive(Debug, Clone)]
enum Upper {
    Unbounded,
    Included(GemVersion),
    Excluded(GemVersion),
}

#[derive(Debug, Clone)]
struct Interval {
    lower: Lower,
    upper: Upper,
}

fn cmp_lower(a: &Lower, b: &Lower) -> Ordering {
    match (a, b) {
        (Lower::Unbounded, Lower::Unbounded) => Ordering::Equal,
        (Lower::Unbounded, _) => Ordering::Less,
        (_, Lower::Unbounded) => Ordering::Greater,
        (Lower::Included(x) | Lower::Excluded(x), Lower::Included(y) | Lower::Excluded(y)) => {
            x.cmp(y).then_with(|| match (a, b) {
                (Lower::Included(_), Lower::Excluded(_)) => Ordering::Less,
                (Lower::Excluded(_), Lower::Included(_)) => Ordering::Greater,
                _ => Ordering::Equal,
            })
        }
    }
}

fn cmp_upper(a: &Upper, b: &Upper) -> Ordering {
    match (a, b) {
        (Upper::Unbounded, Upper::Unbounded) => Ordering::Equal,
        (Upper::Unbounded, _) => Ordering::Greater,
        (_, Upper::Unbounded) => Ordering::Less,
        (Upper::Included(x) | Upper::Excluded(x), Upper::Included(y) | Upper::Excluded(y)) => {
            x.cmp(y).then_with(|| match (a, b) {
                (Upper::Excluded(_), Upper::Included(_)) => Ordering::Less,
                (Upper::Included(_), Upper::Excluded(_)) => Ordering::Greater,
                _ => Ordering::Equal,
            })
        }
    }
}

impl Interval {
    fn full() -> Self {
        Interval {
            lower: Lower::Unbounded,
            upper: Upper::Unbounded,
        }
    }

    fn is_empty(&self) -> bool {
        match (&self.lower, &self.upper) {
            (Lower::Unbounded, _) | (_, Upper::Unbounded) => false,
            (Lower::Included(l), Upper::Included(u)) => l > u,
            (Lower::Included(l) | Lower::Excluded(l), Upper::Included(u) | Upper::Excluded(u)) => {
                l >= u
            }
        }
    }

    fn intersect(&self, other: &Interval) -> Interval {
        let lower = if cmp_lower(&self.lower, &other.lower) == Ordering::Greater {
            self.lower.clone()
        } else {
            other.lower.clone()
        };
        let upper = if cmp_upper(&self.upper, &other.upper) == Ordering::Less {
            self.upper.clone()
        } else {
            other.upper.clone()
        };
        Interval { lower, upper }
    }

    /// Whether `next` (starting at or after `self`) overlaps or touches `self`.
    fn joins(&self, next: &Interval) -> bool {
        match (&self.upper, &next.lower) {
            (Upper::Unbounded, _) | (_, Lower::Unbounded) => true,
            (Upper::Included(u), Lower::Included(l) | Lower::Excluded(l))
            | (Upper::Excluded(u), Lower::Included(l)) => l <= u,
            (Upper::Excluded(u), Lower::Excluded(l)) => l < u,
        }
    }
}

/// The lowest possible pre-release of `version`: `2.2` -> `2.2.A`.
fn lowest_prerelease(version: &GemVersion) -> GemVersion {
    GemVersion::parse(&format!("{}.A", version.release())).unwrap_or_else(|_| version.clone())
}

/// The safe set of one constraint, as a union of intervals.
fn constraint(op: GemOperator, v: &GemVersion) -> Vec<Interval> {
    let at = |lower, upper| Interval { lower, upper };
    match op {
        GemOperator::Equal => vec![at(Lower::Included(v.clone()), Upper::Included(v.clone()))],
        GemOperator::NotEqual => vec![
            at(Lower::Unbounded, Upper::Excluded(v.clone())),
            at(Lower::Excluded(v.clone()), Upper::Unbounded),
        ],
        GemOperator::Greater => vec![at(Lower::Excluded(v.clone()), Upper::Unbounded)],
        GemOperator::GreaterEqual => vec![at(Lower::Included(v.clone()), Upper::Unbounded)],
        GemOperator::Less => vec![at(Lower::Unbounded, Upper::Excluded(v.clone()))],
        GemOperator::LessEqual => vec![at(Lower::Unbounded, Upper::Included(v.clone()))],
        // `>= v` and `release < bump(v)`: everything below the lowest pre-release of bump(v).
        GemOperator::Pessimistic => vec![at(
            Lower::Included(v.clone()),
            Upper::Excluded(lowest_prerelease(&v.bump())),
        )],
    }
}

fn requirement(req: &GemRequirement) -> Vec<Interval> {
    let mut set = vec![Interval::full()];
    for (op, v) in req.constraints() {
        let parts = constraint(op, v);
        set = set
            .iter()
            .flat_map(|a| parts.iter().map(move |b| a.intersect(b)))
            .filter(|i| !i.is_empty())
            .collect();
    }
    set
}

/// Converts an advisory's safe requirements into the events of one OSV `ECOSYSTEM` range.
pub fn to_osv_events(patched: &[GemRequirement], unaffected: &[GemRequirement]) -> Conversion {
    let mut safe: Vec<Interval> = patched
        .iter()
        .chain(unaffected)
        .flat_map(requirement)
        .collect();
    safe.sort_by(|a, b| cmp_lower(&a.lower, &b.lower));
    let mut merged: Vec<Interval> = Vec::new();
    for interval in safe {
        match merged.last_mut() {
            Some(last) if last.joins(&interval) => {
                if cmp_upper(&interval.upper, &last.upper) == Ordering::Greater {
                    last.upper = interval.upper;
                }
            }
            _ => merged.push(interval),
        }
    }
    let mut events = Vec::new();
    let mut inexact = Vec::new();
    // Walk the gaps between safe intervals; each gap is an affected stretch.
    let mut gap_start: Option<Lower> = Some(Lower::Unbounded);
    for interval in &merged {
        if let Some(start) = gap_start.take() {
            let opens = match &interval.lower {
                Lower::Unbounded => None,
                Lower::Included(v) => Some(Event::Fixed(v.to_string())),
                Lower::Excluded(v) => Some(Event::LastAffected(v.to_string())),
            };
            if let Some(end) = opens {
                push_introduced(&mut events, &mut inexact, start);
                events.push(end);
            }
        }
        gap_start = match &interval.upper {
            Upper::Unbounded => None,
            Upper::Excluded(v) => Some(Lower::Included(v.clone())),
            Upper::Included(v) => Some(Lower::Excluded(v.clone())),
        };
    }
    if let Some(start) = gap_start {
        push_introduced(&mut events, &mut inexact, start);
    }
    Conversion { events, inexact }
}

fn push_introduced(events: &mut Vec<Event>, inexact: &mut Vec<String>, start: Lower) {
    match start {
        Lower::Unbounded => events.push(Event::Introduced("0".to_owned())),
        Lower::Included(v) => events.push(Event::Introduced(v.to_string())),
        Lower::Excluded(v) => {
            inexact.push(v.to_string());
            // A safe single version (`= v`) between two affected stretches: `fixed: v,
            // introduced: v` would hinge on how a reader breaks the tie, so join the stretches.
            if events.last() == Some(&Event::Fixed(v.to_string())) {
                events.pop();
            } else {
                events.push(Event::Introduced(v.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reqs(list: &[&str]) -> Vec<GemRequirement> {
        list.iter()
            .map(|r| GemRequirement::parse(r).unwrap())
            .collect()
    }

    #[test]
    fn pessimistic_and_open_ended_patches() {
        let c = to_osv_events(&reqs(&["~> 2.1.3", ">= 2.2.2"]), &[]);
        assert_eq!(
            c.events,
            [
                Event::Introduced("0".into()),
                Event::Fixed("2.1.3".into()),
                Event::Introduced("2.2.A".into()),
                Event::Fixed("2.2.2".into()),
            ]
        );
        assert!(c.inexact.is_empty());
    }

    #[test]
    fn unaffected_below_and_greater_than() {
        let c = to_osv_events(&reqs(&["> 4.3.3"]), &reqs(&["< 4.0.0"]));
        assert_eq!(
            c.events,
            [
                Event::Introduced("4.0.0".into()),
                Event::LastAffected("4.3.3".into()),
            ]
        );
    }

    #[test]
    fn less_equal_unaffected_is_inexact() {
        let c = to_osv_events(&reqs(&[">= 2.0"]), &reqs(&["<= 1.0"]));
        assert_eq!(
            c.events,
            [Event::Introduced("1.0".into()), Event::Fixed("2.0".into())]
        );
        assert_eq!(c.inexact, ["1.0"]);
    }

    #[test]
    fn a_single_safe_version_between_affected_stretches_is_inexact() {
        // gems/bundler/CVE-2020-36327.yml
        let c = to_osv_events(&reqs(&["= 2.2.10", ">= 2.2.18"]), &reqs(&["< 1.16.0"]));
        assert_eq!(
            c.events,
            [
                Event::Introduced("1.16.0".into()),
                Event::Fixed("2.2.18".into())
            ]
        );
        assert_eq!(c.inexact, ["2.2.10"]);
    }

    #[test]
    fn nothing_patched_means_everything_affected() {
        let c = to_osv_events(&[], &[]);
        assert_eq!(c.events, [Event::Introduced("0".into())]);
    }
}
