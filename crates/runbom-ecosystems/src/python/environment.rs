//! Which Python environment a process really ran in: the interpreter description built from what
//! its hook observed (`sys.prefix`, `sys.path`), whether an inventory already read fits it, and
//! an early guess of the interpreter a command will start (a console script's shebang, including
//! pip's `#!/bin/sh` + `exec` trampoline), for reading the inventory ahead while it runs.
//! Traps: a venv's `bin/python3` is a symbolic link to the base interpreter, so executables
//! compared as files cannot tell two environments apart; prefixes and site directories can.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use runbom_model::inventory::{Interpreter, Inventory, normalize_path};

use super::runtime::Observation;

/// What identifies the environment of a process: its `sys.prefix` and its `sys.path`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnvironmentKey {
    prefix: PathBuf,
    sys_path: Vec<PathBuf>,
}

impl EnvironmentKey {
    pub fn of(observation: &Observation) -> Self {
        Self {
            prefix: observation.prefix.clone(),
            sys_path: observation.sys_path.clone(),
        }
    }
}

/// The interpreter a process ran, described from its own observation; `None` when its hook did
/// not record `sys.path` (a hook installed by an older runbom), so the interpreter must be asked.
pub fn observed_interpreter(observation: &Observation) -> Option<Interpreter> {
    if observation.sys_path.is_empty() {
        return None;
    }
    let base_prefix = observation
        .base_prefix
        .clone()
        .unwrap_or_else(|| observation.prefix.clone());
    Some(Interpreter {
        executable: observation.executable.clone(),
        implementation: observation.implementation.clone(),
        version: observation.version.clone(),
        is_venv: base_prefix != observation.prefix,
        prefix: observation.prefix.clone(),
        base_prefix,
        sys_path: observation.sys_path.clone(),
        user_site: None,
    })
}

/// Whether `inventory` holds every distribution the observed process could import: the same
/// `sys.prefix`, and every directory of its `sys.path` that holds distribution metadata read.
/// An observation without `sys.path` fits the inventory of its own executable.
pub fn fits(inventory: &Inventory, observation: &Observation) -> bool {
    let interpreter = &inventory.interpreter;
    if observation.sys_path.is_empty() {
        return same_file(&interpreter.executable, &observation.executable);
    }
    if !same_dir(&interpreter.prefix, &observation.prefix) {
        return false;
    }
    let read: Vec<PathBuf> = interpreter.sys_path.iter().map(|p| canonical(p)).collect();
    observation
        .sys_path
        .iter()
        .filter(|dir| holds_metadata(dir))
        .all(|dir| read.contains(&canonical(dir)))
}

fn canonical(path: &Path) -> PathBuf {
    fs::canonicalize(path).unwrap_or_else(|_| normalize_path(path))
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || canonical(a) == canonical(b)
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || fs::canonicalize(a)
            .ok()
            .zip(fs::canonicalize(b).ok())
            .is_some_and(|(a, b)| a == b)
}

/// A directory holding a `*.dist-info` or `*.egg-info` (or an `*.egg-link`).
fn holds_metadata(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name.ends_with(".dist-info")
                || name.ends_with(".egg-info")
                || name.ends_with(".egg-link")
        })
    })
}

/// The Python interpreter `command` will start, as far as can be told before it runs: the
/// command itself when it is named `python…`, else the interpreter of its shebang (found on
/// `PATH` when the command is a bare name) — `#!/venv/bin/python3`, `#!/usr/bin/env python3`,
/// or pip's trampoline for paths too long for a shebang:
///
/// ```text
/// #!/bin/sh
/// '''exec' /very/long/venv/bin/python3 "$0" "$@"
/// ' '''
/// ```
pub fn guess_interpreter(command: &str) -> Option<PathBuf> {
    if is_python_name(Path::new(command)) {
        return Some(PathBuf::from(command));
    }
    let script = if command.contains('/') {
        PathBuf::from(command)
    } else {
        find_on_path(command)?
    };
    shebang_interpreter(&script)
}

fn is_python_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("python"))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The interpreter named by a script's first lines, when it is a Python.
fn shebang_interpreter(script: &Path) -> Option<PathBuf> {
    let file = fs::File::open(script).ok()?;
    let mut lines = BufReader::new(file.take(4096)).lines();
    let first = lines.next()?.ok()?;
    let mut words = first.strip_prefix("#!")?.split_whitespace();
    let program = PathBuf::from(words.next()?);
    if is_python_name(&program) {
        return Some(program);
    }
    match program.file_name()?.to_str()? {
        "env" => words
            .find(|w| !w.starts_with('-'))
            .map(PathBuf::from)
            .filter(|p| is_python_name(p)),
        "sh" | "bash" | "dash" => {
            let second = lines.next()?.ok()?;
            let rest = second.strip_prefix("'''exec' ")?;
            let program = PathBuf::from(rest.split_whitespace().next()?);
            is_python_name(&program).then_some(program)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn guesses_the_interpreter_of_a_console_script() {
        let dir = tempfile::tempdir().unwrap();
        let direct = script(
            dir.path(),
            "black",
            "#!/venv/bin/python3\nimport sys\nfrom black import patched_main\n",
        );
        let env = script(dir.path(), "tool", "#!/usr/bin/env -S python3.12 -u\n");
        let trampoline = script(
            dir.path(),
            "long",
            "#!/bin/sh\n'''exec' /a/very/long/venv/bin/python3 \"$0\" \"$@\"\n' '''\n",
        );
        let shell = script(dir.path(), "run.sh", "#!/bin/sh\nexec python3 app.py\n");
        let guess = |p: &Path| guess_interpreter(p.to_str().unwrap());
        assert_eq!(guess(&direct), Some(PathBuf::from("/venv/bin/python3")));
        assert_eq!(guess(&env), Some(PathBuf::from("python3.12")));
        assert_eq!(
            guess(&trampoline),
            Some(PathBuf::from("/a/very/long/venv/bin/python3"))
        );
        assert_eq!(guess(&shell), None);
        assert_eq!(
            guess_interpreter("/v/bin/python3.11"),
            Some(PathBuf::from("/v/bin/python3.11"))
        );
        assert_eq!(guess(&dir.path().join("missing")), None);
    }
}
