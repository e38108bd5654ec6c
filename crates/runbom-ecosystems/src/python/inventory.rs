//! The installed inventory of a Python interpreter: ask it once for `sys.path` and friends, then
//! read every `*.dist-info` / `*.egg-info` in Rust without importing any package.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use runbom_model::PackageName;
use runbom_model::inventory::{
    EditableInstall, INVENTORY_SCHEMA, InstalledDistribution, Interpreter, Inventory,
    LicenseSources, MetadataFormat, Problem, RecordFile, normalize_path,
};
use serde::Deserialize;

use super::metadata::{Headers, parse_headers};
use super::zipped;

/// Errors that stop an inventory as a whole (a broken distribution is a [`Problem`] instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run the Python interpreter `{python}`")]
    Spawn {
        python: PathBuf,
        source: std::io::Error,
    },
    #[error("the Python interpreter `{python}` failed ({status}): {stderr}")]
    Failed {
        python: PathBuf,
        status: String,
        stderr: String,
    },
    #[error("the Python interpreter `{python}` printed output runbom cannot read")]
    BadOutput {
        python: PathBuf,
        source: serde_json::Error,
    },
}

/// Printed by the interpreter as one JSON object. Runs with the site enabled so that `sys.path`
/// is what a program started by this interpreter sees; the `-c` entry (the cwd) is dropped.
const QUERY_SCRIPT: &str = r#"
import json, platform, site, sys
try:
    user_site = site.getusersitepackages() if site.ENABLE_USER_SITE else None
except Exception:
    user_site = None
print(json.dumps({
    "executable": sys.executable,
    "implementation": sys.implementation.name,
    "version": platform.python_version(),
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "sys_path": [p for p in sys.path[1:] if p],
    "user_site": user_site,
}))
"#;

#[derive(Deserialize)]
struct QueryOutput {
    executable: PathBuf,
    implementation: String,
    version: String,
    prefix: PathBuf,
    base_prefix: PathBuf,
    sys_path: Vec<PathBuf>,
    user_site: Option<PathBuf>,
}

/// Asks `python` once for its `sys.path`, prefixes and version. The answer is cached (under
/// `$RUNBOM_CACHE_DIR`, else `$XDG_CACHE_HOME/runbom`, else `~/.cache/runbom`) and reused only
/// while the executable (path, resolved path and its modification time), the working directory,
/// the Python environment variables and the modification times of every `sys.path` directory (a
/// new `.pth` file changes them) and of the `pyvenv.cfg` beside the executable or one level up
/// (it can add the system site directory) are unchanged. `RUNBOM_NO_CACHE=1` always asks.
pub fn query_interpreter(python: &Path) -> Result<Interpreter, Error> {
    let cache = cache_file(python);
    if let Some(cached) = cache.as_deref().and_then(read_cached) {
        return Ok(cached);
    }
    let interpreter = ask_interpreter(python)?;
    if let Some(cache) = cache {
        write_cached(&cache, &interpreter);
    }
    Ok(interpreter)
}

#[derive(serde::Serialize, Deserialize)]
struct CacheEntry {
    interpreter: Interpreter,
    /// `sys.path` directories and their modification times (nanoseconds), as when asked.
    stamps: Vec<(PathBuf, Option<u128>)>,
}

fn mtime(path: &Path) -> Option<u128> {
    let modified = fs::metadata(path).ok()?.modified().ok()?;
    Some(
        modified
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos(),
    )
}

fn cache_file(python: &Path) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    let dir = crate::cache::cache_root()?;
    // A bare name (`python3`) is resolved on PATH by the OS; key on PATH then.
    let resolved = fs::canonicalize(python).ok();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    python.hash(&mut hasher);
    resolved.hash(&mut hasher);
    resolved.as_deref().and_then(mtime).hash(&mut hasher);
    std::env::current_dir().ok().hash(&mut hasher);
    // The entry's format: entries without `pyvenv.cfg` stamps are not reused.
    2u8.hash(&mut hasher);
    for var in [
        "PATH",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONNOUSERSITE",
        "PYTHONUSERBASE",
        "PYTHONSAFEPATH",
        "VIRTUAL_ENV",
        "HOME",
    ] {
        std::env::var_os(var).hash(&mut hasher);
    }
    Some(dir.join(format!("interpreter-{:016x}.json", hasher.finish())))
}

fn read_cached(cache: &Path) -> Option<Interpreter> {
    let entry: CacheEntry = serde_json::from_slice(&fs::read(cache).ok()?).ok()?;
    entry
        .stamps
        .iter()
        .all(|(dir, stamp)| mtime(dir) == *stamp)
        .then_some(entry.interpreter)
}

