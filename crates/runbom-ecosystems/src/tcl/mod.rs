//! Tcl: the packages an interpreter can find (`pkgIndex.tcl` along `auto_path`, `.tm` modules
//! along `tcl::tm::path`), and a running script observed by a hook in Tcl itself. tclsh reads no
//! start-up file from the environment, so `runbom run` rewrites `tclsh app.tcl a b` into
//! `tclsh <dir>/runbom_hook.tcl app.tcl a b` ([`Hook::wrap`]); the hook gives the script the
//! `argv0`, `argv`, `argc` and `info script` it would have had, and records what it loads.
//! Components are `pkg:generic/tcl/NAME@VERSION` until a Tcl PURL type exists.

pub mod inventory;
pub mod pkgindex;
pub mod runtime;

use std::path::{Path, PathBuf};

use runbom_model::Language;
use runbom_model::inventory::Problem;

use crate::hook::{Hook, HookError, HookObservation, Launch, write_hook_file};
use crate::language::{LanguageModule, ObservedBy};
use crate::program::Program;
use crate::report::Observed;

/// The hook, as the repo keeps it.
pub const HOOK_SOURCE: &str = include_str!("runbom_hook.tcl");

/// The hook's file name in its directory.
pub const HOOK_FILE: &str = "runbom_hook.tcl";

/// Tcl behind the language seam: observed by a hook that wraps the script.
#[derive(Debug)]
pub struct Tcl;

impl LanguageModule for Tcl {
    fn language(&self) -> Language {
        Language::Tcl
    }

    fn observed_by(&self) -> ObservedBy {
        ObservedBy::Hook
    }

    /// The command itself when it is a Tcl shell (`tclsh`, `tclsh8.6`, `wish`), else the shell
    /// its shebang (or `exec tclsh "$0"` trampoline) names.
    fn runs(&self, program: &Program) -> Option<PathBuf> {
        if is_tcl_shell(Path::new(&program.command)) {
            return Some(PathBuf::from(&program.command));
        }
        program.interpreter.clone().filter(|i| is_tcl_shell(i))
    }

    fn hook(&self) -> Option<&dyn Hook> {
        Some(&TclHook)
    }
}

/// `tclsh`, `tclsh8.6`, `wish`, `wish8.6`: a Tcl shell by its file name.
pub fn is_tcl_shell(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    ["tclsh", "wish"].iter().any(|shell| {
        name.strip_prefix(shell)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })
}

/// The Tcl hook: a script the shell runs first, which then sources the program's script.
#[derive(Debug)]
pub struct TclHook;

impl Hook for TclHook {
    /// Writes `runbom_hook.tcl`; no variable is needed, as [`wrap`](Hook::wrap) names it.
    fn install(&self, dir: &Path) -> Result<Launch, HookError> {
        write_hook_file(Language::Tcl, dir, HOOK_FILE, HOOK_SOURCE)?;
        Ok(Launch::default())
    }

    fn wrap(&self, dir: &Path, command: &[String]) -> Option<Vec<String>> {
        wrap_command(&dir.join(HOOK_FILE), command)
    }

    fn observe(&self, observations: &[HookObservation]) -> (Observed, Vec<Problem>) {
        runtime::observe(observations)
    }
}

/// `tclsh ?-encoding NAME? SCRIPT ARG…` → `tclsh HOOK ?-encoding NAME? SCRIPT ARG…`, and a
/// script whose shebang names a Tcl shell → `SHELL HOOK SCRIPT ARG…`. A shell with no script
/// (reading commands from stdin) is left alone: it runs unobserved.
pub fn wrap_command(hook: &Path, command: &[String]) -> Option<Vec<String>> {
    let (first, rest) = command.split_first()?;
    let hook = hook.to_string_lossy().into_owned();
    if is_tcl_shell(Path::new(first)) {
        let script_at = match rest.first().map(String::as_str) {
            Some("-encoding") => 2,
            _ => 0,
        };
        let script = rest.get(script_at)?;
        if script.starts_with('-') {
            return None;
        }
        let mut wrapped = vec![first.clone(), hook];
        wrapped.extend(rest.iter().cloned());
        return Some(wrapped);
    }
    let shell = Program::resolve(first)
        .interpreter
        .filter(|i| is_tcl_shell(i))?;
    let mut wrapped = vec![shell.to_string_lossy().into_owned(), hook, first.clone()];
    wrapped.extend(rest.iter().cloned());
    Some(wrapped)
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn shells_by_name() {
        for shell in ["tclsh", "/usr/bin/tclsh8.6", "wish", "wish8.6", "tclsh9.0"] {
            assert!(is_tcl_shell(Path::new(shell)), "{shell}");
        }
        for other in ["tclsh-wrapper", "python3", "mywish", "/usr/bin/tcl"] {
            assert!(!is_tcl_shell(Path::new(other)), "{other}");
        }
    }

    #[test]
    fn wraps_a_shell_and_its_script() {
        let hook = Path::new("/s/hook-tcl/runbom_hook.tcl");
        assert_eq!(
            wrap_command(hook, &strings(&["tclsh", "app.tcl", "a", "-b"])),
            Some(strings(&[
                "tclsh",
                "/s/hook-tcl/runbom_hook.tcl",
                "app.tcl",
                "a",
                "-b"
            ]))
        );
        assert_eq!(
            wrap_command(
                hook,
                &strings(&["tclsh8.6", "-encoding", "utf-8", "app.tcl"])
            ),
            Some(strings(&[
                "tclsh8.6",
                "/s/hook-tcl/runbom_hook.tcl",
                "-encoding",
                "utf-8",
                "app.tcl"
            ]))
        );
        assert_eq!(wrap_command(hook, &strings(&["tclsh"])), None);
        assert_eq!(wrap_command(hook, &strings(&["tclsh", "-x"])), None);
        assert_eq!(wrap_command(hook, &strings(&["python3", "app.py"])), None);
    }

    #[test]
    fn wraps_scripts_whose_shebang_or_trampoline_names_tclsh() {
        let dir = tempfile::tempdir().unwrap();
        let hook = Path::new("/h/runbom_hook.tcl");
        let direct = dir.path().join("direct");
        fs::write(&direct, "#!/usr/bin/env tclsh\nputs hi\n").unwrap();
        let trampoline = dir.path().join("trampoline");
        fs::write(
            &trampoline,
            "#!/bin/sh\n# the next line restarts using tclsh \\\nexec tclsh8.6 \"$0\" ${1+\"$@\"}\nputs hi\n",
        )
        .unwrap();
        for (script, shell) in [(&direct, "tclsh"), (&trampoline, "tclsh8.6")] {
            let script = script.to_str().unwrap();
            assert_eq!(
                wrap_command(hook, &strings(&[script, "x"])),
                Some(strings(&[shell, "/h/runbom_hook.tcl", script, "x"]))
            );
            assert_eq!(
                Tcl.runs(&Program::resolve(script)),
                Some(PathBuf::from(shell))
            );
        }
    }
}
