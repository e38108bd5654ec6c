//! The Go module proxy protocol (`GOPROXY`): `<module>/@v/list` for the versions, then
//! `<module>/@v/<version>.info` for each version's time. Module paths are case-encoded
//! (`github.com/BurntSushi/toml` -> `github.com/!burnt!sushi/toml`).

use runbom_model::release::Release;
use serde::Deserialize;

use super::{IndexClient, IndexError};

#[derive(Debug, Deserialize)]
struct Info {
    #[serde(rename = "Version")]
    version: String,
    #[serde(rename = "Time", default)]
    time: Option<String>,
}

/// Upper-case letters become `!` and the lower-case letter, as the proxy protocol requires.
pub(super) fn escape(module: &str) -> String {
    let mut out = String::with_capacity(module.len());
    for c in module.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn releases(client: &IndexClient, module: &str) -> Result<Vec<Release>, IndexError> {
    let base = format!("{}{}/@v/", client.settings.go_proxy, escape(module));
    let list: Vec<String> = client.fetch(&format!("{base}list"), "text/plain", module, |text| {
        Ok(text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    })?;
    let mut releases = Vec::new();
    for version in list {
        let info: Info = client.fetch(
            &format!("{base}{version}.info"),
            "application/json",
            module,
            |text| serde_json::from_str(text).map_err(|e| e.to_string()),
        )?;
        releases.push(Release {
            version: info.version,
            published: info.time,
            yanked: false,
            yanked_reason: None,
        });
    }
    Ok(releases)
}