/// Best effort: a cache that cannot be written is simply not used.
fn write_cached(cache: &Path, interpreter: &Interpreter) {
    let mut stamped: Vec<PathBuf> = interpreter.sys_path.clone();
    stamped.extend(interpreter.user_site.clone());
    // Python reads `pyvenv.cfg` beside its executable or one level up; editing it in place
    // touches no `sys.path` directory. A missing one is stamped `None`, so creating it counts.
    stamped.extend(
        interpreter
            .executable
            .ancestors()
            .skip(1)
            .take(2)
            .map(|dir| dir.join("pyvenv.cfg")),
    );
    let entry = CacheEntry {
        interpreter: interpreter.clone(),
        stamps: stamped
            .into_iter()
            .map(|p| {
                let stamp = mtime(&p);
                (p, stamp)
            })
            .collect(),
    };
    let Some(parent) = cache.parent() else { return };
    if fs::create_dir_all(parent).is_err() {
        return;
    }
    prune_stale_answers(parent, STALE_ANSWER_AGE);
    if let Ok(json) = serde_json::to_vec(&entry) {
        let _ = crate::cache::write_atomically(cache, &json);
    }
}

/// A cached interpreter answer untouched for this long is deleted when another is written.
const STALE_ANSWER_AGE: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Deletes the `interpreter-*.json` answers in `dir` not written for `max_age`. A changed key
/// (a new executable, another `PATH`) leaves its old answer behind for good; one still in use
/// is only asked again. Runs on a cache miss only, so a warm run lists no directory.
fn prune_stale_answers(dir: &Path, max_age: std::time::Duration) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > max_age));
        if name.starts_with("interpreter-") && name.ends_with(".json") && stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn ask_interpreter(python: &Path) -> Result<Interpreter, Error> {
    let output = Command::new(python)
        // An installed runbom hook must not observe runbom's own question.
        .env("RUNBOM_DISABLE", "1")
        .arg("-c")
        .arg(QUERY_SCRIPT)
        .output()
        .map_err(|source| Error::Spawn {
            python: python.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(Error::Failed {
            python: python.to_owned(),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let out: QueryOutput =
        serde_json::from_slice(&output.stdout).map_err(|source| Error::BadOutput {
            python: python.to_owned(),
            source,
        })?;
    Ok(Interpreter {
        is_venv: out.prefix != out.base_prefix,
        executable: out.executable,
        implementation: out.implementation,
        version: out.version,
        prefix: out.prefix,
        base_prefix: out.base_prefix,
        sys_path: out.sys_path,
        user_site: out.user_site,
    })
}

/// How much of each distribution to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Everything, including RECORD: files, hashes, sizes, top-level names derived from files.
    Full,
    /// METADATA and the small files beside it, not RECORD (nor `installed-files.txt`): names,
    /// versions, licences, requirements, installer, editable installs. `files` stay empty,
    /// `size` is 0, and top-level names come from `top_level.txt` only. For listings and
    /// version matching, where RECORD is most of the cost.
    Summary,
    /// [`Summary`](Detail::Summary), with RECORD (or an egg's `installed-files.txt`) still read
    /// and RECORD checked row by row (the same problems as [`Full`](Detail::Full)), but only the
    /// `.pth` files kept, for editable installs: what a listing shows, without building tens of
    /// thousands of file entries nobody prints.
    Listing,
}

/// Reads every distribution on the interpreter's `sys.path`, then in `extra_paths`. Never fails:
/// what cannot be read becomes a [`Problem`].
pub fn read_inventory(interpreter: &Interpreter, extra_paths: &[PathBuf]) -> Inventory {
    read_inventory_with(interpreter, extra_paths, Detail::Full)
}

/// [`read_inventory`], reading only as much of each distribution as `detail` says.
pub fn read_inventory_with(
    interpreter: &Interpreter,
    extra_paths: &[PathBuf],
    detail: Detail,
) -> Inventory {
    let mut problems = Vec::new();
    let mut seen_dirs = HashSet::new();
    let mut entries = Vec::new();
    let cwd = std::env::current_dir().unwrap_or_default();
    for dir in interpreter.sys_path.iter().chain(extra_paths) {
        // Absolute and without `..`, so RECORD paths (normalised the same way) stay under it.
        let dir = normalize_path(&cwd.join(dir));
        let key = fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if !seen_dirs.insert(key) {
            continue;
        }
        if dir.is_dir() {
            list_site_dir(&dir, &mut entries, &mut problems);
        } else if zipped::is_archive(&dir) {
            entries.push(MetadataEntry {
                site: dir.clone(),
                path: dir,
                name: String::new(),
                format: None,
            });
        }
    }
    let mut found = read_distributions(&entries, detail, &mut problems);
    // First on the path wins; later copies of the same name are shadowed.
    let mut winners = HashSet::new();
    for dist in &mut found {
        if !winners.insert(dist.normalized_name.clone()) {
            dist.shadowed = true;
        }
    }
    found.sort_by(|a, b| {
        (&a.normalized_name, a.shadowed, &a.location, &a.version).cmp(&(
            &b.normalized_name,
            b.shadowed,
            &b.location,
            &b.version,
        ))
    });
    problems.sort_by(|a: &Problem, b: &Problem| (&a.path, a.line).cmp(&(&b.path, b.line)));
    Inventory {
        schema: INVENTORY_SCHEMA.to_owned(),
        interpreter: interpreter.clone(),
        distributions: found,
        problems,
    }
}

/// One `*.dist-info` / `*.egg-info` found in a site directory, or a zip archive on `sys.path`
/// (`format: None`, `path` and `site` the archive), not read yet. Entries keep `sys.path` order:
/// the first copy of a name wins.
struct MetadataEntry {
    site: PathBuf,
    path: PathBuf,
    name: String,
    format: Option<MetadataFormat>,
}

fn list_site_dir(dir: &Path, entries: &mut Vec<MetadataEntry>, problems: &mut Vec<Problem>) {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(err) => {
            problems.push(problem(dir, None, format!("cannot list directory: {err}")));
            return;
        }
    };
    let mut names: Vec<(String, PathBuf, bool)> = listing
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_owned();
            (name.ends_with(".dist-info") || name.ends_with(".egg-info")).then(|| {
                let path = e.path();
                let dir = is_dir(&e, &path);
                (name, path, dir)
            })
        })
        .collect();
    names.sort();
    for (name, path, is_dir) in names {
        let format = if name.ends_with(".dist-info") {
            if !is_dir {
                continue;
            }
            MetadataFormat::DistInfo
        } else if is_dir {
            MetadataFormat::EggInfoDir
        } else {
            MetadataFormat::EggInfoFile
        };
        entries.push(MetadataEntry {
            site: dir.to_owned(),
            path,
            name,
            format: Some(format),
        });
    }
}

