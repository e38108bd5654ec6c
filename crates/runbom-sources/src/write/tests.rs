use std::path::Path;

use runbom_model::expected::ExpectedInventory;
use runbom_model::sbom::{
    Evidence, IdentityMethod, Occurrence, Sbom, SbomComponent, Subject, Technique, Tool,
};

use super::*;
use crate::{READERS, read_expected, testdata};

/// Every real SBOM fixture (the hand-made broken ones are not SBOMs).
const REAL_SBOMS: &[&str] = &[
    "cyclonedx/environment__plain_with-extras_1.6.cdx.json",
    "cyclonedx/pipenv__plain_with-extras_1.6.cdx.json",
    "cyclonedx/poetry__plain_regression-issue702_lock21_1.6.cdx.json",
    "cyclonedx/requirements__file_with-hashes_1.4.cdx.json",
    "cyclonedx/requirements__file_with-hashes_1.6.cdx.json",
    "cyclonedx/requirements__file_with-hashes_1.6.cdx.xml",
    "cyclonedx/requirements__file_with-urls_1.6.cdx.json",
    "spdx/SPDXJSONExample-v2.3.spdx.json",
];

fn file_name(writer: &dyn SbomWriter) -> &'static str {
    match writer.name() {
        "cyclonedx/json" => "again.cdx.json",
        "cyclonedx/xml" => "again.cdx.xml",
        _ => "again.spdx.json",
    }
}

fn sbom_of(inventory: &ExpectedInventory) -> Sbom {
    Sbom::from_expected(
        inventory,
        "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79".to_owned(),
        "2026-11-25T10:00:05Z".to_owned(),
        Tool::runbom("0.1.0"),
    )
}

/// Writes `sbom` with `writer` and reads it back with the reader of the same name.
fn round_trip(writer: &dyn SbomWriter, sbom: &Sbom) -> ExpectedInventory {
    let written = writer.write(sbom).expect("write");
    let path = Path::new(file_name(writer));
    let reader = READERS
        .iter()
        .find(|r| r.name() == writer.name())
        .expect("a reader of the same name");
    assert!(
        reader
            .fits(&crate::sniff::Shape::of(&written), &written)
            .is_ok(),
        "{} not detected",
        writer.name()
    );
    reader.read(path, &written).expect("read back")
}

#[test]
fn every_real_sbom_round_trips_through_every_writer() {
    for fixture in REAL_SBOMS {
        let first = read_expected(&testdata::path(fixture)).expect(fixture);
        assert!(!first.components.is_empty(), "{fixture}");
        let sbom = sbom_of(&first);
        for writer in WRITERS {
            let again = round_trip(*writer, &sbom);
            let context = format!("{fixture} via {}", writer.name());
            assert_eq!(first.components.len(), again.components.len(), "{context}");
            for (a, b) in first.components.iter().zip(&again.components) {
                assert_eq!(
                    (&a.raw_name, &a.name, &a.version, &a.purl, &a.hashes),
                    (&b.raw_name, &b.name, &b.version, &b.purl, &b.hashes),
                    "{context}"
                );
            }
        }
    }
}

#[test]
fn cyclonedx_keeps_licences_as_ids_expressions_or_names() {
    let first = read_expected(&testdata::path(
        "cyclonedx/environment__plain_with-extras_1.6.cdx.json",
    ))
    .expect("read");
    let sbom = sbom_of(&first);
    for writer in [&CycloneDxJsonWriter as &dyn SbomWriter, &CycloneDxXmlWriter] {
        let again = round_trip(writer, &sbom);
        for (a, b) in first.components.iter().zip(&again.components) {
            assert_eq!(a.licenses, b.licenses, "{}", writer.name());
        }
    }
}

