//! `cyclonedx/xml`: CycloneDX 1.4, 1.5 and 1.6 XML BOMs, read with `quick-xml` into a small tree.
//!
//! Trap: XML entity expansion is never performed. A `<!DOCTYPE>` (which is where entities,
//! external ones included, are declared) is refused outright, and only the five predefined
//! entities and character references are resolved, so billion-laughs and XXE documents fail
//! with an error naming the file and place.

use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};

use crate::error::line_column;
use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, purl};

#[derive(Debug)]
pub(crate) struct CycloneDxXml;

const NAMESPACE_PREFIX: &str = "http://cyclonedx.org/schema/bom/";

/// One element: local name, attributes, child elements and its text.
struct Element {
    name: String,
    attributes: Vec<(String, String)>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn child_text(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_owned())
            .filter(|t| !t.is_empty())
    }
}

impl InventoryReader for CycloneDxXml {
    fn name(&self) -> &'static str {
        "cyclonedx/xml"
    }

    fn fits(&self, shape: &Shape, _contents: &str) -> Result<(), String> {
        match shape {
            Shape::Xml { root, namespace } if root == "bom" => match namespace {
                Some(ns) if ns.starts_with(NAMESPACE_PREFIX) => Ok(()),
                _ => Err(format!(
                    "a `<bom>` outside the namespace {NAMESPACE_PREFIX}"
                )),
            },
            Shape::Xml { root, .. } => Err(format!("an XML document of `<{root}>`, not `<bom>`")),
            _ => Err("not XML".to_owned()),
        }
    }

    fn conventional_name(&self, name: &str) -> bool {
        name.ends_with(".cdx.xml") || name == "bom.xml"
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let root = parse(path, contents)?;
        if root.name != "bom" {
            return Err(SourceError::invalid(
                path,
                format!("<{}>", root.name),
                "the root element is not <bom>",
            ));
        }
        let namespace = root.attribute("xmlns").unwrap_or("");
        let version = namespace
            .strip_prefix(NAMESPACE_PREFIX)
            .unwrap_or(namespace);
        if !matches!(version, "1.4" | "1.5" | "1.6") {
            return Err(SourceError::UnsupportedVersion {
                file: path.display().to_string(),
                format: "CycloneDX",
                version: version.to_owned(),
                supported: "1.4, 1.5, 1.6",
            });
        }
        let mut components = Vec::new();
        if let Some(list) = root.child("components") {
            flatten(path, list, "/bom/components", &mut components);
        }
        Ok(ExpectedInventory {
            format: self.name().to_owned(),
            source: path.display().to_string(),
            components,
            checksum_file: None,
            lists_unbuilt: false,
        })
    }
}

fn flatten(path: &Path, list: &Element, pointer: &str, into: &mut Vec<ExpectedComponent>) {
    for (i, c) in list.children("component").enumerate() {
        let here = format!("{pointer}/component[{}]", i + 1);
        into.push(convert(path, c, &here));
        if let Some(nested) = c.child("components") {
            flatten(path, nested, &format!("{here}/components"), into);
        }
    }
}

fn hashes_of(element: Option<&Element>) -> impl Iterator<Item = ComponentHash> + '_ {
    element.into_iter().flat_map(|h| {
        h.children("hash")
            .map(|h| ComponentHash::new(h.attribute("alg").unwrap_or(""), &h.text))
    })
}

