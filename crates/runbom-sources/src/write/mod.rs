//! Writers that turn an [`Sbom`] into an exchange format, one module per format, each behind the
//! [`SbomWriter`] trait and registered in [`WRITERS`]; VEX documents have their own in [`vex`].
//!
//! Traps: hash algorithm and licence spellings differ per format (`SHA-256` in CycloneDX, `SHA256`
//! in SPDX); an algorithm a format has no name for is left out rather than written invalid. A
//! licence is written as an SPDX id or expression only when it parses as one, else as a name.

mod cyclonedx_json;
mod cyclonedx_xml;
#[cfg(feature = "testing")]
pub mod schemas;
mod spdx_json;
pub mod vex;

use runbom_model::sbom::Sbom;

pub use cyclonedx_json::CycloneDxJsonWriter;
pub use cyclonedx_xml::CycloneDxXmlWriter;
pub use spdx_json::SpdxJsonWriter;

/// Why a document could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write {format}: {source}")]
    Json {
        format: &'static str,
        source: serde_json::Error,
    },
    #[error("cannot write {format}: {source}")]
    Xml {
        format: &'static str,
        source: std::io::Error,
    },
}

/// One SBOM format.
pub trait SbomWriter: Sync {
    /// Stable name, the same as the reader's: `cyclonedx/json`, `cyclonedx/xml`, `spdx/json`.
    fn name(&self) -> &'static str;
    /// The whole document, ending in a newline.
    fn write(&self, sbom: &Sbom) -> Result<String, WriteError>;
}

/// Every writer.
pub static WRITERS: &[&dyn SbomWriter] =
    &[&CycloneDxJsonWriter, &CycloneDxXmlWriter, &SpdxJsonWriter];

/// The writer with this stable name.
pub fn writer_by_name(name: &str) -> Option<&'static dyn SbomWriter> {
    WRITERS.iter().copied().find(|w| w.name() == name)
}

/// The CycloneDX spelling of a normalised algorithm name (`sha256` -> `SHA-256`).
pub(crate) fn cyclonedx_algorithm(algorithm: &str) -> Option<&'static str> {
    Some(match algorithm {
        "md5" => "MD5",
        "sha1" => "SHA-1",
        "sha256" => "SHA-256",
        "sha384" => "SHA-384",
        "sha512" => "SHA-512",
        "sha3256" => "SHA3-256",
        "sha3384" => "SHA3-384",
        "sha3512" => "SHA3-512",
        "blake2b256" => "BLAKE2b-256",
        "blake2b384" => "BLAKE2b-384",
        "blake2b512" => "BLAKE2b-512",
        "blake3" => "BLAKE3",
        _ => return None,
    })
}

/// The SPDX 2.3 spelling of a normalised algorithm name (`sha256` -> `SHA256`).
pub(crate) fn spdx_algorithm(algorithm: &str) -> Option<&'static str> {
    Some(match algorithm {
        "md2" => "MD2",
        "md4" => "MD4",
        "md5" => "MD5",
        "md6" => "MD6",
        "sha1" => "SHA1",
        "sha224" => "SHA224",
        "sha256" => "SHA256",
        "sha384" => "SHA384",
        "sha512" => "SHA512",
        "sha3256" => "SHA3-256",
        "sha3384" => "SHA3-384",
        "sha3512" => "SHA3-512",
        "blake2b256" => "BLAKE2b-256",
        "blake2b384" => "BLAKE2b-384",
        "blake2b512" => "BLAKE2b-512",
        "blake3" => "BLAKE3",
        "adler32" => "ADLER32",
        _ => return None,
    })
}

/// How a licence string can be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LicenseForm<'a> {
    /// One SPDX licence id (`MIT`).
    Id(&'a str),
    /// A valid SPDX expression of more than one id, or with `WITH`/`LicenseRef-`.
    Expression(&'a str),
    /// Anything else, as written.
    Name(&'a str),
}

pub(crate) fn license_form(text: &str) -> LicenseForm<'_> {
    let text = text.trim();
    if spdx::license_id(text).is_some() {
        LicenseForm::Id(text)
    } else if spdx::Expression::parse_mode(text, spdx::ParseMode::STRICT).is_ok() {
        LicenseForm::Expression(text)
    } else {
        LicenseForm::Name(text)
    }
}

#[cfg(test)]
mod tests;
