//! The runtime hook installed permanently into a virtualenv: `_runbom_hook.py` (the hook) and
//! `_runbom_enforce.py` (its enforcement half), `_runbom_hook.pth` (imports it at every interpreter start) and `_runbom_hook.cfg` (the settings
//! given at install time) in its site-packages. Uninstall removes exactly these, and the bytecode
//! Python compiled from the hook.

use std::fs;
use std::path::{Path, PathBuf};

use super::runtime::{ENFORCE_FILE, ENFORCE_SOURCE, HOOK_SOURCE};

const MODULE: &str = "_runbom_hook.py";
const PTH: &str = "_runbom_hook.pth";
const CONFIG: &str = "_runbom_hook.cfg";
/// The enforcement table `runbom hook install --enforce` writes beside the hook.
pub const ENFORCE_TABLE: &str = "_runbom_enforce.tsv";

/// Errors installing or removing the hook.
#[derive(Debug, thiserror::Error)]
pub enum VenvHookError {
    #[error("`{venv}` is not a virtualenv: no `lib/python*/site-packages` in it")]
    NotAVenv { venv: PathBuf },
    #[error("`{venv}` holds more than one site-packages ({found}); which one is meant?")]
    ManySitePackages { venv: PathBuf, found: String },
    #[error("cannot write `{path}`")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove `{path}`")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a setting holds a line break, which `{CONFIG}` cannot keep: `{value}`")]
    BadSetting { value: String },
}

/// What the installed hook needs when runbom is not its parent.
#[derive(Debug, Clone, Default)]
pub struct HookSettings {
    /// The absolute path of the runbom binary the hook starts (`runbom hook flush`).
    pub runbom: PathBuf,
    pub app: Option<String>,
    pub environment: Option<String>,
    /// Absolute; reports and session directories go here.
    pub report_dir: PathBuf,
    /// A runbom server the reports are also sent to, with an app token of the application.
    pub server: Option<String>,
    pub token: Option<String>,
    /// The spool root of reports the server has not taken yet (absolute).
    pub spool: Option<PathBuf>,
    /// The enforcement table (written beforehand, see [`ENFORCE_TABLE`]) and the fail policy
    /// (`open`, `closed`) that applies when it cannot be loaded.
    pub enforce_table: Option<PathBuf>,
    pub enforce_fail: Option<String>,
}

/// The site-packages directory of a virtualenv (`lib/python3.X/site-packages`).
pub fn site_packages(venv: &Path) -> Result<PathBuf, VenvHookError> {
    let mut found: Vec<PathBuf> = fs::read_dir(venv.join("lib"))
        .map_err(|_| VenvHookError::NotAVenv {
            venv: venv.to_owned(),
        })?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("python"))
        .map(|e| e.path().join("site-packages"))
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    match found.len() {
        0 => Err(VenvHookError::NotAVenv {
            venv: venv.to_owned(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(VenvHookError::ManySitePackages {
            venv: venv.to_owned(),
            found: found
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Writes the hook, its `.pth` file and its settings; returns the files written.
pub fn install(venv: &Path, settings: &HookSettings) -> Result<Vec<PathBuf>, VenvHookError> {
    let site = site_packages(venv)?;
    let mut config = format!(
        "runbom={}\nreport_dir={}\n",
        settings.runbom.display(),
        settings.report_dir.display()
    );
    let spool = settings.spool.as_ref().map(|p| p.display().to_string());
    let table = settings
        .enforce_table
        .as_ref()
        .map(|p| p.display().to_string());
    for (key, value) in [
        ("app", &settings.app),
        ("environment", &settings.environment),
        ("server", &settings.server),
        ("token", &settings.token),
        ("spool", &spool),
        ("enforce_table", &table),
        ("enforce_fail", &settings.enforce_fail),
    ] {
        if let Some(value) = value {
            config.push_str(&format!("{key}={value}\n"));
        }
    }
    if let Some(bad) = config.lines().find(|l| l.contains('\r')) {
        return Err(VenvHookError::BadSetting {
            value: bad.to_owned(),
        });
    }
    let files = [
        (site.join(MODULE), HOOK_SOURCE.to_owned()),
        (site.join(ENFORCE_FILE), ENFORCE_SOURCE.to_owned()),
        (site.join(CONFIG), config),
        (site.join(PTH), "import _runbom_hook\n".to_owned()),
    ];
    for (path, text) in &files {
        fs::write(path, text).map_err(|source| VenvHookError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// Removes what [`install`] wrote (and the hook's compiled bytecode); returns the files removed.
pub fn uninstall(venv: &Path) -> Result<Vec<PathBuf>, VenvHookError> {
    let site = site_packages(venv)?;
    let mut targets = vec![
        site.join(PTH),
        site.join(MODULE),
        site.join(ENFORCE_FILE),
        site.join(CONFIG),
        site.join(ENFORCE_TABLE),
    ];
    if let Ok(entries) = fs::read_dir(site.join("__pycache__")) {
        targets.extend(
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    name.starts_with("_runbom_hook.") || name.starts_with("_runbom_enforce.")
                })
                .map(|e| e.path()),
        );
    }
    let mut removed = Vec::new();
    for path in targets {
        match fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(VenvHookError::Remove { path, source }),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_then_uninstall_leaves_nothing() {
        let venv = tempfile::tempdir().unwrap();
        let site = venv.path().join("lib/python3.11/site-packages");
        fs::create_dir_all(&site).unwrap();
        fs::write(site.join("other.pth"), "x").unwrap();
        let settings = HookSettings {
            runbom: PathBuf::from("/usr/bin/runbom"),
            app: Some("shop".into()),
            environment: None,
            report_dir: PathBuf::from("/var/runbom"),
            server: Some("http://runbom:8080".into()),
            token: Some("runbom_app_x".into()),
            spool: None,
            enforce_table: None,
            enforce_fail: None,
        };
        let written = install(venv.path(), &settings).unwrap();
        assert_eq!(written.len(), 4);
        let config = fs::read_to_string(site.join(CONFIG)).unwrap();
        assert_eq!(
            config,
            "runbom=/usr/bin/runbom\nreport_dir=/var/runbom\napp=shop\n\
             server=http://runbom:8080\ntoken=runbom_app_x\n"
        );
        fs::create_dir_all(site.join("__pycache__")).unwrap();
        for compiled in [
            "_runbom_hook.cpython-311.pyc",
            "_runbom_enforce.cpython-311.pyc",
        ] {
            fs::write(site.join("__pycache__").join(compiled), "").unwrap();
        }
        assert_eq!(uninstall(venv.path()).unwrap().len(), 6);
        let left: Vec<_> = fs::read_dir(&site)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(uninstall(venv.path()).unwrap().is_empty());
    }

    #[test]
    fn refuses_a_directory_that_is_not_a_venv() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            install(dir.path(), &HookSettings::default()),
            Err(VenvHookError::NotAVenv { .. })
        ));
    }
}
