//! Signed attestations: an in-toto Statement v1 in a DSSE envelope, signed with ed25519.
//!
//! Trap: the signature covers the DSSE pre-authentication encoding (PAE) of payloadType and the
//! *decoded* payload bytes, never the JSON of the envelope; verification therefore also refuses
//! envelopes with fields the spec does not define, so that no byte of the file goes unchecked.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The DSSE payload type of in-toto statements.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of a predicate that is a runbom runtime report.
pub const RUNTIME_REPORT_PREDICATE: &str = "https://runbom.dev/attestation/runtime-report/v1";
/// `predicateType` of a predicate that is a CycloneDX BOM (in-toto's predicate for CycloneDX).
pub const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";

/// A DSSE envelope, as written to disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    pub payload: String,
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeSignature {
    pub keyid: String,
    pub sig: String,
}

/// An in-toto Statement v1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: String,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    pub predicate: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub name: String,
    pub digest: std::collections::BTreeMap<String, String>,
}

impl Statement {
    /// A statement about the file `name` with contents `bytes`, whose predicate is `predicate`.
    pub fn about_file(
        name: &str,
        bytes: &[u8],
        predicate_type: &str,
        predicate: serde_json::Value,
    ) -> Self {
        let digest = [("sha256".to_owned(), hex::encode(Sha256::digest(bytes)))].into();
        Self {
            statement_type: STATEMENT_TYPE.to_owned(),
            subject: vec![Subject {
                name: name.to_owned(),
                digest,
            }],
            predicate_type: predicate_type.to_owned(),
            predicate,
        }
    }
}

/// Why an envelope does not verify, or a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    #[error("not a DSSE envelope: {0}")]
    Malformed(String),
    #[error("payloadType is `{0}`, expected `{IN_TOTO_PAYLOAD_TYPE}`")]
    PayloadType(String),
    #[error("no signature with keyid `{0}` (the key given)")]
    NoSignatureForKey(String),
    #[error("signature does not verify with key `{0}`")]
    BadSignature(String),
    #[error("payload is not an in-toto Statement v1: {0}")]
    NotAStatement(String),
    #[error("key: {0}")]
    Key(String),
}

/// DSSE v1 pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths as ASCII decimals of bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A key id: lower-case hex sha256 of the public key's SubjectPublicKeyInfo DER.
pub fn key_id(key: &VerifyingKey) -> Result<String, AttestationError> {
    let der = key
        .to_public_key_der()
        .map_err(|e| AttestationError::Key(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(der.as_bytes())))
}

/// The key pair of a 32-byte secret seed (take it from the OS's random source): PKCS#8 PEM
/// private key and SPKI PEM public key.
pub fn key_pair_pem(seed: &[u8; 32]) -> Result<(String, String), AttestationError> {
    let key = SigningKey::from_bytes(seed);
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| AttestationError::Key(e.to_string()))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| AttestationError::Key(e.to_string()))?;
    Ok((private.to_string(), public))
}

pub fn signing_key_from_pem(pem: &str) -> Result<SigningKey, AttestationError> {
    SigningKey::from_pkcs8_pem(pem)
        .map_err(|e| AttestationError::Key(format!("not an ed25519 PKCS#8 private key: {e}")))
}

pub fn verifying_key_from_pem(pem: &str) -> Result<VerifyingKey, AttestationError> {
    VerifyingKey::from_public_key_pem(pem)
        .map_err(|e| AttestationError::Key(format!("not an ed25519 public key (SPKI PEM): {e}")))
}

/// Signs `statement` into a DSSE envelope.
pub fn sign(statement: &Statement, key: &SigningKey) -> Result<Envelope, AttestationError> {
    let payload =
        serde_json::to_vec(statement).map_err(|e| AttestationError::Malformed(e.to_string()))?;
    let signature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &payload));
    Ok(Envelope {
        payload: STANDARD.encode(&payload),
        payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
        signatures: vec![EnvelopeSignature {
            keyid: key_id(&key.verifying_key())?,
            sig: STANDARD.encode(signature.to_bytes()),
        }],
    })
}

