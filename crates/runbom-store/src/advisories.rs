//! The advisory store: importing OSV records (idempotent, newer `modified` wins) and reading them
//! back by package or by id.
//!
//! Traps:
//! - One vulnerability often has several records (a `PYSEC-…` and a `GHSA-…` that alias each other
//!   and the same `CVE-…`). Records linked through any shared id are one vulnerability: a
//!   union-find over ids at import time writes the group (its smallest record id) into
//!   `advisories.vuln_group`, so a query returns each vulnerability once with every id.
//! - A withdrawn record is kept (so `advisory(id)` can say it was withdrawn) but never matches
//!   and never links other records into a group.
//! - `modified` is compared as a time, not as text: `2024-01-01T00:00:00Z` and
//!   `2024-01-01T00:00:00.000Z` are the same instant.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use runbom_model::advisory::Affected;
use runbom_model::{Advisory, PackageName};
use sqlx::{Any, Row, Transaction};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::QueryContext;
use crate::sql::{list, placeholders};
use crate::{Store, StoreError};

/// Changed records written per multi-row statement.
const BATCH: usize = 400;

/// Packages looked up per query (two bound values each).
const PACKAGES_PER_QUERY: usize = 400;

/// Where an import's records come from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportSource {
    /// A stable name (`osv-PyPI`, `pypa-advisory-database` …): records keep the name of the last
    /// source that wrote them, and `sources()` counts by it.
    pub name: String,
    /// The URL or path read.
    pub location: String,
    /// HTTP validators of what was downloaded, kept for the next conditional request.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What an import did; every record read lands in exactly one count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportStats {
    /// New records.
    pub added: u64,
    /// Records whose `modified` is newer than the stored one.
    pub updated: u64,
    /// Records already stored with the same or a newer `modified`.
    pub unchanged: u64,
    /// Records added or updated that are withdrawn (they are kept but never match).
    pub withdrawn: u64,
    /// Records the reader could not read (reported by the caller).
    pub skipped: u64,
}

impl ImportStats {
    /// Every record the import saw.
    pub fn total(&self) -> u64 {
        self.added + self.updated + self.unchanged + self.withdrawn + self.skipped
    }
}

/// One vulnerability as stored: a representative record and every id it is known by.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAdvisory {
    /// The representative record: the one asked for, or, for a package query, the record of the
    /// ecosystem's own database (`PYSEC-`, `GO-` …) before `GHSA-`, before others.
    pub advisory: Advisory,
    /// Every id of the vulnerability, the representative's first, then sorted.
    pub ids: Vec<String>,
    /// The other non-withdrawn records of the same vulnerability (for a package query, those that
    /// also name the package): their ranges may differ from the representative's.
    pub related_records: Vec<Advisory>,
}

impl Store {
    /// Imports `advisories` from `source`. Readers' errors (`Err` items) count as skipped; the
    /// caller reports them. Runs in one transaction: a failed import leaves the store as it was.
    pub async fn import_advisories<I, E>(
        &self,
        source: &ImportSource,
        advisories: I,
    ) -> Result<ImportStats, StoreError>
    where
        I: IntoIterator<Item = Result<Advisory, E>>,
    {
        let mut tx = self.begin_write().await.doing("starting an import")?;
        let mut known = stored_modified(&mut tx).await?;
        let mut stats = ImportStats::default();
        let mut batch = Vec::with_capacity(BATCH);
        for item in advisories {
            let Ok(advisory) = item else {
                stats.skipped += 1;
                continue;
            };
            let change = match known.get(&advisory.id) {
                None => Change::Added,
                Some(stored) if is_newer(&advisory.modified, stored) => Change::Updated,
                Some(_) => {
                    stats.unchanged += 1;
                    continue;
                }
            };
            match change {
                _ if advisory.is_withdrawn() => stats.withdrawn += 1,
                Change::Added => stats.added += 1,
                Change::Updated => stats.updated += 1,
            }
            known.insert(advisory.id.clone(), advisory.modified.clone());
            batch.push((change, advisory));
            if batch.len() == BATCH {
                write_batch(&mut tx, &source.name, &batch).await?;
                batch.clear();
            }
        }
        write_batch(&mut tx, &source.name, &batch).await?;
        if stats.added + stats.updated + stats.withdrawn > 0 {
            regroup(&mut tx).await?;
        }
        if stats.added > 0 {
            record_arrivals(&mut tx).await?;
        }
        record_source(&mut tx, source, true).await?;
        tx.commit().await.doing("committing an import")?;
        Ok(stats)
    }

