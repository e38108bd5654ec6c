//! The command line, as clap structs: every command, flag and its help text lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "runbom", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create an ed25519 key pair for signing attestations.
    Keygen(KeygenArgs),
    /// Sign a runtime report as an in-toto Statement in a DSSE envelope; `attest verify` checks one.
    Attest(AttestArgs),
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PKCS#8 PEM, mode 0600); the public key goes to `KEY.pub`.
    #[arg(long, value_name = "KEY")]
    pub out: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AttestArgs {
    #[command(subcommand)]
    pub command: Option<AttestCommand>,
    /// The runtime report to attest (JSON); its sha256 is the statement's subject.
    #[arg(long, value_name = "REPORT", required = true)]
    pub runtime: Option<PathBuf>,
    /// The private key from `runbom keygen`.
    #[arg(long, value_name = "KEY", required = true)]
    pub key: Option<PathBuf>,
    /// What the statement's predicate holds.
    #[arg(long, value_enum, default_value_t = Predicate::Report)]
    pub predicate: Predicate,
    /// Write the envelope here instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Predicate {
    /// The runtime report itself.
    Report,
}

#[derive(Debug, Subcommand)]
pub enum AttestCommand {
    /// Check an envelope's signature with a public key: exit 0 valid, 1 invalid, 2 error.
    Verify(AttestVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AttestVerifyArgs {
    /// The public key (`KEY.pub` from `runbom keygen`).
    #[arg(long, value_name = "PUB")]
    pub key: PathBuf,
    /// The DSSE envelope.
    pub file: PathBuf,
}
