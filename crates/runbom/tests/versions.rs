//! `runbom versions sort` and `runbom versions contains` through the binary.

#![allow(clippy::unwrap_used)]

use assert_cmd::Command;

/// Runs runbom with `stdin`, returning `exit code`, stdout and stderr in one snapshot-able text.
fn run(args: &[&str], stdin: &str) -> String {
    let output = Command::cargo_bin("runbom")
        .unwrap()
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn sort_pypi() {
    insta::assert_snapshot!(run(&["versions", "sort", "--ecosystem", "PyPI"], "1.0\n1.0.post1\n\n1!0.1\n1.0rc1\n1.0.dev0\n1.0+local\n0.9\n"), @r"
    exit: 0
    --- stdout
    0.9
    1.0.dev0
    1.0rc1
    1.0
    1.0+local
    1.0.post1
    1!0.1
    --- stderr
    ");
}

/// A real PyPI release wider than a `u64`, ordered as `packaging` orders it.
#[test]
fn sort_pypi_release_numbers_of_any_size() {
    insta::assert_snapshot!(run(&["versions", "sort", "--ecosystem", "PyPI"], "20210609131134657401\n2021.6.9\n18446744073709551616rc1\n20210609131134657400.post1\n"), @r"
    exit: 0
    --- stdout
    2021.6.9
    18446744073709551616rc1
    20210609131134657400.post1
    20210609131134657401
    --- stderr
    ");
}

#[test]
fn sort_go_mixes_v_prefixes_and_pseudo_versions() {
    insta::assert_snapshot!(run(&["versions", "sort", "-e", "go"], "v1.10.0\n1.9.0\nv1.9.1-0.20220101000000-abcdef123456\nv2.0.0+incompatible\n0.0.0-20200101000000-abcdef123456\n"), @r"
    exit: 0
    --- stdout
    0.0.0-20200101000000-abcdef123456
    1.9.0
    v1.9.1-0.20220101000000-abcdef123456
    v1.10.0
    v2.0.0+incompatible
    --- stderr
    ");
}

#[test]
fn sort_names_the_bad_line() {
    insta::assert_snapshot!(run(&["versions", "sort", "-e", "npm"], "1.0.0\n\n1.02.0\n"), @r"
    exit: 2
    --- stdout
    --- stderr
    error: stdin line 3: invalid npm version `1.02.0`: leading zeros are not allowed
        1.02.0
          ^^
    ");
}

#[test]
fn contains_pep440_specifier() {
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "PyPI", "--range", ">=1.0,<2.0", "1.5"], ""), @r"
    exit: 0
    --- stdout
    1.5 satisfies `>=1.0,<2.0`
    --- stderr
    ");
    // `<2.0` excludes pre-releases of 2.0 (PEP 440, as `packaging` does).
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "PyPI", "--range", ">=1.0,<2.0", "2.0rc1"], ""), @r"
    exit: 1
    --- stdout
    2.0rc1 does not satisfy `<2.0`
    --- stderr
    ");
}

#[test]
fn contains_bad_specifier_points_at_it() {
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "PyPI", "--range", ">=1.0, ~=1", "1.5"], ""), @r"
    exit: 2
    --- stdout
    --- stderr
    error: invalid PyPI specifier `>=1.0, ~=1`: `~=` needs at least two release numbers
        >=1.0, ~=1
                 ^
    ");
}

#[test]
fn contains_osv_range_with_unsorted_events() {
    let range = r#"{"type":"ECOSYSTEM","events":[{"fixed":"2.3"},{"introduced":"2.0"},{"introduced":"0"},{"fixed":"1.5"}]}"#;
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "PyPI", "--range", range, "2.1"], ""), @r"
    exit: 0
    --- stdout
    2.1 is contained: in ECOSYSTEM range #0: introduced `2.0`, fixed `2.3`
    --- stderr
    ");
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "PyPI", "--range", range, "1.5"], ""), @r"
    exit: 1
    --- stdout
    1.5 is not contained in any range
    --- stderr
    ");
}

