//! The official schemas of the formats runbom writes, for tests: CycloneDX 1.6 (JSON schema and
//! XSD), SPDX 2.3 JSON and OpenVEX 0.2.0, copied into `testdata/schemas/` (see its README), and
//! validators over them. `$ref`s resolve to the local copies only; nothing is fetched.
//!
//! XML is validated by an external XSD validator: `xmllint` when it is on `PATH`, else the
//! `xmlschema` package installed from PyPI into a throwaway venv; with neither, the caller is told
//! why and skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use jsonschema::{Registry, Resource};
use serde_json::Value;

const CYCLONEDX: &str = include_str!("../../testdata/schemas/cyclonedx/bom-1.6.schema.json");
const CYCLONEDX_SPDX: &str = include_str!("../../testdata/schemas/cyclonedx/spdx.schema.json");
const CYCLONEDX_JSF: &str = include_str!("../../testdata/schemas/cyclonedx/jsf-0.82.schema.json");
const SPDX: &str = include_str!("../../testdata/schemas/spdx/spdx-schema-2.3.json");
const OPENVEX: &str = include_str!("../../testdata/schemas/openvex/openvex_json_schema.json");

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("a bundled schema is JSON")
}

/// Every error of `instance` against `schema`, as `path: message`.
fn errors(schema: &Value, resources: &[(&str, &str)], instance: &Value) -> Vec<String> {
    let mut registry = Registry::new();
    for (uri, text) in resources {
        registry = registry
            .add(*uri, Resource::from_contents(parse(text)))
            .expect("a bundled schema registers");
    }
    let registry = registry.prepare().expect("the bundled schemas resolve");
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(schema)
        .expect("the bundled schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// Errors of a CycloneDX 1.6 JSON document against `bom-1.6.schema.json`.
pub fn cyclonedx_json_errors(instance: &Value) -> Vec<String> {
    errors(
        &parse(CYCLONEDX),
        &[
            (
                "http://cyclonedx.org/schema/spdx.schema.json",
                CYCLONEDX_SPDX,
            ),
            (
                "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                CYCLONEDX_JSF,
            ),
        ],
        instance,
    )
}

/// Errors of an SPDX 2.3 JSON document against the SPDX 2.3 JSON schema.
pub fn spdx_json_errors(instance: &Value) -> Vec<String> {
    errors(&parse(SPDX), &[], instance)
}

/// Errors of an OpenVEX document against the OpenVEX 0.2.0 JSON schema.
pub fn openvex_errors(instance: &Value) -> Vec<String> {
    errors(&parse(OPENVEX), &[], instance)
}

/// How an XML document fared against `bom-1.6.xsd`.
#[derive(Debug)]
pub enum XsdOutcome {
    Valid {
        validator: &'static str,
    },
    Invalid {
        validator: &'static str,
        errors: String,
    },
    /// No validator could be run; why.
    Skipped(String),
}

fn xsd() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/schemas/cyclonedx/bom-1.6.xsd")
}

/// Validates CycloneDX 1.6 XML against the official XSD (with `work` as scratch space).
pub fn cyclonedx_xml_against_xsd(xml: &str, work: &Path) -> XsdOutcome {
    let document = work.join("bom.cdx.xml");
    if let Err(e) = std::fs::write(&document, xml) {
        return XsdOutcome::Skipped(format!("cannot write `{}`: {e}", document.display()));
    }
    if let Ok(out) = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(xsd())
        .arg(&document)
        .output()
    {
        return outcome("xmllint", &out);
    }
    match python_with_xmlschema(work) {
        Ok(python) => {
            let script = "import sys, xmlschema\n\
                          schema = xmlschema.XMLSchema(sys.argv[1])\n\
                          errors = [str(e) for e in schema.iter_errors(sys.argv[2])]\n\
                          print('\\n'.join(errors))\n\
                          sys.exit(1 if errors else 0)\n";
            match Command::new(&python)
                .arg("-c")
                .arg(script)
                .arg(xsd())
                .arg(&document)
                .output()
            {
                Ok(out) => outcome("python xmlschema", &out),
                Err(e) => XsdOutcome::Skipped(format!("cannot run `{}`: {e}", python.display())),
            }
        }
        Err(reason) => XsdOutcome::Skipped(reason),
    }
}

fn outcome(validator: &'static str, out: &std::process::Output) -> XsdOutcome {
    if out.status.success() {
        XsdOutcome::Valid { validator }
    } else {
        XsdOutcome::Invalid {
            validator,
            errors: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

/// A venv under `work` with `xmlschema` installed from PyPI.
fn python_with_xmlschema(work: &Path) -> Result<PathBuf, String> {
    let venv = work.join("xsd-venv");
    let status = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .map_err(|e| format!("no xmllint, and no python3 for a venv: {e}"))?;
    if !status.success() {
        return Err("no xmllint, and `python3 -m venv` failed".to_owned());
    }
    let python = venv.join("bin/python");
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--timeout",
            "20",
            "xmlschema",
        ])
        .output()
        .map_err(|e| format!("no xmllint, and pip could not run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "no xmllint, and `pip install xmlschema` failed (PyPI unreachable?): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(python)
}