/// Whether a listed entry is a directory, from the listing's file type (no `stat`) unless it is
/// a symbolic link, which is followed.
fn is_dir(entry: &fs::DirEntry, path: &Path) -> bool {
    match entry.file_type() {
        Ok(kind) if !kind.is_symlink() => kind.is_dir(),
        _ => path.is_dir(),
    }
}

/// Reads the entries on every available core ([`crate::parallel::map_ordered`]); the result
/// keeps the entries' order.
fn read_distributions(
    entries: &[MetadataEntry],
    detail: Detail,
    problems: &mut Vec<Problem>,
) -> Vec<InstalledDistribution> {
    let done = crate::parallel::map_ordered(entries, |entry| {
        let mut entry_problems = Vec::new();
        let dists = match entry.format {
            Some(format) => read_distribution(entry, format, detail, &mut entry_problems)
                .into_iter()
                .collect(),
            None => read_zipped_distributions(&entry.path, detail, &mut entry_problems),
        };
        (dists, entry_problems)
    });
    let mut found = Vec::with_capacity(done.len());
    for (dists, entry_problems) in done {
        found.extend(dists);
        problems.extend(entry_problems);
    }
    found
}

fn problem(path: &Path, line: Option<usize>, message: String) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        message,
    }
}

thread_local! {
    /// Reused for every METADATA and RECORD a thread reads: fresh buffers per file cost a page
    /// fault per 4 KiB, which dominated the inventory's time.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `f` with the text of `path` (lossy UTF-8) read into this thread's scratch buffer.
/// `f` must not call `with_text` itself.
fn with_text<T>(path: &Path, f: impl FnOnce(&str) -> T) -> std::io::Result<T> {
    use std::io::Read;
    SCRATCH.with_borrow_mut(|buf| {
        buf.clear();
        buf.reserve(1 << 16);
        // Through `Take`, `read_to_end` reads straight into the buffer's spare room, without the
        // `fstat` and `lseek` a `File` spends on a size hint (two of its six syscalls per file).
        fs::File::open(path)?.take(u64::MAX).read_to_end(buf)?;
        Ok(match std::str::from_utf8(buf) {
            Ok(text) => f(text),
            Err(_) => f(&String::from_utf8_lossy(buf)),
        })
    })
}

fn read_lossy(path: &Path) -> std::io::Result<String> {
    let bytes = fs::read(path)?;
    // Valid UTF-8 (nearly always) is taken as is, without the slower lossy scan.
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
}

/// `name-version.dist-info` -> (`name`, `version`).
fn split_dir_name(dir_name: &str) -> (String, String) {
    let stem = dir_name
        .trim_end_matches(".dist-info")
        .trim_end_matches(".egg-info");
    // Egg-info names may carry `-py3.11`; the version is the second dash-separated part.
    let mut parts = stem.splitn(3, '-');
    let name = parts.next().unwrap_or_default().to_owned();
    let version = parts.next().unwrap_or_default().to_owned();
    (name, version)
}

fn read_distribution(
    entry: &MetadataEntry,
    format: MetadataFormat,
    detail: Detail,
    problems: &mut Vec<Problem>,
) -> Option<InstalledDistribution> {
    let (site, meta, dir_name) = (&*entry.site, &*entry.path, &*entry.name);
    let metadata_file = match format {
        MetadataFormat::DistInfo => meta.join("METADATA"),
        MetadataFormat::EggInfoDir => meta.join("PKG-INFO"),
        MetadataFormat::EggInfoFile => meta.to_owned(),
    };
    let headers = headers_of(
        with_text(&metadata_file, parse_headers),
        &metadata_file,
        problems,
    );
    let Described {
        name,
        version,
        license,
        mut requires_dist,
        summary,
    } = describe(&headers, dir_name, &metadata_file, problems)?;
    let mut files = Vec::new();
    let full = detail == Detail::Full;
    match format {
        MetadataFormat::DistInfo if detail != Detail::Summary => {
            read_record(site, &meta.join("RECORD"), detail, &mut files, problems);
        }
        MetadataFormat::DistInfo => {}
        MetadataFormat::EggInfoDir => {
            if requires_dist.is_empty()
                && let Ok(text) = read_lossy(&meta.join("requires.txt"))
            {
                requires_dist = parse_requires_txt(&text);
            }
            if detail != Detail::Summary
                && let Ok(text) = read_lossy(&meta.join("installed-files.txt"))
            {
                // A listing keeps the `.pth` files only, as it does of RECORD.
                let kept = |line: &&str| !line.is_empty() && (full || line.ends_with(".pth"));
                for line in text.lines().map(str::trim).filter(kept) {
                    files.push(RecordFile {
                        path: normalize_path(&meta.join(line)),
                        hash: None,
                        size: None,
                    });
                }
            }
        }
        MetadataFormat::EggInfoFile => {}
    }
    let top_level = match with_text(&meta.join("top_level.txt"), top_level_names) {
        Ok(names) => names,
        Err(_) if full => derive_top_level(site, &files),
        Err(_) => Vec::new(),
    };
    let installer = with_text(&meta.join("INSTALLER"), |text| text.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty());
    let editable = read_editable(site, meta, &files);
    let size = if full {
        files.iter().filter_map(|f| f.size).sum()
    } else {
        0
    };
    // Byte order: as stable as component order and much cheaper on large RECORDs.
    files.sort_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
    Some(InstalledDistribution {
        normalized_name: PackageName::pypi(&name),
        name,
        version,
        license,
        location: site.to_owned(),
        metadata_path: meta.to_owned(),
        format,
        installer,
        summary,
        requires_dist,
        top_level,
        editable,
        size,
        shadowed: false,
        files,
    })
}

/// The headers of a METADATA as read; a file that could not be read or parsed is a problem
/// naming it (and its line), and gives no headers.
fn headers_of<E: std::fmt::Display>(
    read: Result<Result<Headers, (usize, String)>, E>,
    metadata_file: &Path,
    problems: &mut Vec<Problem>,
) -> Headers {
    match read {
        Ok(Ok(headers)) => headers,
        Ok(Err((line, message))) => {
            problems.push(problem(metadata_file, Some(line), message));
            Headers::default()
        }
        Err(err) => {
            problems.push(problem(metadata_file, None, format!("cannot read: {err}")));
            Headers::default()
        }
    }
}

/// The names in a `top_level.txt`, sorted, once each.
fn top_level_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort();
    names.dedup();
    names
}

