use std::path::{Path, PathBuf};

use base64::Engine;
use runbom_model::Language;
use runbom_model::inventory::Interpreter;
use sha2::{Digest, Sha256};

use super::*;

/// A site dir with one distribution (`demo`, two modules) whose RECORD hashes are real, one of
/// whose files was changed after install.
fn site() -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("lib/python3.11/site-packages");
    fs::create_dir_all(site.join("demo")).unwrap();
    fs::create_dir_all(site.join("demo-1.0.dist-info")).unwrap();
    let record_line = |rel: &str, text: &str| {
        let digest = Sha256::digest(text.as_bytes());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        format!("{rel},sha256={b64},{}\n", text.len())
    };
    fs::write(site.join("demo/__init__.py"), "x = 1\n").unwrap();
    fs::write(site.join("demo/core.py"), "tampered = True\n").unwrap();
    let record = record_line("demo/__init__.py", "x = 1\n")
        + &record_line("demo/core.py", "y = 2\n")
        + "demo-1.0.dist-info/RECORD,,\n";
    fs::write(site.join("demo-1.0.dist-info/RECORD"), record).unwrap();
    fs::write(
        site.join("demo-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: Demo\nVersion: 1.0\nRequires-Dist: idna\n",
    )
    .unwrap();
    fs::create_dir_all(site.join("unused_dist-2.0.dist-info")).unwrap();
    fs::write(
        site.join("unused_dist-2.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: unused_dist\nVersion: 2.0\n",
    )
    .unwrap();
    fs::write(site.join("unused_dist-2.0.dist-info/RECORD"), "").unwrap();
    let inventory = venv_inventory(dir.path(), site);
    (dir, inventory)
}

/// The inventory of a 3.11 venv at `prefix` whose one site directory is `site`.
fn venv_inventory(prefix: &Path, site: PathBuf) -> Inventory {
    let interpreter = Interpreter {
        executable: prefix.join("bin/python"),
        implementation: "cpython".into(),
        version: "3.11.7".into(),
        prefix: prefix.to_owned(),
        base_prefix: PathBuf::from("/usr"),
        sys_path: vec![site],
        user_site: None,
        is_venv: true,
    };
    super::super::read_inventory(&interpreter, &[])
}

fn observation(pid: u32, ppid: u32, modules: Vec<(&str, Option<PathBuf>)>) -> Observation {
    Observation {
        pid,
        ppid,
        started_at: 1_700_000_000.5 + f64::from(pid),
        argv: vec!["app.py".into()],
        executable: PathBuf::from("/venv/bin/python"),
        implementation: "cpython".into(),
        version: "3.11.7".into(),
        prefix: PathBuf::from("/venv"),
        base_prefix: Some(PathBuf::from("/usr")),
        sys_path: Vec::new(),
        stdlib_dirs: vec![PathBuf::from("/usr/lib/python3.11")],
        stdlib_names: ["os", "json"].into_iter().map(String::from).collect(),
        builtin_names: ["sys", "builtins"].into_iter().map(String::from).collect(),
        exited: true,
        errors: u64::from(pid % 2),
        modules: modules
            .into_iter()
            .map(|(n, f)| (n.to_owned(), f))
            .collect(),
        enforcement: None,
        refusals: Vec::new(),
    }
}

#[test]
fn maps_modules_to_distributions_stdlib_and_unowned() {
    let (dir, inventory) = site();
    let site = dir.path().join("lib/python3.11/site-packages");
    let parent = observation(
        10,
        1,
        vec![
            ("sys", None),
            ("os", Some(PathBuf::from("/usr/lib/python3.11/os.py"))),
            (
                "json.decoder",
                Some(PathBuf::from("/usr/lib/python3.11/json/decoder.py")),
            ),
            ("demo", Some(site.join("demo/__init__.py"))),
            ("__main__", Some(PathBuf::from("/srv/app.py"))),
            ("helpers", Some(PathBuf::from("/srv/helpers.py"))),
            ("zipped", Some(PathBuf::from("/srv/lib.zip/zipped.py"))),
        ],
    );
    let child = observation(
        11,
        10,
        vec![
            ("demo", Some(site.join("demo/__init__.py"))),
            ("demo.core", Some(site.join("demo/core.py"))),
        ],
    );
    let report = build_report(
        &[(&parent, &inventory), (&child, &inventory)],
        &inventory,
        ReportContext {
            session_id: "s".into(),
            host: "h".into(),
            reported_at: "2026-01-01T00:00:00Z".into(),
            ..ReportContext::default()
        },
        &HashCache::default(),
    );
    assert_eq!(report.stdlib_modules, ["json.decoder", "os", "sys"]);
    let unowned: Vec<&str> = report
        .unowned_modules
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(unowned, ["__main__", "helpers", "zipped"]);
    assert_eq!(report.processes.len(), 2);
    assert_eq!(report.command, ["app.py"]);
    assert_eq!(report.hook_errors, 1);
    assert_eq!(report.started_at, "2023-11-14T22:13:30.5Z");
    let demo = &report.distributions[0];
    assert_eq!(demo.normalized_name.as_str(), "demo");
    assert_eq!(demo.requires_dist, ["idna"]);
    assert_eq!(demo.modules[0].name, "demo");
    assert_eq!(demo.modules[0].pids, [10, 11]);
    assert!(matches!(
        demo.modules[0].integrity,
        Some(FileIntegrity::Verified { .. })
    ));
    assert!(matches!(
        demo.modules[1].integrity,
        Some(FileIntegrity::Mismatch { .. })
    ));
    let never: Vec<&str> = report.not_loaded().map(|d| d.name.as_str()).collect();
    assert_eq!(never, ["unused_dist"]);
}

/// `urllib3.packages.six.moves` has no file: six's importer inside urllib3 made it. It belongs
/// to the nearest parent package that has an owner, not to "unknown code".
#[test]
fn a_module_without_a_file_belongs_to_its_nearest_owned_parent() {
    let (dir, inventory) = site();
    let site = dir.path().join("lib/python3.11/site-packages");
    let process = observation(
        10,
        1,
        vec![
            ("demo", Some(site.join("demo/__init__.py"))),
            ("demo.moves", None),
            ("demo.moves.urllib", None),
            ("elsewhere.moves", None),
            ("__main__", None),
        ],
    );
    let report = build_report(
        &[(&process, &inventory)],
        &inventory,
        ReportContext::default(),
        &HashCache::default(),
    );
    let demo = &report.distributions[0];
    let names: Vec<&str> = demo.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["demo", "demo.moves", "demo.moves.urllib"]);
    assert_eq!(demo.modules[1].file, None);
    let unowned: Vec<&str> = report
        .unowned_modules
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(unowned, ["__main__", "elsewhere.moves"]);
}

