//! The table on a hand-made site directory, and the hook's parser of it fed damaged tables.

use std::path::PathBuf;
use std::process::Command;

use base64::Engine;
use proptest::prelude::*;
use runbom_model::enforce::{DistributionVerdict, EnforceRule, RuleSetting};
use runbom_model::inventory::Interpreter;
use sha2::{Digest, Sha256};

use super::*;

/// A site dir with `demo` (allowed; `core.py` changed after install) and `evil` (refused).
fn site() -> (tempfile::TempDir, Inventory) {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("lib/python3.11/site-packages");
    let record_line = |rel: &str, text: &str| {
        let digest = Sha256::digest(text.as_bytes());
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        format!("{rel},sha256={b64},{}\n", text.len())
    };
    for (name, files) in [
        (
            "demo",
            vec![
                ("__init__.py", "x = 1\n", "x = 1\n"),
                ("core.py", "y = 2\n", "tampered\n"),
            ],
        ),
        ("evil", vec![("__init__.py", "boom\n", "boom\n")]),
    ] {
        fs::create_dir_all(site.join(name)).unwrap();
        let info = site.join(format!("{name}-1.0.dist-info"));
        fs::create_dir_all(&info).unwrap();
        let mut record = String::new();
        for (file, recorded, on_disk) in files {
            fs::write(site.join(name).join(file), on_disk).unwrap();
            record += &record_line(&format!("{name}/{file}"), recorded);
        }
        record += &format!("{name}-1.0.dist-info/RECORD,,\n");
        fs::write(info.join("RECORD"), record).unwrap();
        fs::write(
            info.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n"),
        )
        .unwrap();
    }
    let interpreter = Interpreter {
        executable: dir.path().join("bin/python"),
        implementation: "cpython".into(),
        version: "3.11.7".into(),
        prefix: dir.path().to_owned(),
        base_prefix: PathBuf::from("/usr"),
        sys_path: vec![site],
        user_site: None,
        is_venv: true,
    };
    let inventory = super::super::read_inventory(&interpreter, &[]);
    (dir, inventory)
}

fn plan(inventory: &Inventory) -> EnforcementPlan {
    EnforcementPlan {
        mode: EnforceMode::Enforce,
        fail: FailPolicy::Closed,
        rules: EnforceRule::ALL
            .into_iter()
            .map(|rule| RuleSetting {
                rule,
                on: true,
                line: 7,
            })
            .collect(),
        first_party: vec![PathBuf::from("/srv/app")],
        config: Some("runbom.toml".to_owned()),
        expected: "requirements.txt".to_owned(),
        distributions: inventory
            .active()
            .map(|d| DistributionVerdict {
                name: d.name.clone(),
                version: d.version.clone(),
                location: d.location.clone(),
                verdict: if d.name == "evil" {
                    Verdict::Refused {
                        rule: EnforceRule::Listed,
                        why: "not in the expected inventory `requirements.txt`".to_owned(),
                        line: 7,
                    }
                } else {
                    Verdict::Allowed
                },
            })
            .collect(),
    }
}

#[test]
fn the_table_holds_the_plan_and_the_stat_of_each_unchanged_file() {
    let (dir, inventory) = site();
    let hashes = HashCache::open(None);
    let path = dir.path().join("enforce.tsv");
    let summary = write_table(&path, &plan(&inventory), &inventory, &hashes).unwrap();
    assert_eq!(
        (summary.distributions, summary.refused, summary.files),
        (2, 1, 3)
    );
    let core = inventory.distributions[0].location.join("demo/core.py");
    assert_eq!(summary.changed, [core]);
    let text = fs::read_to_string(&path).unwrap();
    let root = dir.path().display().to_string();
    let shown = text.replace(&root, "[DIR]");
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines[0], TABLE_HEADER);
    assert_eq!(lines[1], "interpreter\t[DIR]/bin/python\t3.11.7\t[DIR]");
    assert_eq!(
        &lines[2..6],
        [
            "mode\tenforce",
            "fail\tclosed",
            "config\trunbom.toml",
            "expected\trequirements.txt"
        ]
    );
    assert!(lines.contains(&"rule\tintegrity\t1\t7"));
    assert!(lines.contains(&"first-party\t/srv/app"));
    assert!(lines.contains(&"dist\t0\tdemo\t1.0\tallowed\t-\t0\t-"));
    assert!(lines.contains(
        &"dist\t1\tevil\t1.0\trefused\tlisted\t7\tnot in the expected inventory `requirements.txt`"
    ));
    let file_line = |rel: &str| {
        lines
            .iter()
            .find(|l| l.starts_with(&format!("f\t[DIR]/lib/python3.11/site-packages/{rel}\t")))
            .map(|l| l.split('\t').skip(2).collect::<Vec<_>>())
            .unwrap()
    };
    let init = file_line("demo/__init__.py");
    let meta = fs::metadata(inventory.distributions[0].location.join("demo/__init__.py")).unwrap();
    assert_eq!(
        init[..4],
        [
            "0",
            &meta.size().to_string(),
            &mtime_ns(&meta).to_string(),
            &meta.ino().to_string()
        ]
    );
    assert_eq!(init[4], hex::encode(Sha256::digest(b"x = 1\n")));
    let core = file_line("demo/core.py");
    assert_eq!(
        core[..4],
        ["0", "-", "-", "-"],
        "changed before the table: the hook hashes it"
    );
    assert_eq!(
        file_line("evil/__init__.py")[..4],
        ["1", "-", "-", "-"],
        "refused: no stat needed"
    );
    assert_eq!(*lines.last().unwrap(), format!("end\t{}", lines.len() - 1));
}