#[test]
fn contains_affected_object_with_git_range_and_versions_list() {
    let affected = r#"{"ranges":[{"type":"GIT","repo":"https://github.com/o/r","events":[{"introduced":"0"},{"fixed":"a1b2"}]}],"versions":["1.0.0"]}"#;
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "Go", "--range", affected, "v1.0.0"], ""), @r"
    exit: 0
    --- stdout
    skipped range #0: GIT range of `https://github.com/o/r` needs the commit graph
    v1.0.0 is contained: listed in `versions` as `1.0.0`
    --- stderr
    ");
}

#[test]
fn contains_bad_input_exits_2() {
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "Go", "--range", "[{\"type\":\"SEMVER\"", "v1.0.0"], ""), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `--range` is not JSON: EOF while parsing an object at line 1 column 17
    ");
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "Go", "--range", ">=1.0", "v1.0.0"], ""), @r"
    exit: 2
    --- stdout
    --- stderr
    error: `--range` must be OSV range JSON for Go (requirement strings are understood for PyPI, RubyGems and Tcl)
    ");
}

#[test]
fn contains_rubygems_requirement() {
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "RubyGems", "--range", "~> 1.4, != 1.4.2", "1.4.5"], ""), @r"
    exit: 0
    --- stdout
    1.4.5 satisfies `~> 1.4, != 1.4.2`
    --- stderr
    ");
    // Any letter makes a pre-release, and `~>` compares the release of the candidate.
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "RubyGems", "--range", "~> 1.0", "2.0.a"], ""), @r"
    exit: 1
    --- stdout
    2.0.a does not satisfy `~> 1.0`
    --- stderr
    ");
}

#[test]
fn sort_rubygems() {
    // `1.0.0-alpha` is `1.0.0.pre.alpha`, and `"a" < "pre"`.
    insta::assert_snapshot!(run(&["versions", "sort", "-e", "RubyGems"], "1.0\n1.0.a\n5.x\n5.0.0.rc2\n5.a\n1.0.0-alpha\n"), @r"
    exit: 0
    --- stdout
    1.0.a
    1.0.0-alpha
    1.0
    5.a
    5.0.0.rc2
    5.x
    --- stderr
    ");
}

#[test]
fn sort_cpan_decimal_and_dotted() {
    // Decimal versions are numbers: 1.10 is 1.100, below 1.9 (1.900); 1.002003 is v1.2.3.
    insta::assert_snapshot!(run(&["versions", "sort", "-e", "CPAN"], "1.9\n1.10\nv1.2.4\n1.002003\n1.002_002\n"), @r"
    exit: 0
    --- stdout
    1.002_002
    1.002003
    v1.2.4
    1.10
    1.9
    --- stderr
    ");
}

#[test]
fn contains_tcl_requirements() {
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "Tcl", "--range", "8.5-9 10-", "9a1"], ""), @r"
    exit: 1
    --- stdout
    9a1 does not satisfy `8.5-9 10-`
    --- stderr
    ");
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "Tcl", "--range", "8.5", "8.6.13"], ""), @r"
    exit: 0
    --- stdout
    8.6.13 satisfies `8.5`
    --- stderr
    ");
}

#[test]
fn contains_json_output() {
    let range = r#"{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}"#;
    insta::assert_snapshot!(run(&["versions", "contains", "-e", "PyPI", "--range", range, "--format", "json", "1.5"], ""), @r#"
    exit: 0
    --- stdout
    {
      "ecosystem": "PyPI",
      "version": "1.5",
      "contained": true,
      "reasons": [
        "1.5 is contained: in ECOSYSTEM range #0: introduced `0`, fixed `2.0`"
      ],
      "verdict": {
        "matches": [
          {
            "by": "range",
            "range": 0,
            "kind": "ECOSYSTEM",
            "introduced": "0",
            "until": {
              "fixed": "2.0"
            }
          }
        ],
        "skipped": []
      }
    }
    --- stderr
    "#);
}

#[test]
fn sort_json_output() {
    insta::assert_snapshot!(run(&["versions", "sort", "-e", "crates.io", "--format", "json"], "1.0.0\n0.9.0-rc.1\n0.9.0\n"), @r#"
    exit: 0
    --- stdout
    ["0.9.0-rc.1","0.9.0","1.0.0"]
    --- stderr
    "#);
}