/// v2 (today's hook) writes its modules flat, `""` for no file; v1 (a hook an older runbom
/// installed) as pairs; an odd flat list is a malformed observation, not a panic.
#[test]
fn reads_the_flat_modules_of_v2_and_refuses_an_odd_list() {
    let dir = tempfile::tempdir().unwrap();
    let head = r#"{"schema":"runbom.observation/v2","ppid":1,"started_at":1.0,"executable":"/py",
        "implementation":"cpython","version":"3.13.0","prefix":"/","exited":true,"errors":0,"#;
    let write = |pid: u32, modules: &str| {
        let text = format!(r#"{head}"pid":{pid},"argv":["a"],"modules":{modules}}}"#);
        fs::write(dir.path().join(format!("p{pid}.json")), text).unwrap();
    };
    write(7, r#"["sys","","os","/usr/lib/python3.13/os.py"]"#);
    write(8, r#"["sys","","os"]"#);
    let (observations, problems) = read_session(dir.path()).unwrap();
    assert_eq!(observations.len(), 1);
    assert_eq!(
        observations[0].modules,
        [
            ("sys".to_owned(), None),
            (
                "os".to_owned(),
                Some(PathBuf::from("/usr/lib/python3.13/os.py"))
            )
        ]
    );
    assert_eq!(problems.len(), 1);
    assert!(problems[0].path.ends_with("p8.json"));
    assert!(
        problems[0].message.contains("odd number"),
        "{}",
        problems[0].message
    );
}

#[test]
fn reads_a_session_and_reports_a_malformed_observation() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("p7.json"),
        r#"{"schema":"runbom.observation/v1","pid":7,"ppid":1,"started_at":1.0,"argv":[],
            "executable":"/py","implementation":"cpython","version":"3.11.7","prefix":"/",
            "exited":false,"errors":0,"modules":[["os","/usr/lib/python3.11/os.py"],["x",null]]}"#,
    )
    .unwrap();
    fs::write(dir.path().join("p8.json"), "{not json").unwrap();
    fs::write(dir.path().join("p9.json.tmp"), "{").unwrap();
    let (observations, problems) = read_session(dir.path()).unwrap();
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0].modules[1], ("x".to_owned(), None));
    assert_eq!(problems.len(), 1);
    assert!(problems[0].path.ends_with("p8.json"));
}

