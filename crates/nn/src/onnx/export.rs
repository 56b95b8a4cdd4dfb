//! Spec and weights to an ONNX graph (opset [`OPSET`]): one node (or a short fixed pattern)
//! per layer, the weights as initializers under their `state_dict` names, the input
//! [`INPUT_NAME`] and the output [`OUTPUT_NAME`], both with the symbolic batch axis
//! [`BATCH_DIM`].

use std::collections::HashMap;

use neurite_tensor::Tensor;
use prost::Message;

use crate::layers::activation::Activation;
use crate::onnx::error::OnnxError;
use crate::onnx::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto,
    ValueInfoProto,
};
use crate::spec::{Layer, LayerSpec, ModelSpec, Padding, METADATA_KEY};
use crate::Module;

/// The ONNX operator set exported files use.
pub const OPSET: i64 = 17;
/// The ONNX IR version that goes with [`OPSET`].
pub const IR_VERSION: i64 = 8;
/// The graph input's name: `[batch, ...spec input shape]`, f32.
pub const INPUT_NAME: &str = "input";
/// The graph output's name: `[batch, ...spec output shape]`, f32 (probabilities when the spec
/// ends in a softmax).
pub const OUTPUT_NAME: &str = "logits";
/// The symbolic name of the batch axis.
pub const BATCH_DIM: &str = "batch";

/// The serialized ONNX model of `spec` with `model`'s weights.
pub(crate) fn to_bytes(model: &dyn Module, spec: &ModelSpec) -> Result<Vec<u8>, OnnxError> {
    let mut tensors: HashMap<String, Tensor> = model.named_parameters().into_iter().collect();
    tensors.extend(model.named_buffers());
    for (name, shape) in spec.tensor_shapes() {
        let (at, _) = name.rsplit_once('.').unwrap_or(("", &name));
        let kind = spec
            .layer_info()
            .iter()
            .find(|l| l.path == at)
            .map_or("?", |l| l.kind)
            .to_string();
        match tensors.get(&name) {
            Some(t) if t.shape() == shape => {}
            found => {
                return Err(OnnxError::Export {
                    at: at.to_string(),
                    kind,
                    reason: match found {
                        Some(t) => format!("the model's `{name}` has shape {:?}, the spec's {shape:?}", t.shape()),
                        None => {
                            format!("the model has no tensor `{name}` (shape {shape:?}): is it built from this spec?")
                        }
                    },
                });
            }
        }
    }
    let outputs: HashMap<&str, &[usize]> = spec
        .layer_info()
        .iter()
        .map(|l| (l.path.as_str(), l.output.as_slice()))
        .collect();
    let mut graph = Graph {
        tensors: &tensors,
        outputs: &outputs,
        nodes: Vec::new(),
        initializers: Vec::new(),
    };
    let last = graph.sequence(INPUT_NAME, spec.input_shape(), spec.layers(), "")?;
    for node in &mut graph.nodes {
        for value in node.output.iter_mut().chain(node.input.iter_mut()) {
            if *value == last {
                *value = OUTPUT_NAME.to_string();
            }
        }
    }
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "neurite".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{spec}"),
        graph: Some(GraphProto {
            node: graph.nodes,
            name: spec.name().to_string(),
            initializer: graph.initializers,
            input: vec![ValueInfoProto::batched(INPUT_NAME, BATCH_DIM, spec.input_shape())],
            output: vec![ValueInfoProto::batched(OUTPUT_NAME, BATCH_DIM, &spec.output_shape())],
            ..GraphProto::default()
        }),
        metadata_props: vec![StringStringEntryProto {
            key: METADATA_KEY.into(),
            value: spec.to_metadata(),
        }],
    };
    Ok(model.encode_to_vec())
}

