//! The CPAN Security Advisory database (CPANSA) as CPAN::Audit ships it (`CPAN::Audit::DB`, in
//! Debian's `libcpan-audit-perl`), converted to the OSV model: `cpansa/json`, one file holding
//! every advisory. `CPAN/Audit/DB.pm` is Perl code, not data; [`dump_db_pm`] has perl itself
//! write it as JSON (core `JSON::PP`, no hook and none of the user's `PERL5OPT`), and
//! [`read`] reads that JSON.
//!
//! The conversion keeps CPAN::Audit's own rules (`CPAN::Audit::Version::in_range`,
//! `CPAN::Audit::Query`), so that runbom and `cpan-audit` agree:
//! - `affected_versions` and `fixed_versions` are `,`-separated clauses that must all hold
//!   (`>=1.0,<1.5`); a clause is `<`, `<=`, `==`, `>`, `>=` or `!=` then a version, and a bare
//!   version means `>=` it (not `==`). A version is affected when it is in `affected_versions`
//!   and not in `fixed_versions`. Versions compare as `version.pm` does
//!   (`runbom_versions::CpanVersion`).
//! - An interval OSV can say exactly (a lower bound that includes its version, an upper bound,
//!   a fix `>=F`) becomes an `ECOSYSTEM` range; anything else (`>1.0`, `!=`, a fix that is not
//!   `>=F`) is listed as the released versions it affects, from the database's own list of each
//!   distribution's releases (what CPAN::Audit itself checks).
//! - A list of ranges (a few records) is each range in turn, any one affecting, and a list of
//!   fixes pairs each fix with the range it ends (the first fix above the range's start);
//!   CPAN::Audit 1.001 reads such a list as no range at all, so `cpan-audit` reports none of
//!   them.
//! - A clause whose version `version.pm` cannot parse (`=1.0`, a typo) makes the record
//!   unreadable: it is an error naming the record (and, read from `DB.pm`, the line of the
//!   field in its Perl text), and the others are read.
//! - `reported` is `published`; `modified` is the database's build (its `$VERSION`
//!   `YYYYMMDD.NNN`) so that a newer database updates every record it changed.

use std::path::Path;

use runbom_model::Advisory;
use runbom_model::advisory::{Affected, AffectedPackage, Event, Range, RangeKind, Reference};
use runbom_versions::CpanVersion;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::AdvisoryError;

/// The reader's stable name.
pub const NAME: &str = "cpansa/json";

/// Whether `contents` is CPAN::Audit's database as JSON (its two top-level tables).
pub fn detect(contents: &[u8]) -> bool {
    let skip = |bytes: &[u8]| -> usize {
        bytes
            .iter()
            .position(|b| !b.is_ascii_whitespace())
            .unwrap_or(bytes.len())
    };
    let rest = &contents[skip(contents)..];
    let Some(rest) = rest.strip_prefix(b"{") else {
        return false;
    };
    rest[skip(rest)..].starts_with(b"\"dists\"")
}

/// Whether `path` names CPAN::Audit's database module (`…/CPAN/Audit/DB.pm`).
pub fn is_db_pm(path: &Path) -> bool {
    path.ends_with("CPAN/Audit/DB.pm")
}

