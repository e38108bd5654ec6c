//! Walking advisory inputs: single files, directory trees (sorted, hidden directories skipped)
//! and zip archives in the layout of OSV's bulk exports (`<Ecosystem>/all.zip`, one record per
//! entry). The walk is listed up front (so a progress bar knows its length) and read lazily.

use std::collections::VecDeque;
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use runbom_model::Advisory;
use zip::ZipArchive;

use super::{AdvisoryError, cpansa, is_candidate, read_one};

/// One input still to read.
enum Pending {
    File(PathBuf),
    Zip(ZipInput),
    /// An input that failed before any record could be read.
    Broken(AdvisoryError),
    /// Records of one file that holds many (CPAN::Audit's CPANSA database), already read.
    Records(VecDeque<Result<Advisory, AdvisoryError>>),
}

struct ZipInput {
    label: String,
    archive: ZipArchive<Cursor<Vec<u8>>>,
    /// Entries still to read: (index, name).
    entries: VecDeque<(usize, String)>,
}

/// The advisories of a set of inputs, one `Result` per advisory file, in a stable order.
pub struct AdvisoryStream {
    pending: VecDeque<Pending>,
    files: usize,
}

impl std::fmt::Debug for AdvisoryStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdvisoryStream")
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl AdvisoryStream {
    /// Lists the advisory files of `paths`: a `.zip` is read as an archive, a directory is walked,
    /// any other path is read as one advisory file.
    pub fn open(paths: &[impl AsRef<Path>]) -> Self {
        let mut stream = AdvisoryStream {
            pending: VecDeque::new(),
            files: 0,
        };
        for path in paths {
            stream.add_path(path.as_ref());
        }
        stream
    }

    /// An archive already in memory (a download); `label` names it in errors. Fails when the
    /// bytes are not a zip archive.
    pub fn from_zip(label: &str, bytes: Vec<u8>) -> Result<Self, AdvisoryError> {
        let mut stream = AdvisoryStream {
            pending: VecDeque::new(),
            files: 0,
        };
        stream.add_zip(label.to_owned(), bytes);
        match stream.pending.pop_front() {
            Some(Pending::Broken(error)) => Err(error),
            Some(other) => {
                stream.pending.push_front(other);
                Ok(stream)
            }
            None => Ok(stream),
        }
    }

    /// How many advisory files the stream reads (its length, for a progress bar).
    pub fn files(&self) -> usize {
        self.files
    }

    fn push(&mut self, pending: Pending) {
        self.files += match &pending {
            Pending::Zip(zip) => zip.entries.len(),
            Pending::Records(records) => records.len(),
            _ => 1,
        };
        self.pending.push_back(pending);
    }

    fn add_path(&mut self, path: &Path) {
        if path.is_dir() {
            let mut files = Vec::new();
            if let Err(error) = walk(path, &mut files) {
                self.push(Pending::Broken(error));
            }
            files.sort();
            for file in files {
                if is_zip(&file) {
                    self.add_path(&file);
                } else {
                    self.push(Pending::File(file));
                }
            }
        } else if is_zip(path) {
            match std::fs::read(path) {
                Ok(bytes) => self.add_zip(path.display().to_string(), bytes),
                Err(source) => self.push(Pending::Broken(AdvisoryError::Io {
                    file: path.display().to_string(),
                    source,
                })),
            }
        } else if let Some(records) = cpansa_records(path) {
            match records {
                Ok(records) => self.push(Pending::Records(records.into())),
                Err(error) => self.push(Pending::Broken(error)),
            }
        } else {
            self.push(Pending::File(path.to_path_buf()));
        }
    }

    fn add_zip(&mut self, label: String, bytes: Vec<u8>) {
        let archive = match ZipArchive::new(Cursor::new(bytes)) {
            Ok(archive) => archive,
            Err(e) => {
                self.push(Pending::Broken(AdvisoryError::Zip {
                    file: label,
                    message: e.to_string(),
                }));
                return;
            }
        };
        let mut entries: Vec<(usize, String)> = (0..archive.len())
            .filter_map(|i| {
                let name = archive.name_for_index(i)?;
                let hidden = name.split('/').any(|part| part.starts_with('.'));
                (!name.ends_with('/') && !hidden && is_candidate(name))
                    .then(|| (i, name.to_owned()))
            })
            .collect();
        entries.sort_by(|a, b| a.1.cmp(&b.1));
        self.push(Pending::Zip(ZipInput {
            label,
            archive,
            entries: entries.into(),
        }));
    }
}

/// The records of a file named on the command line that is CPAN::Audit's database (its
/// `CPAN/Audit/DB.pm`, dumped by `perl`, or that dump as JSON); `None` for any other file.
fn cpansa_records(
    path: &Path,
) -> Option<Result<Vec<Result<Advisory, AdvisoryError>>, AdvisoryError>> {
    let file = path.display().to_string();
    if cpansa::is_db_pm(path) {
        let source = std::fs::read(path).map_err(|source| AdvisoryError::Io {
            file: file.clone(),
            source,
        });
        return Some(source.and_then(|source| {
            let json = cpansa::dump_db_pm(Path::new("perl"), path)?;
            cpansa::read_db_pm(&file, &json, &String::from_utf8_lossy(&source))
        }));
    }
    let mut head = [0u8; 64];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .ok()?;
    if !cpansa::detect(&head[..read]) {
        return None;
    }
    Some(
        std::fs::read(path)
            .map_err(|source| AdvisoryError::Io {
                file: file.clone(),
                source,
            })
            .and_then(|bytes| cpansa::read(&file, &bytes)),
    )
}

fn is_zip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
}

/// Every advisory candidate (or zip) under `dir`, hidden directories and files skipped.
fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), AdvisoryError> {
    let io = |source| AdvisoryError::Io {
        file: dir.display().to_string(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        if entry.file_type().map_err(io)?.is_dir() {
            walk(&path, files)?;
        } else if is_candidate(&name) || is_zip(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Advisory, AdvisoryError> {
    let file = path.display().to_string();
    let contents = std::fs::read(path).map_err(|source| AdvisoryError::Io {
        file: file.clone(),
        source,
    })?;
    read_one(&file, &contents)
}

fn read_entry(zip: &mut ZipInput, index: usize, name: &str) -> Result<Advisory, AdvisoryError> {
    let file = format!("{}!{name}", zip.label);
    let mut entry = zip
        .archive
        .by_index(index)
        .map_err(|e| AdvisoryError::Zip {
            file: file.clone(),
            message: e.to_string(),
        })?;
    let mut contents = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry
        .read_to_end(&mut contents)
        .map_err(|source| AdvisoryError::Io {
            file: file.clone(),
            source,
        })?;
    read_one(&file, &contents)
}

impl Iterator for AdvisoryStream {
    type Item = Result<Advisory, AdvisoryError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.pending.front_mut()? {
                Pending::Zip(zip) => match zip.entries.pop_front() {
                    Some((index, name)) => return Some(read_entry(zip, index, &name)),
                    None => {
                        self.pending.pop_front();
                    }
                },
                Pending::Records(records) => match records.pop_front() {
                    Some(record) => return Some(record),
                    None => {
                        self.pending.pop_front();
                    }
                },
                _ => {
                    return match self.pending.pop_front()? {
                        Pending::File(path) => Some(read_file(&path)),
                        Pending::Broken(error) => Some(Err(error)),
                        Pending::Zip(_) | Pending::Records(_) => continue,
                    };
                }
            }
        }
    }
}
