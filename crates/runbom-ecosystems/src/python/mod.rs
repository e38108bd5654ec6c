//! Python: distributions installed for an interpreter (`*.dist-info`, `*.egg-info`), and the
//! runtime hook that records which modules a live interpreter imports.

pub mod attach;
pub mod enforce;
pub mod environment;
pub mod hash_cache;
pub mod integrity;
mod inventory;
mod metadata;
pub mod runtime;
pub mod venv_hook;
pub mod zipped;

pub use inventory::{
    Detail, Error, by_name, query_interpreter, read_inventory, read_inventory_with,
};
pub use metadata::{Headers, parse_headers};

use std::path::{Path, PathBuf};

use runbom_model::Language;

use crate::attach::{AttachFailure, Attachment};
use crate::language::{LanguageModule, ObservedBy};
use crate::process::LiveProcess;
use crate::program::Program;

/// Python behind the language seam: observed by the `sitecustomize` hook.
#[derive(Debug)]
pub struct Python;

impl LanguageModule for Python {
    fn language(&self) -> Language {
        Language::Python
    }

    fn observed_by(&self) -> ObservedBy {
        ObservedBy::Hook
    }

    /// The command itself when it is named `python…`, else the Python its shebang names
    /// (`#!/venv/bin/python3`, `#!/usr/bin/env python3`, pip's `/bin/sh` trampoline).
    fn runs(&self, program: &Program) -> Option<PathBuf> {
        if is_python_name(Path::new(&program.command)) {
            return Some(PathBuf::from(&program.command));
        }
        program.interpreter.clone().filter(|i| is_python_name(i))
    }

    /// A CPython 3.8–3.13 process: its module table, read from its memory; another Python
    /// (older, or a stripped one): what its maps show, and why no more.
    fn attach(&self, process: &LiveProcess) -> Option<Result<Attachment, AttachFailure>> {
        attach::attach(process)
    }
}

fn is_python_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("python"))
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn script(dir: &Path, name: &str, text: &str) -> String {
        let path = dir.join(name);
        fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    }

    #[test]
    fn finds_the_interpreter_of_a_console_script() {
        let dir = tempfile::tempdir().unwrap();
        let runs = |p: &str| Python.runs(&Program::resolve(p));
        let direct = script(dir.path(), "black", "#!/venv/bin/python3\nimport sys\n");
        let env = script(dir.path(), "tool", "#!/usr/bin/env -S python3.12 -u\n");
        let trampoline = script(
            dir.path(),
            "long",
            "#!/bin/sh\n'''exec' /a/very/long/venv/bin/python3 \"$0\" \"$@\"\n' '''\n",
        );
        let shell = script(dir.path(), "run.sh", "#!/bin/sh\nexec python3 app.py\n");
        let ruby = script(dir.path(), "rake", "#!/usr/bin/env ruby\n");
        assert_eq!(runs(&direct), Some(PathBuf::from("/venv/bin/python3")));
        assert_eq!(runs(&env), Some(PathBuf::from("python3.12")));
        assert_eq!(
            runs(&trampoline),
            Some(PathBuf::from("/a/very/long/venv/bin/python3"))
        );
        assert_eq!(runs(&shell), None);
        assert_eq!(runs(&ruby), None);
        assert_eq!(
            runs("/v/bin/python3.11"),
            Some(PathBuf::from("/v/bin/python3.11"))
        );
        assert_eq!(runs(dir.path().join("missing").to_str().unwrap()), None);
    }
}
