//! Every gem installed for one Ruby interpreter: the gemspecs under each directory of its
//! `Gem.path` (`specifications/*.gemspec`, and the default gems in `specifications/default/`),
//! including Debian's `rubygems-integration` directories, as versioned JSON
//! (`runbom.ruby-inventory/v1`). The interpreter is asked once, for its `Gem.path` and library
//! directories; the gemspecs are read in Rust ([`super::gemspec`]).
//!
//! Where a gem's code is: a gem's directory is `<dir>/gems/<name>-<version>[-<platform>]`, its
//! compiled extensions under `<dir>/extensions/`; a default gem's files are in Ruby's own library
//! directories (`rubylibdir`, `rubyarchdir`), listed by its gemspec relative to them.

use std::path::{Path, PathBuf};
use std::process::Command;

use runbom_model::inventory::Problem;
use serde::Serialize;

use super::gemspec::{self, Gemspec};

/// The `schema` value of the JSON form.
pub const RUBY_INVENTORY_SCHEMA: &str = "runbom.ruby-inventory/v1";

/// The interpreter, as it described itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RubyInterpreter {
    pub executable: PathBuf,
    /// `RUBY_ENGINE`, e.g. `ruby`.
    pub implementation: String,
    /// `RUBY_VERSION`, e.g. `3.1.2`.
    pub version: String,
    /// `RbConfig::CONFIG["prefix"]`.
    pub prefix: PathBuf,
    /// `Gem::Platform.local`, e.g. `x86_64-linux`.
    pub platform: String,
    /// `Gem.path` in order.
    pub gem_path: Vec<PathBuf>,
    /// Ruby's own library directories (`rubylibdir`, `rubyarchdir`, `vendordir`,
    /// `vendorarchdir`): what is loaded from them and belongs to no gem is the standard library.
    pub library_dirs: Vec<PathBuf>,
}

/// Everything installed for one interpreter.
#[derive(Debug, Clone, Serialize)]
pub struct GemInventory {
    pub schema: String,
    pub interpreter: RubyInterpreter,
    /// Sorted by name, then version, then where installed.
    pub gems: Vec<InstalledGem>,
    pub problems: Vec<Problem>,
}

/// One installed gem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstalledGem {
    pub name: String,
    pub version: String,
    pub platform: String,
    pub licenses: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The `Gem.path` directory it is installed in.
    pub location: PathBuf,
    pub spec_path: PathBuf,
    /// Its directory (`full_gem_path`); a default gem's has no code in it.
    pub gem_dir: PathBuf,
    /// A default gem: shipped with Ruby, its files in Ruby's own directories.
    pub default: bool,
    /// Debian's layout: no gem directory, the gemspec's `lib/` files in Ruby's `vendor_ruby`
    /// (`ruby-tilt`), which `files` then names.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub vendored: bool,
    /// Runtime dependencies, `name (requirement, …)`.
    pub dependencies: Vec<String>,
    /// Bytes of the listed files that exist.
    pub size: u64,
    /// The files its gemspec lists, absolute (a default or vendored gem's: where they are).
    pub files: Vec<PathBuf>,
}

impl InstalledGem {
    /// `name-version[-platform]`, as RubyGems names its directory.
    pub fn full_name(&self) -> String {
        if self.platform == "ruby" || self.platform.is_empty() {
            format!("{}-{}", self.name, self.version)
        } else {
            format!("{}-{}-{}", self.name, self.version, self.platform)
        }
    }

    /// The directories holding its code: the gem directory and its compiled extensions.
    pub fn code_dirs(&self) -> Vec<PathBuf> {
        if self.default {
            return Vec::new();
        }
        let mut dirs = vec![self.gem_dir.clone()];
        let extensions = self.location.join("extensions");
        if let Ok(platforms) = std::fs::read_dir(&extensions) {
            for platform in platforms.filter_map(Result::ok) {
                if let Ok(apis) = std::fs::read_dir(platform.path()) {
                    for api in apis.filter_map(Result::ok) {
                        let dir = api.path().join(self.full_name());
                        if dir.is_dir() {
                            dirs.push(dir);
                        }
                    }
                }
            }
        }
        dirs
    }
}

