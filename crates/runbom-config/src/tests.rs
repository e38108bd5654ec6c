use super::*;
use crate::policy::{Level, Severity};

const VALID: &str = include_str!("../../../runbom.template.toml");

#[test]
fn template_is_valid() {
    let config = parse("runbom.toml", VALID).unwrap_or_else(|e| panic!("{e}"));
    assert!(!config.licenses.allow.is_empty());
    assert_eq!(config.licenses.unknown.value, Level::Deny);
    assert_eq!(
        config.advisories.severity_threshold.map(|s| s.value),
        Some(Severity::Medium)
    );
    assert!(config.bans.deny.iter().any(|b| b.versions.is_some()));
    assert!(!config.versions.minimum.is_empty());
    assert!(config.freshness.max_days_behind.is_some());
}

#[test]
fn empty_file_is_the_default_policy() {
    let config = parse("runbom.toml", "").expect("empty config is valid");
    assert!(config.licenses.allow.is_empty());
    assert!(config.bans.allow.is_none());
}

#[test]
fn origin_points_at_the_value() {
    let config = parse(
        "runbom.toml",
        "[licenses]\nallow = [\n  \"MIT\",\n  \"Apache-2.0\",\n]\n",
    )
    .expect("valid");
    let origin = config.licenses.allow[1].origin;
    assert_eq!(
        (origin.line, origin.column),
        (4, 4),
        "the span starts inside the quotes"
    );
}

#[test]
fn invalid_file_reports_every_problem_with_carets() {
    let text = "\
[licenses]
allow = [\"MIT\", \"Apache2\"]
unknown = \"deny\"
colour = \"blue\"

[bans]
deny = [{ name = \"pycrypto\", versions = \"<<3\", reason = \"unmaintained\" }]

[versions]
minimum = [{ name = \"urllib3\", version = \"2.two\" }]

[advisories]
ignore = [{ id = \"GHSA-xxxx\", reason = \"not reachable\", expires = \"2026-02-30\" }]
";
    let err = parse("runbom.toml", text).expect_err("invalid");
    assert_eq!(err.len(), 5, "{}", err.render());
    insta::assert_snapshot!(err.render());
}

#[test]
fn wrong_types_and_missing_fields_are_reported() {
    let text =
        "[versions]\nminimum = [{ version = \"1\" }]\n[freshness]\nmax-days-behind = \"ten\"\n";
    let err = parse("runbom.toml", text).expect_err("invalid");
    let rendered = err.render();
    assert!(rendered.contains("name"), "{rendered}");
    assert!(rendered.contains("runbom.toml:4:"), "{rendered}");
}

#[test]
fn toml_syntax_error_is_a_diagnostic() {
    let err = parse("runbom.toml", "[licenses\n").expect_err("invalid");
    assert!(err.render().contains("runbom.toml:1:"), "{}", err.render());
}

#[test]
fn dates_are_checked() {
    use crate::validate::parse_date;
    assert!(parse_date("2024-02-29").is_some());
    assert!(parse_date("2023-02-29").is_none());
    assert!(parse_date("2023-13-01").is_none());
    assert!(parse_date("2023-1-01").is_none());
}

#[test]
fn source_spans_cover_the_value_at_an_origin() {
    let dir = std::env::temp_dir().join(format!("runbom-config-span-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("runbom.toml");
    std::fs::write(
        &path,
        "[licenses]\nallow = [\"MIT\", \"Apache-2.0\"]\n[freshness]\nmax-days-behind = 30\n",
    )
    .expect("write");
    let (config, source) = load_with_source(&path).expect("valid");
    let text = std::fs::read_to_string(&path).expect("read");
    let origin = config.licenses.allow[1].origin;
    let span = source.span(origin.line, origin.column).expect("span");
    assert_eq!(&text[span], "Apache-2.0");
    let origin = config.freshness.max_days_behind.expect("set").origin;
    let span = source.span(origin.line, origin.column).expect("span");
    assert_eq!(&text[span], "30");
    assert!(source.span(99, 1).is_none());
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

#[test]
fn enforce_section_keeps_each_setting_and_its_line() {
    use crate::policy::{EnforceMode, EnforceRule, FailPolicy};
    let text = "[enforce]\nmode = \"enforce\"\nfail = \"closed\"\nfirst-party = [\"src\"]\nintegrity = false\n";
    let config = parse("runbom.toml", text).expect("valid");
    let enforce = &config.enforce;
    assert_eq!(
        enforce.mode.as_ref().map(|m| (m.value, m.origin.line)),
        Some((EnforceMode::Enforce, 2))
    );
    assert_eq!(
        enforce.fail.as_ref().map(|f| f.value),
        Some(FailPolicy::Closed)
    );
    assert_eq!(enforce.first_party[0].value, "src");
    assert_eq!(enforce.rules.len(), 1);
    assert_eq!(enforce.rules[0].0, EnforceRule::Integrity);
    assert_eq!(
        (enforce.rules[0].1.value, enforce.rules[0].1.origin.line),
        (false, 5)
    );
}

#[test]
fn enforce_section_bad_values_point_at_them() {
    let text = "[enforce]\nmode = \"strict\"\nfail = \"shut\"\nlisted = \"yes\"\n";
    let err = parse("runbom.toml", text).expect_err("invalid");
    let rendered = err.render();
    assert_eq!(err.len(), 3, "{rendered}");
    assert!(
        rendered.contains("`strict` is not an enforcement mode"),
        "{rendered}"
    );
    assert!(rendered.contains("runbom.toml:2:9"), "{rendered}");
    assert!(
        rendered.contains("`shut` is not a failure policy"),
        "{rendered}"
    );
    assert!(rendered.contains("runbom.toml:4:"), "{rendered}");
}

#[test]
fn redact_adds_names_and_patterns_and_points_at_a_bad_pattern() {
    let config = parse(
        "runbom.toml",
        "[redact]\nnames = [\"dsn\"]\npatterns = ['sk_live_\\w+']\n",
    )
    .expect("valid");
    let mut argv = vec![
        "app".to_owned(),
        "--dsn".to_owned(),
        "x".to_owned(),
        "sk_live_abc".to_owned(),
    ];
    config.redact.redact_argv(&mut argv);
    assert_eq!(argv, ["app", "--dsn", "***", "***"]);

    let err =
        parse("runbom.toml", "[redact]\npatterns = ['ok', '(unclosed']\n").expect_err("invalid");
    let rendered = err.render();
    assert!(
        rendered.contains("`(unclosed` is not a regular expression"),
        "{rendered}"
    );
    assert!(rendered.contains("runbom.toml:2:"), "{rendered}");
    assert!(rendered.contains("unclosed group"), "{rendered}");
}
