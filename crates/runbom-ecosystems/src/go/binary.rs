//! One Go binary as runbom sees it: its build information, the functions linked into it, and
//! from those its components — each module with the packages of it the binary contains.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use runbom_model::runtime::{DistributionUse, LinkedCode, LoadedModule, RuntimeInterpreter};
use runbom_model::{Ecosystem, Language, PackageName};

use crate::language::Artefact;

use super::buildinfo::{self, BuildInfo, FileError, Module};
use super::symbols;

/// The component name of Go's standard library, as the Go vulnerability database names it.
pub const STDLIB: &str = "stdlib";

/// A Go binary, read.
#[derive(Debug, Clone)]
pub struct GoBinary {
    pub path: PathBuf,
    pub info: BuildInfo,
    /// Every linked function's name, sorted, each once; empty when the binary's function table
    /// could not be read.
    pub functions: Vec<String>,
    /// Why `functions` is empty, when it could not be read.
    pub functions_error: Option<symbols::Error>,
}

impl GoBinary {
    pub fn open(path: &Path) -> Result<GoBinary, FileError> {
        let path = &path.canonicalize().unwrap_or_else(|_| path.to_owned());
        let file = buildinfo::open_bounded(path)?;
        let info = buildinfo::read(&file).map_err(|source| FileError::Parse {
            path: path.to_owned(),
            source,
        })?;
        let (functions, functions_error) = match symbols::function_names(&file) {
            Ok(names) => (names, None),
            Err(err) => (Vec::new(), Some(err)),
        };
        Ok(GoBinary {
            path: path.to_owned(),
            info,
            functions,
            functions_error,
        })
    }

    /// Every module that went into the binary (a replaced one under its replacement, when that
    /// is a module rather than a local directory), and the standard library.
    pub fn modules(&self) -> Vec<Module> {
        let mut modules: Vec<Module> = Vec::new();
        for module in self.info.main.iter().chain(&self.info.deps) {
            let effective = module.effective();
            let local = effective.version.is_empty();
            modules.push(if local {
                module.clone()
            } else {
                effective.clone()
            });
        }
        modules.push(Module {
            path: STDLIB.to_owned(),
            version: self.info.go_version.clone(),
            ..Module::default()
        });
        modules
    }

    /// The binary's components for a runtime report: every module, loaded (it is linked in),
    /// with the packages of it whose functions the binary holds.
    pub fn components(&self, pid: Option<u32>) -> Vec<DistributionUse> {
        let modules = self.modules();
        let mut packages = packages_by_module(&modules, &symbols::packages(&self.functions));
        let mut components: Vec<DistributionUse> = modules
            .into_iter()
            .map(|module| {
                let linked = packages.remove(&module.path).unwrap_or_default();
                let names = if linked.is_empty() {
                    vec![module.path.clone()]
                } else {
                    linked.into_iter().collect()
                };
                DistributionUse {
                    ecosystem: Ecosystem::Go,
                    normalized_name: PackageName::new(Ecosystem::Go, &module.path),
                    purl: purl(&module.path, &module.version),
                    name: module.path,
                    version: module.version,
                    location: self.path.clone(),
                    size: 0,
                    requires_dist: Vec::new(),
                    sum: (!module.sum.is_empty()).then(|| module.sum.clone()),
                    modules: names
                        .into_iter()
                        .map(|name| LoadedModule {
                            name,
                            file: None,
                            pids: pid.into_iter().collect(),
                            integrity: None,
                        })
                        .collect(),
                }
            })
            .collect();
        components.sort_by(|a, b| a.normalized_name.cmp(&b.normalized_name));
        components
    }
}

/// The build settings a report carries: what source the binary is and for which platform.
/// `-ldflags` is left out: `-X` sets values at link time, which may be secrets.
const REPORTED_SETTINGS: [&str; 12] = [
    "-buildmode",
    "-compiler",
    "-trimpath",
    "CGO_ENABLED",
    "GOARCH",
    "GOOS",
    "GOAMD64",
    "GOARM64",
    "vcs",
    "vcs.modified",
    "vcs.revision",
    "vcs.time",
];

impl Artefact for GoBinary {
    fn interpreter(&self) -> RuntimeInterpreter {
        RuntimeInterpreter {
            language: Language::Go,
            executable: self.path.clone(),
            implementation: self.info.setting("-compiler").unwrap_or("gc").to_owned(),
            version: self.info.go_version.clone(),
            prefix: self.path.parent().map(Path::to_owned).unwrap_or_default(),
            build: self
                .info
                .settings
                .iter()
                .filter(|s| REPORTED_SETTINGS.contains(&s.key.as_str()))
                .map(|s| (s.key.clone(), s.value.clone()))
                .collect(),
        }
    }

