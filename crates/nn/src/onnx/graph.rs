//! A decoded ONNX file, checked before anything is sized by it: the one input and output,
//! the opset, the constants (initializers and `Constant` nodes) with their element types and
//! byte lengths checked against their dimensions, node attributes, and who consumes each
//! value.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use prost::Message;

use crate::onnx::error::OnnxError;
use crate::onnx::proto::{
    attribute_type, data_type, AttributeProto, DimensionValue, ModelProto, NodeProto, TensorProto,
};
use crate::serialize::MAX_TENSOR_VALUES;
use crate::spec::MAX_MODEL_VALUES;

/// The largest ONNX file [`crate::onnx::import`] reads: the spec's value budget as f32 bytes,
/// plus 1 GiB for the graph itself.
pub const MAX_ONNX_BYTES: u64 = MAX_MODEL_VALUES * 4 + (1 << 30);

/// The default-domain opsets whose operators mean what the importer reads them as.
const OPSETS: std::ops::RangeInclusive<i64> = 13..=23;

/// A decoded, checked graph.
pub(crate) struct Graph {
    /// The file (for errors).
    pub path: PathBuf,
    /// The computing nodes (`Constant` nodes are in `constants`).
    pub nodes: Vec<NodeProto>,
    /// The graph input's name and shape without the batch axis.
    pub input: (String, Vec<usize>),
    /// The graph output's name.
    pub output: String,
    constants: HashMap<String, TensorProto>,
    /// Constants that failed their checks, with the reason: an error naming the node that
    /// reads one (an unused one is harmless and never allocated for).
    refused: HashMap<String, String>,
    consumers: HashMap<String, Vec<usize>>,
}

/// A node's display name: its own, or its first output's when it has none.
pub(crate) fn node_name(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        node.name.clone()
    } else {
        node.output.first().cloned().unwrap_or_default()
    }
}

