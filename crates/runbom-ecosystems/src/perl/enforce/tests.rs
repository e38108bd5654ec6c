use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use runbom_model::enforce::{
    DistributionVerdict, EnforceMode, EnforceRule, EnforcementPlan, FailPolicy, RuleSetting,
    Verdict,
};

use super::*;
use crate::perl::inventory::{PerlInfo, Source};

fn dist(lib: &Path, name: &str, module: &str) -> PerlDistribution {
    let file = lib.join(format!("{module}.pm"));
    fs::write(&file, "package X; 1;\n").unwrap();
    PerlDistribution {
        name: name.to_owned(),
        version: "1.0".to_owned(),
        source: Source::Packlist,
        main_module: Some(module.to_owned()),
        debian_package: None,
        location: lib.to_owned(),
        metadata_path: lib.join("auto/.packlist"),
        license: Vec::new(),
        files: vec![file, lib.join("README")],
    }
}

/// Every installed distribution gets a `dist` line; an allowed one's module files their stat, a
/// refused one's only their owner; perl's own files a `core` line per directory; a file below a
/// directory `@INC` names through a link is written under both names.
#[test]
fn the_table_names_every_module_file_as_the_hook_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("5.36.0");
    fs::create_dir_all(&real).unwrap();
    let linked = dir.path().join("5.36");
    std::os::unix::fs::symlink(&real, &linked).unwrap();
    let (uri, extra) = (dist(&real, "URI", "URI"), dist(&real, "Extra", "Extra"));
    let core = real.join("strict.pm");
    fs::write(&core, "1;\n").unwrap();
    let inventory = PerlInventory {
        schema: String::new(),
        perl: PerlInfo {
            executable: "/usr/bin/perl".into(),
            version: "5.36.0".to_owned(),
            inc: vec![linked.clone()],
        },
        distributions: vec![uri.clone(), extra.clone()],
        core_files: BTreeSet::from([core.clone(), real.join("strict.pod")]),
        problems: Vec::new(),
    };
    let plan = EnforcementPlan {
        mode: EnforceMode::Enforce,
        fail: FailPolicy::Open,
        rules: EnforceRule::ALL
            .into_iter()
            .map(|rule| RuleSetting {
                rule,
                on: true,
                line: 0,
            })
            .collect(),
        first_party: vec![PathBuf::from("/app")],
        config: None,
        expected: "cpanfile.snapshot".to_owned(),
        distributions: [&uri, &extra]
            .iter()
            .map(|d| DistributionVerdict {
                name: d.name.clone(),
                version: d.version.clone(),
                location: d.location.clone(),
                verdict: if d.name == "Extra" {
                    Verdict::Refused {
                        rule: EnforceRule::Listed,
                        why: "not in the expected inventory `cpanfile.snapshot`".to_owned(),
                        line: 0,
                    }
                } else {
                    Verdict::Allowed
                },
            })
            .collect(),
    };
    let (text, summary) = table_text(&plan, &inventory);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "runbom-enforce/1");
    assert_eq!(lines[1], "interpreter\t/usr/bin/perl\t5.36.0\t/usr");
    assert!(
        lines.contains(&"dist\t0\tURI\t1.0\tallowed\t-\t0\t-"),
        "{text}"
    );
    assert!(lines.contains(
        &"dist\t1\tExtra\t1.0\trefused\tlisted\t0\tnot in the expected inventory `cpanfile.snapshot`"
    ));
    for shown in [&real, &linked] {
        let line = format!("core\t{}\tstrict.pm", shown.display());
        assert!(lines.contains(&line.as_str()), "{text}");
    }
    assert!(!text.contains("strict.pod"), "{text}");
    let meta = fs::metadata(&uri.files[0]).unwrap();
    for shown in [uri.files[0].clone(), linked.join("URI.pm")] {
        let line = format!(
            "f\t{}\t0\t{}\t{}\t{}\t-",
            shown.display(),
            meta.size(),
            mtime_ns(&meta),
            meta.ino()
        );
        assert!(lines.contains(&line.as_str()), "{text}");
    }
    let refused = format!("f\t{}\t1\t-\t-\t-\t-", linked.join("Extra.pm").display());
    assert!(lines.contains(&refused.as_str()), "{text}");
    assert!(!text.contains("README"), "{text}");
    assert_eq!(*lines.last().unwrap(), format!("end\t{}", lines.len() - 1));
    assert_eq!(
        (summary.distributions, summary.refused, summary.files),
        (2, 1, 2)
    );
}