fn component_with_evidence(name: &str) -> SbomComponent {
    SbomComponent {
        bom_ref: format!("pkg:pypi/{name}@1.0"),
        name: name.to_owned(),
        version: Some("1.0".to_owned()),
        purl: Some(format!("pkg:pypi/{name}@1.0")),
        hashes: vec![],
        licenses: vec!["MIT License".to_owned(), "Apache-2.0".to_owned()],
        evidence: Some(Evidence {
            confidence: 1.0,
            methods: vec![IdentityMethod {
                technique: Technique::Instrumentation,
                confidence: 1.0,
                value: "imported <a> & \"b\" \u{1} 'c'".to_owned(),
            }],
            occurrences: vec![Occurrence {
                location: "/site/a&b/<x>.py".to_owned(),
                module: "x".to_owned(),
                sha256: Some("ab".repeat(32)),
                integrity: Some("verified".to_owned()),
            }],
        }),
    }
}

#[test]
fn xml_escapes_everything_and_drops_what_xml_cannot_hold() {
    let mut sbom = sbom_of(&ExpectedInventory {
        format: "test".to_owned(),
        source: "test".to_owned(),
        components: vec![],
        checksum_file: None,
        lists_unbuilt: false,
    });
    sbom.subject = Some(Subject {
        name: "shop <&> \"prod\"".to_owned(),
        version: None,
    });
    sbom.components = vec![component_with_evidence("a-b")];
    let xml = CycloneDxXmlWriter.write(&sbom).expect("write");
    assert!(xml.contains("/site/a&amp;b/&lt;x&gt;.py"), "{xml}");
    assert!(
        xml.contains("bom-ref=\"application:shop &lt;&amp;&gt; &quot;prod&quot;\""),
        "{xml}"
    );
    assert!(!xml.contains('\u{1}'));
    let again = round_trip(&CycloneDxXmlWriter, &sbom);
    assert_eq!(again.components[0].raw_name, "a-b");
    assert_eq!(
        again.components[0].licenses,
        ["MIT License".to_owned(), "Apache-2.0".to_owned()]
    );
}

#[test]
fn spdx_writes_unknown_licence_names_as_extracted_licence_refs() {
    let mut sbom = sbom_of(&ExpectedInventory {
        format: "test".to_owned(),
        source: "test".to_owned(),
        components: vec![],
        checksum_file: None,
        lists_unbuilt: false,
    });
    sbom.components = vec![component_with_evidence("a")];
    let json: serde_json::Value =
        serde_json::from_str(&SpdxJsonWriter.write(&sbom).expect("write")).expect("json");
    assert_eq!(
        json["packages"][0]["licenseDeclared"],
        "LicenseRef-MIT-License AND Apache-2.0"
    );
    assert_eq!(
        json["hasExtractedLicensingInfos"][0]["extractedText"],
        "MIT License"
    );
    let comment = json["packages"][0]["annotations"][0]["comment"]
        .as_str()
        .expect("comment");
    assert!(comment.contains("loaded /site/a&b/<x>.py"), "{comment}");
}

#[test]
fn every_writer_is_registered_under_its_reader_name() {
    for name in ["cyclonedx/json", "cyclonedx/xml", "spdx/json"] {
        assert!(writer_by_name(name).is_some(), "{name}");
        assert!(crate::reader_by_name(name).is_some(), "{name}");
    }
}

/// An SBOM with every field runbom writes, from a real fixture plus evidence.
fn full_sbom() -> Sbom {
    let inventory = read_expected(&testdata::path(
        "cyclonedx/requirements__file_with-hashes_1.6.cdx.json",
    ))
    .expect("read");
    let mut sbom = sbom_of(&inventory);
    sbom.subject = Some(Subject {
        name: "shop".to_owned(),
        version: Some("1.2".to_owned()),
    });
    sbom.components.push(component_with_evidence("a"));
    sbom.components[0].licenses = vec!["MIT OR Apache-2.0".to_owned()];
    sbom
}

