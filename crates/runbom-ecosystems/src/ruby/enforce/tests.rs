use std::fs;
use std::path::PathBuf;

use runbom_model::enforce::{
    DistributionVerdict, EnforceMode, EnforceRule, EnforcementPlan, FailPolicy, RuleSetting,
    Verdict,
};

use super::*;
use crate::ruby::inventory::RubyInterpreter;

fn gem(dir: &Path, name: &str, default: bool) -> InstalledGem {
    let gem_dir = dir.join(format!("gems/{name}-1.0"));
    fs::create_dir_all(gem_dir.join("lib")).unwrap();
    let file = gem_dir.join(format!("lib/{name}.rb"));
    fs::write(&file, "module X; end\n").unwrap();
    InstalledGem {
        name: name.to_owned(),
        version: "1.0".to_owned(),
        platform: "ruby".to_owned(),
        licenses: Vec::new(),
        summary: None,
        location: dir.to_owned(),
        spec_path: dir.join(format!("specifications/{name}-1.0.gemspec")),
        gem_dir,
        default,
        vendored: false,
        dependencies: Vec::new(),
        size: 14,
        files: vec![file, dir.join("gems/README")],
    }
}

fn plan(gems: &[&InstalledGem], refused: &str) -> EnforcementPlan {
    EnforcementPlan {
        mode: EnforceMode::Enforce,
        fail: FailPolicy::Closed,
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
        expected: "Gemfile.lock".to_owned(),
        distributions: gems
            .iter()
            .map(|g| DistributionVerdict {
                name: g.name.clone(),
                version: g.version.clone(),
                location: g.gem_dir.clone(),
                verdict: if g.name == refused {
                    Verdict::Refused {
                        rule: EnforceRule::Listed,
                        why: "not in the expected inventory `Gemfile.lock`".to_owned(),
                        line: 0,
                    }
                } else {
                    Verdict::Allowed
                },
            })
            .collect(),
    }
}

#[test]
fn an_allowed_gems_files_have_their_stat_and_a_refused_gem_only_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (rack, extra, json) = (
        gem(dir.path(), "rack", false),
        gem(dir.path(), "extra", false),
        gem(dir.path(), "json", true),
    );
    let inventory = GemInventory {
        schema: String::new(),
        interpreter: RubyInterpreter {
            executable: "/usr/bin/ruby3.1".into(),
            version: "3.1.2".to_owned(),
            prefix: "/usr".into(),
            library_dirs: vec!["/usr/lib/ruby/3.1.0".into()],
            ..RubyInterpreter::default()
        },
        gems: vec![rack.clone(), extra.clone(), json.clone()],
        problems: Vec::new(),
    };
    let (text, summary) = table_text(&plan(&[&rack, &extra, &json], "extra"), &inventory);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "runbom-enforce/1");
    assert_eq!(lines[1], "interpreter\t/usr/bin/ruby3.1\t3.1.2\t/usr");
    assert!(lines.contains(&"stdlib\t/usr/lib/ruby/3.1.0/"));
    assert!(lines.contains(&"dist\t0\track\t1.0\tallowed\t-\t0\t-"));
    assert!(lines.contains(
        &"dist\t1\textra\t1.0\trefused\tlisted\t0\tnot in the expected inventory `Gemfile.lock`"
    ));
    assert!(
        !text.contains("json"),
        "a default gem is Ruby's own: {text}"
    );
    let rack_dir = format!("gemdir\t0\t{}/", rack.gem_dir.display());
    assert!(lines.contains(&rack_dir.as_str()), "{text}");
    let meta = fs::metadata(&rack.files[0]).unwrap();
    let rack_file = format!(
        "f\t{}\t0\t{}\t{}\t{}\t-",
        rack.files[0].display(),
        meta.size(),
        mtime_ns(&meta),
        meta.ino()
    );
    assert!(lines.contains(&rack_file.as_str()), "{text}");
    assert!(!text.contains("extra.rb"), "{text}");
    assert_eq!(*lines.last().unwrap(), format!("end\t{}", lines.len() - 1));
    assert_eq!(
        (summary.distributions, summary.refused, summary.files),
        (2, 1, 1)
    );
}