fn convert(path: &Path, c: &Element, pointer: &str) -> ExpectedComponent {
    let raw_name = c.child_text("name").unwrap_or_default();
    let purl_text = c.child_text("purl");
    let parsed = purl_text.as_deref().and_then(purl::parse);
    let ecosystem = parsed.as_ref().and_then(|(e, _, _)| *e);
    let identity_name = parsed
        .as_ref()
        .map_or(raw_name.as_str(), |(_, n, _)| n.as_str());
    let mut hashes: Vec<ComponentHash> = hashes_of(c.child("hashes")).collect();
    if let Some(refs) = c.child("externalReferences") {
        for reference in refs
            .children("reference")
            .filter(|r| r.attribute("type") == Some("distribution"))
        {
            hashes.extend(hashes_of(reference.child("hashes")));
        }
    }
    let licenses = c
        .child("licenses")
        .map(|l| {
            l.children
                .iter()
                .filter_map(|choice| match choice.name.as_str() {
                    "expression" => Some(choice.text.trim().to_owned()),
                    "license" => choice
                        .child_text("id")
                        .or_else(|| choice.child_text("name")),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    ExpectedComponent {
        ecosystem,
        name: purl::normalise(ecosystem, identity_name),
        raw_name,
        version: c
            .child_text("version")
            .map_or(ExpectedVersion::Unspecified, ExpectedVersion::Exact),
        purl: purl_text,
        hashes,
        licenses,
        marker: None,
        location: SourceLocation {
            file: path.display().to_string(),
            line: None,
            path: Some(pointer.to_owned()),
        },
    }
}

fn syntax(path: &Path, contents: &str, offset: u64, message: String) -> SourceError {
    let (line, column) = line_column(contents, usize::try_from(offset).unwrap_or(usize::MAX));
    SourceError::Syntax {
        file: path.display().to_string(),
        line,
        column,
        message,
    }
}

fn element(
    path: &Path,
    contents: &str,
    offset: u64,
    start: &BytesStart<'_>,
) -> Result<Element, SourceError> {
    let name = start.local_name().as_ref().to_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| syntax(path, contents, offset, e.to_string()))?;
        // Only predefined entities and character references are resolved here.
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| syntax(path, contents, offset, e.to_string()))?;
        let key = attribute.key.as_ref().to_owned();
        attributes.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

fn parse(path: &Path, contents: &str) -> Result<Element, SourceError> {
    let mut reader = Reader::from_str(contents);
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        let offset = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| syntax(path, contents, reader.error_position(), e.to_string()))?;
        match event {
            Event::DocType(_) => {
                return Err(syntax(
                    path,
                    contents,
                    offset,
                    "DOCTYPE declarations are refused: runbom never expands XML entities"
                        .to_owned(),
                ));
            }
            Event::Start(start) => stack.push(element(path, contents, offset, &start)?),
            Event::Empty(start) => {
                let done = element(path, contents, offset, &start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => root = Some(done),
                }
            }
            Event::End(_) => {
                if let Some(done) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            }
            Event::Text(text) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&text.xml10_content());
                }
            }
            Event::CData(data) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&data.xml10_content());
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => Some(c),
                    Ok(None) => match reference.xml10_content().as_ref() {
                        "amp" => Some('&'),
                        "lt" => Some('<'),
                        "gt" => Some('>'),
                        "quot" => Some('"'),
                        "apos" => Some('\''),
                        _ => None,
                    },
                    Err(_) => None,
                };
                let Some(c) = resolved else {
                    return Err(syntax(
                        path,
                        contents,
                        offset,
                        format!(
                            "entity `&{};` is not expanded: runbom never expands XML entities",
                            reference.xml10_content()
                        ),
                    ));
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push(c);
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err(syntax(
            path,
            contents,
            reader.buffer_position(),
            format!(
                "unexpected end of file inside <{}>",
                stack.last().map_or("", |e| e.name.as_str())
            ),
        ));
    }
    root.ok_or_else(|| syntax(path, contents, 0, "no root element".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn read(name: &str) -> Result<ExpectedInventory, SourceError> {
        testdata::read(&CycloneDxXml, name)
    }

    #[test]
    fn xml_and_json_of_the_same_bom_agree() {
        let xml = read("cyclonedx/requirements__file_with-hashes_1.6.cdx.xml").expect("xml");
        let json_path = testdata::path("cyclonedx/requirements__file_with-hashes_1.6.cdx.json");
        let json = crate::read_expected(&json_path).expect("json");
        assert_eq!(xml.components.len(), 5);
        for (x, j) in xml.components.iter().zip(&json.components) {
            assert_eq!(
                (&x.name, &x.version, &x.purl, &x.hashes),
                (&j.name, &j.version, &j.purl, &j.hashes)
            );
        }
    }

    #[test]
    fn entities_are_never_expanded() {
        for name in [
            "billion-laughs.cdx.xml",
            "xxe.cdx.xml",
            "undeclared-entity.cdx.xml",
        ] {
            let error = read(&format!("cyclonedx/broken/{name}")).expect_err(name);
            let text = error.to_string();
            assert!(
                text.contains(name) && text.contains("never expands XML entities"),
                "{text}"
            );
            assert!(
                matches!(error, SourceError::Syntax { line, .. } if line > 1),
                "{text}"
            );
        }
    }

    #[test]
    fn truncated_and_wrong_version_xml_are_named() {
        let error = read("cyclonedx/broken/truncated.cdx.xml").expect_err("truncated");
        assert!(matches!(error, SourceError::Syntax { .. }), "{error}");
        let error = read("cyclonedx/broken/spec-1.3.cdx.xml").expect_err("1.3");
        assert!(
            error
                .to_string()
                .contains("unsupported CycloneDX version `1.3`"),
            "{error}"
        );
    }
}