    /// Notes that a remote source was checked and had not changed (HTTP 304).
    pub async fn mark_checked(&self, source: &ImportSource) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await.doing("recording a check")?;
        record_source(&mut tx, source, false).await?;
        tx.commit().await.doing("recording a check")
    }

    /// The vulnerabilities that name `normalized_name` in `ecosystem` (the OSV spelling, e.g.
    /// `PyPI`; names PEP 503-normalised for PyPI, as written for Go and RubyGems), withdrawn
    /// records excluded, each once, sorted by representative id.
    pub async fn advisories_for(
        &self,
        ecosystem: &str,
        normalized_name: &str,
    ) -> Result<Vec<StoredAdvisory>, StoreError> {
        let mut found = self
            .advisories_for_packages(&[(ecosystem, normalized_name)])
            .await?;
        Ok(found.pop().unwrap_or_default())
    }

    /// [`Store::advisories_for`] of many packages at once (one query per 400 packages, not one per
    /// package): the result holds one list per package, in the order given.
    pub async fn advisories_for_packages(
        &self,
        packages: &[(&str, &str)],
    ) -> Result<Vec<Vec<StoredAdvisory>>, StoreError> {
        self.advisories_for_packages_where(packages, |_, _| true)
            .await
    }

    /// [`Store::advisories_for_packages`], keeping of package `i` only the vulnerabilities some
    /// record of which has `affected` entries for it that `keep(i, entries)` accepts (an audit:
    /// those whose ranges hold the version asked about). The entries are read from the package
    /// index (ranges and versions, a few hundred bytes), so that a full record is read and
    /// decoded only for a vulnerability that is kept: a Go binary's `stdlib` has hundreds of
    /// records, most of them about other Go versions. Entries the index cannot give are kept.
    pub async fn advisories_for_packages_where(
        &self,
        packages: &[(&str, &str)],
        keep: impl Fn(usize, &[Affected]) -> bool,
    ) -> Result<Vec<Vec<StoredAdvisory>>, StoreError> {
        let mut found: Vec<Vec<StoredAdvisory>> = vec![Vec::new(); packages.len()];
        // One snapshot for both steps: an import between them could regroup records.
        let mut tx = self
            .pool()
            .begin()
            .await
            .doing("starting an advisory lookup")?;
        for (chunk_index, chunk) in packages.chunks(PACKAGES_PER_QUERY).enumerate() {
            let offset = chunk_index * PACKAGES_PER_QUERY;
            let sql = format!(
                "WITH wanted (ecosystem, name) AS (VALUES {}) \
                 SELECT DISTINCT w.ecosystem, w.name, b.vuln_group, p.affected FROM wanted w \
                 JOIN advisory_packages p ON p.ecosystem = w.ecosystem AND p.name = w.name \
                 JOIN advisories b ON b.id = p.advisory_id WHERE b.withdrawn IS NULL",
                placeholders(chunk.len(), 2)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (ecosystem, name) in chunk {
                query = query.bind(*ecosystem).bind(*name);
            }
            let rows = query
                .fetch_all(&mut *tx)
                .await
                .doing("looking up advisories for packages")?;
            let mut kept: BTreeSet<(String, String, String)> = BTreeSet::new();
            for row in rows {
                let key: (String, String, String) = (row.get(0), row.get(1), row.get(2));
                if kept.contains(&key) {
                    continue;
                }
                let entries: Option<Vec<Affected>> = row
                    .try_get::<Option<String>, _>(3)
                    .ok()
                    .flatten()
                    .and_then(|text| serde_json::from_str(&text).ok());
                let wanted = chunk
                    .iter()
                    .enumerate()
                    .filter(|(_, (e, n))| *e == key.0 && *n == key.1);
                let mut keeps = false;
                for (i, _) in wanted {
                    keeps |= entries
                        .as_deref()
                        .is_none_or(|entries| keep(offset + i, entries));
                }
                if keeps {
                    kept.insert(key);
                }
            }
            let kept: Vec<(String, String, String)> = kept.into_iter().collect();
            for groups in kept.chunks(PACKAGES_PER_QUERY) {
                let sql = format!(
                    "WITH groups (ecosystem, name, vuln_group) AS (VALUES {}) \
                     SELECT a.vuln_group, a.id, a.record, \
                       EXISTS (SELECT 1 FROM advisory_packages q WHERE q.advisory_id = a.id \
                               AND q.ecosystem = g.ecosystem AND q.name = g.name), \
                       g.ecosystem, g.name \
                     FROM groups g JOIN advisories a ON a.vuln_group = g.vuln_group \
                     WHERE a.withdrawn IS NULL \
                     ORDER BY g.ecosystem, g.name, a.vuln_group, a.id",
                    placeholders(groups.len(), 3)
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (ecosystem, name, group) in groups {
                    query = query.bind(ecosystem).bind(name).bind(group);
                }
                let rows = query
                    .fetch_all(&mut *tx)
                    .await
                    .doing("reading the advisories of packages")?;
                let mut members_by_group: Vec<((String, String), String, Vec<Member>)> = Vec::new();
                for row in rows {
                    let key: (String, String) = (row.get(4), row.get(5));
                    let group: String = row.get(0);
                    let member = Member::read(&row)?;
                    match members_by_group.last_mut() {
                        Some((last_key, last, members)) if *last_key == key && *last == group => {
                            members.push(member)
                        }
                        _ => members_by_group.push((key, group, vec![member])),
                    }
                }
                for (key, _, members) in members_by_group {
                    let Some(advisory) = assemble(members, None) else {
                        continue;
                    };
                    let wanted = chunk
                        .iter()
                        .enumerate()
                        .filter(|(_, (e, n))| *e == key.0 && *n == key.1);
                    for (i, _) in wanted {
                        found[offset + i].push(advisory.clone());
                    }
                }
            }
        }
        tx.commit().await.doing("ending an advisory lookup")?;
        for list in &mut found {
            list.sort_by(|a, b| a.advisory.id.cmp(&b.advisory.id));
        }
        Ok(found)
    }

    /// The vulnerability known by `id_or_alias` (a record id or any alias), with the record of
    /// that id when there is one. A withdrawn record is returned alone.
    pub async fn advisory(&self, id_or_alias: &str) -> Result<Option<StoredAdvisory>, StoreError> {
        let rows = sqlx::query(
            "SELECT a.vuln_group, a.id, a.record, a.withdrawn IS NOT NULL FROM advisories a \
             JOIN advisory_ids i ON i.advisory_id = a.id WHERE i.id = $1 ORDER BY a.id",
        )
        .bind(id_or_alias)
        .fetch_all(self.pool())
        .await
        .doing("looking up an advisory by id")?;
        let mut live_group = None;
        for row in &rows {
            if !read_bool(row, 3) {
                live_group = Some(row.get::<String, _>(0));
                break;
            }
        }
        let Some(group) = live_group else {
            // Only withdrawn records carry this id: the one whose own id it is, else the first.
            let Some(row) = rows
                .iter()
                .find(|row| row.get::<String, _>(1) == id_or_alias)
                .or(rows.first())
            else {
                return Ok(None);
            };
            let member = Member::read_without_package(row)?;
            return Ok(assemble(vec![member], Some(id_or_alias)));
        };
        let rows = sqlx::query(
            "SELECT a.vuln_group, a.id, a.record, TRUE FROM advisories a \
             WHERE a.vuln_group = $1 AND a.withdrawn IS NULL ORDER BY a.id",
        )
        .bind(&group)
        .fetch_all(self.pool())
        .await
        .doing("looking up an advisory's aliases")?;
        let members = rows.iter().map(Member::read).collect::<Result<_, _>>()?;
        Ok(assemble(members, Some(id_or_alias)))
    }
}

#[derive(Debug, Clone, Copy)]
enum Change {
    Added,
    Updated,
}

/// One record of a vulnerability group, as read back.
struct Member {
    advisory: Advisory,
    /// Whether it names the package asked for (always true for an id query).
    names_package: bool,
}

impl Member {
    fn read(row: &sqlx::any::AnyRow) -> Result<Member, StoreError> {
        let mut member = Self::read_without_package(row)?;
        member.names_package = read_bool(row, 3);
        Ok(member)
    }

    fn read_without_package(row: &sqlx::any::AnyRow) -> Result<Member, StoreError> {
        let id: String = row.get(1);
        let record: String = row.get(2);
        let advisory = serde_json::from_str(&record)
            .map_err(|source| StoreError::CorruptRecord { id, source })?;
        Ok(Member {
            advisory,
            names_package: true,
        })
    }
}

/// SQL booleans come back as integers on SQLite and as `bool` on PostgreSQL.
fn read_bool(row: &sqlx::any::AnyRow, index: usize) -> bool {
    row.try_get::<bool, _>(index)
        .or_else(|_| row.try_get::<i64, _>(index).map(|v| v != 0))
        .unwrap_or(false)
}

/// Builds one vulnerability from its records; `wanted` is the id asked for, if any.
fn assemble(members: Vec<Member>, wanted: Option<&str>) -> Option<StoredAdvisory> {
    let mut ids = BTreeSet::new();
    for member in &members {
        ids.extend(member.advisory.ids().into_iter().map(str::to_owned));
    }
    let mut candidates: Vec<Advisory> = members
        .into_iter()
        .filter(|m| m.names_package)
        .map(|m| m.advisory)
        .collect();
    let chosen = match wanted.and_then(|w| candidates.iter().position(|a| a.id == w)) {
        Some(index) => index,
        None => (0..candidates.len()).min_by_key(|&i| representative_rank(&candidates[i]))?,
    };
    let advisory = candidates.swap_remove(chosen);
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    ids.remove(&advisory.id);
    let ids = std::iter::once(advisory.id.clone()).chain(ids).collect();
    Some(StoredAdvisory {
        advisory,
        ids,
        related_records: candidates,
    })
}

/// Lower ranks represent a vulnerability first: an ecosystem database's own record, then GHSA,
/// then CVE and others; ties by id.
fn representative_rank(advisory: &Advisory) -> (u8, String) {
    let id = &advisory.id;
    let rank = if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("CVE-") || id.starts_with("OSV-") {
        2
    } else {
        0
    };
    (rank, id.clone())
}

/// Whether `candidate` is a later instant than `stored` (text comparison when either is not
/// RFC 3339).
fn is_newer(candidate: &str, stored: &str) -> bool {
    match (
        OffsetDateTime::parse(candidate, &Rfc3339),
        OffsetDateTime::parse(stored, &Rfc3339),
    ) {
        (Ok(candidate), Ok(stored)) => candidate > stored,
        _ => candidate > stored,
    }
}

async fn stored_modified(
    tx: &mut Transaction<'static, Any>,
) -> Result<HashMap<String, String>, StoreError> {
    let rows = sqlx::query("SELECT id, modified FROM advisories")
        .fetch_all(&mut **tx)
        .await
        .doing("reading stored advisories")?;
    Ok(rows
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect())
}

/// The (ecosystem, name) keys an advisory is indexed under, each with what the index keeps of
/// the `affected` entries about it: the package, its ranges and versions (as JSON), enough to tell
/// whether a version is affected without reading the record.
fn package_keys(advisory: &Advisory) -> BTreeMap<(String, String), Option<String>> {
    let mut keys: BTreeMap<(String, String), Vec<Affected>> = BTreeMap::new();
    for affected in &advisory.affected {
        let Some(package) = affected.package.as_ref() else {
            continue;
        };
        let key = match affected.ecosystem() {
            Some(Ok(ecosystem)) => (
                ecosystem.as_str().to_owned(),
                PackageName::new(ecosystem, &package.name)
                    .as_str()
                    .to_owned(),
            ),
            _ => (package.ecosystem.clone(), package.name.clone()),
        };
        keys.entry(key).or_default().push(Affected {
            package: Some(package.clone()),
            ranges: affected.ranges.clone(),
            versions: affected.versions.clone(),
            ..Affected::default()
        });
    }
    // A list that does not serialise is left out of the index: a lookup then reads the record.
    keys.into_iter()
        .map(|(key, entries)| (key, serde_json::to_string(&entries).ok()))
        .collect()
}

/// Writes one batch of added and updated records with their id and package index rows.
async fn write_batch(
    tx: &mut Transaction<'static, Any>,
    source: &str,
    batch: &[(Change, Advisory)],
) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let updated: Vec<&str> = batch
        .iter()
        .filter(|(change, _)| matches!(change, Change::Updated))
        .map(|(_, advisory)| advisory.id.as_str())
        .collect();
    for table in ["advisory_ids", "advisory_packages"] {
        delete_index_rows(tx, table, &updated).await?;
    }

    let mut records = Vec::with_capacity(batch.len());
    let mut ids = Vec::new();
    let mut packages = Vec::new();
    for (_, advisory) in batch {
        let record =
            serde_json::to_string(advisory).map_err(|source| StoreError::CorruptRecord {
                id: advisory.id.clone(),
                source,
            })?;
        records.push([
            Some(advisory.id.clone()),
            Some(source.to_owned()),
            Some(advisory.modified.clone()),
            advisory.withdrawn.clone(),
            Some(advisory.id.clone()),
            Some(record),
        ]);
        for id in advisory.ids() {
            ids.push([Some(id.to_owned()), Some(advisory.id.clone())]);
        }
        for ((ecosystem, name), affected) in package_keys(advisory) {
            packages.push([
                Some(ecosystem),
                Some(name),
                Some(advisory.id.clone()),
                affected,
            ]);
        }
    }
    insert_rows(
        tx,
        "INSERT INTO advisories (id, source, modified, withdrawn, vuln_group, record) VALUES ",
        " ON CONFLICT (id) DO UPDATE SET source = excluded.source, \
         modified = excluded.modified, withdrawn = excluded.withdrawn, record = excluded.record",
        &records,
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO advisory_ids (id, advisory_id) VALUES ",
        " ON CONFLICT DO NOTHING",
        &ids,
    )
    .await?;
    insert_rows(
        tx,
        "INSERT INTO advisory_packages (ecosystem, name, advisory_id, affected) VALUES ",
        " ON CONFLICT DO NOTHING",
        &packages,
    )
    .await
}