/// What a METADATA's headers say of a distribution; its directory's name fills a missing name or
/// version.
struct Described {
    name: String,
    version: String,
    license: LicenseSources,
    requires_dist: Vec<String>,
    summary: Option<String>,
}

fn describe(
    headers: &Headers,
    dir_name: &str,
    metadata_file: &Path,
    problems: &mut Vec<Problem>,
) -> Option<Described> {
    let (dir_dist_name, dir_version) = split_dir_name(dir_name);
    let name = headers
        .get("Name")
        .map(str::to_owned)
        .unwrap_or(dir_dist_name);
    let version = headers
        .get("Version")
        .map(str::to_owned)
        .unwrap_or(dir_version);
    if name.is_empty() || version.is_empty() {
        problems.push(problem(
            metadata_file,
            None,
            "no `Name` or `Version`; distribution skipped".into(),
        ));
        return None;
    }
    let license = LicenseSources {
        expression: headers.get("License-Expression").map(str::to_owned),
        license: headers
            .get("License")
            .filter(|l| !l.is_empty() && *l != "UNKNOWN")
            .map(str::to_owned),
        classifiers: headers
            .get_all("Classifier")
            .filter(|c| c.starts_with("License ::"))
            .map(str::to_owned)
            .collect(),
    };
    Some(Described {
        name,
        version,
        license,
        requires_dist: headers
            .get_all("Requires-Dist")
            .map(str::to_owned)
            .collect(),
        summary: headers.get("Summary").map(str::to_owned),
    })
}