/// The hook, importable under another name (it does nothing at import with `RUNBOM_DISABLE`),
/// with its enforcement half beside it.
fn hook_module(dir: &Path) -> PathBuf {
    super::super::runtime::write_hook(dir, "enforce_hook_under_test.py").unwrap();
    dir.to_owned()
}

/// Runs the hook's table parser on every text; returns what each gave: `ok`, or the
/// `_TableError` message. Any other exception fails the test (it would be a traceback in the host).
fn parse_with_hook(texts: &[String]) -> Option<Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    let module_dir = hook_module(dir.path());
    let input = dir.path().join("tables.json");
    fs::write(&input, serde_json::to_string(texts).unwrap()).unwrap();
    let script = r#"
import json, sys
import enforce_hook_under_test as hook
hook._load_enforcement_code()
out = []
for text in json.load(open(sys.argv[1])):
    try:
        hook._parse_table('t.tsv', text)
        out.append('ok')
    except hook._TableError as err:
        out.append(str(err))
print(json.dumps(out))
"#;
    let output = Command::new("python3")
        .args(["-S", "-c", script])
        .arg(&input)
        .env("PYTHONPATH", module_dir)
        .env("RUNBOM_DISABLE", "1")
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "the parser raised something else than _TableError:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

fn real_table() -> (tempfile::TempDir, String) {
    let (dir, inventory) = site();
    let (text, _) = table_text(&plan(&inventory), &inventory, &HashCache::open(None));
    (dir, text)
}

#[test]
fn the_hook_reads_a_whole_table_and_names_the_line_of_a_broken_one() {
    let (_dir, text) = real_table();
    let truncated = text[..text.len() / 2].to_owned();
    let bad_record = text.replacen("mode\tenforce", "mode\tstrict", 1);
    let other = "not a table\n".to_owned();
    let Some(results) = parse_with_hook(&[text, truncated, bad_record, other]) else {
        return; // no python3 here
    };
    assert_eq!(results[0], "ok");
    assert!(
        results[1].starts_with("`t.tsv` is truncated"),
        "{}",
        results[1]
    );
    assert_eq!(results[2], "`t.tsv` line 3: unreadable `mode` record");
    assert!(
        results[3].starts_with("`t.tsv` line 1: not a runbom enforcement table"),
        "{}",
        results[3]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4))]

    /// 64 damaged copies of a real table per case, parsed in one interpreter: the parser
    /// answers `ok` or a `_TableError`, never another exception.
    #[test]
    fn a_damaged_table_is_refused_cleanly(
        damages in proptest::collection::vec(
            (any::<prop::sample::Index>(), any::<u8>(), any::<bool>()), 64),
    ) {
        let (_dir, text) = real_table();
        let texts: Vec<String> = damages
            .iter()
            .map(|(at, byte, cut)| {
                let at = at.index(text.len());
                let mut bytes = text.as_bytes().to_vec();
                if *cut {
                    bytes.truncate(at);
                } else {
                    bytes[at] = *byte;
                }
                String::from_utf8_lossy(&bytes).into_owned()
            })
            .collect();
        if let Some(results) = parse_with_hook(&texts) {
            prop_assert_eq!(results.len(), texts.len());
        }
    }
}