/// Why the interpreter could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot run `{}`", ruby.display())]
    Run {
        ruby: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` failed to describe itself: {stderr}", ruby.display())]
    Failed { ruby: PathBuf, stderr: String },
}

const QUERY: &str = r#"c = RbConfig::CONFIG
puts "executable\t#{RbConfig.ruby}", "implementation\t#{RUBY_ENGINE}", "version\t#{RUBY_VERSION}"
puts "prefix\t#{c['prefix']}", "platform\t#{Gem::Platform.local}"
%w[rubylibdir rubyarchdir vendordir vendorarchdir].each { |k| puts "library\t#{c[k]}" if c[k] && !c[k].empty? }
Gem.path.each { |d| puts "gem_path\t#{d}" }
"#;

/// Asks `ruby` for its `Gem.path` and library directories (without the user's `RUBYOPT`, so
/// that a hook installed there does not observe the question). The answer is cached in runbom's
/// cache directory (`ruby-<key>.txt`) and reused while the executable (path, resolved path and
/// modification time), the RubyGems environment (`GEM_HOME`, `GEM_PATH`, `GEMRC`, `RUBYLIB`,
/// `HOME`, `PATH`) and the modification times of RubyGems' configuration files (`/etc/gemrc`,
/// `~/.gemrc`) are unchanged: one Ruby start less for every `runbom run` of a Ruby program.
/// `RUNBOM_NO_CACHE=1` always asks.
pub fn query_interpreter(ruby: &Path) -> Result<RubyInterpreter, Error> {
    let cache = cache_file(ruby);
    if let Some(answer) = cache.as_deref().and_then(read_cached) {
        return Ok(parse_query(&answer));
    }
    let answer = ask_interpreter(ruby)?;
    if let Some(cache) = cache {
        let _ = crate::cache::write_atomically(&cache, answer.as_bytes());
    }
    Ok(parse_query(&answer))
}

fn ask_interpreter(ruby: &Path) -> Result<String, Error> {
    let output = Command::new(ruby)
        .args(["-e", QUERY])
        .env_remove("RUBYOPT")
        .env_remove("RUNBOM_SESSION_DIR")
        .output()
        .map_err(|source| Error::Run {
            ruby: ruby.to_owned(),
            source,
        })?;
    if !output.status.success() {
        return Err(Error::Failed {
            ruby: ruby.to_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn cache_file(ruby: &Path) -> Option<PathBuf> {
    use std::hash::{Hash, Hasher};
    let dir = crate::cache::cache_root()?;
    let modified = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    // A bare name (`ruby`) is resolved on PATH by the OS; PATH is in the key.
    let resolved = std::fs::canonicalize(ruby).ok();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    ruby.hash(&mut hasher);
    resolved.hash(&mut hasher);
    resolved.as_deref().and_then(modified).hash(&mut hasher);
    QUERY.hash(&mut hasher);
    for var in ["GEM_HOME", "GEM_PATH", "GEMRC", "RUBYLIB", "HOME", "PATH"] {
        std::env::var_os(var).hash(&mut hasher);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    for config in [PathBuf::from("/etc/gemrc"), home.join(".gemrc")] {
        modified(&config).hash(&mut hasher);
    }
    Some(dir.join(format!("ruby-{:016x}.txt", hasher.finish())))
}

/// A cached answer, when it is one (written whole, so a partial file cannot be read; still,
/// anything without the lines every answer has is asked again).
fn read_cached(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let complete = text.starts_with("executable\t") && text.contains("\nversion\t");
    complete.then_some(text)
}

fn parse_query(text: &str) -> RubyInterpreter {
    let mut interpreter = RubyInterpreter::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('\t') else {
            continue;
        };
        match key {
            "executable" => interpreter.executable = value.into(),
            "implementation" => interpreter.implementation = value.to_owned(),
            "version" => interpreter.version = value.to_owned(),
            "prefix" => interpreter.prefix = value.into(),
            "platform" => interpreter.platform = value.to_owned(),
            "library" => interpreter.library_dirs.push(value.into()),
            "gem_path" => interpreter.gem_path.push(value.into()),
            _ => {}
        }
    }
    interpreter
}

/// Every gem of `interpreter`'s `Gem.path`, then of `extra` directories (a bundle's own, found
/// from where its gems were loaded).
pub fn read_inventory(interpreter: &RubyInterpreter, extra: &[PathBuf]) -> GemInventory {
    let mut inventory = GemInventory {
        schema: RUBY_INVENTORY_SCHEMA.to_owned(),
        interpreter: interpreter.clone(),
        gems: Vec::new(),
        problems: Vec::new(),
    };
    let mut seen = Vec::new();
    for dir in interpreter.gem_path.iter().chain(extra) {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let specifications = dir.join("specifications");
        read_specifications(interpreter, dir, &specifications, false, &mut inventory);
        read_specifications(
            interpreter,
            dir,
            &specifications.join("default"),
            true,
            &mut inventory,
        );
    }
    inventory.gems.sort_by(|a, b| {
        (&a.name, &a.version, &a.location).cmp(&(&b.name, &b.version, &b.location))
    });
    inventory
}

fn read_specifications(
    interpreter: &RubyInterpreter,
    location: &Path,
    dir: &Path,
    default: bool,
    inventory: &mut GemInventory,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "gemspec"))
        .collect();
    paths.sort();
    for path in paths {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) => {
                inventory.problems.push(Problem {
                    path,
                    line: None,
                    message: err.to_string(),
                });
                continue;
            }
        };
        match gemspec::parse(&String::from_utf8_lossy(&bytes)) {
            Ok((spec, skipped)) => {
                for error in skipped {
                    inventory.problems.push(Problem {
                        path: path.clone(),
                        line: Some(error.line),
                        message: error.to_string(),
                    });
                }
                let gem = installed(interpreter, location, &path, spec, default);
                inventory.gems.push(gem);
            }
            Err(error) => inventory.problems.push(Problem {
                path,
                line: Some(error.line),
                message: error.to_string(),
            }),
        }
    }
}

fn installed(
    interpreter: &RubyInterpreter,
    location: &Path,
    spec_path: &Path,
    spec: Gemspec,
    default: bool,
) -> InstalledGem {
    let stem = spec_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    let gem_dir = location.join("gems").join(stem);
    let vendored = if default || gem_dir.is_dir() {
        Vec::new()
    } else {
        vendored_files(interpreter, &spec.files)
    };
    let files: Vec<PathBuf> = if default {
        spec.files
            .iter()
            .filter_map(|file| default_gem_file(interpreter, file))
            .collect()
    } else if !vendored.is_empty() {
        vendored.clone()
    } else {
        spec.files.iter().map(|file| gem_dir.join(file)).collect()
    };
    let size = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    InstalledGem {
        name: spec.name,
        version: spec.version,
        platform: spec.platform,
        licenses: spec.licenses,
        summary: spec.summary,
        location: location.to_owned(),
        spec_path: spec_path.to_owned(),
        gem_dir,
        default,
        vendored: !vendored.is_empty(),
        dependencies: spec.dependencies,
        size,
        files,
    }
}

/// The gemspec of the gem a runtime report locates at `location` (its gem directory
/// `<dir>/gems/<full name>`, or a default gem's specification itself).
pub fn gemspec_path(location: &Path) -> Option<PathBuf> {
    if location.extension().is_some_and(|e| e == "gemspec") {
        return Some(location.to_owned());
    }
    let gems = location.parent()?;
    let base = gems.parent()?;
    let mut file = location.file_name()?.to_owned();
    file.push(".gemspec");
    Some(base.join("specifications").join(file))
}

/// The licences the gemspec of the gem at `location` declares (any one of them applies, as
/// RubyGems means a list), when it can be read.
pub fn declared_licenses(location: &Path) -> Option<Vec<String>> {
    let text = std::fs::read(gemspec_path(location)?).ok()?;
    let (spec, _) = gemspec::parse(&String::from_utf8_lossy(&text)).ok()?;
    Some(spec.licenses)
}

/// A Debian gem's files where Debian put them: its gemspec (`rubygems-integration`) lists
/// `lib/tilt.rb` below a gem directory that does not exist, and the file is
/// `/usr/lib/ruby/vendor_ruby/tilt.rb`. Only Ruby's vendor directories are looked in (a gemspec
/// naming `lib/set.rb` must not claim the standard library's).
fn vendored_files(interpreter: &RubyInterpreter, files: &[String]) -> Vec<PathBuf> {
    let vendor: Vec<&PathBuf> = interpreter
        .library_dirs
        .iter()
        .filter(|d| d.to_string_lossy().contains("vendor_ruby"))
        .collect();
    files
        .iter()
        .filter(|file| !file.contains(".."))
        .filter_map(|file| file.strip_prefix("lib/"))
        .flat_map(|rel| vendor.iter().map(move |dir| dir.join(rel)))
        .filter(|path| path.is_file())
        .collect()
}

/// Where a default gem's listed file is: `lib/uri.rb` (or `date.rb`) in `rubylibdir`, a C
/// extension's `ext/cgi/escape/extconf.rb` as `cgi/escape.so` in `rubyarchdir`; executables and
/// other build files are nowhere.
fn default_gem_file(interpreter: &RubyInterpreter, file: &str) -> Option<PathBuf> {
    let libdir = interpreter.library_dirs.first()?;
    if let Some(ext) = file.strip_prefix("ext/") {
        let dir = ext.strip_suffix("/extconf.rb")?;
        let archdir = interpreter.library_dirs.get(1)?;
        return Some(archdir.join(format!("{dir}.so")));
    }
    if file.starts_with("exe/") || file.starts_with("bin/") || file.contains("..") {
        return None;
    }
    let relative = file.strip_prefix("lib/").unwrap_or(file);
    Some(libdir.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interpreter(gem_dir: &Path) -> RubyInterpreter {
        RubyInterpreter {
            executable: "/usr/bin/ruby3.1".into(),
            implementation: "ruby".into(),
            version: "3.1.2".into(),
            prefix: "/usr".into(),
            platform: "x86_64-linux".into(),
            gem_path: vec![gem_dir.to_owned(), "/no/such/gems".into()],
            library_dirs: vec![
                "/usr/lib/ruby/3.1.0".into(),
                "/usr/lib/x86_64-linux-gnu/ruby/3.1.0".into(),
            ],
        }
    }

    #[test]
    fn reads_the_query_answer() {
        let answer = "executable\t/usr/bin/ruby3.1\nimplementation\truby\nversion\t3.1.2\n\
            prefix\t/usr\nplatform\tx86_64-linux\nlibrary\t/usr/lib/ruby/3.1.0\n\
            gem_path\t/var/lib/gems/3.1.0\ngem_path\t/usr/share/rubygems-integration/all\n";
        let parsed = parse_query(answer);
        assert_eq!(parsed.version, "3.1.2");
        assert_eq!(parsed.gem_path.len(), 2);
        assert_eq!(parsed.library_dirs, [PathBuf::from("/usr/lib/ruby/3.1.0")]);
    }

    #[test]
    fn reads_gems_default_gems_and_names_a_broken_gemspec() {
        let dir = tempfile::tempdir().unwrap();
        let specs = dir.path().join("specifications");
        std::fs::create_dir_all(specs.join("default")).unwrap();
        let fixture = |name: &str| {
            std::fs::read(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("src/ruby/testdata")
                    .join(name),
            )
            .unwrap()
        };
        std::fs::write(
            specs.join("rack-2.2.22.gemspec"),
            fixture("rack-2.2.22.gemspec"),
        )
        .unwrap();
        std::fs::write(
            specs.join("broken-0.1.0.gemspec"),
            fixture("broken.gemspec"),
        )
        .unwrap();
        std::fs::write(specs.join("empty-1.gemspec"), "# nothing\n").unwrap();
        std::fs::write(
            specs.join("default/uri-0.11.0.gemspec"),
            fixture("uri-0.11.0.gemspec"),
        )
        .unwrap();
        let inventory = read_inventory(&interpreter(dir.path()), &[]);
        let gems: Vec<String> = inventory
            .gems
            .iter()
            .map(|g| {
                format!(
                    "{} {} {:?} default={}",
                    g.name, g.version, g.licenses, g.default
                )
            })
            .collect();
        assert_eq!(
            gems,
            [
                "broken 0.1.0 [] default=false",
                "rack 2.2.22 [\"MIT\"] default=false",
                "uri 0.11.0 [\"Ruby\", \"BSD-2-Clause\"] default=true",
            ]
        );
        let rack = &inventory.gems[1];
        assert_eq!(rack.gem_dir, dir.path().join("gems/rack-2.2.22"));
        assert_eq!(rack.files, [dir.path().join("gems/rack-2.2.22/bin/rackup")]);
        let uri = &inventory.gems[2];
        assert!(
            uri.files
                .contains(&PathBuf::from("/usr/lib/ruby/3.1.0/uri/common.rb"))
        );
        assert!(uri.code_dirs().is_empty());
        let problems: Vec<String> = inventory
            .problems
            .iter()
            .map(|p| {
                let name = p.path.file_name().unwrap().to_string_lossy().into_owned();
                format!("{name}:{}: {}", p.line.unwrap_or(0), p.message)
            })
            .collect();
        assert_eq!(
            problems,
            [
                "broken-0.1.0.gemspec:6: `licenses` is not a string or an array of strings",
                "broken-0.1.0.gemspec:7: `files` never ends",
                "empty-1.gemspec:1: no `name`: not a gemspec RubyGems wrote",
            ]
        );
    }

    #[test]
    fn a_reports_location_leads_to_its_gemspec() {
        assert_eq!(
            gemspec_path(Path::new("/g/gems/rack-2.2.22")),
            Some("/g/specifications/rack-2.2.22.gemspec".into())
        );
        let default = Path::new("/g/specifications/default/uri-0.11.0.gemspec");
        assert_eq!(gemspec_path(default), Some(default.to_owned()));
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ruby/testdata");
        assert_eq!(
            declared_licenses(&fixtures.join("uri-0.11.0.gemspec")),
            Some(vec!["Ruby".to_owned(), "BSD-2-Clause".to_owned()])
        );
        assert_eq!(declared_licenses(Path::new("/no/gems/x-1")), None);
    }

    #[test]
    fn default_gem_files_are_in_rubys_own_directories() {
        let interpreter = interpreter(Path::new("/g"));
        let at = |f| default_gem_file(&interpreter, f);
        assert_eq!(
            at("lib/uri/common.rb"),
            Some("/usr/lib/ruby/3.1.0/uri/common.rb".into())
        );
        assert_eq!(at("date.rb"), Some("/usr/lib/ruby/3.1.0/date.rb".into()));
        assert_eq!(
            at("ext/cgi/escape/extconf.rb"),
            Some("/usr/lib/x86_64-linux-gnu/ruby/3.1.0/cgi/escape.so".into())
        );
        assert_eq!(at("exe/bundle"), None);
    }
}
