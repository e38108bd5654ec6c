//! OSV records written as YAML (`osv/yaml`), as the PyPA advisory database keeps them. Scalars
//! are read as written: unquoted timestamps stay strings and `1.10` stays a version.

use runbom_model::Advisory;

use super::{AdvisoryError, AdvisoryReader, text};

#[derive(Debug)]
pub struct OsvYaml;

impl AdvisoryReader for OsvYaml {
    fn name(&self) -> &'static str {
        "osv/yaml"
    }

    fn detect(&self, name: &str, _contents: &[u8]) -> bool {
        let name = name.to_ascii_lowercase();
        name.ends_with(".yaml") || name.ends_with(".yml")
    }

    fn read(&self, file: &str, contents: &[u8]) -> Result<Advisory, AdvisoryError> {
        serde_norway::from_str(text(file, contents)?).map_err(|e| AdvisoryError::yaml(file, &e))
    }
}
