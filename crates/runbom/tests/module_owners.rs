//! Modules that have no file of their own belong to the distribution that made them, on real
//! packages from PyPI: the `cython_runtime` and `_cython_3_x_y` modules that every
//! Cython-compiled extension adds to `sys.modules` (msgpack and PyYAML built with Cython 3.0.11,
//! frozenlist with 3.1) are owned by a distribution whose extension created them, never reported
//! as unknown code. The venv is built once from PyPI and cached under the target directory;
//! without PyPI the test is skipped with the reason.

use serde_json::Value;

mod common;

const REQUIREMENTS: &[&str] = &["msgpack==1.1.0", "PyYAML==6.0.2", "frozenlist==1.8.0"];

/// The Cython modules the program's extensions made, as Python itself lists them.
const PROGRAM: &str = "\
import sys
import msgpack, yaml, frozenlist
assert msgpack._cmsgpack and yaml.__with_libyaml__ and frozenlist._frozenlist
print(' '.join(sorted(m for m in sys.modules if 'cython' in m)))
";

fn owners_of(report: &Value) -> Vec<(String, String)> {
    let mut owners = Vec::new();
    for dist in report["distributions"].as_array().expect("distributions") {
        for module in dist["modules"].as_array().expect("modules") {
            let name = module["name"].as_str().expect("name");
            if name.contains("cython") {
                owners.push((name.to_owned(), dist["name"].as_str().expect("name").into()));
            }
        }
    }
    owners.sort();
    owners
}

#[test]
fn cython_extensions_own_the_modules_they_create() {
    let Some(venv) = common::cached_venv("cython", "python3", REQUIREMENTS) else {
        return;
    };
    let tmp = tempfile::tempdir().expect("tempdir");
    let report = tmp.path().join("r.json");
    let out = common::runbom()
        .env_remove("RUNBOM_SESSION_DIR")
        .env_remove("RUNBOM_DISABLE")
        .env_remove("PYTHONPATH")
        .current_dir(tmp.path())
        .args(["run", "--report"])
        .arg(&report)
        .arg("--")
        .arg(venv.join("bin/python"))
        .args(["-c", PROGRAM])
        .output()
        .expect("runbom run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "_cython_3_0_11 _cython_3_1_4 cython_runtime\n"
    );
    let report: Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    let unowned: Vec<&str> = report["unowned_modules"]
        .as_array()
        .expect("unowned")
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert_eq!(unowned, ["__main__"], "nothing but the program is unowned");
    // msgpack is imported first: it made Cython 3.0.11's modules, which PyYAML then shared;
    // frozenlist, of Cython 3.1, made its own ABI module.
    assert_eq!(
        owners_of(&report),
        [
            ("_cython_3_0_11".to_owned(), "msgpack".to_owned()),
            ("_cython_3_1_4".to_owned(), "frozenlist".to_owned()),
            ("cython_runtime".to_owned(), "msgpack".to_owned()),
        ]
    );
}