#[test]
fn the_embedded_hook_is_the_source_file() {
    assert!(HOOK_SOURCE.contains("def _snapshot():"));
    assert!(ENFORCE_SOURCE.contains("class _EnforcingFinder"));
    // Python 2.7 reads the file too (to say it cannot be observed): no encoding declaration.
    assert!(HOOK_SOURCE.is_ascii(), "the hook must be ASCII");
    assert!(
        ENFORCE_SOURCE.is_ascii(),
        "the hook's enforcement half must be ASCII"
    );
}

#[test]
fn the_cached_hook_is_written_once_and_a_changed_copy_is_replaced() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cached_hook_dir(cache.path()).unwrap();
    let hook = dir.join("sitecustomize.py");
    let enforce = dir.join(ENFORCE_FILE);
    assert_eq!(fs::read_to_string(&hook).unwrap(), HOOK_SOURCE);
    assert_eq!(fs::read_to_string(&enforce).unwrap(), ENFORCE_SOURCE);
    assert_eq!(
        cached_hook_dir(cache.path()).unwrap(),
        dir,
        "same content, same place"
    );

    for file in [&hook, &enforce] {
        fs::write(file, "import os; os.system('evil')\n").unwrap();
    }
    cached_hook_dir(cache.path()).unwrap();
    assert_eq!(fs::read_to_string(&hook).unwrap(), HOOK_SOURCE);
    assert_eq!(fs::read_to_string(&enforce).unwrap(), ENFORCE_SOURCE);
    let leftovers = fs::read_dir(&dir).unwrap().count();
    assert_eq!(leftovers, 2, "no temporary files are left behind");
}

#[test]
fn precompiles_the_hook_for_the_interpreter_that_ran() {
    let cache = tempfile::tempdir().unwrap();
    let dir = cached_hook_dir(cache.path()).unwrap();
    let python = crate::python::query_interpreter(Path::new("python3")).unwrap();
    let interpreter = RuntimeInterpreter {
        language: Language::Python,
        executable: python.executable.clone(),
        implementation: python.implementation.clone(),
        version: python.version.clone(),
        prefix: python.prefix.clone(),
        build: Default::default(),
    };
    precompile_hook(&dir, &interpreter);
    let mut numbers = python.version.split('.');
    let tag = format!(
        "{}-{}{}",
        python.implementation,
        numbers.next().unwrap(),
        numbers.next().unwrap()
    );
    for name in ["sitecustomize", "_runbom_enforce"] {
        let compiled = dir.join(format!("__pycache__/{name}.{tag}.pyc"));
        assert!(compiled.exists(), "{}", compiled.display());
    }
}

