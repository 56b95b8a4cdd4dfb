//! An ONNX graph back to a model spec and its tensors. The graph is walked from its input:
//! a value with one consumer continues a chain of layers (one node each, or a short fixed
//! pattern: `MatMul` + bias `Add`, `GlobalAveragePool` + `Flatten`, the `Erf` form of GELU);
//! a value with two consumers opens a residual block whose two branches meet again in an
//! `Add` (its first input the body, its second the shortcut, as PyTorch and neurite write
//! them). Every node must lie on that walk; anything else is refused naming the node.

use std::collections::BTreeMap;
use std::path::Path;

use neurite_tensor::Tensor;

use crate::functional::Size2;
use crate::layers::activation::Activation;
use crate::onnx::error::OnnxError;
use crate::onnx::graph::{Attributes, Graph};
use crate::onnx::proto::NodeProto;
use crate::spec::{infer, is_identifier, Layer, LayerSpec, ModelSpec, Padding};

/// Reads the file's bytes into a spec and its tensors.
pub(crate) fn import(bytes: &[u8], path: &Path) -> Result<(ModelSpec, BTreeMap<String, Tensor>), OnnxError> {
    let graph = Graph::read(bytes, path)?;
    let mut walker = Walker {
        used: vec![false; graph.nodes.len()],
        g: &graph,
    };
    let (input, shape) = graph.input.clone();
    let mut chain = Chain::new(input, shape.clone());
    match walker.chain(&mut chain, None)? {
        End::Output => {}
        End::Join { node, .. } => {
            return Err(graph.err(
                &graph.nodes[node],
                "adds two values that do not come from one fork (a residual block)",
            ))
        }
    }
    if let Some(i) = walker.used.iter().position(|u| !u) {
        return Err(graph.err(
            &graph.nodes[i],
            "the node is not on the path from the input to the output",
        ));
    }
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| is_identifier(s))
        .unwrap_or_else(|| "onnx".to_string());
    let spec = ModelSpec::new(name, &shape, chain.layers).map_err(|source| OnnxError::Spec {
        path: path.to_path_buf(),
        source,
    })?;
    let tensors: BTreeMap<String, Tensor> = chain.tensors.into_iter().collect();
    for (name, shape) in spec.tensor_shapes() {
        match tensors.get(&name) {
            Some(t) if t.shape() == shape => {}
            found => {
                return Err(OnnxError::Model {
                    path: path.to_path_buf(),
                    reason: format!(
                        "tensor `{name}` of the imported spec should have shape {shape:?} but the file gives {:?}",
                        found.map(Tensor::shape)
                    ),
                })
            }
        }
    }
    Ok((spec, tensors))
}

/// Where a chain stopped.
enum End {
    /// At the graph's output.
    Output,
    /// At the `Add` node `node` that joins two branches; `value` is this branch's last value.
    Join { node: usize, value: String },
}

/// A sequence of layers being read: its layers, their tensors (names relative to the
/// sequence), and the current value and its shape (no batch axis).
struct Chain {
    layers: Vec<Layer>,
    tensors: Vec<(String, Tensor)>,
    x: String,
    shape: Vec<usize>,
}

impl Chain {
    fn new(x: String, shape: Vec<usize>) -> Chain {
        Chain {
            layers: Vec::new(),
            tensors: Vec::new(),
            x,
            shape,
        }
    }
}

struct Walker<'a> {
    g: &'a Graph,
    used: Vec<bool>,
}

/// A float constant's shape and values.
type Floats = (Vec<usize>, Vec<f32>);

