//! `cyclonedx/xml`: CycloneDX 1.6 XML written with `quick-xml`, elements in the XSD's sequence
//! order. Every text and attribute is escaped by the writer, and characters XML 1.0 cannot hold
//! at all (most C0 controls) are dropped.

use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use runbom_model::sbom::{Evidence, Sbom, SbomComponent, Subject, Tool};

use super::cyclonedx_json::subject_ref;
use super::{LicenseForm, SbomWriter, WriteError, cyclonedx_algorithm, license_form};

/// The namespace of CycloneDX 1.6 XML.
pub(crate) const NAMESPACE: &str = "http://cyclonedx.org/schema/bom/1.6";

type Xml = Writer<Vec<u8>>;

#[derive(Debug)]
pub struct CycloneDxXmlWriter;

impl SbomWriter for CycloneDxXmlWriter {
    fn name(&self) -> &'static str {
        "cyclonedx/xml"
    }

    fn write(&self, sbom: &Sbom) -> Result<String, WriteError> {
        let bytes = document(sbom).map_err(|source| WriteError::Xml {
            format: "CycloneDX XML",
            source,
        })?;
        // quick-xml writes only what it was given, and every input is a Rust string.
        Ok(String::from_utf8_lossy(&bytes).into_owned() + "\n")
    }
}

fn document(sbom: &Sbom) -> io::Result<Vec<u8>> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("bom")
        .with_attribute(("xmlns", NAMESPACE))
        .with_attribute(("serialNumber", clean(&sbom.serial_number).as_str()))
        .with_attribute(("version", "1"))
        .write_inner_content(|w| {
            metadata(w, &sbom.timestamp, &sbom.tool, sbom.subject.as_ref())?;
            w.create_element("components").write_inner_content(|w| {
                for c in &sbom.components {
                    component(w, c)?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
    Ok(w.into_inner())
}

/// Characters XML 1.0 allows (`Char` production); the rest are dropped.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || ('\u{20}'..='\u{D7FF}').contains(&c)
                || ('\u{E000}'..='\u{FFFD}').contains(&c)
                || c >= '\u{10000}'
        })
        .collect()
}

fn text(w: &mut Xml, name: &str, value: &str) -> io::Result<()> {
    w.create_element(name)
        .write_text_content(BytesText::new(&clean(value)))?;
    Ok(())
}

pub(crate) fn metadata(
    w: &mut Xml,
    timestamp: &str,
    tool: &Tool,
    subject: Option<&Subject>,
) -> io::Result<()> {
    w.create_element("metadata").write_inner_content(|w| {
        text(w, "timestamp", timestamp)?;
        w.create_element("lifecycles").write_inner_content(|w| {
            w.create_element("lifecycle")
                .write_inner_content(|w| text(w, "phase", "operations"))?;
            Ok(())
        })?;
        w.create_element("tools").write_inner_content(|w| {
            w.create_element("components").write_inner_content(|w| {
                w.create_element("component")
                    .with_attribute(("type", "application"))
                    .write_inner_content(|w| {
                        text(w, "name", &tool.name)?;
                        text(w, "version", &tool.version)
                    })?;
                Ok(())
            })?;
            Ok(())
        })?;
        if let Some(subject) = subject {
            w.create_element("component")
                .with_attribute(("type", "application"))
                .with_attribute(("bom-ref", clean(&subject_ref(subject)).as_str()))
                .write_inner_content(|w| {
                    text(w, "name", &subject.name)?;
                    match &subject.version {
                        Some(version) => text(w, "version", version),
                        None => Ok(()),
                    }
                })?;
        }
        Ok(())
    })?;
    Ok(())
}

fn component(w: &mut Xml, c: &SbomComponent) -> io::Result<()> {
    w.create_element("component")
        .with_attribute(("type", "library"))
        .with_attribute(("bom-ref", clean(&c.bom_ref).as_str()))
        .write_inner_content(|w| {
            text(w, "name", &c.name)?;
            if let Some(version) = &c.version {
                text(w, "version", version)?;
            }
            hashes(w, c)?;
            licenses(w, &c.licenses)?;
            if let Some(purl) = &c.purl {
                text(w, "purl", purl)?;
            }
            if let Some(e) = &c.evidence {
                evidence(w, c, e)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn hashes(w: &mut Xml, c: &SbomComponent) -> io::Result<()> {
    let known: Vec<(&str, &str)> = c
        .hashes
        .iter()
        .filter_map(|h| Some((cyclonedx_algorithm(&h.algorithm)?, h.hex.as_str())))
        .collect();
    if known.is_empty() {
        return Ok(());
    }
    w.create_element("hashes").write_inner_content(|w| {
        for (alg, hex) in known {
            w.create_element("hash")
                .with_attribute(("alg", alg))
                .write_text_content(BytesText::new(&clean(hex)))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// One expression alone, or a list of ids and names (the XSD allows no mix).
fn licenses(w: &mut Xml, licenses: &[String]) -> io::Result<()> {
    if licenses.is_empty() {
        return Ok(());
    }
    w.create_element("licenses").write_inner_content(|w| {
        if let [only] = licenses
            && let LicenseForm::Expression(expression) = license_form(only)
        {
            return text(w, "expression", expression);
        }
        for l in licenses {
            w.create_element("license")
                .write_inner_content(|w| match license_form(l) {
                    LicenseForm::Id(id) => text(w, "id", id),
                    LicenseForm::Expression(name) | LicenseForm::Name(name) => {
                        text(w, "name", name)
                    }
                })?;
        }
        Ok(())
    })?;
    Ok(())
}

fn evidence(w: &mut Xml, c: &SbomComponent, e: &Evidence) -> io::Result<()> {
    let (field, concluded) = match &c.purl {
        Some(purl) => ("purl", purl.as_str()),
        None => ("name", c.name.as_str()),
    };
    w.create_element("evidence").write_inner_content(|w| {
        w.create_element("identity").write_inner_content(|w| {
            text(w, "field", field)?;
            text(w, "confidence", &e.confidence.to_string())?;
            text(w, "concludedValue", concluded)?;
            w.create_element("methods").write_inner_content(|w| {
                for m in &e.methods {
                    w.create_element("method").write_inner_content(|w| {
                        text(w, "technique", m.technique.as_str())?;
                        text(w, "confidence", &m.confidence.to_string())?;
                        text(w, "value", &m.value)
                    })?;
                }
                Ok(())
            })?;
            Ok(())
        })?;
        if !e.occurrences.is_empty() {
            w.create_element("occurrences").write_inner_content(|w| {
                for o in &e.occurrences {
                    w.create_element("occurrence").write_inner_content(|w| {
                        text(w, "location", &o.location)?;
                        text(w, "additionalContext", &o.context())
                    })?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(())
}
