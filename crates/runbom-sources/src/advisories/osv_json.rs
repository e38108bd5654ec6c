//! OSV records as JSON (`osv/json`): the schema's own form, as osv.dev's bulk exports and the Go
//! vulnerability database publish them.

use runbom_model::Advisory;

use super::{AdvisoryError, AdvisoryReader};

#[derive(Debug)]
pub struct OsvJson;

impl AdvisoryReader for OsvJson {
    fn name(&self) -> &'static str {
        "osv/json"
    }

    fn detect(&self, name: &str, contents: &[u8]) -> bool {
        let name = name.to_ascii_lowercase();
        name.ends_with(".json")
            || (!name.ends_with(".yaml")
                && !name.ends_with(".yml")
                && contents.trim_ascii_start().first() == Some(&b'{'))
    }

    fn read(&self, file: &str, contents: &[u8]) -> Result<Advisory, AdvisoryError> {
        serde_json::from_slice(contents).map_err(|e| AdvisoryError::json(file, &e))
    }
}
