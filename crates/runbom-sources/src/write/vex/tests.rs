use runbom_model::sbom::{Subject, Tool};
use runbom_model::vex::{
    Justification, StatementEvidence, TriagedAnalysis, VexDocument, VexProduct, VexStatement,
    VexStatus,
};

use super::*;
use crate::write::schemas;

fn statement(id: &str, status: VexStatus, justification: Option<Justification>) -> VexStatement {
    VexStatement {
        vulnerability: id.to_owned(),
        aliases: vec!["CVE-2024-3651".to_owned()],
        summary: Some("quadratic <idna.encode> & friends".to_owned()),
        product: VexProduct {
            name: "idna".to_owned(),
            version: "3.6".to_owned(),
            purl: "pkg:pypi/idna@3.6".to_owned(),
        },
        status,
        justification,
        detail: "what was seen".to_owned(),
        action: (status == VexStatus::Affected).then(|| "upgrade idna to 3.7 or later".to_owned()),
        evidence: StatementEvidence {
            reports: vec!["r1".to_owned(), "r2".to_owned()],
            from: "2026-11-17T10:00:00Z".to_owned(),
            to: "2026-11-25T10:00:05Z".to_owned(),
            seconds: 691_205,
        },
        triage: None,
    }
}

/// A statement computed `affected`, triaged as `state`.
fn triaged(id: &str, state: &str, justification: &str) -> VexStatement {
    VexStatement {
        triage: Some(TriagedAnalysis {
            state: state.to_owned(),
            justification: justification.to_owned(),
            response: vec!["will_not_fix".to_owned()],
            detail: "only parses our own config".to_owned(),
            by: "user ana".to_owned(),
            at: "2026-11-26T09:00:00Z".to_owned(),
        }),
        ..statement(id, VexStatus::Affected, None)
    }
}

fn triaged_document() -> VexDocument {
    VexDocument {
        statements: vec![
            triaged("E", "not_affected", "requires_configuration"),
            triaged("F", "false_positive", ""),
            triaged("G", "resolved", ""),
            triaged("H", "exploitable", ""),
        ],
        ..document()
    }
}

#[test]
fn a_persons_analysis_overrides_the_computed_one_in_both_formats() {
    let text = CycloneDxVexWriter
        .write(&triaged_document())
        .expect("write");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let errors = schemas::cyclonedx_json_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    let first = &json["vulnerabilities"][0]["analysis"];
    assert_eq!(
        (&first["state"], &first["justification"], &first["response"]),
        (
            &"not_affected".into(),
            &"requires_configuration".into(),
            &serde_json::json!(["will_not_fix"])
        )
    );
    let detail = first["detail"].as_str().expect("detail");
    assert!(
        detail.starts_with(
            "only parses our own config (triaged by user ana at 2026-11-26T09:00:00Z)"
        ),
        "{detail}"
    );
    let states: Vec<&str> = json["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .map(|v| v["analysis"]["state"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        states,
        ["not_affected", "false_positive", "resolved", "exploitable"]
    );

    let text = OpenVexWriter.write(&triaged_document()).expect("write");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    let errors = schemas::openvex_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    let statuses: Vec<(&str, &str)> = json["statements"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| {
            (
                s["status"].as_str().unwrap_or_default(),
                s["justification"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "not_affected",
                "vulnerable_code_cannot_be_controlled_by_adversary"
            ),
            ("not_affected", ""),
            ("fixed", ""),
            ("affected", ""),
        ]
    );
}

fn document() -> VexDocument {
    VexDocument {
        serial_number: "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79".to_owned(),
        timestamp: "2026-11-25T10:00:05Z".to_owned(),
        tool: Tool::runbom("0.1.0"),
        subject: Some(Subject {
            name: "shop".to_owned(),
            version: None,
        }),
        statements: vec![
            statement("A", VexStatus::Affected, None),
            statement(
                "B",
                VexStatus::NotAffected,
                Some(Justification::VulnerableCodeNotInExecutePath),
            ),
            statement(
                "C",
                VexStatus::NotAffected,
                Some(Justification::ComponentNotPresent),
            ),
            statement("D", VexStatus::UnderInvestigation, None),
        ],
    }
}

fn json(writer: &dyn VexWriter) -> serde_json::Value {
    serde_json::from_str(&writer.write(&document()).expect("write")).expect("json")
}

#[test]
fn cyclonedx_vex_is_valid_and_maps_states_and_justifications() {
    let json = json(&CycloneDxVexWriter);
    let errors = schemas::cyclonedx_json_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    let analysis: Vec<(&str, &str)> = json["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .map(|v| {
            (
                v["analysis"]["state"].as_str().unwrap_or_default(),
                v["analysis"]["justification"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        analysis,
        [
            ("exploitable", ""),
            ("not_affected", "code_not_reachable"),
            ("not_affected", "code_not_present"),
            ("in_triage", ""),
        ]
    );
    assert_eq!(json["components"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        json["vulnerabilities"][0]["affects"][0]["ref"],
        "pkg:pypi/idna@3.6"
    );
    let detail = json["vulnerabilities"][1]["analysis"]["detail"]
        .as_str()
        .expect("detail");
    assert!(
        detail.contains("(r1, r2) observed from 2026-11-17T10:00:00Z"),
        "{detail}"
    );
}

#[test]
fn openvex_is_valid_against_its_schema() {
    let json = json(&OpenVexWriter);
    let errors = schemas::openvex_errors(&json);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        json["statements"][0]["action_statement"],
        "upgrade idna to 3.7 or later"
    );
    assert_eq!(
        json["statements"][2]["justification"],
        "component_not_present"
    );
    let mut broken = json.clone();
    broken["statements"][1]["impact_statement"] = "also".into();
    assert!(
        !schemas::openvex_errors(&broken).is_empty(),
        "a justification and an impact statement together are invalid"
    );
}

#[test]
fn writers_are_registered_by_name() {
    assert!(vex_writer_by_name("cyclonedx/vex").is_some());
    assert!(vex_writer_by_name("openvex").is_some());
}