impl<'a> Walker<'a> {
    fn node(&self, i: usize) -> &'a NodeProto {
        &self.g.nodes[i]
    }

    /// The unused consumers of `value`.
    fn users(&self, value: &str) -> Vec<usize> {
        self.g
            .consumers(value)
            .iter()
            .copied()
            .filter(|&i| !self.used[i])
            .collect()
    }

    /// Whether node `i` is an `Add` of two computed values (the end of a residual block).
    fn is_join(&self, i: usize) -> bool {
        let n = self.node(i);
        n.op_type == "Add" && n.input.len() == 2 && n.input.iter().all(|v| !self.g.is_constant(v))
    }

    /// The output of `node` that the graph goes on from: its first, the others unused.
    fn output(&self, node: &NodeProto) -> Result<String, OnnxError> {
        let Some(first) = node.output.first().filter(|o| !o.is_empty()) else {
            return Err(self.g.err(node, "the node has no output"));
        };
        if let Some(extra) = node.output[1..]
            .iter()
            .find(|o| !o.is_empty() && (!self.g.consumers(o).is_empty() || **o == self.g.output))
        {
            return Err(self.g.err(
                node,
                format!("output `{extra}` is used; neurite reads only the first output"),
            ));
        }
        Ok(first.clone())
    }

    /// Reads layers into `chain` until the graph output or a join; `first` forces the first
    /// node (a branch of a residual block).
    fn chain(&mut self, chain: &mut Chain, mut first: Option<usize>) -> Result<End, OnnxError> {
        loop {
            let users = match first.take() {
                Some(i) => vec![i],
                None => self.users(&chain.x),
            };
            if users.is_empty() {
                if chain.x == self.g.output {
                    return Ok(End::Output);
                }
                return Err(OnnxError::Model {
                    path: self.g.path.clone(),
                    reason: format!(
                        "value `{}` is used by no node but is not the graph output `{}`",
                        chain.x, self.g.output
                    ),
                });
            }
            if chain.x == self.g.output {
                return Err(self.g.err(
                    self.node(users[0]),
                    "takes the graph output as its input; neurite reads chains that end in the output",
                ));
            }
            if self.gelu(chain, &users)? {
                continue;
            }
            match users.as_slice() {
                &[i] if self.is_join(i) => {
                    return Ok(End::Join {
                        node: i,
                        value: chain.x.clone(),
                    })
                }
                &[i] => {
                    self.used[i] = true;
                    self.layer(chain, i)?;
                }
                &[a, b] => self.residual(chain, a, b)?,
                many => {
                    return Err(self.g.err(
                        self.node(many[0]),
                        format!(
                            "value `{}` feeds {} nodes; neurite reads chains and two-way residual blocks",
                            chain.x,
                            many.len()
                        ),
                    ))
                }
            }
        }
    }

    /// A residual block opening at `chain.x`, whose consumers are `a` and `b`.
    fn residual(&mut self, chain: &mut Chain, a: usize, b: usize) -> Result<(), OnnxError> {
        let mut branches = Vec::new();
        for user in [a, b] {
            let mut branch = Chain::new(chain.x.clone(), chain.shape.clone());
            let end = if self.is_join(user) {
                End::Join {
                    node: user,
                    value: chain.x.clone(),
                }
            } else {
                self.chain(&mut branch, Some(user))?
            };
            let End::Join { node, value } = end else {
                return Err(self.g.err(
                    self.node(user),
                    format!(
                        "a branch from `{}` reaches the output without joining the other",
                        chain.x
                    ),
                ));
            };
            branches.push((branch, node, value));
        }
        let (join_a, join_b) = (branches[0].1, branches[1].1);
        if join_a != join_b {
            return Err(self.g.err(
                self.node(join_a),
                format!("the two branches from `{}` end in different Add nodes", chain.x),
            ));
        }
        let join = self.node(join_a);
        self.used[join_a] = true;
        let (second, first) = (branches.pop().expect("two"), branches.pop().expect("two"));
        let (body, shortcut) =
            if first.0.layers.is_empty() || (!second.0.layers.is_empty() && join.input[0] == second.2) {
                (second.0, first.0)
            } else {
                (first.0, second.0)
            };
        if body.layers.is_empty() {
            return Err(self.g.err(join, "adds a value to itself"));
        }
        let mut tensors = body.tensors;
        let downsample = (!shortcut.layers.is_empty()).then(|| {
            tensors.extend(
                shortcut
                    .tensors
                    .into_iter()
                    .map(|(n, t)| (format!("downsample.{n}"), t)),
            );
            shortcut.layers
        });
        let kind = LayerSpec::Residual {
            body: body.layers,
            downsample,
        };
        let out = self.output(join)?;
        self.push(chain, join, kind, tensors, out)
    }

    /// Appends layer `kind` with its `tensors` (names relative to the layer) to `chain`, which
    /// then continues at `out`.
    fn push(
        &self,
        chain: &mut Chain,
        node: &NodeProto,
        kind: LayerSpec,
        tensors: Vec<(String, Tensor)>,
        out: String,
    ) -> Result<(), OnnxError> {
        let layer = Layer::new(kind);
        let info = infer(&chain.shape, std::slice::from_ref(&layer)).map_err(|e| self.g.err(node, e.to_string()))?;
        let index = chain.layers.len();
        chain.shape = info
            .iter()
            .rev()
            .find(|l| l.depth == 0)
            .map(|l| l.output.clone())
            .expect("one layer");
        chain
            .tensors
            .extend(tensors.into_iter().map(|(n, t)| (format!("{index}.{n}"), t)));
        chain.layers.push(layer);
        chain.x = out;
        Ok(())
    }

    /// A tensor of `shape` from a float constant's values.
    fn tensor(&self, node: &NodeProto, (shape, values): Floats) -> Result<Tensor, OnnxError> {
        Tensor::from_vec(values, &shape).map_err(|e| self.g.err(node, e.to_string()))
    }

    /// The float constant at input `k` of `node`, checked to have `shape`.
    fn weight(&self, node: &NodeProto, k: usize, shape: &[usize]) -> Result<Floats, OnnxError> {
        let (found, values) = self.g.floats(node, &node.input[k])?;
        if found != shape {
            return Err(self.g.err(
                node,
                format!("input `{}` has shape {found:?}; expected {shape:?}", node.input[k]),
            ));
        }
        Ok((found, values))
    }

    /// A bias at input `k` of `node`, if present: `n` values (shape `[n]` or `[1, n]`).
    fn bias(&self, node: &NodeProto, k: usize, n: usize) -> Result<Option<Tensor>, OnnxError> {
        match node.input.get(k).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => {
                let (shape, values) = self.g.floats(node, v)?;
                if values.len() != n || shape.iter().filter(|&&d| d != 1).count() > 1 {
                    return Err(self
                        .g
                        .err(node, format!("bias `{v}` has shape {shape:?}; expected [{n}]")));
                }
                Ok(Some(self.tensor(node, (vec![n], values))?))
            }
        }
    }

    /// Checks that `node` has between `min` and `max` inputs and comes from ONNX's own domain.
    fn arity(&self, node: &NodeProto, min: usize, max: usize) -> Result<(), OnnxError> {
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(self
                .g
                .err(node, format!("operator domain `{}` is not supported", node.domain)));
        }
        let n = node.input.iter().rposition(|v| !v.is_empty()).map_or(0, |p| p + 1);
        if n < min || n > max {
            return Err(self
                .g
                .err(node, format!("has {n} inputs; neurite reads {min} to {max}")));
        }
        Ok(())
    }

    /// The only unused consumer of `value`, if it has exactly one.
    fn sole_user(&self, value: &str) -> Option<usize> {
        match self.users(value).as_slice() {
            &[i] if value != self.g.output => Some(i),
            _ => None,
        }
    }

    /// The `Erf` form of GELU at `chain.x`: `Div(x, √2)`, `Erf`, `Add 1`, then the product
    /// with `x` and `0.5` in either order (PyTorch's TorchScript exporter multiplies by `x`
    /// first, its torch.export exporter by `0.5` first).
    fn gelu(&mut self, chain: &mut Chain, users: &[usize]) -> Result<bool, OnnxError> {
        let x = chain.x.as_str();
        let &[a, b] = users else { return Ok(false) };
        let div = if self.node(a).op_type == "Div" { a } else { b };
        let d = self.node(div);
        if d.op_type != "Div"
            || d.input.len() != 2
            || d.input[0] != x
            || !self.is_scalar(d, &d.input[1], std::f32::consts::SQRT_2)
        {
            return Ok(false);
        }
        let step = |value: &str, op: &str| {
            self.sole_user(value).filter(|&i| {
                self.node(i).op_type == op && self.node(i).attribute.is_empty() && self.node(i).input.len() == 2
            })
        };
        let Some(erf) = d
            .output
            .first()
            .and_then(|o| self.sole_user(o))
            .filter(|&i| self.node(i).op_type == "Erf")
        else {
            return Ok(false);
        };
        let e = self.node(erf);
        let Some(add) = e.output.first().and_then(|o| step(o, "Add")) else {
            return Ok(false);
        };
        let ad = self.node(add);
        if self
            .other_input(ad, &e.output[0])
            .is_none_or(|v| !self.is_scalar(ad, v, 1.0))
        {
            return Ok(false);
        }
        let Some(mul1) = ad.output.first().and_then(|o| step(o, "Mul")) else {
            return Ok(false);
        };
        let m1 = self.node(mul1);
        let Some(mul2) = m1.output.first().and_then(|o| step(o, "Mul")) else {
            return Ok(false);
        };
        let m2 = self.node(mul2);
        let (Some(o1), Some(o2)) = (self.other_input(m1, &ad.output[0]), self.other_input(m2, &m1.output[0])) else {
            return Ok(false);
        };
        let halves = |v: &str, node| v != x && self.is_scalar(node, v, 0.5);
        let ok = (o1 == x && halves(o2, m2) && users.contains(&mul1))
            || (o2 == x && halves(o1, m1) && users.contains(&mul2));
        if !ok {
            return Ok(false);
        }
        for i in [div, erf, add, mul1, mul2] {
            self.used[i] = true;
        }
        let out = self.output(m2)?;
        self.push(chain, m2, LayerSpec::Activation(Activation::Gelu), Vec::new(), out)?;
        Ok(true)
    }

    /// The input of the two-input `node` that is not `value`.
    fn other_input<'n>(&self, node: &'n NodeProto, value: &str) -> Option<&'n str> {
        match node.input.as_slice() {
            [a, b] if a == value => Some(b),
            [a, b] if b == value => Some(a),
            _ => None,
        }
    }

    /// Whether `value` is a one-value float constant equal to `want` (within 1e-6).
    fn is_scalar(&self, node: &NodeProto, value: &str, want: f32) -> bool {
        self.g.is_constant(value)
            && self
                .g
                .floats(node, value)
                .is_ok_and(|(_, v)| v.len() == 1 && (v[0] - want).abs() < 1e-6)
    }

    /// Whether `node` flattens `[N, shape...]` to `[N, numel]`: a `Flatten` at axis 1 or a
    /// `Reshape` to `[-1 | 0 | n, numel | -1]`.
    fn flattens(&self, node: &NodeProto, shape: &[usize]) -> Result<bool, OnnxError> {
        let n: usize = shape.iter().product();
        Ok(match node.op_type.as_str() {
            "Flatten" => node
                .attribute
                .iter()
                .all(|a| a.name == "axis" && (a.i == Some(1) || a.i == Some(-(shape.len() as i64)))),
            "Reshape" if node.input.len() == 2 && self.g.is_constant(&node.input[1]) => {
                let allowzero = match node.attribute.as_slice() {
                    [] => false,
                    [a] if a.name == "allowzero" => a.i == Some(1),
                    _ => return Ok(false),
                };
                match self.g.ints(node, &node.input[1])?.as_slice() {
                    &[a, b] => {
                        (a == -1 || (a == 0 && !allowzero) || a > 0)
                            && (b == n as i64 || b == -1)
                            && !(a == -1 && b == -1)
                    }
                    _ => false,
                }
            }
            _ => false,
        })
    }

    /// A global average pool (`GlobalAveragePool`, or `ReduceMean` over the spatial axes with
    /// `keepdims`), with the flatten after it when there is one.
    fn global_pool(&mut self, chain: &[usize], out: &mut String) -> Result<LayerSpec, OnnxError> {
        let pooled = [chain[0], 1, 1];
        if let Some(f) = self.sole_user(out) {
            if self.flattens(self.node(f), &pooled)? {
                self.used[f] = true;
                *out = self.output(self.node(f))?;
                return Ok(LayerSpec::GlobalAvgPool2d);
            }
        }
        Ok(LayerSpec::AdaptiveAvgPool2d {
            output_size: Size2(1, 1),
        })
    }

    /// Reads node `i` (and what it fuses with) into `chain`.
    fn layer(&mut self, chain: &mut Chain, i: usize) -> Result<(), OnnxError> {
        let g = self.g;
        let node = self.node(i);
        let mut attrs = Attributes::of(g, node);
        let flat = |what: &str| -> Result<usize, OnnxError> {
            match chain.shape.as_slice() {
                &[n] => Ok(n),
                s => Err(g.err(
                    node,
                    format!("{what} needs a flat input [N, features], gets [N, {s:?}]"),
                )),
            }
        };
        let images = |what: &str| -> Result<[usize; 3], OnnxError> {
            match chain.shape.as_slice() {
                &[c, h, w] => Ok([c, h, w]),
                s => Err(g.err(node, format!("{what} needs images [N, C, H, W], gets [N, {s:?}]"))),
            }
        };
        let t = |n: &str, v: Tensor| (n.to_string(), v);
        let mut out = self.output(node)?;
        let (kind, tensors) = match node.op_type.as_str() {
            "Gemm" => {
                self.arity(node, 2, 3)?;
                let (alpha, beta) = (attrs.float("alpha", 1.0)?, attrs.float("beta", 1.0)?);
                let (trans_a, trans_b) = (attrs.int("transA", 0)?, attrs.int("transB", 0)?);
                attrs.finish()?;
                if alpha != 1.0 || (beta != 1.0 && node.input.get(2).is_some_and(|v| !v.is_empty())) || trans_a != 0 {
                    return Err(g.err(node, "only alpha = 1, beta = 1 and transA = 0 are supported"));
                }
                let n_in = flat("Gemm")?;
                let (shape, values) = g.floats(node, &node.input[1])?;
                let out_features = match (trans_b, shape.as_slice()) {
                    (1, &[o, i]) if i == n_in => o,
                    (0, &[i, o]) if i == n_in => o,
                    (0 | 1, _) => {
                        return Err(g.err(
                            node,
                            format!(
                            "weight `{}` has shape {shape:?}, which does not take {n_in} features (transB = {trans_b})",
                            node.input[1]
                        ),
                        ))
                    }
                    _ => return Err(g.err(node, format!("transB = {trans_b} is not 0 or 1"))),
                };
                let w = self.tensor(node, (shape, values))?;
                let b = self.bias(node, 2, out_features)?;
                let mut tensors = Vec::new();
                let kind = if trans_b == 1 {
                    tensors.push(t("weight", w));
                    LayerSpec::Linear {
                        in_features: None,
                        out_features,
                        bias: b.is_some(),
                    }
                } else {
                    tensors.push(t("kernel", w));
                    LayerSpec::Dense {
                        units: out_features,
                        activation: Activation::Linear,
                        use_bias: b.is_some(),
                    }
                };
                tensors.extend(b.map(|b| t("bias", b)));
                (kind, tensors)
            }
            "MatMul" => {
                self.arity(node, 2, 2)?;
                attrs.finish()?;
                let n_in = flat("MatMul")?;
                let (shape, values) = g.floats(node, &node.input[1])?;
                let &[i, units] = shape.as_slice() else {
                    return Err(g.err(
                        node,
                        format!(
                            "weight `{}` has shape {shape:?}; expected [{n_in}, units]",
                            node.input[1]
                        ),
                    ));
                };
                if i != n_in {
                    return Err(g.err(
                        node,
                        format!(
                            "weight `{}` has shape {shape:?}; expected [{n_in}, units]",
                            node.input[1]
                        ),
                    ));
                }
                let mut tensors = vec![t("kernel", self.tensor(node, (shape, values))?)];
                if let Some(add) = self.sole_user(&out).filter(|&a| {
                    let a = self.node(a);
                    a.op_type == "Add" && a.input.len() == 2 && a.input[0] == out && g.is_constant(&a.input[1])
                }) {
                    let a = self.node(add);
                    let b = self.bias(a, 1, units)?.expect("present");
                    tensors.push(t("bias", b));
                    self.used[add] = true;
                    out = self.output(a)?;
                }
                let use_bias = tensors.len() == 2;
                (
                    LayerSpec::Dense {
                        units,
                        activation: Activation::Linear,
                        use_bias,
                    },
                    tensors,
                )
            }
            "Conv" => {
                self.arity(node, 2, 3)?;
                let [c, _, _] = images("Conv")?;
                let (shape, values) = g.floats(node, &node.input[1])?;
                let &[out_channels, per_group, kh, kw] = shape.as_slice() else {
                    return Err(g.err(
                        node,
                        format!(
                            "weight `{}` has shape {shape:?}; expected [out, in/groups, kh, kw]",
                            node.input[1]
                        ),
                    ));
                };
                let kernel = attrs.ints("kernel_shape", 2, 1)?;
                let stride = attrs.ints("strides", 2, 1)?.unwrap_or(vec![1, 1]);
                let dilation = attrs.ints("dilations", 2, 1)?.unwrap_or(vec![1, 1]);
                let pads = self.pads(node, &mut attrs)?;
                let groups = attrs.int("group", 1)?;
                attrs.finish()?;
                if kernel.as_ref().is_some_and(|k| k != &[kh, kw]) {
                    return Err(g.err(
                        node,
                        format!("kernel_shape {kernel:?} differs from the weight's {kh}x{kw}"),
                    ));
                }
                let groups = usize::try_from(groups).ok().filter(|&gr| gr >= 1 && per_group.checked_mul(gr) == Some(c)).ok_or_else(|| {
                    g.err(node, format!("group {groups} with a weight of {per_group} channels per group does not take {c} input channels"))
                })?;
                let w = self.tensor(node, (shape, values))?;
                let b = self.bias(node, 2, out_channels)?;
                let kind = LayerSpec::Conv2d {
                    in_channels: None,
                    out_channels,
                    kernel_size: Size2(kh, kw),
                    stride: Size2(stride[0], stride[1]),
                    padding: Padding::Explicit(pads),
                    dilation: Size2(dilation[0], dilation[1]),
                    groups,
                    bias: b.is_some(),
                };
                let mut tensors = vec![t("weight", w)];
                tensors.extend(b.map(|b| t("bias", b)));
                (kind, tensors)
            }
            op @ ("MaxPool" | "AveragePool") => {
                self.arity(node, 1, 1)?;
                images(op)?;
                let Some(k) = attrs.ints("kernel_shape", 2, 1)? else {
                    return Err(g.err(node, "kernel_shape is missing"));
                };
                let stride = attrs.ints("strides", 2, 1)?.unwrap_or(vec![1, 1]);
                let pads = self.pads(node, &mut attrs)?;
                if attrs.ints("dilations", 2, 1)?.is_some_and(|d| d != [1, 1]) {
                    return Err(g.err(node, "dilated pooling is not supported"));
                }
                if attrs.int("ceil_mode", 0)? != 0 {
                    return Err(g.err(node, "ceil_mode = 1 is not supported"));
                }
                let max = op == "MaxPool";
                if max {
                    if attrs.int("storage_order", 0)? != 0 {
                        return Err(g.err(node, "storage_order = 1 is not supported"));
                    }
                } else if attrs.int("count_include_pad", 0)? == 0 && pads != Size2(0, 0) {
                    return Err(g.err(
                        node,
                        "padding with count_include_pad = 0 is not supported (neurite's avgpool2d counts the padding)",
                    ));
                }
                attrs.finish()?;
                (
                    LayerSpec::pool2d(max, Size2(k[0], k[1]), Size2(stride[0], stride[1]), pads),
                    Vec::new(),
                )
            }
            "GlobalAveragePool" => {
                self.arity(node, 1, 1)?;
                attrs.finish()?;
                images("GlobalAveragePool")?;
                (self.global_pool(&chain.shape, &mut out)?, Vec::new())
            }
            "ReduceMean" => {
                self.arity(node, 1, 2)?;
                let keepdims = attrs.int("keepdims", 1)?;
                attrs.int("noop_with_empty_axes", 0)?;
                let axes = match node.input.get(1).filter(|v| !v.is_empty()) {
                    Some(v) => g.ints(node, v)?,
                    None => Vec::new(),
                };
                attrs.finish()?;
                images("ReduceMean")?;
                let mut axes: Vec<i64> = axes.iter().map(|&a| if a < 0 { a + 4 } else { a }).collect();
                axes.sort_unstable();
                if axes != [2, 3] {
                    return Err(g.err(
                        node,
                        format!("axes {axes:?}: neurite reads a ReduceMean only over the spatial axes [2, 3]"),
                    ));
                }
                let kind = if keepdims == 0 {
                    LayerSpec::GlobalAvgPool2d
                } else {
                    self.global_pool(&chain.shape, &mut out)?
                };
                (kind, Vec::new())
            }
            "Flatten" => {
                self.arity(node, 1, 1)?;
                let axis = attrs.int("axis", 1)?;
                attrs.finish()?;
                if !self.flattens(node, &chain.shape)? {
                    return Err(g.err(
                        node,
                        format!("axis {axis}: neurite flattens everything but the batch axis (axis 1)"),
                    ));
                }
                (LayerSpec::Flatten, Vec::new())
            }
            "Reshape" => {
                self.arity(node, 2, 2)?;
                if !self.flattens(node, &chain.shape)? {
                    let target = g.ints(node, &node.input[1]).unwrap_or_default();
                    let n: usize = chain.shape.iter().product();
                    return Err(g.err(
                        node,
                        format!("shape {target:?}: neurite reads a Reshape only as a flatten to [N, {n}]"),
                    ));
                }
                (LayerSpec::Flatten, Vec::new())
            }
            op @ ("Relu" | "Sigmoid" | "Tanh" | "LeakyRelu" | "Softmax" | "Gelu") => {
                self.arity(node, 1, 1)?;
                let a = match op {
                    "Relu" => Activation::Relu,
                    "Sigmoid" => Activation::Sigmoid,
                    "Tanh" => Activation::Tanh,
                    "LeakyRelu" => Activation::LeakyRelu(attrs.float("alpha", 0.01)?),
                    "Gelu" => {
                        let approx = attrs.string("approximate", "none")?;
                        if approx != "none" {
                            return Err(g.err(
                                node,
                                format!(
                                    "approximate = `{approx}` is not supported (neurite's GELU is the exact erf form)"
                                ),
                            ));
                        }
                        Activation::Gelu
                    }
                    _ => {
                        let axis = attrs.int("axis", -1)?;
                        if axis != -1 && axis != chain.shape.len() as i64 {
                            return Err(g.err(node, format!("axis {axis}: neurite's softmax runs over the last axis")));
                        }
                        Activation::Softmax
                    }
                };
                attrs.finish()?;
                (LayerSpec::Activation(a), Vec::new())
            }
            "Identity" => {
                self.arity(node, 1, 1)?;
                attrs.finish()?;
                chain.x = out;
                return Ok(());
            }
            "Dropout" => {
                self.arity(node, 1, 2)?;
                attrs.int("seed", 0)?;
                attrs.finish()?;
                let p = match node.input.get(1).filter(|v| !v.is_empty()) {
                    None => 0.5,
                    Some(v) => match g.floats(node, v)? {
                        (_, vals) if vals.len() == 1 => vals[0],
                        (s, _) => return Err(g.err(node, format!("ratio `{v}` has shape {s:?}; expected a scalar"))),
                    },
                };
                if !(0.0..1.0).contains(&p) {
                    return Err(g.err(node, format!("ratio {p} is not in [0, 1)")));
                }
                (LayerSpec::Dropout { p }, Vec::new())
            }
            "BatchNormalization" => {
                self.arity(node, 5, 5)?;
                let eps = attrs.float("epsilon", 1e-5)?;
                let momentum = attrs.float("momentum", 0.9)?;
                if attrs.int("training_mode", 0)? != 0 {
                    return Err(g.err(
                        node,
                        "training_mode = 1 is not supported (export the model in eval mode)",
                    ));
                }
                attrs.finish()?;
                if !(eps > 0.0 && eps.is_finite() && (0.0..=1.0).contains(&momentum)) {
                    return Err(g.err(node, format!("epsilon {eps} or momentum {momentum} is out of range")));
                }
                let Some(&c) = chain.shape.first().filter(|_| chain.shape.len() <= 3) else {
                    return Err(g.err(
                        node,
                        format!(
                            "gets [N, {:?}]; neurite normalises [N, C], [N, C, L] or [N, C, H, W]",
                            chain.shape
                        ),
                    ));
                };
                let mut tensors = Vec::new();
                for (k, name) in ["weight", "bias", "running_mean", "running_var"]
                    .into_iter()
                    .enumerate()
                {
                    let w = self.weight(node, k + 1, &[c])?;
                    tensors.push(t(name, self.tensor(node, w)?));
                }
                tensors.push(t("num_batches_tracked", Tensor::zeros(&[])));
                // ONNX's momentum weighs the old statistics (PyTorch's 0.1 is ONNX's 0.9).
                let momentum = ((1.0 - momentum) * 1e6).round() / 1e6;
                let kind = if chain.shape.len() == 3 {
                    LayerSpec::BatchNorm2d { eps, momentum }
                } else {
                    LayerSpec::BatchNorm1d { eps, momentum }
                };
                (kind, tensors)
            }
            "LayerNormalization" => {
                self.arity(node, 2, 3)?;
                let axis = attrs.int("axis", -1)?;
                let eps = attrs.float("epsilon", 1e-5)?;
                attrs.int("stash_type", 1)?;
                attrs.finish()?;
                let rank = chain.shape.len() as i64 + 1;
                let a = if axis < 0 { axis + rank } else { axis };
                if !((1..rank).contains(&a) && eps > 0.0 && eps.is_finite()) {
                    return Err(g.err(
                        node,
                        format!("axis {axis} or epsilon {eps}: neurite normalises trailing axes of each example"),
                    ));
                }
                let normalized = chain.shape[a as usize - 1..].to_vec();
                let w = self.weight(node, 1, &normalized)?;
                let b = match node.input.get(2).filter(|v| !v.is_empty()) {
                    Some(_) => self.tensor(node, self.weight(node, 2, &normalized)?)?,
                    None => Tensor::zeros(&normalized),
                };
                let kind = LayerSpec::LayerNorm {
                    dims: normalized.len(),
                    eps,
                };
                (kind, vec![t("weight", self.tensor(node, w)?), t("bias", b)])
            }
            "Add" => {
                return Err(g.err(
                    node,
                    "adds a constant; neurite reads a bias Add only right after a MatMul",
                ));
            }
            other => {
                return Err(g.err(
                    node,
                    format!("operator `{other}` is not supported (docs/interop.md lists the operators neurite reads)"),
                ))
            }
        };
        self.push(chain, node, kind, tensors, out)
    }

    /// `pads` (`[top, left, bottom, right]`, equal on both sides) and `auto_pad` (`NOTSET` or
    /// `VALID`).
    fn pads(&self, node: &NodeProto, attrs: &mut Attributes<'a>) -> Result<Size2, OnnxError> {
        let pads = attrs.ints("pads", 4, 0)?.unwrap_or(vec![0; 4]);
        let auto = attrs.string("auto_pad", "NOTSET")?;
        let valid = auto == "NOTSET" || (auto == "VALID" && pads == [0; 4]);
        if !valid || pads[0] != pads[2] || pads[1] != pads[3] {
            return Err(self.g.err(
                node,
                format!("padding {pads:?} (auto_pad {auto}): neurite pads both sides equally"),
            ));
        }
        Ok(Size2(pads[0], pads[1]))
    }
}
