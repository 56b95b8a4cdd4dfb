//! Spec files and the `--model` argument.
//!
//! A spec file is TOML (`.toml`) or JSON (`.json`) with a `layers` list whose entries are
//! inline-form strings (one or more layers each) or residual blocks:
//!
//! ```toml
//! name = "small-resnet"          # optional: the file's stem otherwise
//! input = [3, 32, 32]            # optional: from the data set otherwise
//! layers = [
//!     "conv2d(16, 3, padding=1, bias=false) as conv1", "batchnorm2d as bn1", "relu",
//!     { name = "layer1", residual = ["conv2d(16, 3, padding=1) as conv1", "batchnorm2d as bn1"] },
//!     "relu", "globalavgpool2d", "linear(10) as fc",
//! ]
//! ```
//!
//! A JSON file with Keras' `class_name`/`config` layout is read as Keras' model JSON
//! ([`crate::spec::from_keras_json`]).

use std::path::Path;

use serde_json::Value;

use crate::spec::error::SpecError;
use crate::spec::inline::{is_identifier, parse_layers, MAX_DEPTH, MAX_SPEC_BYTES};
use crate::spec::keras::from_keras_value;
use crate::spec::layer::{Layer, LayerSpec};
use crate::spec::ModelSpec;

/// Where a model's architecture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A preset name (`mlp`, `cnn`, ...).
    Preset(String),
    /// A spec file or Keras JSON.
    File(std::path::PathBuf),
}

impl ModelSource {
    /// A `--model` argument: a path when it names an existing file or ends in `.toml` /
    /// `.json` (so a missing file is reported as missing, not as an unknown preset), a preset
    /// name otherwise.
    pub fn parse(arg: &str) -> ModelSource {
        let path = Path::new(arg);
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        if path.is_file() || matches!(ext.as_deref(), Some("toml" | "json")) {
            ModelSource::File(path.to_path_buf())
        } else {
            ModelSource::Preset(arg.to_string())
        }
    }
}

fn file_err(path: &Path, reason: impl std::fmt::Display) -> SpecError {
    SpecError::File {
        source_name: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Reads a spec file or Keras JSON at `path` for a data set with examples of shape
/// `data_shape` (used when the file states no input shape).
///
/// # Errors
/// [`SpecError::File`] naming the file when it cannot be read or parsed; the spec's own
/// errors (prefixed with the file) when it does not check.
pub fn parse_spec_file(path: &Path, data_shape: &[usize]) -> Result<ModelSpec, SpecError> {
    let meta = std::fs::metadata(path).map_err(|e| file_err(path, e))?;
    if meta.len() > MAX_SPEC_BYTES as u64 {
        return Err(file_err(
            path,
            format!(
                "{} bytes is more than the {MAX_SPEC_BYTES} a spec file may have",
                meta.len()
            ),
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| file_err(path, e))?;
    let is_toml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let value: Value = if is_toml {
        toml::from_str(&text).map_err(|e| file_err(path, format!("not valid TOML: {}", e.message())))?
    } else {
        serde_json::from_str(&text).map_err(|e| file_err(path, format!("not valid JSON: {e}")))?
    };
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("custom")
        .to_string();
    let in_file = |e: SpecError| match e {
        SpecError::File { .. } => e,
        other => file_err(path, other),
    };
    if value.get("class_name").is_some() {
        return from_keras_value(&value, &stem, data_shape).map_err(in_file);
    }
    spec_from_value(&value, &stem, data_shape).map_err(in_file)
}

fn spec_from_value(value: &Value, stem: &str, data_shape: &[usize]) -> Result<ModelSpec, SpecError> {
    let Value::Object(map) = value else {
        return Err(SpecError::syntax("the file", "expected a table with a `layers` list"));
    };
    if let Some(key) = map.keys().find(|k| !["name", "input", "layers"].contains(&k.as_str())) {
        return Err(SpecError::syntax(
            "the file",
            format!("unknown key `{key}`; expected name, input, layers"),
        ));
    }
    let name = match map.get("name") {
        None => stem.to_string(),
        Some(Value::String(s)) if s.len() <= 64 && !s.chars().any(char::is_control) => s.clone(),
        Some(_) => {
            return Err(SpecError::syntax(
                "`name`",
                "expected a string of at most 64 characters",
            ))
        }
    };
    let layers = entries(map.get("layers").ok_or(SpecError::Empty)?, "layers", 0)?;
    match map.get("input") {
        None => ModelSpec::for_data(name, layers, data_shape),
        Some(v) => {
            let input: Vec<usize> = serde_json::from_value(v.clone())
                .map_err(|_| SpecError::syntax("`input`", "expected a list of sizes such as [1, 28, 28]"))?;
            if input.len() > 8 {
                return Err(SpecError::syntax("`input`", "at most 8 axes"));
            }
            ModelSpec::new(name, &input, layers)
        }
    }
}

/// The layers of a `layers` (or `residual` / `downsample`) value: an inline string or a list
/// of strings and blocks.
fn entries(value: &Value, at: &str, depth: usize) -> Result<Vec<Layer>, SpecError> {
    if depth > MAX_DEPTH {
        return Err(SpecError::syntax(
            at,
            format!("residual blocks nest at most {MAX_DEPTH} deep"),
        ));
    }
    match value {
        Value::String(text) => parse_layers(text).map_err(|e| SpecError::syntax(format!("`{at}`"), e.to_string())),
        Value::Array(items) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let here = format!("{at}[{i}]");
                match item {
                    Value::String(_) => out.extend(entries(item, &here, depth)?),
                    Value::Object(block) => out.push(residual(block, &here, depth)?),
                    _ => {
                        return Err(SpecError::syntax(
                            format!("`{here}`"),
                            "expected a layer string or a table with `residual`",
                        ))
                    }
                }
            }
            Ok(out)
        }
        _ => Err(SpecError::syntax(
            format!("`{at}`"),
            "expected a layer string or a list",
        )),
    }
}

fn residual(block: &serde_json::Map<String, Value>, at: &str, depth: usize) -> Result<Layer, SpecError> {
    if let Some(key) = block
        .keys()
        .find(|k| !["name", "residual", "downsample"].contains(&k.as_str()))
    {
        return Err(SpecError::syntax(
            format!("`{at}`"),
            format!("unknown key `{key}`; a block has residual, downsample, name"),
        ));
    }
    let body = entries(
        block
            .get("residual")
            .ok_or_else(|| SpecError::syntax(format!("`{at}`"), "a table entry must be a block with `residual`"))?,
        &format!("{at}.residual"),
        depth + 1,
    )?;
    if body.is_empty() {
        return Err(SpecError::syntax(
            format!("`{at}`"),
            "a residual block needs at least one layer",
        ));
    }
    let downsample = block
        .get("downsample")
        .map(|d| entries(d, &format!("{at}.downsample"), depth + 1))
        .transpose()?;
    let name = match block.get("name") {
        None => None,
        Some(Value::String(n)) if is_identifier(n) => Some(n.clone()),
        Some(_) => {
            return Err(SpecError::syntax(
                format!("`{at}.name`"),
                "a layer name is letters, digits and `_`, not starting with a digit",
            ))
        }
    };
    Ok(Layer {
        kind: LayerSpec::Residual { body, downsample },
        name,
    })
}