/// The `*.dist-info` distributions inside a zip archive on `sys.path` (a zipapp): their files
/// are `archive/member` paths, as zipimport names modules' files.
fn read_zipped_distributions(
    archive: &Path,
    detail: Detail,
    problems: &mut Vec<Problem>,
) -> Vec<InstalledDistribution> {
    let infos = match zipped::dist_infos(archive) {
        Ok(infos) => infos,
        Err(message) => {
            problems.push(problem(archive, None, message));
            return Vec::new();
        }
    };
    let mut found = Vec::new();
    for info in infos {
        let meta = archive.join(&info.name);
        let metadata_file = meta.join("METADATA");
        let read = info.metadata.as_deref().map(parse_headers);
        let headers = headers_of(read, &metadata_file, problems);
        let Some(described) = describe(&headers, &info.name, &metadata_file, problems) else {
            continue;
        };
        let mut files = Vec::new();
        match (&info.record, detail) {
            (_, Detail::Summary) => {}
            (Some(text), _) => {
                parse_record(
                    archive,
                    &meta.join("RECORD"),
                    text,
                    detail,
                    &mut files,
                    problems,
                );
            }
            (None, _) => problems.push(problem(&meta.join("RECORD"), None, "missing".into())),
        }
        files.sort_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
        let top_level = match info.top_level.as_deref() {
            Some(text) => top_level_names(text),
            None if detail == Detail::Full => derive_top_level(archive, &files),
            None => Vec::new(),
        };
        found.push(InstalledDistribution {
            normalized_name: PackageName::pypi(&described.name),
            name: described.name,
            version: described.version,
            license: described.license,
            location: archive.to_owned(),
            metadata_path: meta,
            format: MetadataFormat::DistInfo,
            installer: info
                .installer
                .map(|i| i.trim().to_owned())
                .filter(|i| !i.is_empty()),
            summary: described.summary,
            requires_dist: described.requires_dist,
            top_level,
            editable: None,
            size: files.iter().filter_map(|f| f.size).sum(),
            shadowed: false,
            files,
        });
    }
    found
}

/// RECORD is CSV: `path,hash,size`, paths relative to the site dir (or absolute). Every row is
/// checked; `detail` says which files are kept (all, or for a listing the root `.pth` files).
fn read_record(
    site: &Path,
    record: &Path,
    detail: Detail,
    files: &mut Vec<RecordFile>,
    problems: &mut Vec<Problem>,
) {
    let read = with_text(record, |text| {
        parse_record(site, record, text, detail, files, problems)
    });
    if let Err(err) = read {
        problems.push(problem(record, None, format!("cannot read: {err}")));
    }
}

fn parse_record(
    site: &Path,
    record: &Path,
    text: &str,
    detail: Detail,
    files: &mut Vec<RecordFile>,
    problems: &mut Vec<Problem>,
) {
    let keep_all = detail == Detail::Full;
    // RECORD files are large (tens of thousands of lines per environment): find line ends with
    // SIMD `memchr` rather than `str::lines`, and grow `files` once.
    if keep_all {
        files.reserve(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
    }
    let mut start = 0;
    let line_ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]);
    for (index, end) in line_ends.enumerate() {
        let line = text[start..end].trim_end_matches('\r');
        start = end + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields = match record_row(line) {
            Some(fields) if !fields[0].is_empty() => fields,
            _ => {
                problems.push(problem(
                    record,
                    Some(index + 1),
                    format!("not a `path,hash,size` CSV row: `{line}`"),
                ));
                continue;
            }
        };
        let size = if fields[2].is_empty() {
            None
        } else if let Ok(size) = fields[2].parse() {
            Some(size)
        } else {
            problems.push(problem(
                record,
                Some(index + 1),
                format!("size `{}` is not a number", fields[2]),
            ));
            None
        };
        if !keep_all && !fields[0].ends_with(".pth") {
            continue;
        }
        files.push(RecordFile {
            path: record_path(site, &fields[0]),
            hash: (!fields[1].is_empty()).then(|| fields[1].clone().into_owned()),
            size,
        });
    }
}

/// The `path,hash,size` fields of one RECORD row; `None` unless it has exactly three. Rows
/// without quotes (nearly all) are cut at their two commas, found with SIMD `memchr`, and borrow
/// from the line.
fn record_row(line: &str) -> Option<[Cow<'_, str>; 3]> {
    let bytes = line.as_bytes();
    let mut cuts = memchr::memchr2_iter(b',', b'"', bytes);
    let (first, second) = (cuts.next(), cuts.next());
    let plain = |cut: Option<usize>| cut.filter(|&at| bytes[at] == b',');
    match (plain(first), plain(second), cuts.next()) {
        (Some(first), Some(second), None) => Some([
            Cow::Borrowed(&line[..first]),
            Cow::Borrowed(&line[first + 1..second]),
            Cow::Borrowed(&line[second + 1..]),
        ]),
        _ if memchr::memchr(b'"', bytes).is_some() => split_csv(line)?.try_into().ok(),
        _ => None,
    }
}

