//! Ruby: the gems installed for an interpreter (its `Gem.path`, default gems and Debian's
//! `rubygems-integration` directories included), and a hook in Ruby (`runbom_hook.rb`, standard
//! library only) that `RUBYOPT=-r…` loads into every Ruby process, recording
//! `$LOADED_FEATURES` and `Gem.loaded_specs`; the Rust side maps those files to gems. Its
//! enforcing half (`runbom_enforce.rb`, beside it) is compiled only when a table is named.

pub mod enforce;
pub mod gemspec;
pub mod inventory;
pub mod runtime;

use std::path::{Path, PathBuf};

use runbom_model::Language;
use runbom_model::inventory::Problem;

use crate::hook::{Hook, HookError, HookObservation, Launch, prepend_to_env, write_hook_file};
use crate::language::{LanguageModule, ObservedBy};
use crate::program::Program;
use crate::report::Observed;

pub use inventory::{
    GemInventory, InstalledGem, RubyInterpreter, declared_licenses, query_interpreter,
    read_inventory,
};

/// The hook's source, written into the session at run time.
pub const HOOK_SOURCE: &str = include_str!("hook/runbom_hook.rb");

/// The hook's file name in its directory.
pub const HOOK_FILE_NAME: &str = "runbom_hook.rb";

/// The hook's enforcing half, loaded by the hook from its own directory when there is a table.
pub const ENFORCE_SOURCE: &str = include_str!("hook/runbom_enforce.rb");

/// The enforcing half's file name, beside [`HOOK_FILE_NAME`].
pub const ENFORCE_FILE_NAME: &str = "runbom_enforce.rb";

/// Ruby behind the language seam: observed by its hook.
#[derive(Debug)]
pub struct Ruby;

impl LanguageModule for Ruby {
    fn language(&self) -> Language {
        Language::Ruby
    }

    fn observed_by(&self) -> ObservedBy {
        ObservedBy::Hook
    }

    /// The command itself when it is `ruby` or `ruby3.1` (any `ruby<version>`), else the Ruby
    /// its shebang names (`bundle`, `rackup`, `rake`, any gem executable).
    fn runs(&self, program: &Program) -> Option<PathBuf> {
        if is_ruby_name(Path::new(&program.command)) {
            return Some(PathBuf::from(&program.command));
        }
        program.interpreter.clone().filter(|i| is_ruby_name(i))
    }

    fn hook(&self) -> Option<&dyn Hook> {
        Some(self)
    }
}

impl Hook for Ruby {
    fn install(&self, dir: &Path) -> Result<Launch, HookError> {
        write_hook_file(Language::Ruby, dir, ENFORCE_FILE_NAME, ENFORCE_SOURCE)?;
        let path = write_hook_file(Language::Ruby, dir, HOOK_FILE_NAME, HOOK_SOURCE)?;
        Ok(Launch {
            env: vec![prepend_to_env("RUBYOPT", &rubyopt(&path), " ")],
        })
    }

    fn observe(&self, observations: &[HookObservation]) -> (Observed, Vec<Problem>) {
        runtime::observe(observations)
    }
}

/// The `RUBYOPT` option that loads the hook at `path`.
pub fn rubyopt(path: &Path) -> String {
    format!("-r{}", path.display())
}

/// `ruby`, `ruby3.1`, `ruby3`, `jruby` is not (its gems are Java's).
fn is_ruby_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("ruby"))
        .is_some_and(|version| version.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn ruby_commands_and_scripts_are_ruby() {
        let dir = tempfile::tempdir().unwrap();
        let script = |name: &str, text: &str| {
            let path = dir.path().join(name);
            fs::write(&path, text).unwrap();
            Ruby.runs(&Program::resolve(path.to_str().unwrap()))
        };
        assert_eq!(Ruby.runs(&Program::resolve("ruby")), Some("ruby".into()));
        assert_eq!(
            Ruby.runs(&Program::resolve("/usr/bin/ruby3.1")),
            Some("/usr/bin/ruby3.1".into())
        );
        assert_eq!(
            script("rackup", "#!/usr/bin/ruby3.1\nrequire 'rack'\n"),
            Some("/usr/bin/ruby3.1".into())
        );
        assert_eq!(script("rake", "#!/usr/bin/env ruby\n"), Some("ruby".into()));
        assert_eq!(script("tool", "#!/usr/bin/python3\n"), None);
        assert_eq!(script("rubocop-like", "#!/bin/sh\n"), None);
        assert_eq!(Ruby.runs(&Program::resolve("rubocop")), None);
    }

    #[test]
    fn the_hook_goes_first_in_the_users_rubyopt() {
        let dir = tempfile::tempdir().unwrap();
        let launch = Ruby.install(&dir.path().join("hook-ruby")).unwrap();
        let (name, value) = &launch.env[0];
        assert_eq!(name, "RUBYOPT");
        let value = value.to_str().unwrap();
        let hook = dir.path().join("hook-ruby").join(HOOK_FILE_NAME);
        assert!(
            value.starts_with(&format!("-r{}", hook.display())),
            "{value}"
        );
        assert_eq!(fs::read_to_string(hook).unwrap(), HOOK_SOURCE);
        let enforce = dir.path().join("hook-ruby").join(ENFORCE_FILE_NAME);
        assert_eq!(fs::read_to_string(enforce).unwrap(), ENFORCE_SOURCE);
    }

    #[test]
    fn the_hooks_sources_are_ascii() {
        assert!(HOOK_SOURCE.is_ascii());
        assert!(ENFORCE_SOURCE.is_ascii());
    }
}