impl Graph {
    /// Decodes and checks `bytes`.
    pub fn read(bytes: &[u8], path: &Path) -> Result<Graph, OnnxError> {
        let model_err = |reason: String| OnnxError::Model {
            path: path.to_path_buf(),
            reason,
        };
        let model = ModelProto::decode(bytes).map_err(|e| OnnxError::Malformed {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let Some(graph) = model.graph else {
            return Err(model_err("the file has no graph (an empty or truncated file?)".into()));
        };
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map(|o| o.version);
        match opset {
            Some(v) if OPSETS.contains(&v) => {}
            Some(v) => {
                return Err(model_err(format!(
                    "opset {v} of the default domain: neurite reads opsets {} to {}",
                    OPSETS.start(),
                    OPSETS.end()
                )))
            }
            None => return Err(model_err("the file imports no default-domain opset".into())),
        }
        if !graph.sparse_initializer.is_empty() {
            return Err(model_err("sparse initializers are not supported".into()));
        }
        let mut constants = HashMap::new();
        let mut refused = HashMap::new();
        let mut total = 0u64;
        for t in graph.initializer {
            match check_tensor(&t) {
                Ok(n) => {
                    total = total.saturating_add(n);
                    constants.insert(t.name.clone(), t);
                }
                Err(reason) => {
                    refused.insert(t.name.clone(), reason);
                }
            }
        }
        let mut nodes = Vec::new();
        for node in graph.node {
            if node.op_type == "Constant" && node.domain.is_empty() {
                let [out] = node.output.as_slice() else {
                    return Err(node_err(path, &node, "expected one output".into()));
                };
                let value = match node.attribute.as_slice() {
                    [a] if a.name == "value" && a.t.is_some() => a.t.clone().expect("checked"),
                    [a] if a.name == "value_float" && a.f.is_some() => {
                        TensorProto::floats(out, &[], &[a.f.expect("checked")])
                    }
                    [a] if a.name == "value_ints" => TensorProto {
                        dims: vec![a.ints.len() as i64],
                        data_type: data_type::INT64,
                        int64_data: a.ints.clone(),
                        ..TensorProto::default()
                    },
                    _ => {
                        return Err(node_err(
                            path,
                            &node,
                            "expected one `value`, `value_float` or `value_ints` attribute".into(),
                        ))
                    }
                };
                let n = check_tensor(&value).map_err(|reason| node_err(path, &node, format!("its value: {reason}")))?;
                total = total.saturating_add(n);
                constants.insert(out.clone(), value);
            } else {
                nodes.push(node);
            }
        }
        if total > MAX_MODEL_VALUES {
            return Err(model_err(format!(
                "the constants hold {total} values, more than the {MAX_MODEL_VALUES} a model may have"
            )));
        }
        let inputs: Vec<_> = graph
            .input
            .iter()
            .filter(|i| !constants.contains_key(&i.name))
            .collect();
        let [input] = inputs.as_slice() else {
            return Err(model_err(format!(
                "the graph has {} inputs besides its weights; neurite reads models of one input",
                inputs.len()
            )));
        };
        let [output] = graph.output.as_slice() else {
            return Err(model_err(format!(
                "the graph has {} outputs; neurite reads models of one output",
                graph.output.len()
            )));
        };
        let tensor = input.r#type.as_ref().and_then(|t| t.tensor_type.as_ref());
        let Some(tensor) = tensor.filter(|t| t.elem_type == data_type::FLOAT) else {
            return Err(model_err(format!("input `{}` is not a float tensor", input.name)));
        };
        let dims = tensor.shape.as_ref().map(|s| s.dim.as_slice()).unwrap_or_default();
        if dims.len() < 2 {
            return Err(model_err(format!(
                "input `{}` has {} axes; expected a batch axis and at least one more",
                input.name,
                dims.len()
            )));
        }
        let mut shape = Vec::new();
        for (axis, d) in dims.iter().enumerate().skip(1) {
            match d.value {
                Some(DimensionValue::DimValue(v)) if v > 0 && (v as u64) <= MAX_TENSOR_VALUES => shape.push(v as usize),
                _ => {
                    return Err(model_err(format!(
                        "input `{}` has a dynamic or invalid size on axis {axis} ({:?}); only the batch axis (0) may be dynamic",
                        input.name, d.value
                    )))
                }
            }
        }
        let mut consumers: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, node) in nodes.iter().enumerate() {
            let distinct: HashSet<&String> = node.input.iter().filter(|v| !v.is_empty()).collect();
            for v in distinct {
                consumers.entry(v.clone()).or_default().push(i);
            }
        }
        Ok(Graph {
            path: path.to_path_buf(),
            nodes,
            input: (input.name.clone(), shape),
            output: output.name.clone(),
            constants,
            refused,
            consumers,
        })
    }

    /// The nodes that take `value` as an input, in file order.
    pub fn consumers(&self, value: &str) -> &[usize] {
        self.consumers.get(value).map_or(&[], Vec::as_slice)
    }

    /// Whether `value` is a constant (an initializer or a `Constant` node's output).
    pub fn is_constant(&self, value: &str) -> bool {
        self.constants.contains_key(value) || self.refused.contains_key(value)
    }

    /// An error about `node`.
    pub fn err(&self, node: &NodeProto, reason: impl Into<String>) -> OnnxError {
        node_err(&self.path, node, reason.into())
    }

    /// The f32 constant `value` that `node` takes, with its shape.
    pub fn floats(&self, node: &NodeProto, value: &str) -> Result<(Vec<usize>, Vec<f32>), OnnxError> {
        let t = self.constant(node, value)?;
        if t.data_type != data_type::FLOAT {
            return Err(self.err(
                node,
                format!(
                    "input `{value}` has element type {}; neurite reads float (1) weights",
                    t.data_type
                ),
            ));
        }
        let shape: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
        let values = if t.raw_data.is_empty() {
            t.float_data.clone()
        } else {
            t.raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        };
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(self.err(
                node,
                format!("input `{value}` holds the non-finite value {} at {i}", values[i]),
            ));
        }
        Ok((shape, values))
    }

    /// The int64 constant `value` that `node` takes (a shape).
    pub fn ints(&self, node: &NodeProto, value: &str) -> Result<Vec<i64>, OnnxError> {
        let t = self.constant(node, value)?;
        if t.data_type != data_type::INT64 {
            return Err(self.err(
                node,
                format!("input `{value}` has element type {}; expected int64 (7)", t.data_type),
            ));
        }
        Ok(if t.raw_data.is_empty() {
            t.int64_data.clone()
        } else {
            t.raw_data
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
                .collect()
        })
    }

    fn constant(&self, node: &NodeProto, value: &str) -> Result<&TensorProto, OnnxError> {
        if let Some(reason) = self.refused.get(value) {
            return Err(self.err(node, format!("constant `{value}`: {reason}")));
        }
        self.constants.get(value).ok_or_else(|| {
            self.err(
                node,
                format!("input `{value}` is not a constant (an initializer or Constant); neurite reads weights only from constants"),
            )
        })
    }
}

fn node_err(path: &Path, node: &NodeProto, reason: String) -> OnnxError {
    OnnxError::Node {
        path: path.to_path_buf(),
        node: node_name(node),
        op_type: node.op_type.clone(),
        reason,
    }
}