/// The graph being written.
struct Graph<'a> {
    tensors: &'a HashMap<String, Tensor>,
    outputs: &'a HashMap<&'a str, &'a [usize]>,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Graph<'_> {
    /// Adds `layers` (under `prefix`) after the value `x` of shape `shape`; returns the last
    /// value's name.
    fn sequence(&mut self, x: &str, shape: &[usize], layers: &[Layer], prefix: &str) -> Result<String, OnnxError> {
        let mut x = x.to_string();
        let mut shape = shape.to_vec();
        for (i, layer) in layers.iter().enumerate() {
            let path = format!("{prefix}{}", layer.name.clone().unwrap_or_else(|| i.to_string()));
            x = self.layer(&x, &shape, &layer.kind, &path)?;
            shape = self.outputs[path.as_str()].to_vec();
        }
        Ok(x)
    }

    /// Adds a node named `name` running `op` on `inputs`; returns its output's name (the
    /// node's name).
    fn node(&mut self, name: String, op: &str, inputs: &[&str], attribute: Vec<AttributeProto>) -> String {
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![name.clone()],
            name: name.clone(),
            op_type: op.into(),
            domain: String::new(),
            attribute,
        });
        name
    }

    /// Adds the model's tensor `name` as an initializer; returns its name.
    fn weight(&mut self, name: String) -> String {
        let t = &self.tensors[&name];
        self.initializers
            .push(TensorProto::floats(&name, &t.shape(), &t.to_vec()));
        name
    }

    /// Adds a constant scalar initializer; returns its name.
    fn scalar(&mut self, name: String, value: f32) -> String {
        self.initializers.push(TensorProto::floats(&name, &[], &[value]));
        name
    }

    fn layer(&mut self, x: &str, input: &[usize], kind: &LayerSpec, path: &str) -> Result<String, OnnxError> {
        let refuse = |reason: String| OnnxError::Export {
            at: path.to_string(),
            kind: kind.kind_name().to_string(),
            reason,
        };
        let op = |name: &str| format!("{path}/{name}");
        Ok(match kind {
            LayerSpec::Linear { bias, .. } => {
                let w = self.weight(format!("{path}.weight"));
                let mut inputs = vec![x.to_string(), w];
                if *bias {
                    inputs.push(self.weight(format!("{path}.bias")));
                }
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                self.node(op("Gemm"), "Gemm", &inputs, vec![AttributeProto::int("transB", 1)])
            }
            LayerSpec::Dense {
                activation, use_bias, ..
            } => {
                let k = self.weight(format!("{path}.kernel"));
                let mut inputs = vec![x.to_string(), k];
                if *use_bias {
                    inputs.push(self.weight(format!("{path}.bias")));
                }
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let y = self.node(op("Gemm"), "Gemm", &inputs, Vec::new());
                match activation {
                    Activation::Linear => y,
                    a => self.activation(&y, *a, &op("activation"))?,
                }
            }
            LayerSpec::Conv2d {
                kernel_size,
                stride,
                padding,
                dilation,
                groups,
                bias,
                ..
            } => {
                let pad = match padding {
                    Padding::Explicit(p) => *p,
                    Padding::Same => crate::Size2(
                        dilation.0 * (kernel_size.0 - 1) / 2,
                        dilation.1 * (kernel_size.1 - 1) / 2,
                    ),
                };
                let w = self.weight(format!("{path}.weight"));
                let mut inputs = vec![x.to_string(), w];
                if *bias {
                    inputs.push(self.weight(format!("{path}.bias")));
                }
                let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
                let attrs = vec![
                    AttributeProto::ints("kernel_shape", &ints(&[kernel_size.0, kernel_size.1])),
                    AttributeProto::ints("strides", &ints(&[stride.0, stride.1])),
                    AttributeProto::ints("pads", &ints(&[pad.0, pad.1, pad.0, pad.1])),
                    AttributeProto::ints("dilations", &ints(&[dilation.0, dilation.1])),
                    AttributeProto::int("group", *groups as i64),
                ];
                self.node(op("Conv"), "Conv", &inputs, attrs)
            }
            LayerSpec::MaxPool2d {
                kernel_size,
                stride,
                padding,
            }
            | LayerSpec::AvgPool2d {
                kernel_size,
                stride,
                padding,
            } => {
                let max = matches!(kind, LayerSpec::MaxPool2d { .. });
                let mut attrs = vec![
                    AttributeProto::ints("kernel_shape", &ints(&[kernel_size.0, kernel_size.1])),
                    AttributeProto::ints("strides", &ints(&[stride.0, stride.1])),
                    AttributeProto::ints("pads", &ints(&[padding.0, padding.1, padding.0, padding.1])),
                ];
                let name = if max { "MaxPool" } else { "AveragePool" };
                if !max {
                    attrs.push(AttributeProto::int("count_include_pad", 1));
                }
                self.node(op(name), name, &[x], attrs)
            }
            LayerSpec::AdaptiveAvgPool2d { output_size } => {
                let (h, w) = (input[1], input[2]);
                let (oh, ow) = (output_size.0, output_size.1);
                if (oh, ow) == (1, 1) {
                    self.node(op("GlobalAveragePool"), "GlobalAveragePool", &[x], Vec::new())
                } else if h % oh == 0 && w % ow == 0 {
                    let k = [h / oh, w / ow];
                    let attrs = vec![
                        AttributeProto::ints("kernel_shape", &ints(&k)),
                        AttributeProto::ints("strides", &ints(&k)),
                    ];
                    self.node(op("AveragePool"), "AveragePool", &[x], attrs)
                } else {
                    return Err(refuse(format!(
                        "output {oh}x{ow} of a {h}x{w} input needs windows of different sizes, which no ONNX operator computes (use an output size that divides the input)"
                    )));
                }
            }
            LayerSpec::GlobalAvgPool2d => {
                let y = self.node(op("GlobalAveragePool"), "GlobalAveragePool", &[x], Vec::new());
                self.node(op("Flatten"), "Flatten", &[&y], vec![AttributeProto::int("axis", 1)])
            }
            LayerSpec::BatchNorm1d { eps, momentum } | LayerSpec::BatchNorm2d { eps, momentum } => {
                let names =
                    ["weight", "bias", "running_mean", "running_var"].map(|n| self.weight(format!("{path}.{n}")));
                let attrs = vec![
                    AttributeProto::float("epsilon", *eps),
                    AttributeProto::float("momentum", 1.0 - momentum),
                ];
                let [s, b, m, v] = &names;
                self.node(op("BatchNormalization"), "BatchNormalization", &[x, s, b, m, v], attrs)
            }
            LayerSpec::LayerNorm { dims, eps } => {
                let s = self.weight(format!("{path}.weight"));
                let b = self.weight(format!("{path}.bias"));
                let attrs = vec![
                    AttributeProto::int("axis", -(*dims as i64)),
                    AttributeProto::float("epsilon", *eps),
                ];
                self.node(op("LayerNormalization"), "LayerNormalization", &[x, &s, &b], attrs)
            }
            LayerSpec::Dropout { p } | LayerSpec::Dropout2d { p } => {
                // Inference-mode Dropout is the identity; the ratio keeps `p` for a re-import.
                let ratio = self.scalar(format!("{path}.ratio"), *p);
                self.node(op("Dropout"), "Dropout", &[x, &ratio], Vec::new())
            }
            LayerSpec::Flatten => self.node(op("Flatten"), "Flatten", &[x], vec![AttributeProto::int("axis", 1)]),
            LayerSpec::Activation(a) => self.activation(x, *a, path)?,
            LayerSpec::Residual { body, downsample } => {
                let main = self.sequence(x, input, body, &format!("{path}."))?;
                let shortcut = match downsample {
                    Some(d) => self.sequence(x, input, d, &format!("{path}.downsample."))?,
                    None => x.to_string(),
                };
                self.node(op("Add"), "Add", &[&main, &shortcut], Vec::new())
            }
        })
    }

    /// Adds activation `a` after `x` under the node name `name`.
    fn activation(&mut self, x: &str, a: Activation, name: &str) -> Result<String, OnnxError> {
        let op = |n: &str| format!("{name}/{n}");
        Ok(match a {
            Activation::Linear => self.node(op("Identity"), "Identity", &[x], Vec::new()),
            Activation::Relu => self.node(op("Relu"), "Relu", &[x], Vec::new()),
            Activation::LeakyRelu(slope) => self.node(
                op("LeakyRelu"),
                "LeakyRelu",
                &[x],
                vec![AttributeProto::float("alpha", slope)],
            ),
            Activation::Sigmoid => self.node(op("Sigmoid"), "Sigmoid", &[x], Vec::new()),
            Activation::Tanh => self.node(op("Tanh"), "Tanh", &[x], Vec::new()),
            Activation::Softmax => self.node(op("Softmax"), "Softmax", &[x], vec![AttributeProto::int("axis", -1)]),
            Activation::Gelu => {
                // Opset 17 has no Gelu: x · (erf(x / √2) + 1) · 0.5, as PyTorch writes it.
                let sqrt2 = self.scalar(op("sqrt2"), std::f32::consts::SQRT_2);
                let one = self.scalar(op("one"), 1.0);
                let half = self.scalar(op("half"), 0.5);
                let d = self.node(op("Div"), "Div", &[x, &sqrt2], Vec::new());
                let e = self.node(op("Erf"), "Erf", &[&d], Vec::new());
                let a = self.node(op("Add"), "Add", &[&e, &one], Vec::new());
                let m = self.node(op("Mul"), "Mul", &[x, &a], Vec::new());
                self.node(op("Mul_1"), "Mul", &[&m, &half], Vec::new())
            }
        })
    }
}

fn ints(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&d| d as i64).collect()
}