/// Verifies the envelope's bytes as read from disk against `key` and returns the statement.
pub fn verify(envelope_bytes: &[u8], key: &VerifyingKey) -> Result<Statement, AttestationError> {
    let envelope: Envelope = serde_json::from_slice(envelope_bytes)
        .map_err(|e| AttestationError::Malformed(e.to_string()))?;
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(AttestationError::PayloadType(envelope.payload_type));
    }
    let payload = STANDARD
        .decode(&envelope.payload)
        .map_err(|e| AttestationError::Malformed(format!("payload is not base64: {e}")))?;
    let id = key_id(key)?;
    let signature = envelope
        .signatures
        .iter()
        .find(|s| s.keyid == id)
        .ok_or_else(|| AttestationError::NoSignatureForKey(id.clone()))?;
    let sig_bytes = STANDARD
        .decode(&signature.sig)
        .map_err(|_| AttestationError::BadSignature(id.clone()))?;
    let sig = Signature::from_slice(&sig_bytes)
        .map_err(|_| AttestationError::BadSignature(id.clone()))?;
    key.verify(&pae(&envelope.payload_type, &payload), &sig)
        .map_err(|_| AttestationError::BadSignature(id.clone()))?;
    let statement: Statement = serde_json::from_slice(&payload)
        .map_err(|e| AttestationError::NotAStatement(e.to_string()))?;
    if statement.statement_type != STATEMENT_TYPE {
        return Err(AttestationError::NotAStatement(format!(
            "`_type` is `{}`",
            statement.statement_type
        )));
    }
    if statement.subject.is_empty() {
        return Err(AttestationError::NotAStatement("no subject".to_owned()));
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> (SigningKey, VerifyingKey) {
        let mut seed = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
        let (private, public) = key_pair_pem(&seed).expect("keygen");
        (
            signing_key_from_pem(&private).expect("private"),
            verifying_key_from_pem(&public).expect("public"),
        )
    }

    fn signed() -> (Envelope, VerifyingKey) {
        let (signing, verifying) = keys();
        let statement = Statement::about_file(
            "report.json",
            b"{\"modules\":[]}",
            RUNTIME_REPORT_PREDICATE,
            serde_json::json!({"modules": []}),
        );
        (sign(&statement, &signing).expect("sign"), verifying)
    }

    fn bytes(envelope: &Envelope) -> Vec<u8> {
        serde_json::to_vec(envelope).expect("json")
    }

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // From the DSSE protocol document.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn round_trip_verifies_and_returns_the_statement() {
        let (envelope, key) = signed();
        let statement = verify(&bytes(&envelope), &key).expect("verify");
        assert_eq!(statement.subject[0].name, "report.json");
        assert_eq!(statement.subject[0].digest["sha256"].len(), 64);
    }

    #[test]
    fn tampering_with_each_field_fails() {
        let (good, key) = signed();
        let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
        let mut e = good.clone();
        e.payload_type = "application/json".to_owned();
        cases.push(("payloadType", bytes(&e)));
        let mut e = good.clone();
        let mut payload = STANDARD.decode(&e.payload).expect("b64");
        payload[20] ^= 1;
        e.payload = STANDARD.encode(payload);
        cases.push(("payload", bytes(&e)));
        let mut e = good.clone();
        let mut sig = STANDARD.decode(&e.signatures[0].sig).expect("b64");
        sig[0] ^= 1;
        e.signatures[0].sig = STANDARD.encode(sig);
        cases.push(("signatures[].sig", bytes(&e)));
        let mut e = good.clone();
        e.signatures[0].keyid.replace_range(0..1, "x");
        cases.push(("signatures[].keyid", bytes(&e)));
        let mut e = good.clone();
        e.signatures.clear();
        cases.push(("signatures empty", bytes(&e)));
        let mut value = serde_json::to_value(&good).expect("value");
        value["extra"] = serde_json::json!("x");
        cases.push(("extra field", serde_json::to_vec(&value).expect("json")));
        let mut value = serde_json::to_value(&good).expect("value");
        value["signatures"][0]["extra"] = serde_json::json!("x");
        cases.push((
            "extra signature field",
            serde_json::to_vec(&value).expect("json"),
        ));
        let whole = bytes(&good);
        cases.push(("truncated", whole[..whole.len() - 3].to_vec()));
        for (field, tampered) in cases {
            assert!(
                verify(&tampered, &key).is_err(),
                "tampered {field} still verifies"
            );
        }
        let (_, other_key) = keys();
        assert!(verify(&whole, &other_key).is_err(), "other key verifies");
    }

    #[test]
    fn flipping_any_single_byte_of_the_envelope_fails() {
        let (good, key) = signed();
        let whole = bytes(&good);
        for i in 0..whole.len() {
            let mut tampered = whole.clone();
            tampered[i] ^= 0x01;
            assert!(
                verify(&tampered, &key).is_err(),
                "byte {i} flipped still verifies"
            );
        }
    }
}