#[test]
fn cyclonedx_json_validates_against_the_official_schema() {
    let mut documents = vec![full_sbom()];
    for fixture in REAL_SBOMS {
        documents.push(sbom_of(
            &read_expected(&testdata::path(fixture)).expect(fixture),
        ));
    }
    for sbom in documents {
        let json: serde_json::Value =
            serde_json::from_str(&CycloneDxJsonWriter.write(&sbom).expect("write")).expect("json");
        let errors = schemas::cyclonedx_json_errors(&json);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn spdx_json_validates_against_the_spdx_2_3_schema() {
    let mut documents = vec![full_sbom()];
    for fixture in REAL_SBOMS {
        documents.push(sbom_of(
            &read_expected(&testdata::path(fixture)).expect(fixture),
        ));
    }
    for sbom in documents {
        let json: serde_json::Value =
            serde_json::from_str(&SpdxJsonWriter.write(&sbom).expect("write")).expect("json");
        let errors = schemas::spdx_json_errors(&json);
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn the_schemas_catch_what_they_should() {
    let mut json: serde_json::Value =
        serde_json::from_str(&CycloneDxJsonWriter.write(&full_sbom()).expect("write"))
            .expect("json");
    json["components"][0]["hashes"][0]["alg"] = "SHA-999".into();
    assert!(!schemas::cyclonedx_json_errors(&json).is_empty());
    let mut json: serde_json::Value =
        serde_json::from_str(&SpdxJsonWriter.write(&full_sbom()).expect("write")).expect("json");
    json["packages"][0]
        .as_object_mut()
        .expect("package")
        .remove("downloadLocation");
    assert!(!schemas::spdx_json_errors(&json).is_empty());
}

#[test]
fn cyclonedx_xml_validates_against_the_official_xsd() {
    let work = tempfile::tempdir().expect("tempdir");
    let xml = CycloneDxXmlWriter.write(&full_sbom()).expect("write");
    match schemas::cyclonedx_xml_against_xsd(&xml, work.path()) {
        schemas::XsdOutcome::Valid { validator } => eprintln!("valid per {validator}"),
        schemas::XsdOutcome::Invalid { validator, errors } => {
            panic!("{validator}: {errors}\n{xml}")
        }
        schemas::XsdOutcome::Skipped(reason) => {
            eprintln!("skipped XSD validation: {reason}");
            let again = round_trip(&CycloneDxXmlWriter, &full_sbom());
            assert_eq!(again.components.len(), full_sbom().components.len());
        }
    }
}

/// Text XML 1.0 can hold, without the surrounding whitespace the reader trims.
fn xml_text() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    proptest::collection::vec(
        prop_oneof![
            any::<char>(),
            Just('<'),
            Just('&'),
            Just('"'),
            Just('\''),
            Just('>')
        ],
        1..24,
    )
    .prop_map(|chars| {
        chars
            .into_iter()
            .filter(|&c| {
                ('\u{20}'..='\u{D7FF}').contains(&c)
                    || ('\u{E000}'..='\u{FFFD}').contains(&c)
                    || c >= '\u{10000}'
            })
            .collect::<String>()
            .trim()
            .to_owned()
    })
    .prop_filter("non-empty", |s| !s.is_empty())
}

proptest::proptest! {
    /// Whatever a name or version holds, each writer escapes it and the reader gets it back.
    #[test]
    fn any_text_survives_every_writer(name in xml_text(), version in xml_text()) {
        let inventory = ExpectedInventory {
            format: "test".to_owned(),
            source: "test".to_owned(),
            components: vec![],
            checksum_file: None,
            lists_unbuilt: false,
        };
        let mut sbom = sbom_of(&inventory);
        sbom.components.push(SbomComponent {
            bom_ref: format!("{name}@{version}"),
            name: name.clone(),
            version: Some(version.clone()),
            purl: None,
            hashes: vec![],
            licenses: vec![name.clone()],
            evidence: None,
        });
        for writer in WRITERS {
            let again = round_trip(*writer, &sbom);
            proptest::prop_assert_eq!(&again.components[0].raw_name, &name);
            proptest::prop_assert_eq!(again.components[0].version.exact(), Some(version.as_str()));
        }
    }
}
