//! The files `runbom demo` carries (`crates/runbom/demo/`), embedded at build time and written
//! into the demo's directory.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The application every demo instance reports as.
pub const APP: &str = "storefront";
/// The release whose expected inventory the demo pushes.
pub const RELEASE: &str = "1.4.0";
/// The advisory imported a few seconds after the dashboard is up.
pub const LATE_ADVISORY: &str = "PYSEC-2024-60";

const STOREFRONT: &str = include_str!("../../../demo/storefront.py");
const REQUIREMENTS_PROD: &str = include_str!("../../../demo/requirements-prod.txt");
const REQUIREMENTS_STAGING: &str = include_str!("../../../demo/requirements-staging.txt");
const ADVISORIES: &[u8] = include_bytes!("../../../demo/advisories.zip");
const LATE_ADVISORY_RECORD: &str = include_str!("../../../demo/late-advisory.yaml");

/// Where each asset was written.
#[derive(Debug)]
pub struct Assets {
    pub storefront: PathBuf,
    pub advisories: PathBuf,
    pub late_advisory: PathBuf,
    /// `(environment, its requirements file)`; prod's is the expected inventory.
    pub environments: Vec<(&'static str, PathBuf)>,
}

impl Assets {
    pub fn write(dir: &Path) -> anyhow::Result<Assets> {
        let assets = Assets {
            storefront: write(dir, "storefront.py", STOREFRONT.as_bytes())?,
            advisories: write(dir, "advisories.zip", ADVISORIES)?,
            late_advisory: write(dir, "late-advisory.yaml", LATE_ADVISORY_RECORD.as_bytes())?,
            environments: vec![
                (
                    "prod",
                    write(dir, "requirements-prod.txt", REQUIREMENTS_PROD.as_bytes())?,
                ),
                (
                    "staging",
                    write(
                        dir,
                        "requirements-staging.txt",
                        REQUIREMENTS_STAGING.as_bytes(),
                    )?,
                ),
            ],
        };
        Ok(assets)
    }

    /// The expected inventory of [`RELEASE`]: what prod was meant to run.
    pub fn expected(&self) -> &Path {
        &self.environments[0].1
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, bytes).with_context(|| format!("cannot write `{}`", path.display()))?;
    Ok(path)
}
