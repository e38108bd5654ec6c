//! Go test binaries: the programs of `testdata/go`, with `golang.org/x/net` vendored from Debian's
//! `golang-golang-x-net-dev`, built once per variant under the build directory and rebuilt when
//! their source or the toolchain changes. `None` (and a message) when Go or the package is missing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// How a test program is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Plain,
    Trimpath,
    /// `-ldflags='-s -w'`: no symbol table, no DWARF.
    Stripped,
    NoCgo,
    Windows,
    Darwin,
    /// From a git checkout with an uncommitted change: `vcs.modified=true`.
    ModifiedCheckout,
}

impl Variant {
    pub const ALL: [Variant; 7] = [
        Variant::Plain,
        Variant::Trimpath,
        Variant::Stripped,
        Variant::NoCgo,
        Variant::Windows,
        Variant::Darwin,
        Variant::ModifiedCheckout,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Plain => "plain",
            Variant::Trimpath => "trimpath",
            Variant::Stripped => "stripped",
            Variant::NoCgo => "nocgo",
            Variant::Windows => "windows.exe",
            Variant::Darwin => "darwin",
            Variant::ModifiedCheckout => "modified",
        }
    }
}

const DEBIAN_X_NET: &str = "/usr/share/gocode/src/golang.org/x/net";
static BUILD: Mutex<()> = Mutex::new(());

/// Where the test binaries are built (nothing else is in it).
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("go/bin")
}

/// The program `testdata/go/<program>` built as `variant`.
pub fn binary(program: &str, variant: Variant) -> Option<PathBuf> {
    let _guard = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if !Path::new(DEBIAN_X_NET).join("html").is_dir()
        || Command::new("go").arg("version").output().is_err()
    {
        eprintln!(
            "skipped: needs `go` and Debian's golang-golang-x-net-dev (scripts/test installs them)"
        );
        return None;
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/go")
        .join(program);
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go");
    let out = out_dir
        .join("bin")
        .join(format!("{program}-{}", variant.name()));
    let stamp = stamp(&source);
    let stamp_file = out.with_extension("stamp");
    if out.is_file() && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(&stamp) {
        return Some(out);
    }
    let work = tempfile::tempdir().expect("tempdir");
    let tree = work.path().join(program);
    prepare_tree(&source, &tree);
    if variant == Variant::ModifiedCheckout {
        git_checkout_with_a_change(&tree);
    }
    let mut go = Command::new("go");
    go.current_dir(&tree)
        .env("GOFLAGS", "-mod=vendor")
        .env("GOPROXY", "off")
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOPATH", out_dir.join("gopath"))
        .args(["build", "-o"])
        .arg(&out);
    match variant {
        Variant::Trimpath => {
            go.arg("-trimpath");
        }
        Variant::Stripped => {
            go.arg("-ldflags=-s -w");
        }
        Variant::NoCgo => {
            go.env("CGO_ENABLED", "0");
        }
        Variant::Windows => {
            go.env("GOOS", "windows").env("GOARCH", "amd64");
        }
        Variant::Darwin => {
            go.env("GOOS", "darwin").env("GOARCH", "arm64");
        }
        Variant::ModifiedCheckout => {
            go.arg("-buildvcs=true");
        }
        Variant::Plain => {}
    }
    let built = go.arg(".").output().expect("go build");
    assert!(
        built.status.success(),
        "go build {program} ({variant:?}): {}",
        String::from_utf8_lossy(&built.stderr)
    );
    std::fs::write(&stamp_file, stamp).expect("stamp");
    Some(out)
}

/// What the compiler says it inlined into `testdata/go/<program>` (`go build -gcflags=-m`):
/// the `inlining call to X` notes, e.g. `netip.Addr.IsLoopback`.
pub fn inlined_calls(program: &str) -> Vec<String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/go")
        .join(program);
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go");
    let work = tempfile::tempdir().expect("tempdir");
    let tree = work.path().join(program);
    prepare_tree(&source, &tree);
    let built = Command::new("go")
        .current_dir(&tree)
        .env("GOFLAGS", "-mod=vendor")
        .env("GOPROXY", "off")
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOPATH", out_dir.join("gopath"))
        .args(["build", "-gcflags=-m", "-o"])
        .arg(work.path().join("out"))
        .arg(".")
        .output()
        .expect("go build -gcflags=-m");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    String::from_utf8_lossy(&built.stderr)
        .lines()
        .filter_map(|l| {
            l.split_once("inlining call to ")
                .map(|(_, f)| f.trim().to_owned())
        })
        .collect()
}