/// Notes now as the arrival of every record the store had not held before (the detection time's
/// start when it is later than the advisory's publication).
async fn record_arrivals(tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    sqlx::query(
        "INSERT INTO advisory_arrivals (id, stored_at) SELECT a.id, $1 FROM advisories a \
         WHERE NOT EXISTS (SELECT 1 FROM advisory_arrivals r WHERE r.id = a.id)",
    )
    .bind(now)
    .execute(&mut **tx)
    .await
    .doing("recording advisory arrivals")?;
    Ok(())
}

/// Runs `head (…),(…) tail` over `rows`, several rows per statement.
async fn insert_rows<const N: usize>(
    tx: &mut Transaction<'static, Any>,
    head: &str,
    tail: &str,
    rows: &[[Option<String>; N]],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(BATCH) {
        let sql = format!("{head}{}{tail}", placeholders(chunk.len(), N));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for value in row {
                query = query.bind(value.clone());
            }
        }
        query.execute(&mut **tx).await.doing("writing advisories")?;
    }
    Ok(())
}

async fn delete_index_rows(
    tx: &mut Transaction<'static, Any>,
    table: &str,
    advisory_ids: &[&str],
) -> Result<(), StoreError> {
    for chunk in advisory_ids.chunks(BATCH) {
        let sql = format!(
            "DELETE FROM {table} WHERE advisory_id IN ({})",
            list(1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        query
            .execute(&mut **tx)
            .await
            .doing("replacing an updated advisory's index")?;
    }
    Ok(())
}

/// Recomputes every record's vulnerability group: records sharing any id (withdrawn ones left
/// out) are one group, named by its smallest record id. Writes only the groups that changed.
async fn regroup(tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT i.id, a.id, a.vuln_group, a.withdrawn IS NOT NULL FROM advisory_ids i \
         JOIN advisories a ON a.id = i.advisory_id",
    )
    .fetch_all(&mut **tx)
    .await
    .doing("reading advisory aliases")?;
    let mut groups = Groups::default();
    let mut current: HashMap<String, String> = HashMap::new();
    let mut first_holder: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        let id: String = row.get(0);
        let record: String = row.get(1);
        let record_index = groups.add(&record);
        current.entry(record).or_insert_with(|| row.get(2));
        if read_bool(row, 3) {
            continue;
        }
        match first_holder.get(&id) {
            Some(&holder) => groups.union(holder, record_index),
            None => {
                first_holder.insert(id, record_index);
            }
        }
    }
    let changed: Vec<(String, String)> = groups
        .labels()
        .into_iter()
        .filter(|(record, group)| current.get(record) != Some(group))
        .collect();
    let rows: Vec<[Option<String>; 2]> = changed
        .into_iter()
        .map(|(record, group)| [Some(record), Some(group)])
        .collect();
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "UPDATE advisories SET vuln_group = v.column2 FROM (VALUES {}) AS v \
             WHERE advisories.id = v.column1",
            placeholders(chunk.len(), 2)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for value in row {
                query = query.bind(value.clone());
            }
        }
        query
            .execute(&mut **tx)
            .await
            .doing("writing vulnerability groups")?;
    }
    Ok(())
}