/// `CPAN/Audit/DB.pm`, written as JSON by `perl`: `{"dists": …, "module2dist": …, "version": …}`.
pub fn dump_db_pm(perl: &Path, db_pm: &Path) -> Result<Vec<u8>, AdvisoryError> {
    let file = db_pm.display().to_string();
    let script = r#"
        my $file = shift;
        my $loaded = do $file;
        die "cannot load $file: " . ($@ || $! || 'it returned false') . "\n" unless $loaded;
        require JSON::PP;
        my $db = CPAN::Audit::DB->db;
        $db->{version} = "$CPAN::Audit::DB::VERSION";
        print JSON::PP->new->canonical->encode($db);
    "#;
    let absolute = std::path::absolute(db_pm).unwrap_or_else(|_| db_pm.to_owned());
    let output = std::process::Command::new(perl)
        .arg("-e")
        .arg(script)
        .arg(&absolute)
        .env_remove("PERL5OPT")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|source| AdvisoryError::Io {
            file: file.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(AdvisoryError::Invalid {
            file,
            message: format!(
                "`{}` could not dump it as JSON: {}",
                perl.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    Ok(output.stdout)
}

#[derive(Debug, Deserialize)]
struct Database {
    dists: std::collections::BTreeMap<String, Dist>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Dist {
    #[serde(default)]
    advisories: Vec<Value>,
    #[serde(default)]
    versions: Vec<Release>,
}

#[derive(Debug, Deserialize)]
struct Release {
    version: Value,
}

#[derive(Debug, Deserialize)]
struct Record {
    id: String,
    #[serde(default)]
    distribution: Option<String>,
    #[serde(default)]
    affected_versions: Option<Ranges>,
    #[serde(default)]
    fixed_versions: Option<Ranges>,
    #[serde(default)]
    cves: Option<OneOrMany>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    references: Option<OneOrMany>,
    #[serde(default)]
    reported: Option<String>,
    #[serde(default)]
    severity: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Ranges {
    One(String),
    Many(Vec<String>),
}

impl Ranges {
    fn list(&self) -> Vec<&str> {
        match self {
            Ranges::One(range) => vec![range.as_str()],
            Ranges::Many(ranges) => ranges.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<Option<String>>),
}

impl OneOrMany {
    fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(items) => items.iter().flatten().cloned().collect(),
        }
    }
}

/// One clause: `<`, `<=`, `==`, `>`, `>=` or `!=`, and its version.
#[derive(Debug, Clone)]
struct Clause {
    op: &'static str,
    text: String,
    version: CpanVersion,
}

/// The clauses of one range, all of which must hold.
fn parse_range(range: &str) -> Result<Vec<Clause>, String> {
    let mut clauses = Vec::new();
    for clause in range.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (op, rest) = ["<=", ">=", "==", "!=", "<", ">"]
            .iter()
            .find_map(|op| clause.strip_prefix(op).map(|rest| (*op, rest.trim_start())))
            .unwrap_or((">=", clause));
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(format!("`{clause}` is not an operator and a version"));
        }
        let version =
            CpanVersion::parse(rest).map_err(|e| format!("`{clause}`: {}", e.reason()))?;
        clauses.push(Clause {
            op,
            text: rest.to_owned(),
            version,
        });
    }
    Ok(clauses)
}

fn holds(clauses: &[Clause], version: &CpanVersion) -> bool {
    clauses.iter().all(|c| {
        let order = version.cmp(&c.version);
        match c.op {
            "<" => order.is_lt(),
            "<=" => order.is_le(),
            "==" => order.is_eq(),
            ">" => order.is_gt(),
            "!=" => order.is_ne(),
            _ => order.is_ge(),
        }
    })
}

/// An interval OSV can say: from a version (inclusive) or `0`, to a fix or a last affected one.
fn exact_events(clauses: &[Clause], fixed_at: Option<&Clause>) -> Option<Vec<Event>> {
    let mut introduced: Option<&Clause> = None;
    let mut upper: Option<&Clause> = None;
    for clause in clauses {
        match clause.op {
            ">=" if introduced.is_none() => introduced = Some(clause),
            "<" | "<=" if upper.is_none() => upper = Some(clause),
            "==" if introduced.is_none() && upper.is_none() => {
                introduced = Some(clause);
                upper = Some(clause);
            }
            _ => return None,
        }
    }
    // The fix `>=F` ends the interval at F when F comes before its own end.
    if let Some(fix) = fixed_at {
        let ends_later = upper.is_none_or(|u| {
            let order = fix.version.cmp(&u.version);
            order.is_lt() || (order.is_eq() && u.op == "<=")
        });
        if ends_later {
            upper = Some(fix);
        }
    }
    let mut events = vec![Event::Introduced(
        introduced.map_or_else(|| "0".to_owned(), |c| c.text.clone()),
    )];
    match upper {
        Some(c) if c.op == "<" || c.op == ">=" => events.push(Event::Fixed(c.text.clone())),
        Some(c) => events.push(Event::LastAffected(c.text.clone())),
        None => {}
    }
    Some(events)
}

/// Every advisory of CPAN::Audit's database as JSON (`file` names it in errors): one `Result`
/// per record, so that a record with an unparsable range is an error naming it and the rest are
/// read. The whole file not being the database is one error.
pub fn read(
    file: &str,
    contents: &[u8],
) -> Result<Vec<Result<Advisory, AdvisoryError>>, AdvisoryError> {
    read_records(file, contents, None)
}

/// [`read`] of the JSON that [`dump_db_pm`] wrote of `DB.pm`, whose Perl text `source` is: a
/// bad record's error names its line there.
pub fn read_db_pm(
    file: &str,
    json: &[u8],
    source: &str,
) -> Result<Vec<Result<Advisory, AdvisoryError>>, AdvisoryError> {
    read_records(file, json, Some(source))
}

/// The line (1-based) of `field` in the record `id` of CPAN::Audit's `DB.pm` (Data::Dumper's
/// layout: one `'key' => value` a line, the record between a `{` line and a `}` line), or of
/// its `id` when the field is not found there.
fn line_of(source: &str, id: &str, field: &str) -> Option<usize> {
    let lines: Vec<&str> = source.lines().collect();
    let id_line = lines.iter().position(|line| {
        line.trim_start()
            .strip_prefix("'id' => ")
            .is_some_and(|rest| rest.trim_end_matches(',').trim_matches('\'') == id)
    })?;
    let start = lines[..id_line]
        .iter()
        .rposition(|l| l.trim() == "{")
        .unwrap_or(0);
    let end = lines[id_line..]
        .iter()
        .position(|l| l.trim_start().starts_with('}'))
        .map_or(lines.len(), |n| id_line + n);
    let key = format!("'{field}' =>");
    let field_line = (start..end).find(|&n| lines[n].trim_start().starts_with(&key));
    Some(field_line.unwrap_or(id_line) + 1)
}

/// A bad record's error: at its line of `source` when there is one.
fn invalid_record(
    file: &str,
    source: Option<&str>,
    id: &str,
    field: &str,
    message: String,
) -> AdvisoryError {
    match source.and_then(|source| line_of(source, id, field)) {
        Some(line) => AdvisoryError::InvalidAt {
            file: file.to_owned(),
            line,
            message,
        },
        None => AdvisoryError::Invalid {
            file: file.to_owned(),
            message,
        },
    }
}

fn read_records(
    file: &str,
    contents: &[u8],
    source: Option<&str>,
) -> Result<Vec<Result<Advisory, AdvisoryError>>, AdvisoryError> {
    let database: Database =
        serde_json::from_slice(contents).map_err(|e| AdvisoryError::json(file, &e))?;
    let modified = database
        .version
        .as_deref()
        .and_then(build_date)
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned());
    let mut advisories = Vec::new();
    for (dist_name, dist) in &database.dists {
        let releases: Vec<(String, CpanVersion)> = dist
            .versions
            .iter()
            .filter_map(|r| {
                let text = match &r.version {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                CpanVersion::parse(&text).ok().map(|v| (text, v))
            })
            .collect();
        for value in &dist.advisories {
            let record = serde_json::from_value::<Record>(value.clone()).map_err(|e| {
                let id = value.get("id").and_then(Value::as_str).unwrap_or("?");
                let message = format!("record `{id}` of `{dist_name}`: {e}");
                invalid_record(file, source, id, "id", message)
            });
            let place = Place { file, source };
            advisories.push(
                record.and_then(|record| convert(place, dist_name, &releases, record, &modified)),
            );
        }
    }
    Ok(advisories)
}

/// `20230309.004` → `2023-03-09T00:00:00Z`.
fn build_date(version: &str) -> Option<String> {
    let day = version.split('.').next()?;
    (day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}T00:00:00Z", &day[..4], &day[4..6], &day[6..8]))
}

/// Where records are read from: the file errors name, and its Perl text when known.
#[derive(Clone, Copy)]
struct Place<'a> {
    file: &'a str,
    source: Option<&'a str>,
}

fn convert(
    place: Place<'_>,
    dist_name: &str,
    releases: &[(String, CpanVersion)],
    record: Record,
    modified: &str,
) -> Result<Advisory, AdvisoryError> {
    let file = place.file;
    let invalid = |field: &str, message: String| {
        let message = format!("record `{}` ({field}): {message}", record.id);
        invalid_record(file, place.source, &record.id, field, message)
    };
    let affected_ranges: Vec<&str> = record
        .affected_versions
        .as_ref()
        .map(Ranges::list)
        .unwrap_or_else(|| vec![""]);
    let affected: Vec<Vec<Clause>> = affected_ranges
        .iter()
        .map(|r| parse_range(r).map_err(|m| invalid("affected_versions", m)))
        .collect::<Result<_, _>>()?;
    let fixed: Vec<Vec<Clause>> = record
        .fixed_versions
        .as_ref()
        .map(Ranges::list)
        .unwrap_or_default()
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| parse_range(r).map_err(|m| invalid("fixed_versions", m)))
        .collect::<Result<_, _>>()?;
    // Fixes that are each one `>=F` (nearly all): each affected range ends at the first fix
    // above its start, so `[">=7,<=7.9.4", ">=6,<=6.8.6"]` fixed in `["7.9.5", "6.8.7"]` pairs
    // each fix with its own branch.
    let fix_points: Option<Vec<&Clause>> = fixed
        .iter()
        .map(|clauses| match clauses.as_slice() {
            [clause] if clause.op == ">=" => Some(clause),
            _ => None,
        })
        .collect();
    let fix_for = |clauses: &[Clause]| -> Option<&Clause> {
        let start = clauses.iter().find(|c| c.op == ">=" || c.op == "==");
        fix_points
            .as_deref()?
            .iter()
            .copied()
            .filter(|fix| start.is_none_or(|s| fix.version > s.version))
            .min_by(|a, b| a.version.cmp(&b.version))
    };
    let exact: Option<Vec<Vec<Event>>> = fix_points.as_ref().and_then(|_| {
        affected
            .iter()
            .map(|clauses| exact_events(clauses, fix_for(clauses)))
            .collect()
    });
    let is_affected = |version: &CpanVersion| match &fix_points {
        Some(_) => affected.iter().any(|clauses| {
            holds(clauses, version) && fix_for(clauses).is_none_or(|fix| *version < fix.version)
        }),
        None => {
            affected.iter().any(|clauses| holds(clauses, version))
                && !fixed.iter().any(|clauses| holds(clauses, version))
        }
    };
    let (ranges, versions) = match exact {
        Some(events) => (
            events
                .into_iter()
                .map(|events| Range {
                    kind: RangeKind::Ecosystem,
                    repo: None,
                    events,
                    database_specific: None,
                })
                .collect(),
            Vec::new(),
        ),
        None => (
            Vec::new(),
            releases
                .iter()
                .filter(|(_, v)| is_affected(v))
                .map(|(text, _)| text.clone())
                .collect(),
        ),
    };
    let name = record
        .distribution
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| dist_name.to_owned());
    let mut specific = Map::new();
    specific.insert("source".to_owned(), json!("cpansa"));
    if let Some(affected) = &record.affected_versions {
        specific.insert("affected_versions".to_owned(), json!(affected.list()));
    }
    if let Some(fixed) = &record.fixed_versions {
        specific.insert("fixed_versions".to_owned(), json!(fixed.list()));
    }
    if let Some(severity) = record.severity.as_deref().and_then(osv_severity) {
        specific.insert("severity".to_owned(), json!(severity));
    }
    let published = record
        .reported
        .as_deref()
        .filter(|r| r.len() == 10)
        .map(|r| format!("{r}T00:00:00Z"));
    Ok(Advisory {
        schema_version: Some("1.6.0".to_owned()),
        id: record.id.clone(),
        modified: modified.to_owned(),
        published,
        withdrawn: None,
        aliases: record
            .cves
            .as_ref()
            .map(OneOrMany::list)
            .unwrap_or_default(),
        related: Vec::new(),
        summary: record
            .description
            .as_deref()
            .and_then(|d| d.lines().next())
            .map(str::to_owned),
        details: record.description.clone(),
        severity: Vec::new(),
        affected: vec![Affected {
            package: Some(AffectedPackage {
                ecosystem: "CPAN".to_owned(),
                purl: Some(format!("pkg:cpan/{name}")),
                name,
            }),
            severity: Vec::new(),
            ranges,
            versions,
            ecosystem_specific: None,
            database_specific: None,
        }],
        references: record
            .references
            .as_ref()
            .map(OneOrMany::list)
            .unwrap_or_default()
            .into_iter()
            .map(|url| Reference {
                kind: "WEB".to_owned(),
                url,
            })
            .collect(),
        credits: Vec::new(),
        database_specific: Some(Value::Object(specific)),
    })
}

/// CPANSA's words for severity as GitHub's advisory database spells them.
fn osv_severity(severity: &str) -> Option<&'static str> {
    match severity.trim().to_ascii_lowercase().as_str() {
        "critical" => Some("CRITICAL"),
        "high" => Some("HIGH"),
        "medium" | "moderate" => Some("MODERATE"),
        "low" | "minor" => Some("LOW"),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
