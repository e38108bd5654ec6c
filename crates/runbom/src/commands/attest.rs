//! `runbom attest` (sign a runtime report, or the SBOM of what it loaded, into a DSSE envelope)
//! and `runbom attest verify`.

use std::path::Path;

use anyhow::Context;
use runbom_sources::attestation::{self, CYCLONEDX_PREDICATE, RUNTIME_REPORT_PREDICATE, Statement};
use runbom_sources::write::{CycloneDxJsonWriter, SbomWriter};

use crate::cli::{AttestArgs, AttestCommand, AttestVerifyArgs, Predicate};
use crate::commands::{ExitStatus, runtime_reports, sbom};

pub fn run(args: &AttestArgs) -> anyhow::Result<ExitStatus> {
    if let Some(AttestCommand::Verify(verify_args)) = &args.command {
        return verify(verify_args);
    }
    let (Some(report_path), Some(key_path)) = (&args.runtime, &args.key) else {
        anyhow::bail!("`runbom attest` needs --runtime REPORT and --key KEY");
    };
    let report = read(report_path)?;
    let (predicate_type, predicate) = match args.predicate {
        // The report as JSON, whatever its shape, so attest does not depend on it.
        Predicate::Report => (
            RUNTIME_REPORT_PREDICATE,
            serde_json::from_slice(&report).with_context(|| {
                format!("`{}` is not a JSON runtime report", report_path.display())
            })?,
        ),
        Predicate::Sbom => (CYCLONEDX_PREDICATE, sbom_predicate(report_path)?),
    };
    let key_pem = String::from_utf8(read(key_path)?)
        .with_context(|| format!("`{}` is not a PEM key", key_path.display()))?;
    let key = attestation::signing_key_from_pem(&key_pem)
        .with_context(|| format!("cannot use `{}`", key_path.display()))?;
    let name = report_path.file_name().map_or_else(
        || report_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let statement = Statement::about_file(&name, &report, predicate_type, predicate);
    let envelope = attestation::sign(&statement, &key)?;
    let json = serde_json::to_string_pretty(&envelope)? + "\n";
    match &args.output {
        Some(path) => std::fs::write(path, json)
            .with_context(|| format!("cannot write `{}`", path.display()))?,
        None => print!("{json}"),
    }
    Ok(ExitStatus::Success)
}

fn verify(args: &AttestVerifyArgs) -> anyhow::Result<ExitStatus> {
    let key_pem = String::from_utf8(read(&args.key)?)
        .with_context(|| format!("`{}` is not a PEM key", args.key.display()))?;
    let key = attestation::verifying_key_from_pem(&key_pem)
        .with_context(|| format!("cannot use `{}`", args.key.display()))?;
    let envelope = read(&args.file)?;
    match attestation::verify(&envelope, &key) {
        Ok(statement) => {
            println!(
                "valid: `{}` signed by {}",
                args.file.display(),
                attestation::key_id(&key)?
            );
            for subject in &statement.subject {
                let digests = subject
                    .digest
                    .iter()
                    .map(|(alg, hex)| format!("{alg}:{hex}"))
                    .collect::<Vec<_>>()
                    .join(" ");
                println!("subject: {} {digests}", subject.name);
            }
            println!("predicate: {}", statement.predicate_type);
            Ok(ExitStatus::Success)
        }
        Err(error) => {
            println!("invalid: `{}`: {error}", args.file.display());
            Ok(ExitStatus::Findings)
        }
    }
}

/// The CycloneDX 1.6 JSON SBOM of what the report loaded, as `runbom sbom` writes it.
fn sbom_predicate(report_path: &Path) -> anyhow::Result<serde_json::Value> {
    let reports = runtime_reports::read_all(std::slice::from_ref(&report_path.to_path_buf()))?;
    let text = CycloneDxJsonWriter.write(&sbom::build(&reports, None)?)?;
    Ok(serde_json::from_str(&text)?)
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read `{}`", path.display()))
}
