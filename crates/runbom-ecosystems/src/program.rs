//! What a command is, as far as choosing its language needs: the file it names (found on `PATH`
//! when it has no `/`), and the interpreter that file's `#!` line names. Reads at most the first
//! 4 KiB of the file; a file that cannot be read is simply a program with no shebang.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A command as `runbom run` is given it, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// As given, e.g. `black` or `./server`.
    pub command: String,
    /// The file it runs: the command itself when it holds a `/`, else the first match on `PATH`.
    pub path: Option<PathBuf>,
    /// The interpreter its `#!` line names: `#!/usr/bin/python3`, `#!/usr/bin/env ruby`, or the
    /// `exec` line of pip's `/bin/sh` trampoline for long venv paths.
    pub interpreter: Option<PathBuf>,
}

impl Program {
    pub fn resolve(command: &str) -> Program {
        let path = if command.contains('/') {
            Some(PathBuf::from(command))
        } else {
            find_on_path(command)
        };
        let interpreter = path.as_deref().and_then(shebang_interpreter);
        Program {
            command: command.to_owned(),
            path,
            interpreter,
        }
    }

    /// The file name of the command itself, e.g. `python3.11` for `/usr/bin/python3.11`.
    pub fn file_name(&self) -> Option<&str> {
        Path::new(&self.command).file_name()?.to_str()
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The interpreter named by a script's first lines:
///
/// ```text
/// #!/usr/bin/env -S python3 -u        → python3
/// #!/bin/sh
/// '''exec' /very/long/venv/bin/python3 "$0" "$@"   → /very/long/venv/bin/python3
/// ```
fn shebang_interpreter(script: &Path) -> Option<PathBuf> {
    let file = fs::File::open(script).ok()?;
    let mut lines = BufReader::new(file.take(4096)).lines();
    let first = lines.next()?.ok()?;
    let mut words = first.strip_prefix("#!")?.split_whitespace();
    let program = PathBuf::from(words.next()?);
    match program.file_name()?.to_str()? {
        "env" => words.find(|w| !w.starts_with('-')).map(PathBuf::from),
        "sh" | "bash" | "dash" => {
            let second = lines.next().and_then(Result::ok).unwrap_or_default();
            let trampoline = second
                .strip_prefix("'''exec' ")
                .and_then(|rest| rest.split_whitespace().next().map(PathBuf::from))
                .or_else(|| {
                    std::iter::once(second.clone())
                        .chain(lines.take(6).map_while(Result::ok))
                        .find_map(|line| exec_trampoline(&line))
                });
            Some(trampoline.unwrap_or(program))
        }
        _ => Some(program),
    }
}

/// Tcl's idiom: an `exec` line after a comment ending in `\` (so that Tcl skips it).
///
/// ```text
/// #!/bin/sh
/// # the next line restarts using tclsh \
/// exec tclsh "$0" ${1+"$@"}             → tclsh
/// ```
fn exec_trampoline(line: &str) -> Option<PathBuf> {
    let mut words = line.strip_prefix("exec ")?.split_whitespace();
    let interpreter = words.next()?;
    matches!(words.next(), Some("\"$0\"" | "$0")).then(|| PathBuf::from(interpreter))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(text: &str) -> (tempfile::TempDir, Program) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tool");
        fs::write(&path, text).unwrap();
        let program = Program::resolve(path.to_str().unwrap());
        (dir, program)
    }

    #[test]
    fn the_shebang_names_the_interpreter() {
        for (text, interpreter) in [
            ("#!/usr/bin/python3\nimport x\n", "/usr/bin/python3"),
            ("#!/usr/bin/env -S ruby -w\n", "ruby"),
            ("#! /usr/bin/perl -T\n", "/usr/bin/perl"),
            (
                "#!/bin/sh\n'''exec' /long/venv/bin/python3 \"$0\" \"$@\"\n' '''\n",
                "/long/venv/bin/python3",
            ),
            ("#!/bin/sh\necho hi\n", "/bin/sh"),
            (
                "#!/bin/sh\n# restart using tclsh \\\nexec tclsh \"$0\" ${1+\"$@\"}\n",
                "tclsh",
            ),
            ("#!/bin/sh\nexec wish8.6 \"$0\" \"$@\"\n", "wish8.6"),
        ] {
            let (_dir, program) = script(text);
            assert_eq!(
                program.interpreter.as_deref(),
                Some(Path::new(interpreter)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_binary_or_a_missing_file_has_no_interpreter() {
        let (_dir, program) = script("\u{7f}ELF\u{2}\u{1}\u{1}");
        assert_eq!(program.interpreter, None);
        let missing = Program::resolve("/no/such/program");
        assert_eq!(missing.interpreter, None);
        assert_eq!(missing.path.as_deref(), Some(Path::new("/no/such/program")));
        assert_eq!(Program::resolve("no-such-command-anywhere").path, None);
    }
}
