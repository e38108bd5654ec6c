//! `runbom run -- GO_BINARY`: the binary is what runs, so the report (`runbom.runtime-report/v2`,
//! language `go`) lists its main module, every dependency and the standard library, each loaded,
//! with the Go packages of each linked in; the program's output and exit status are its own.

use common::go::{Variant, binary, run_reported};
use serde_json::Value;

mod common;

#[test]
fn a_go_binary_is_reported_as_its_modules_with_their_linked_packages() {
    for variant in [Variant::Plain, Variant::Stripped] {
        let Some(escape) = binary("escape", variant) else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let report = dir.path().join("r.json");
        let out = run_reported(&escape, &report);
        assert!(String::from_utf8_lossy(&out.stdout).ends_with(" &lt;ok&gt;\n"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("3 loaded of 3 installed modules"),
            "{stderr}"
        );
        let report: Value =
            serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
        assert_eq!(report["schema"], "runbom.runtime-report/v2");
        assert_eq!(report["interpreter"]["language"], "go");
        assert_eq!(report["interpreter"]["implementation"], "gc");
        assert!(
            report["interpreter"]["version"]
                .as_str()
                .expect("present")
                .starts_with("go1.")
        );
        let components = report["distributions"].as_array().expect("components");
        let names: Vec<&str> = components
            .iter()
            .map(|c| c["name"].as_str().expect("present"))
            .collect();
        assert_eq!(
            names,
            ["example.com/escape", "golang.org/x/net", "stdlib"],
            "{variant:?}"
        );
        let net = &components[1];
        assert_eq!(net["ecosystem"], "Go");
        assert_eq!(net["version"], "v0.7.0");
        assert_eq!(net["purl"], "pkg:golang/golang.org/x/net@v0.7.0");
        let packages: Vec<&str> = net["modules"]
            .as_array()
            .expect("present")
            .iter()
            .map(|m| m["name"].as_str().expect("present"))
            .collect();
        assert_eq!(packages, ["golang.org/x/net/html"], "{variant:?}");
        let stdlib: Vec<&str> = components[2]["modules"]
            .as_array()
            .expect("present")
            .iter()
            .map(|m| m["name"].as_str().expect("present"))
            .collect();
        assert!(
            stdlib.contains(&"fmt") && stdlib.contains(&"runtime"),
            "{stdlib:?}"
        );
        let process = &report["processes"][0];
        assert_eq!(process["exited"], true);
        assert_eq!(net["modules"][0]["pids"][0], process["pid"]);
    }
}