/// After a Ruby program's run the hook is not "compiled" by running Ruby on `py_compile` (one
/// wasted interpreter start per run): only a Python compiles the Python hook.
#[test]
fn only_a_python_precompiles_the_hook() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    let interpreter = dir.path().join("interpreter");
    // Written by another process, so no descriptor of this one can keep it busy (ETXTBSY).
    let script = format!("#!/bin/sh\ntouch '{}'\n", marker.display());
    let written = std::process::Command::new("sh")
        .args(["-c", "printf '%s' \"$1\" > \"$2\" && chmod +x \"$2\"", "sh"])
        .arg(&script)
        .arg(&interpreter)
        .status()
        .expect("sh runs");
    assert!(written.success());
    let described = |language| RuntimeInterpreter {
        language,
        executable: interpreter.clone(),
        implementation: "ruby".to_owned(),
        version: "3.1.2".to_owned(),
        prefix: dir.path().to_owned(),
        build: Default::default(),
    };
    precompile_hook(dir.path(), &described(Language::Ruby));
    assert!(
        !marker.exists(),
        "Ruby was asked to compile the Python hook"
    );
    precompile_hook(dir.path(), &described(Language::Python));
    assert!(marker.exists(), "a Python is asked");
}

#[test]
fn observation_names_are_a_pid_or_a_pid_and_the_start_of_a_replaced_program() {
    for name in ["p12.json", "p12-1765000000123456.json"] {
        assert!(is_observation_name(name), "{name}");
    }
    for name in [
        "p.json",
        "p12-.json",
        "p-12.json",
        "p12-3-4.json",
        "p12.json.tmp",
        "perl-12.json",
        "px.json",
    ] {
        assert!(!is_observation_name(name), "{name}");
    }
}

#[test]
fn a_module_a_native_extension_creates_belongs_to_the_extensions_distribution() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("lib/python3.11/site-packages");
    let so = "speedups/_speedups.cpython-311-x86_64-linux-gnu.so";
    fs::create_dir_all(site.join("speedups")).unwrap();
    fs::create_dir_all(site.join("speedups-1.0.dist-info")).unwrap();
    // What Cython writes into every extension: the modules it adds to `sys.modules` by name,
    // the ABI module's also as the prefix of its types' names.
    let binary = b"\x7fELF\0_cython_3_0_11.cython_function_or_method\0cython_runtime\0\0_cython_3_0_11\0__main__\0";
    fs::write(site.join(so), binary).unwrap();
    fs::write(
        site.join("speedups-1.0.dist-info/RECORD"),
        format!("{so},,\nspeedups-1.0.dist-info/RECORD,,\n"),
    )
    .unwrap();
    fs::write(
        site.join("speedups-1.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: speedups\nVersion: 1.0\n",
    )
    .unwrap();
    let inventory = venv_inventory(dir.path(), site.clone());
    let process = observation(
        10,
        1,
        vec![
            ("speedups._speedups", Some(site.join(so))),
            ("cython_runtime", None),
            ("_cython_3_0_11", None),
            ("_cython_3_1_4", None),
            ("sys", None),
            ("__main__", None),
        ],
    );
    let report = build_report(
        &[(&process, &inventory)],
        &inventory,
        ReportContext::default(),
        &HashCache::default(),
    );
    let speedups = &report.distributions[0];
    let names: Vec<&str> = speedups.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["_cython_3_0_11", "cython_runtime", "speedups._speedups"]
    );
    let unowned: Vec<&str> = report
        .unowned_modules
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(
        unowned,
        ["__main__", "_cython_3_1_4"],
        "named by no loaded extension, or by all (`__main__`)"
    );
    assert_eq!(report.stdlib_modules, ["sys"]);
}

#[test]
fn a_namespace_package_belongs_to_the_distribution_that_fills_it() {
    let (dir, inventory) = site();
    let site = dir.path().join("lib/python3.11/site-packages");
    // `demo` seen as a namespace package (no file of its own): its submodule is Demo's.
    let process = observation(
        10,
        1,
        vec![
            ("demo", None),
            ("demo.core", Some(site.join("demo/core.py"))),
        ],
    );
    let report = build_report(
        &[(&process, &inventory)],
        &inventory,
        ReportContext::default(),
        &HashCache::default(),
    );
    let names: Vec<&str> = report.distributions[0]
        .modules
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["demo", "demo.core"]);
    assert!(report.unowned_modules.is_empty());
}
