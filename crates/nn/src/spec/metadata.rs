//! The spec in a saved model's safetensors metadata, under [`METADATA_KEY`]:
//! `{"format":"neurite.spec/1","name":"cnn","input":[1,28,28],"layers":"conv2d(32, 3) relu ..."}`
//! (serde JSON; the layers in the inline form). Files written before specs existed hold
//! `{"model":"cnn","input":[1,28,28],"classes":10}` (and `"hidden"` for an MLP); those still load.

use serde::{Deserialize, Serialize};

use crate::spec::error::SpecError;
use crate::spec::inline::{parse_layers, MAX_SPEC_BYTES};
use crate::spec::ModelSpec;

/// The metadata key under which a saved model records its spec.
pub const METADATA_KEY: &str = "neurite.architecture";

/// The value of the `format` field.
const FORMAT: &str = "neurite.spec/1";

/// What is stored.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: String,
    name: String,
    input: Vec<usize>,
    layers: String,
}

/// The format of files saved before specs existed: a preset and its sizes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Legacy {
    model: String,
    input: Vec<usize>,
    classes: usize,
    #[serde(default)]
    hidden: Option<Vec<usize>>,
}

fn bad(reason: impl std::fmt::Display) -> SpecError {
    SpecError::File {
        source_name: format!("metadata `{METADATA_KEY}`"),
        reason: reason.to_string(),
    }
}

impl ModelSpec {
    /// The JSON stored in a saved file's metadata under [`METADATA_KEY`].
    pub fn to_metadata(&self) -> String {
        serde_json::to_string(&Stored {
            format: FORMAT.into(),
            name: self.name().to_string(),
            input: self.input_shape().to_vec(),
            layers: self.layers_text(),
        })
        .expect("a spec serialises")
    }

    /// Reads [`ModelSpec::to_metadata`] back, or the metadata of files saved before specs
    /// existed (`{"model":"mlp","input":[784],"hidden":[128],"classes":10}`); the shapes are
    /// inferred and checked again, so hostile metadata cannot size memory.
    ///
    /// ```
    /// use neurite_nn::spec::ModelSpec;
    /// let spec = ModelSpec::w3();
    /// assert_eq!(ModelSpec::from_metadata(&spec.to_metadata()).unwrap(), spec);
    /// let old = ModelSpec::from_metadata(r#"{ "model": "mlp", "input": [784], "hidden": [512, 512], "classes": 10 }"#);
    /// assert_eq!(old.unwrap(), ModelSpec::w2());
    /// assert!(ModelSpec::from_metadata("{\"model\":\"mlp\"}").is_err());
    /// ```
    ///
    /// # Errors
    /// [`SpecError`] when the text is not one of the two formats or the spec does not check.
    pub fn from_metadata(text: &str) -> Result<ModelSpec, SpecError> {
        if text.len() > 2 * MAX_SPEC_BYTES {
            return Err(SpecError::TooLong { bytes: text.len() });
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(bad)?;
        if value.get("model").is_some() {
            let legacy: Legacy = serde_json::from_value(value).map_err(bad)?;
            if legacy.model == "mlp" && legacy.hidden.is_none() {
                return Err(bad("an mlp needs a \"hidden\" list"));
            }
            return ModelSpec::preset(&legacy.model, legacy.hidden.as_deref(), &legacy.input, legacy.classes);
        }
        let stored: Stored = serde_json::from_value(value).map_err(bad)?;
        if stored.format != FORMAT {
            return Err(bad(format!(
                "format `{}` is not `{FORMAT}` (written by a newer neurite?)",
                stored.format
            )));
        }
        ModelSpec::new(stored.name, &stored.input, parse_layers(&stored.layers)?)
    }
}