    fn components(&self, pid: Option<u32>) -> Vec<DistributionUse> {
        GoBinary::components(self, pid)
    }

    fn linked_code(&self) -> Option<LinkedCode> {
        self.functions_error.is_none().then(|| LinkedCode {
            os: self.info.setting("GOOS").unwrap_or_default().to_owned(),
            arch: self.info.setting("GOARCH").unwrap_or_default().to_owned(),
            symbols: symbols::vulndb_names(&self.functions),
        })
    }
}

/// Each package under the module whose path is its longest prefix; a package under no module
/// (no dot in its first element: `fmt`, `net/http`, `runtime`) is the standard library's, and
/// `main` the main module's.
fn packages_by_module(
    modules: &[Module],
    packages: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let main = modules.first().map(|m| m.path.clone());
    let mut by_module: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in packages {
        let owner = modules
            .iter()
            .filter(|m| m.path != STDLIB)
            .filter(|m| package == &m.path || package.starts_with(&format!("{}/", m.path)))
            .max_by_key(|m| m.path.len())
            .map(|m| m.path.clone());
        let owner = match owner {
            Some(owner) => owner,
            None if package == "main" => match &main {
                Some(main) => main.clone(),
                None => continue,
            },
            None if is_standard_package(package) => STDLIB.to_owned(),
            None => continue,
        };
        by_module.entry(owner).or_default().insert(package.clone());
    }
    by_module
}

/// A standard-library package path: its first element has no dot (`net/http`, `internal/abi`).
/// Linker-made names (`type:`, `go:`, `go.shape`) are no package.
fn is_standard_package(package: &str) -> bool {
    let first = package.split('/').next().unwrap_or(package);
    !first.is_empty()
        && !first.contains('.')
        && !first.contains(':')
        && !matches!(first, "type" | "go" | "main")
}

/// `pkg:golang/<namespace>/<name>@<version>`, percent-encoded as the PURL spec wants.
pub fn purl(path: &str, version: &str) -> String {
    let (namespace, name) = match path.rsplit_once('/') {
        Some((namespace, name)) => (Some(namespace), name),
        None => (None, path),
    };
    let built = packageurl::PackageUrl::new("golang", name).and_then(|mut purl| {
        if let Some(namespace) = namespace {
            purl.with_namespace(namespace)?;
        }
        // A main module built from its source tree has no version (`(devel)`).
        if !version.is_empty() && version != "(devel)" {
            purl.with_version(version)?;
        }
        Ok(purl.to_string())
    });
    built.unwrap_or_else(|_| format!("pkg:golang/{path}@{version}"))
}

/// Whether `path` starts like an ELF, Mach-O or PE file (read: its first four bytes).
pub fn looks_native(path: &Path) -> bool {
    let mut head = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head));
    read.is_ok()
        && (head == *b"\x7fELF"
            || head[..2] == *b"MZ"
            || matches!(
                u32::from_le_bytes(head),
                0xfeed_face | 0xfeed_facf | 0xcefa_edfe | 0xcffa_edfe
            ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> Module {
        Module {
            path: path.to_owned(),
            version: "v1.0.0".to_owned(),
            ..Module::default()
        }
    }

    #[test]
    fn packages_go_to_the_longest_module_prefix() {
        let modules = [
            module("example.com/app"),
            module("golang.org/x/net"),
            module("golang.org/x/net/html/v2"),
            module(STDLIB),
        ];
        let packages: BTreeSet<String> = [
            "golang.org/x/net/html",
            "golang.org/x/net/html/v2/atom",
            "net/http",
            "main",
            "type:.eq",
            "golang.org/x/netx/y",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        let by = packages_by_module(&modules, &packages);
        assert_eq!(by["golang.org/x/net"].len(), 1);
        assert_eq!(by["golang.org/x/net/html/v2"].len(), 1);
        assert!(by[STDLIB].contains("net/http"));
        assert!(by["example.com/app"].contains("main"));
        assert_eq!(by.len(), 4, "{by:?}");
    }

    #[test]
    fn purls_split_the_path_into_namespace_and_name() {
        assert_eq!(
            purl("golang.org/x/net", "v0.7.0"),
            "pkg:golang/golang.org/x/net@v0.7.0"
        );
        assert_eq!(purl("stdlib", "go1.19.8"), "pkg:golang/stdlib@go1.19.8");
        assert_eq!(
            purl("example.com/app", "(devel)"),
            "pkg:golang/example.com/app"
        );
    }
}
