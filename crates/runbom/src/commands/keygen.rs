//! `runbom keygen`: writes an ed25519 key pair for attestations.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rand::RngCore;
use runbom_sources::attestation;

use crate::cli::KeygenArgs;
use crate::commands::ExitStatus;

pub fn run(args: &KeygenArgs) -> anyhow::Result<ExitStatus> {
    let public_path = public_key_path(&args.out);
    for path in [&args.out, &public_path] {
        if path.exists() && !args.force {
            bail!("`{}` exists; pass --force to overwrite it", path.display());
        }
    }
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let (private, public) = attestation::key_pair_pem(&seed)?;
    seed.fill(0);
    write_private(&args.out, private.as_bytes())
        .with_context(|| format!("cannot write `{}`", args.out.display()))?;
    std::fs::write(&public_path, public)
        .with_context(|| format!("cannot write `{}`", public_path.display()))?;
    eprintln!(
        "wrote private key `{}` and public key `{}`",
        args.out.display(),
        public_path.display()
    );
    Ok(ExitStatus::Success)
}

/// `KEY` -> `KEY.pub`.
fn public_key_path(private: &Path) -> PathBuf {
    let mut name = private.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Creates the file with mode 0600 from the start, so the key is never readable by others.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)
}