/// Checks a constant's element type, location, dimensions and data length; returns its
/// number of values, or why it is refused.
fn check_tensor(t: &TensorProto) -> Result<u64, String> {
    if t.data_location != 0 || !t.external_data.is_empty() {
        return Err("its data lives in an external file, which neurite does not read".into());
    }
    if t.dims.iter().any(|&d| d < 0) {
        return Err(format!("negative dimension in {:?}", t.dims));
    }
    let n = t
        .dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d as u64))
        .filter(|&n| n <= MAX_TENSOR_VALUES)
        .ok_or_else(|| {
            format!(
                "shape {:?} holds more than the {MAX_TENSOR_VALUES} values of a tensor",
                t.dims
            )
        })?;
    let (width, listed) = match t.data_type {
        data_type::FLOAT => (4, t.float_data.len()),
        data_type::INT64 => (8, t.int64_data.len()),
        other => {
            return Err(format!(
                "element type {other} is not supported (float (1) weights and int64 (7) shapes are)"
            ))
        }
    };
    let ok = if t.raw_data.is_empty() {
        listed as u64 == n
    } else {
        listed == 0 && t.raw_data.len() as u64 == n * width
    };
    if !ok {
        return Err(format!(
            "shape {:?} needs {n} values but the tensor holds {} raw bytes and {listed} listed values",
            t.dims,
            t.raw_data.len()
        ));
    }
    Ok(n)
}

/// A node's attributes, read by name with defaults; an attribute the reader does not ask
/// for is refused by [`Attributes::finish`].
pub(crate) struct Attributes<'a> {
    graph: &'a Graph,
    node: &'a NodeProto,
    read: Vec<&'a str>,
}

impl<'a> Attributes<'a> {
    /// The attributes of `node`.
    pub fn of(graph: &'a Graph, node: &'a NodeProto) -> Attributes<'a> {
        Attributes {
            graph,
            node,
            read: Vec::new(),
        }
    }

    fn get(&mut self, name: &'a str, kind: i32) -> Result<Option<&'a AttributeProto>, OnnxError> {
        self.read.push(name);
        match self.node.attribute.iter().find(|a| a.name == name) {
            Some(a) if a.r#type == kind || a.r#type == 0 => Ok(Some(a)),
            Some(a) => Err(self.graph.err(
                self.node,
                format!("attribute `{name}` has type {}, expected {kind}", a.r#type),
            )),
            None => Ok(None),
        }
    }

    /// An `INT` attribute.
    pub fn int(&mut self, name: &'a str, default: i64) -> Result<i64, OnnxError> {
        Ok(self
            .get(name, attribute_type::INT)?
            .and_then(|a| a.i)
            .unwrap_or(default))
    }

    /// A `FLOAT` attribute.
    pub fn float(&mut self, name: &'a str, default: f32) -> Result<f32, OnnxError> {
        Ok(self
            .get(name, attribute_type::FLOAT)?
            .and_then(|a| a.f)
            .unwrap_or(default))
    }

    /// A `STRING` attribute.
    pub fn string(&mut self, name: &'a str, default: &str) -> Result<String, OnnxError> {
        Ok(self
            .get(name, attribute_type::STRING)?
            .and_then(|a| a.s.as_ref())
            .map_or_else(|| default.to_string(), |s| String::from_utf8_lossy(s).into_owned()))
    }

    /// An `INTS` attribute of `len` values, each at least `min`.
    pub fn ints(&mut self, name: &'a str, len: usize, min: i64) -> Result<Option<Vec<usize>>, OnnxError> {
        let Some(a) = self.get(name, attribute_type::INTS)? else {
            return Ok(None);
        };
        if a.ints.len() != len || a.ints.iter().any(|&v| v < min || v as u64 > MAX_TENSOR_VALUES) {
            return Err(self.graph.err(
                self.node,
                format!(
                    "attribute `{name}` is {:?}; expected {len} values of at least {min}",
                    a.ints
                ),
            ));
        }
        Ok(Some(a.ints.iter().map(|&v| v as usize).collect()))
    }

    /// Refuses any attribute not read.
    pub fn finish(self) -> Result<(), OnnxError> {
        match self
            .node
            .attribute
            .iter()
            .find(|a| !self.read.contains(&a.name.as_str()))
        {
            Some(a) => Err(self
                .graph
                .err(self.node, format!("attribute `{}` is not supported", a.name))),
            None => Ok(()),
        }
    }
}