/// A RECORD path made absolute under `site`. Paths without `.`/`..` parts (nearly all) are
/// joined directly; the rest are normalised lexically.
fn record_path(site: &Path, relative: &str) -> PathBuf {
    let bytes = relative.as_bytes();
    // No `/` followed by `/` or `.` (or by nothing): a branch-free scan of byte pairs, which the
    // compiler vectorises, beats a `memchr` call per slash on these short paths.
    let plain = !matches!(bytes.first(), Some(b'/' | b'.') | None)
        && !bytes.ends_with(b"/")
        && !bytes.iter().zip(&bytes[1..]).fold(false, |odd, (&a, &b)| {
            odd | ((a == b'/') & ((b == b'/') | (b == b'.')))
        });
    if plain {
        let mut joined =
            std::ffi::OsString::with_capacity(site.as_os_str().len() + 1 + relative.len());
        joined.push(site);
        joined.push("/");
        joined.push(relative);
        return PathBuf::from(joined);
    }
    normalize_path(&site.join(relative))
}

/// One CSV row with `"` quoting (`""` inside quotes is a quote). `None` on an unclosed quote.
/// Unquoted fields (nearly all) borrow from the line.
fn split_csv(line: &str) -> Option<Vec<Cow<'_, str>>> {
    if memchr::memchr(b'"', line.as_bytes()).is_none() {
        return Some(line.split(',').map(Cow::Borrowed).collect());
    }
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => fields.push(Cow::Owned(std::mem::take(&mut field))),
            (_, c) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(Cow::Owned(field));
    Some(fields)
}

/// egg-info `requires.txt`: plain requirements, then `[extra]` / `[extra:marker]` / `[:marker]`
/// sections.
fn parse_requires_txt(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut marker: Option<String> = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let (extra, env) = section.split_once(':').unwrap_or((section, ""));
            let mut parts = Vec::new();
            if !extra.is_empty() {
                parts.push(format!("extra == \"{extra}\""));
            }
            if !env.is_empty() {
                parts.push(format!("({env})"));
            }
            marker = (!parts.is_empty()).then(|| parts.join(" and "));
            continue;
        }
        out.push(match &marker {
            Some(marker) => format!("{line}; {marker}"),
            None => line.to_owned(),
        });
    }
    out
}

/// Top-level import names from RECORD paths inside the site dir (used when `top_level.txt` is
/// absent, as in most modern wheels): `pkg/...` -> `pkg`, `mod.py` -> `mod`, `_x.cpython-311-...so`
/// -> `_x`. Namespace packages come out as their top directory.
fn derive_top_level(site: &Path, files: &[RecordFile]) -> Vec<String> {
    let mut names = Vec::new();
    let site = site.as_os_str().as_encoded_bytes();
    for file in files {
        // RECORD paths are `site/…` joined by `record_path`: compare bytes, not components.
        let Some(rel) = file
            .path
            .as_os_str()
            .as_encoded_bytes()
            .strip_prefix(site)
            .and_then(|rel| rel.strip_prefix(b"/"))
            .and_then(|rel| std::str::from_utf8(rel).ok())
        else {
            continue;
        };
        let (first, nested) = match rel.split_once('/') {
            Some((first, _)) => (first, true),
            None => (rel, false),
        };
        if first.ends_with(".dist-info")
            || first.ends_with(".egg-info")
            || first.ends_with(".data")
            || first == "__pycache__"
            || first.ends_with(".pth")
        {
            continue;
        }
        let name = if nested {
            first.to_owned()
        } else if let Some(stem) = first.strip_suffix(".py") {
            stem.to_owned()
        } else if first.ends_with(".so") || first.ends_with(".pyd") {
            first.split('.').next().unwrap_or(first).to_owned()
        } else {
            continue;
        };
        if !name.is_empty() && !name.contains('-') {
            names.push(name);
        }
    }
    names.sort();
    names.dedup();
    names
}

#[derive(Deserialize)]
struct DirectUrl {
    url: Option<String>,
    dir_info: Option<DirInfo>,
}

#[derive(Deserialize)]
struct DirInfo {
    #[serde(default)]
    editable: bool,
}

fn read_editable(site: &Path, meta: &Path, files: &[RecordFile]) -> Option<EditableInstall> {
    let direct = with_text(&meta.join("direct_url.json"), |text| {
        serde_json::from_str::<DirectUrl>(text).ok()
    })
    .ok()
    .flatten();
    let editable_by_url = direct
        .as_ref()
        .is_some_and(|d| d.dir_info.as_ref().is_some_and(|i| i.editable));
    let mut pth_paths = Vec::new();
    for file in files
        .iter()
        .filter(|f| f.path.as_os_str().as_encoded_bytes().ends_with(b".pth"))
        .filter(|f| f.path.parent() == Some(site))
    {
        let Ok(text) = read_lossy(&file.path) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with("import") {
                continue;
            }
            pth_paths.push(normalize_path(&site.join(line)));
        }
    }
    if !editable_by_url && pth_paths.is_empty() {
        return None;
    }
    Some(EditableInstall {
        url: direct.and_then(|d| d.url),
        pth_paths,
    })
}

