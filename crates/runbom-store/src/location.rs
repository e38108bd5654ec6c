//! Where a store lives: the `--db` / `RUNBOM_DB` value (a file path, `sqlite://…` or
//! `postgres://…`), and the default `$XDG_DATA_HOME/runbom/runbom.db`.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::StoreError;

/// The database engine behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed store location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file, created with its directory when missing.
    SqliteFile(PathBuf),
    /// A `postgres://` (or `postgresql://`) URL, passed to the driver as written.
    Postgres(String),
}

impl Location {
    /// Reads a `--db` value. Anything that is not a `sqlite:` or `postgres(ql)://` URL is a
    /// file path.
    pub fn parse(text: &str) -> Location {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Location::Postgres(text.to_owned());
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
            .unwrap_or(text);
        // A query string (`?mode=…`) is ours to set; drop one the user wrote.
        let path = path.split_once('?').map_or(path, |(path, _)| path);
        Location::SqliteFile(PathBuf::from(path))
    }

    /// `$XDG_DATA_HOME/runbom/runbom.db`, falling back to `~/.local/share/runbom/runbom.db`.
    pub fn default_location() -> Option<Location> {
        let data_home = std::env::var_os("XDG_DATA_HOME")
            .filter(|dir| !dir.is_empty())
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME")
                    .filter(|dir| !dir.is_empty())
                    .map(|home| Path::new(&home).join(".local/share"))
            })?;
        Some(Location::SqliteFile(
            data_home.join("runbom").join("runbom.db"),
        ))
    }

    pub fn engine(&self) -> Engine {
        match self {
            Location::SqliteFile(_) => Engine::Sqlite,
            Location::Postgres(_) => Engine::Postgres,
        }
    }

    /// Creates what must exist before connecting: a SQLite file's directory.
    pub(crate) fn prepare(&self) -> Result<(), StoreError> {
        let Location::SqliteFile(path) = self else {
            return Ok(());
        };
        match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDirectory {
                    path: dir.to_owned(),
                    source,
                })
            }
            _ => Ok(()),
        }
    }

    /// The URL the driver connects to.
    pub(crate) fn url(&self) -> String {
        match self {
            Location::SqliteFile(path) => {
                format!("sqlite://{}?mode=rwc", encode_path(&path.to_string_lossy()))
            }
            Location::Postgres(url) => url.clone(),
        }
    }
}

/// Percent-encodes the characters that would end or change a URL path.
fn encode_path(path: &str) -> String {
    let mut encoded = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => encoded.push_str("%25"),
            '?' => encoded.push_str("%3F"),
            '#' => encoded.push_str("%23"),
            c => encoded.push(c),
        }
    }
    encoded
}

impl fmt::Display for Location {
    /// The location as the user should see it: a path, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::SqliteFile(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paths_and_urls() {
        assert_eq!(
            Location::parse("/tmp/x.db"),
            Location::SqliteFile("/tmp/x.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:///tmp/x.db?mode=ro"),
            Location::SqliteFile("/tmp/x.db".into())
        );
        assert_eq!(
            Location::parse("sqlite:rel.db"),
            Location::SqliteFile("rel.db".into())
        );
        let pg = Location::parse("postgresql://u@h/db");
        assert_eq!(pg.engine(), Engine::Postgres);
    }

    #[test]
    fn sqlite_url_escapes_what_would_end_the_path() {
        let location = Location::SqliteFile("/tmp/a?b#c%d.db".into());
        assert_eq!(location.url(), "sqlite:///tmp/a%3Fb%23c%25d.db?mode=rwc");
    }

    #[test]
    fn display_hides_the_password() {
        let location = Location::parse("postgres://runbom:hunter2@db.example:5432/runbom");
        assert_eq!(
            location.to_string(),
            "postgres://runbom:***@db.example:5432/runbom"
        );
        assert_eq!(
            Location::parse("postgres://postgres@127.0.0.1/test").to_string(),
            "postgres://postgres@127.0.0.1/test"
        );
    }
}