/// Union-find over record ids.
#[derive(Default)]
struct Groups {
    index: HashMap<String, usize>,
    names: Vec<String>,
    parent: Vec<usize>,
}

impl Groups {
    fn add(&mut self, record: &str) -> usize {
        if let Some(&i) = self.index.get(record) {
            return i;
        }
        let i = self.names.len();
        self.index.insert(record.to_owned(), i);
        self.names.push(record.to_owned());
        self.parent.push(i);
        i
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins two sets; the root is the one with the smaller record id.
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        let (root, child) = if self.names[a] <= self.names[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[child] = root;
    }

    /// Every record with its group name.
    fn labels(mut self) -> Vec<(String, String)> {
        (0..self.names.len())
            .map(|i| {
                let root = self.find(i);
                (self.names[i].clone(), self.names[root].clone())
            })
            .collect()
    }
}

/// Creates or refreshes a source's row; `imported` also sets its last import time.
async fn record_source(
    tx: &mut Transaction<'static, Any>,
    source: &ImportSource,
    imported: bool,
) -> Result<(), StoreError> {
    let now = OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default();
    let last_import = imported.then(|| now.clone());
    sqlx::query(
        "INSERT INTO advisory_sources (name, location, last_import, last_checked, etag, last_modified) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO UPDATE SET \
         location = excluded.location, \
         last_import = COALESCE(excluded.last_import, advisory_sources.last_import), \
         last_checked = excluded.last_checked, \
         etag = COALESCE(excluded.etag, advisory_sources.etag), \
         last_modified = COALESCE(excluded.last_modified, advisory_sources.last_modified)",
    )
    .bind(&source.name)
    .bind(&source.location)
    .bind(last_import)
    .bind(&now)
    .bind(&source.etag)
    .bind(&source.last_modified)
    .execute(&mut **tx)
    .await
    .doing("recording an advisory source")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_compares_as_time() {
        assert!(!is_newer(
            "2024-01-01T00:00:00.000Z",
            "2024-01-01T00:00:00Z"
        ));
        assert!(is_newer("2024-01-01T00:00:01Z", "2024-01-01T00:00:00.5Z"));
        assert!(!is_newer(
            "2023-12-31T23:00:00-02:00",
            "2024-01-01T01:00:00Z"
        ));
    }

    #[test]
    fn groups_are_named_by_their_smallest_record() {
        let mut groups = Groups::default();
        let ghsa = groups.add("GHSA-x");
        let pysec = groups.add("PYSEC-1");
        let lone = groups.add("GO-1");
        groups.union(ghsa, pysec);
        let labels: HashMap<_, _> = groups.labels().into_iter().collect();
        assert_eq!(labels["PYSEC-1"], "GHSA-x");
        assert_eq!(labels["GHSA-x"], "GHSA-x");
        assert_eq!(labels["GO-1"], "GO-1");
        let _ = lone;
    }
}