/// Distributions by normalised name, first on the path only (for quick lookups in tests and
/// callers that do not need shadowed copies).
pub fn by_name(inventory: &Inventory) -> BTreeMap<&PackageName, &InstalledDistribution> {
    inventory
        .active()
        .map(|d| (&d.normalized_name, d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_interpreter_answers_are_pruned_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let month_ago = std::time::SystemTime::now() - STALE_ANSWER_AGE * 2;
        for (name, old) in [
            ("interpreter-00000000000000aa.json", true),
            ("interpreter-00000000000000bb.json", false),
            ("hook-1234", true),
        ] {
            let file = fs::File::create(dir.path().join(name)).unwrap();
            if old {
                file.set_modified(month_ago).unwrap();
            }
        }
        prune_stale_answers(dir.path(), STALE_ANSWER_AGE);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["hook-1234", "interpreter-00000000000000bb.json"]);
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(
            split_csv(r#""a,b.py",sha256=x,12"#).unwrap(),
            ["a,b.py", "sha256=x", "12"]
        );
        assert_eq!(split_csv(r#""a""b",,"#).unwrap(), ["a\"b", "", ""]);
        assert!(split_csv(r#""open,,"#).is_none());
    }

    #[test]
    fn record_paths_join_plainly_or_normalise() {
        let site = Path::new("/v/lib/site");
        for (relative, expected) in [
            ("yaml/__init__.py", "/v/lib/site/yaml/__init__.py"),
            ("../../bin/pip", "/v/bin/pip"),
            ("./yaml/x.py", "/v/lib/site/yaml/x.py"),
            ("yaml//x.py", "/v/lib/site/yaml/x.py"),
            ("pkg/../mod.py", "/v/lib/site/mod.py"),
            ("pkg/.hidden", "/v/lib/site/pkg/.hidden"),
            ("/abs/file.py", "/abs/file.py"),
        ] {
            assert_eq!(
                record_path(site, relative),
                PathBuf::from(expected),
                "{relative}"
            );
        }
    }

    #[test]
    fn record_rows_have_three_fields() {
        let row = |line| record_row(line).map(|fields| fields.map(Cow::into_owned));
        assert_eq!(row("a.py,sha256=x,12").unwrap(), ["a.py", "sha256=x", "12"]);
        assert_eq!(row("a.py,,").unwrap(), ["a.py", "", ""]);
        assert_eq!(row(r#""a,b.py",,"#).unwrap(), ["a,b.py", "", ""]);
        assert_eq!(row(r#"a.py,"x,y",1"#).unwrap(), ["a.py", "x,y", "1"]);
        for bad in ["a.py", "a.py,x", "a.py,x,1,2", r#""open,,"#, r#"a,"b"#] {
            assert!(row(bad).is_none(), "{bad}");
        }
        assert!(matches!(record_row("a.py,,").unwrap()[0], Cow::Borrowed(_)));
    }

    #[test]
    fn unquoted_csv_borrows_and_keeps_empty_fields() {
        let fields = split_csv("a.py,,").unwrap();
        assert_eq!(fields, ["a.py", "", ""]);
        assert!(matches!(fields[0], Cow::Borrowed(_)));
    }

    #[test]
    fn requires_txt_sections() {
        assert_eq!(
            parse_requires_txt("six\n\n[socks]\nPySocks\n[:python_version < \"3\"]\nenum34\n"),
            [
                "six",
                "PySocks; extra == \"socks\"",
                "enum34; (python_version < \"3\")"
            ]
        );
    }

    #[test]
    fn a_cached_answer_is_dropped_when_pyvenv_cfg_changes() {
        let venv = tempfile::tempdir().unwrap();
        let site = venv.path().join("lib/site-packages");
        fs::create_dir_all(&site).unwrap();
        fs::create_dir_all(venv.path().join("bin")).unwrap();
        let cfg = venv.path().join("pyvenv.cfg");
        fs::write(&cfg, "include-system-site-packages = false\n").unwrap();
        let interpreter = Interpreter {
            executable: venv.path().join("bin/python"),
            implementation: "cpython".into(),
            version: "3.11.7".into(),
            prefix: venv.path().to_owned(),
            base_prefix: PathBuf::from("/usr"),
            sys_path: vec![site],
            user_site: None,
            is_venv: true,
        };
        let cache = venv.path().join("cache/interpreter.json");
        write_cached(&cache, &interpreter);
        assert_eq!(read_cached(&cache), Some(interpreter.clone()));
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        fs::File::options()
            .write(true)
            .open(&cfg)
            .and_then(|file| file.set_modified(later))
            .unwrap();
        assert_eq!(read_cached(&cache), None);
    }

    #[test]
    fn dir_name_split() {
        assert_eq!(
            split_dir_name("zope.interface-5.4.0-py3.11.egg-info"),
            ("zope.interface".into(), "5.4.0".into())
        );
    }
}

#[cfg(test)]
mod fixture_tests {
    use super::*;

    fn fixture_inventory() -> (PathBuf, Inventory) {
        fixture_inventory_with(Detail::Full)
    }

    fn fixture_inventory_with(detail: Detail) -> (PathBuf, Inventory) {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/python");
        let interpreter = Interpreter {
            executable: PathBuf::from("/usr/bin/python3"),
            implementation: "cpython".into(),
            version: "3.11.7".into(),
            prefix: PathBuf::from("/usr"),
            base_prefix: PathBuf::from("/usr"),
            sys_path: vec![root.join("site-a"), root.join("missing")],
            user_site: None,
            is_venv: false,
        };
        let inventory = read_inventory_with(
            &interpreter,
            &[root.join("site-b"), root.join("site-a")],
            detail,
        );
        (root, inventory)
    }

    /// What every level of detail reads alike: METADATA and the small files beside it.
    fn identity(inventory: &Inventory) -> Vec<impl PartialEq + std::fmt::Debug> {
        inventory
            .distributions
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.version.clone(),
                    d.license.clone(),
                    d.installer.clone(),
                    d.location.clone(),
                    d.shadowed,
                    d.requires_dist.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_summary_is_the_full_read_without_record() {
        let (_, full) = fixture_inventory_with(Detail::Full);
        let (_, summary) = fixture_inventory_with(Detail::Summary);
        assert_eq!(identity(&summary), identity(&full));
        assert!(full.distributions.iter().any(|d| !d.files.is_empty()));
        assert!(
            summary
                .distributions
                .iter()
                .all(|d| d.files.is_empty() && d.size == 0)
        );
    }

    #[test]
    fn a_listing_is_the_full_read_with_only_the_pth_files_kept() {
        let (_, full) = fixture_inventory_with(Detail::Full);
        let (_, listing) = fixture_inventory_with(Detail::Listing);
        assert_eq!(identity(&listing), identity(&full));
        let editable = |inventory: &Inventory| -> Vec<_> {
            inventory
                .distributions
                .iter()
                .map(|d| d.editable.clone())
                .collect()
        };
        assert_eq!(editable(&listing), editable(&full));
        assert_eq!(listing.problems, full.problems);
        assert!(
            full.problems
                .iter()
                .any(|p| p.to_string().contains("RECORD"))
        );
        assert!(full.distributions.iter().any(|d| d.editable.is_some()));
        assert!(listing.distributions.iter().all(|d| {
            d.size == 0
                && d.files
                    .iter()
                    .all(|f| f.path.extension() == Some("pth".as_ref()))
        }));
    }

    #[test]
    fn reads_real_and_broken_fixtures() {
        let (root, inventory) = fixture_inventory();
        let summary: Vec<String> = inventory
            .distributions
            .iter()
            .map(|d| {
                format!(
                    "{} {} {} shadowed={} editable={} licence={:?} top={:?} files={} size={} requires={:?}",
                    d.normalized_name,
                    d.name,
                    d.version,
                    d.shadowed,
                    d.editable.is_some(),
                    d.license.best(),
                    d.top_level,
                    d.files.len(),
                    d.size,
                    d.requires_dist.len(),
                )
            })
            .collect();
        let problems: Vec<String> = inventory
            .problems
            .iter()
            .map(|p| {
                format!(
                    "{}:{:?}: {}",
                    p.path.strip_prefix(&root).unwrap_or(&p.path).display(),
                    p.line,
                    p.message
                )
            })
            .collect();
        insta::assert_snapshot!(format!(
            "{}\n---\n{}",
            summary.join("\n"),
            problems.join("\n")
        ));
    }

    #[test]
    fn owner_of_maps_py_pyc_so_and_bin() {
        let (root, inventory) = fixture_inventory();
        let site = root.join("site-a");
        let index = runbom_model::inventory::FileIndex::new(&inventory);
        let owner = |p: PathBuf| index.owner_of(&p).map(|d| d.normalized_name.to_string());
        assert_eq!(
            owner(site.join("yaml/__init__.py")).as_deref(),
            Some("pyyaml")
        );
        assert_eq!(
            owner(site.join("yaml/__pycache__/cyaml.cpython-311.pyc")).as_deref(),
            Some("pyyaml")
        );
        assert_eq!(
            owner(site.join("yaml/_yaml.cpython-311-x86_64-linux-gnu.so")).as_deref(),
            Some("pyyaml")
        );
        assert_eq!(
            owner(root.join("../bin/nsco-alpha")).as_deref(),
            Some("nsco-alpha")
        );
        assert_eq!(
            owner(PathBuf::from("/src/mylib/src/mylib/x.py")).as_deref(),
            Some("mylib")
        );
        assert_eq!(
            owner(site.join("attr/__init__.py")).as_deref(),
            Some("attrs"),
            "the first copy on the path owns the file"
        );
        assert_eq!(owner(site.join("first_party.py")), None);
        assert_eq!(
            inventory
                .owner_of(&site.join("./attr/../attr/__init__.py"))
                .map(|d| &d.location),
            Some(&site)
        );
    }
}
