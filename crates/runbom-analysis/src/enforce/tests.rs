//! The enforcement plan on a hand-made inventory, expected inventory and `runbom.toml`.

use std::path::PathBuf;

use runbom_model::PackageName;
use runbom_model::expected::{ExpectedComponent, ExpectedVersion, SourceLocation};
use runbom_model::inventory::{InstalledDistribution, Interpreter, MetadataFormat};

use super::*;

const SITE: &str = "/venv/lib/python3.11/site-packages";

fn installed(name: &str, version: &str) -> InstalledDistribution {
    InstalledDistribution {
        name: name.to_owned(),
        normalized_name: PackageName::pypi(name),
        version: version.to_owned(),
        license: Default::default(),
        location: PathBuf::from(SITE),
        metadata_path: PathBuf::from(format!("{SITE}/{name}-{version}.dist-info")),
        format: MetadataFormat::DistInfo,
        installer: None,
        summary: None,
        requires_dist: Vec::new(),
        top_level: Vec::new(),
        editable: None,
        size: 0,
        shadowed: false,
        files: Vec::new(),
    }
}

fn inventory(distributions: Vec<InstalledDistribution>) -> Inventory {
    Inventory {
        schema: "runbom.inventory/v1".to_owned(),
        interpreter: Interpreter::default(),
        distributions,
        problems: Vec::new(),
    }
}

fn pinned(pins: &[(&str, ExpectedVersion)]) -> ExpectedInventory {
    ExpectedInventory {
        format: "python/requirements".to_owned(),
        source: "requirements.txt".to_owned(),
        components: pins
            .iter()
            .enumerate()
            .map(|(i, (name, version))| ExpectedComponent {
                ecosystem: Some(Ecosystem::PyPi),
                raw_name: (*name).to_owned(),
                name: PackageName::pypi(name),
                version: version.clone(),
                purl: None,
                hashes: Vec::new(),
                licenses: Vec::new(),
                marker: None,
                location: SourceLocation {
                    file: "requirements.txt".to_owned(),
                    line: Some(i + 1),
                    path: None,
                },
            })
            .collect(),
        checksum_file: None,
        lists_unbuilt: false,
    }
}

fn exact(v: &str) -> ExpectedVersion {
    ExpectedVersion::Exact(v.to_owned())
}

fn verdicts(plan: &EnforcementPlan) -> Vec<(String, Verdict)> {
    plan.distributions
        .iter()
        .map(|d| (d.name.clone(), d.verdict.clone()))
        .collect()
}

#[test]
fn listed_versions_are_allowed_and_the_rest_refused_with_the_rule_line() {
    let config = runbom_config::parse(
        "runbom.toml",
        "[enforce]\nmode = \"monitor\"\nlisted = true\n",
    )
    .unwrap();
    let inv = inventory(vec![
        installed("Flask", "3.0.0"),
        installed("PyYAML", "6.0.1"),
        installed("evil", "1.0"),
        installed("pip", "24.0"),
    ]);
    let expected = pinned(&[("flask", exact("3.0")), ("pyyaml", exact("6.0"))]);
    let plan = plan(&expected, &inv, &config, None, None);
    assert_eq!(plan.mode, EnforceMode::Monitor);
    assert_eq!(
        verdicts(&plan),
        [
            ("Flask".to_owned(), Verdict::Allowed),
            (
                "PyYAML".to_owned(),
                Verdict::Refused {
                    rule: EnforceRule::Listed,
                    why: "version 6.0.1 but `requirements.txt` expects ==6.0".to_owned(),
                    line: 3,
                }
            ),
            (
                "evil".to_owned(),
                Verdict::Refused {
                    rule: EnforceRule::Listed,
                    why: "not in the expected inventory `requirements.txt`".to_owned(),
                    line: 3,
                }
            ),
            ("pip".to_owned(), Verdict::Allowed),
        ]
    );
}

#[test]
fn a_ban_wins_over_a_listing_and_rules_can_be_off() {
    let text = "[bans]\ndeny = [{ name = \"PyYAML\", versions = \"<7\", reason = \"unsafe load\" }]\n\
                [enforce]\nlisted = false\nintegrity = false\n";
    let config = runbom_config::parse("runbom.toml", text).unwrap();
    let inv = inventory(vec![installed("PyYAML", "6.0"), installed("other", "1")]);
    let expected = pinned(&[("pyyaml", exact("6.0"))]);
    let dir = PathBuf::from("/app");
    let place = ConfigPlace {
        name: "runbom.toml",
        dir: &dir,
    };
    let plan = plan(
        &expected,
        &inv,
        &config,
        Some(place),
        Some(EnforceMode::Monitor),
    );
    assert_eq!(
        verdicts(&plan)[0].1,
        Verdict::Refused {
            rule: EnforceRule::Bans,
            why: "banned (versions `<7`): unsafe load".to_owned(),
            line: 2,
        }
    );
    assert_eq!(verdicts(&plan)[1].1, Verdict::Allowed, "listed is off");
    assert!(!plan.is_on(EnforceRule::Integrity));
    assert_eq!(plan.line_of(EnforceRule::Integrity), 5);
    assert_eq!(plan.config.as_deref(), Some("runbom.toml"));
}

#[test]
fn first_party_directories_are_read_against_the_config_directory() {
    let config = runbom_config::parse(
        "runbom.toml",
        "[enforce]\nfirst-party = [\"./src\", \"/opt/app\"]\n",
    )
    .unwrap();
    let dir = PathBuf::from("/srv/shop");
    let place = ConfigPlace {
        name: "/srv/shop/runbom.toml",
        dir: &dir,
    };
    let plan = plan(&pinned(&[]), &inventory(vec![]), &config, Some(place), None);
    assert_eq!(
        plan.first_party,
        [PathBuf::from("/srv/shop/src"), PathBuf::from("/opt/app")]
    );
    assert_eq!(plan.mode, EnforceMode::Enforce, "the default");
    assert_eq!(plan.fail, FailPolicy::Open, "the default");
}