/// The functions of `binary` that have code of their own (`go tool objdump`'s `TEXT` lines)
/// among those matching the regular expression `pattern`.
pub fn own_code(binary: &Path, pattern: &str) -> Vec<String> {
    let out = Command::new("go")
        .args(["tool", "objdump", "-s", pattern])
        .arg(binary)
        .output()
        .expect("go tool objdump");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("TEXT "))
        .map(str::to_owned)
        .collect()
}

/// `runbom run --report REPORT -- BINARY`, which must succeed: its output.
pub fn run_reported(binary: &Path, report: &Path) -> std::process::Output {
    let out = super::runbom()
        .args(["run", "--report"])
        .arg(report)
        .arg("--")
        .arg(binary)
        .output()
        .expect("runbom run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The source files and the toolchain: a change to either rebuilds.
fn stamp(source: &Path) -> String {
    let version = Command::new("go")
        .arg("version")
        .output()
        .expect("go version");
    let mut stamp = String::from_utf8_lossy(&version.stdout).into_owned();
    for name in ["go.mod", "main.go"] {
        stamp.push_str(&std::fs::read_to_string(source.join(name)).expect("source"));
    }
    stamp
}

/// The packages of Debian's `golang.org/x/net` the test programs import, vendored into each.
const X_NET_PACKAGES: [&str; 3] = ["html", "html/atom", "dns/dnsmessage"];

/// A copy of the program with the packages of `golang.org/x/net` it may use vendored from
/// Debian's package.
fn prepare_tree(source: &Path, tree: &Path) {
    std::fs::create_dir_all(tree).expect("tree");
    for name in ["go.mod", "main.go"] {
        std::fs::copy(source.join(name), tree.join(name)).expect("copy source");
    }
    let vendor = tree.join("vendor/golang.org/x/net");
    let mut modules = "# golang.org/x/net v0.7.0\n## explicit; go 1.17\n".to_owned();
    for package in X_NET_PACKAGES {
        copy_go_files(
            &Path::new(DEBIAN_X_NET).join(package),
            &vendor.join(package),
        );
        modules.push_str(&format!("golang.org/x/net/{package}\n"));
    }
    std::fs::write(tree.join("vendor/modules.txt"), modules).expect("modules.txt");
}

fn copy_go_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("vendor dir");
    for entry in std::fs::read_dir(from).expect("Debian's sources") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && name.ends_with(".go") && !name.ends_with("_test.go") {
            std::fs::copy(&path, to.join(name)).expect("copy");
        }
    }
}

fn git_checkout_with_a_change(tree: &Path) {
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(tree)
            .args([
                "-c",
                "user.name=runbom",
                "-c",
                "user.email=runbom@example.invalid",
            ])
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "fixture"]);
    let main = tree.join("main.go");
    let text = std::fs::read_to_string(&main).expect("main.go");
    std::fs::write(&main, format!("{text}\n// a local change\n")).expect("change");
}

/// esbuild's own release binary for linux-x64 (npm's `@esbuild/linux-x64`, pinned in
/// `testdata/npm` at the two versions the tests use, installed by scripts/test): a Go program
/// somebody else built. 0.28.2 (Go 1.26) has no build information blob `go version -m` reads;
/// 0.20.2 still has one.
pub fn esbuild(version: &str) -> Option<PathBuf> {
    let package = match version {
        "0.28.2" => "@esbuild/linux-x64",
        "0.20.2" => "esbuild-linux-x64-0.20.2",
        other => panic!("esbuild {other} is not pinned in testdata/npm/package.json"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/npm/node_modules")
        .join(package)
        .join("bin/esbuild");
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipped: needs npm's {package} (scripts/test installs testdata/npm)");
        None
    }
}
