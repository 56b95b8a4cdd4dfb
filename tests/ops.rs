//! The op table: every public tensor op and nn functional op, forward and backward, against
//! PyTorch (tinygrad's test_ops, in two halves).
//!
//! The cases (shapes, value domains with 0, negatives, large values, NaN and infinities, views,
//! arguments, tolerances) are listed once, in `scripts/make_op_fixtures.py`, which computed each
//! reference in float64 from the same f32 inputs and stored it in `tests/fixtures/ops.safetensors`.
//! [`BINDINGS`] below says, per op name, how neurite computes it. [`every_public_op_has_a_row`]
//! reads the sources and fails when a public op has no binding, a binding no case, a case no
//! binding, or an exclusion no longer exists. docs/architecture.md ("The op table") says how to
//! add an op.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use neurite_nn::functional::{self as nnf, Size2};
use neurite_nn::loss::{self, Reduction};
use neurite_tensor::Tensor;
use safetensors::{Dtype, SafeTensors};
use serde_json::Value;

/// One case's inputs as the binding sees them: float inputs (views applied, trainable where
/// the case differentiates them), integer inputs and the op's arguments.
struct Inputs {
    xs: Vec<Tensor>,
    ints: Vec<ArrayD<i64>>,
    args: Value,
}

impl Inputs {
    fn x(&self, i: usize) -> &Tensor {
        &self.xs[i]
    }
    fn refs(&self) -> Vec<&Tensor> {
        self.xs.iter().collect()
    }
    fn opt(&self, i: usize) -> Option<&Tensor> {
        self.xs.get(i)
    }
    fn arg(&self, key: &str) -> &Value {
        self.args
            .get(key)
            .unwrap_or_else(|| panic!("argument `{key}` missing in {}", self.args))
    }
    fn f(&self, key: &str) -> f32 {
        self.arg(key).as_f64().expect("a number") as f32
    }
    fn u(&self, key: &str) -> usize {
        self.arg(key).as_u64().expect("a non-negative integer") as usize
    }
    fn b(&self, key: &str) -> bool {
        self.arg(key).as_bool().expect("a boolean")
    }
    fn us(&self, key: &str) -> Vec<usize> {
        let v = self.arg(key).as_array().expect("a list");
        v.iter().map(|x| x.as_u64().expect("an integer") as usize).collect()
    }
    /// A kernel, stride, padding or dilation: one number or a pair.
    fn size2(&self, key: &str) -> Size2 {
        match self.arg(key) {
            Value::Array(_) => {
                let v = self.us(key);
                Size2(v[0], v[1])
            }
            _ => Size2::from(self.u(key)),
        }
    }
    fn reduction(&self) -> Reduction {
        match self.arg("reduction").as_str() {
            Some("mean") => Reduction::Mean,
            Some("sum") => Reduction::Sum,
            Some("none") => Reduction::None,
            other => panic!("unknown reduction {other:?}"),
        }
    }
    /// Integer input `i` as indices.
    fn idx(&self, i: usize) -> Vec<usize> {
        self.ints[i].iter().map(|&v| v as usize).collect()
    }
    fn idx_array(&self, i: usize) -> ArrayD<usize> {
        self.ints[i].mapv(|v| v as usize)
    }
}

/// How neurite computes an op of the table.
type Binding = fn(&Inputs) -> Tensor;

/// The indices an arg-reduction of `x` along `axis` returned, as an f32 tensor of PyTorch's
/// result shape (`x`'s without `axis`; the fixture stores PyTorch's indices as f32 too).
fn arg_indices(x: &Tensor, axis: usize, found: Vec<usize>) -> Tensor {
    let mut shape = x.shape();
    shape.remove(axis);
    Tensor::from_vec(found.into_iter().map(|i| i as f32).collect(), &shape).unwrap()
}

/// Batch norm's optional inputs after `x`, as `[weight, bias, running_mean, running_var]`:
/// the case's inputs are `x, [weight, bias] if affine, [running_mean, running_var] if stats`.
fn bn_inputs(a: &Inputs) -> [Option<&Tensor>; 4] {
    let (w, b, s) = if a.b("affine") {
        (a.opt(1), a.opt(2), 3)
    } else {
        (None, None, 1)
    };
    if a.b("stats") {
        [w, b, a.opt(s), a.opt(s + 1)]
    } else {
        [w, b, None, None]
    }
}

/// Op name (as in the fixture) -> neurite. Operator forms (`&a + &b`, `&a / 2.0`, `-&a`) are
/// rows of their own, named `op_*`.
static BINDINGS: &[(&str, Binding)] = &[
    // Element-wise unary (crates/tensor/src/ops/unary.rs).
    ("exp", |a| a.x(0).exp()),
    ("ln", |a| a.x(0).ln()),
    ("sqrt", |a| a.x(0).sqrt()),
    ("powf", |a| a.x(0).powf(a.f("p"))),
    ("abs", |a| a.x(0).abs()),
    ("relu", |a| a.x(0).relu()),
    ("leaky_relu", |a| a.x(0).leaky_relu(a.f("slope"))),
    ("sigmoid", |a| a.x(0).sigmoid()),
    ("tanh", |a| a.x(0).tanh()),
    ("gelu", |a| a.x(0).gelu()),
    ("square", |a| a.x(0).square()),
    ("clamp", |a| a.x(0).clamp(a.f("min"), a.f("max"))),
    ("unary::sigmoid", |a| {
        let x = a.x(0);
        let v = x
            .to_vec()
            .into_iter()
            .map(neurite_tensor::ops::unary::sigmoid)
            .collect();
        Tensor::from_vec(v, &x.shape()).unwrap()
    }),
    // Element-wise binary (binary.rs), their operator forms and scalar forms.
    ("add", |a| a.x(0).add(a.x(1))),
    ("sub", |a| a.x(0).sub(a.x(1))),
    ("mul", |a| a.x(0).mul(a.x(1))),
    ("div", |a| a.x(0).div(a.x(1))),
    ("maximum", |a| a.x(0).maximum(a.x(1))),
    ("add_scalar", |a| a.x(0).add_scalar(0.3)),
    ("mul_scalar", |a| a.x(0).mul_scalar(-1.7)),
    ("neg", |a| a.x(0).neg()),
    ("op_add", |a| a.x(0) + a.x(1)),
    ("op_sub", |a| a.x(0) - a.x(1)),
    ("op_mul", |a| a.x(0) * a.x(1)),
    ("op_div", |a| a.x(0) / a.x(1)),
    ("op_add_f32", |a| a.x(0) + 0.3),
    ("op_sub_f32", |a| a.x(0) - 0.3),
    ("op_mul_f32", |a| a.x(0) * -1.7),
    ("op_div_f32", |a| a.x(0) / 3.0),
    ("op_neg", |a| -a.x(0)),
    // Comparisons and arg-reductions (compare.rs).
    ("gt", |a| a.x(0).gt(a.x(1))),
    ("lt", |a| a.x(0).lt(a.x(1))),
    ("ge", |a| a.x(0).ge(a.x(1))),
    ("le", |a| a.x(0).le(a.x(1))),
    ("eq_elem", |a| a.x(0).eq_elem(a.x(1))),
    ("argmax", |a| {
        arg_indices(a.x(0), a.u("axis"), a.x(0).argmax(a.u("axis")))
    }),
    ("argmin", |a| {
        arg_indices(a.x(0), a.u("axis"), a.x(0).argmin(a.u("axis")))
    }),
    // Reductions (reduce.rs).
    ("sum", |a| a.x(0).sum()),
    ("mean", |a| a.x(0).mean()),
    ("sum_axis", |a| a.x(0).sum_axis(a.u("axis"), a.b("keepdim"))),
    ("mean_axis", |a| a.x(0).mean_axis(a.u("axis"), a.b("keepdim"))),
    ("max_axis", |a| a.x(0).max_axis(a.u("axis"), a.b("keepdim"))),
    ("min_axis", |a| a.x(0).min_axis(a.u("axis"), a.b("keepdim"))),
    ("max", |a| a.x(0).max()),
    ("min", |a| a.x(0).min()),
    // Softmax family (softmax.rs) and matrix products (matmul.rs).
    ("softmax", |a| a.x(0).softmax(a.u("axis"))),
    ("log_softmax", |a| a.x(0).log_softmax(a.u("axis"))),
    ("matmul", |a| a.x(0).matmul(a.x(1))),
    // Shape ops (shape_ops.rs) and arange (tensor.rs).
    ("reshape", |a| a.x(0).reshape(&a.us("shape"))),
    ("try_reshape", |a| a.x(0).try_reshape(&a.us("shape")).unwrap()),
    ("flatten_from", |a| a.x(0).flatten_from(a.u("axis"))),
    ("unsqueeze", |a| a.x(0).unsqueeze(a.u("axis"))),
    ("squeeze", |a| a.x(0).squeeze(a.u("axis"))),
    ("permute", |a| a.x(0).permute(&a.us("axes"))),
    ("transpose", |a| a.x(0).transpose(a.u("a"), a.u("b"))),
    ("t", |a| a.x(0).t()),
    ("narrow", |a| a.x(0).narrow(a.u("axis"), a.u("start"), a.u("len"))),
    ("concat", |a| Tensor::concat(&a.refs(), a.u("axis"))),
    ("stack", |a| Tensor::stack(&a.refs(), a.u("axis"))),
    ("broadcast_to", |a| a.x(0).broadcast_to(&a.us("shape"))),
    ("contiguous", |a| a.x(0).contiguous()),
    ("arange", |a| Tensor::arange(a.f("start"), a.f("end"), a.f("step"))),
    // Indexing (index.rs).
    ("index_select", |a| a.x(0).index_select(a.u("axis"), &a.idx(0))),
    ("gather", |a| a.x(0).gather(a.u("axis"), &a.idx_array(0))),
    // nn functional ops (crates/nn/src/functional).
    ("linear", |a| nnf::linear(a.x(0), a.x(1), a.opt(2))),
    ("linear_relu", |a| nnf::linear_relu(a.x(0), a.x(1), a.opt(2))),
    ("dense", |a| nnf::dense(a.x(0), a.x(1), a.opt(2))),
    ("dense_relu", |a| nnf::dense_relu(a.x(0), a.x(1), a.opt(2))),
    ("conv2d", |a| {
        nnf::conv2d(
            a.x(0),
            a.x(1),
            a.opt(2),
            a.size2("stride"),
            a.size2("padding"),
            a.size2("dilation"),
            a.u("groups"),
        )
    }),
    ("conv2d_relu", |a| {
        nnf::conv2d_relu(
            a.x(0),
            a.x(1),
            a.opt(2),
            a.size2("stride"),
            a.size2("padding"),
            a.size2("dilation"),
            a.u("groups"),
        )
    }),
    ("max_pool2d", |a| {
        nnf::max_pool2d(a.x(0), a.size2("kernel"), a.size2("stride"), a.size2("padding"))
    }),
    ("avg_pool2d", |a| {
        nnf::avg_pool2d(a.x(0), a.size2("kernel"), a.size2("stride"), a.size2("padding"))
    }),
    ("adaptive_avg_pool2d", |a| {
        nnf::adaptive_avg_pool2d(a.x(0), a.size2("output"))
    }),
    ("batch_norm", |a| {
        let [w, b, rm, rv] = bn_inputs(a);
        nnf::batch_norm(a.x(0), rm, rv, w, b, a.b("training"), a.f("momentum"), a.f("eps"))
    }),
    ("layer_norm", |a| {
        nnf::layer_norm(a.x(0), &a.us("normalized_shape"), a.opt(1), a.opt(2), a.f("eps"))
    }),
    // Losses (crates/nn/src/loss.rs).
    ("cross_entropy", |a| loss::cross_entropy(a.x(0), &a.idx(0))),
    ("cross_entropy_with", |a| {
        loss::cross_entropy_with(a.x(0), &a.idx(0), a.reduction(), a.f("label_smoothing"))
    }),
    ("mse_loss", |a| loss::mse_loss(a.x(0), a.x(1))),
    ("mse_loss_with", |a| loss::mse_loss_with(a.x(0), a.x(1), a.reduction())),
    ("binary_cross_entropy_with_logits", |a| {
        loss::binary_cross_entropy_with_logits(a.x(0), a.x(1))
    }),
    ("binary_cross_entropy_with_logits_with", |a| {
        loss::binary_cross_entropy_with_logits_with(a.x(0), a.x(1), a.reduction())
    }),
];

/// Public functions the scan finds that are not ops of the table, each with the reason.
const NOT_OPS: &[(&str, &str)] = &[
    // crates/tensor/src/tensor.rs: construction from data and random sampling.
    ("from_array", "wraps an array as it is"),
    ("from_vec", "builds from values; its error is tested in crates/tensor"),
    ("scalar", "constructor"),
    ("full", "constructor"),
    ("zeros", "constructor"),
    ("ones", "constructor"),
    ("uniform", "seeded sampling, not a PyTorch-comparable value"),
    ("normal", "seeded sampling, not a PyTorch-comparable value"),
    // Accessors and autograd plumbing: exercised by every row of the table.
    ("shape", "accessor"),
    ("dim", "accessor"),
    ("ndim", "accessor"),
    ("numel", "accessor"),
    ("data", "accessor"),
    ("read", "accessor"),
    ("to_vec", "accessor"),
    ("item", "accessor"),
    ("update", "in-place write used by optimizers"),
    ("set_data", "in-place write used by optimizers"),
    ("id", "graph identity"),
    ("requires_grad", "autograd flag"),
    ("is_leaf", "autograd flag"),
    ("requires_grad_", "makes the table's trainable inputs"),
    ("detach", "autograd plumbing"),
    ("grad", "reads the table's gradients"),
    ("grad_array", "autograd plumbing"),
    ("with_grad", "autograd plumbing"),
    ("with_grad_mut", "autograd plumbing"),
    ("with_grad_slot", "autograd plumbing"),
    ("zero_grad", "autograd plumbing"),
    ("from_op", "the extension point every op is built on"),
    ("backward", "runs every row's backward"),
    ("backward_with", "backward with a given output gradient"),
];

/// A float input's view, applied before the op on both sides.
fn apply_view(t: &Tensor, spec: &Value) -> Tensor {
    let s = spec.as_array().expect("a view is a list");
    let nums = |v: &Value| -> Vec<usize> {
        v.as_array()
            .map(|a| a.iter().map(|x| x.as_u64().unwrap() as usize).collect())
            .unwrap_or_else(|| vec![v.as_u64().unwrap() as usize])
    };
    match s[0].as_str() {
        Some("permute") => t.permute(&nums(&s[1])),
        Some("narrow") => t.narrow(nums(&s[1])[0], nums(&s[2])[0], nums(&s[3])[0]),
        other => panic!("unknown view {other:?}"),
    }
}

/// The fixture: tensors by name (f32 ones as tensors, i64 ones as arrays) and metadata.
struct Fixture {
    f32s: BTreeMap<String, Tensor>,
    i64s: BTreeMap<String, ArrayD<i64>>,
    meta: BTreeMap<String, String>,
}

fn load_fixture() -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ops.safetensors");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (_, header) = SafeTensors::read_metadata(&bytes).expect("safetensors header");
    let meta = header.metadata().clone().unwrap_or_default().into_iter().collect();
    let st = SafeTensors::deserialize(&bytes).expect("safetensors file");
    let (mut f32s, mut i64s) = (BTreeMap::new(), BTreeMap::new());
    for (name, view) in st.tensors() {
        let shape = view.shape().to_vec();
        match view.dtype() {
            Dtype::F32 => {
                let v = view
                    .data()
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()));
                f32s.insert(name, Tensor::from_vec(v.collect(), &shape).unwrap());
            }
            Dtype::I64 => {
                let v = view
                    .data()
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()));
                i64s.insert(name, ArrayD::from_shape_vec(IxDyn(&shape), v.collect()).unwrap());
            }
            other => panic!("{name}: unexpected dtype {other:?}"),
        }
    }
    Fixture { f32s, i64s, meta }
}

impl Fixture {
    /// Case names with their metadata (every metadata entry but the file-level keys).
    fn cases(&self) -> Vec<(&str, Value)> {
        self.meta
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "generator" | "torch"))
            .map(|(k, v)| {
                (
                    k.as_str(),
                    serde_json::from_str(v).unwrap_or_else(|e| panic!("{k}: {e}")),
                )
            })
            .collect()
    }
}

/// Compares `got` with the reference: `|got - want| <= atol + rtol·|want|` element-wise, NaN
/// only against NaN, an infinity only against the same infinity; a subnormal reference (fewer
/// than 24 bits) only to within the smallest normal number. Returns the first failures.
fn compare(what: &str, got: &Tensor, want: &Tensor, rtol: f32, atol: f32) -> Option<String> {
    if got.shape() != want.shape() {
        return Some(format!("{what}: shape {:?}, PyTorch {:?}", got.shape(), want.shape()));
    }
    // Subnormal numbers carry fewer than 24 bits: below the smallest normal, compare absolutely.
    let allowed = |b: f32| {
        let floor = if b.abs() < f32::MIN_POSITIVE {
            f32::MIN_POSITIVE
        } else {
            0.0
        };
        (atol + rtol * b.abs()).max(floor)
    };
    let bad: Vec<String> = got
        .to_vec()
        .iter()
        .zip(want.to_vec())
        .enumerate()
        .filter(|&(_, (&a, b))| {
            if b.is_nan() || a.is_nan() {
                !(a.is_nan() && b.is_nan())
            } else if b.is_infinite() || a.is_infinite() {
                a != b
            } else {
                (a - b).abs() > allowed(b)
            }
        })
        .take(4)
        .map(|(i, (&a, b))| format!("[{i}] neurite {a:e} vs PyTorch {b:e}"))
        .collect();
    (!bad.is_empty()).then(|| format!("{what}: {}", bad.join(", ")))
}

/// Runs one case: forward, backward, in-place updates. Returns what disagreed.
fn run_case(f: &Fixture, name: &str, meta: &Value, binding: Binding) -> Vec<String> {
    let tol = |key: &str, default: f32| meta.get(key).and_then(Value::as_f64).map_or(default, |v| v as f32);
    let (rtol, atol) = (tol("rtol", 1e-6), tol("atol", 0.0));
    let (grad_rtol, grad_atol) = (tol("grad_rtol", 1e-6), tol("grad_atol", 0.0));
    let grad: Vec<usize> = meta["grad"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let key = |suffix: String| format!("{name}/{suffix}");
    let leaves: Vec<Tensor> = (0..)
        .map_while(|i| f.f32s.get(&key(format!("in{i}"))))
        .enumerate()
        .map(|(i, t)| {
            if grad.contains(&i) {
                t.detach().requires_grad_()
            } else {
                t.detach()
            }
        })
        .collect();
    let xs = leaves
        .iter()
        .enumerate()
        .map(|(i, t)| match meta["views"].get(i.to_string()) {
            Some(spec) => apply_view(t, spec),
            None => t.clone(),
        })
        .collect();
    let ints = (0..)
        .map_while(|i| f.i64s.get(&key(format!("idx{i}"))).cloned())
        .collect();
    let inputs = Inputs {
        xs,
        ints,
        args: meta["args"].clone(),
    };
    let out = binding(&inputs);
    let mut failures = Vec::new();
    let want = &f.f32s[&key("out".into())];
    failures.extend(compare("forward", &out, want, rtol, atol));
    for (i, leaf) in leaves.iter().enumerate() {
        if let Some(after) = f.f32s.get(&key(format!("after{i}"))) {
            failures.extend(compare(&format!("input {i} after the op"), leaf, after, rtol, atol));
        }
    }
    if !grad.is_empty() {
        let gy = &f.f32s[&key("gy".into())];
        (&out * gy).sum().backward();
        for &i in &grad {
            let got = leaves[i].grad().unwrap_or_else(|| Tensor::zeros(&leaves[i].shape()));
            let want = &f.f32s[&key(format!("gin{i}"))];
            failures.extend(compare(
                &format!("gradient of input {i}"),
                &got,
                want,
                grad_rtol,
                grad_atol,
            ));
        }
    }
    failures
}

fn bindings() -> BTreeMap<&'static str, Binding> {
    let map: BTreeMap<_, _> = BINDINGS.iter().copied().collect();
    assert_eq!(map.len(), BINDINGS.len(), "an op is bound twice in BINDINGS");
    map
}

#[test]
fn every_op_matches_pytorch_forward_and_backward() {
    let f = load_fixture();
    let bindings = bindings();
    let cases = f.cases();
    assert!(cases.len() > 200, "the fixture holds {} cases", cases.len());
    let mut failures = Vec::new();
    for (name, meta) in &cases {
        let op = meta["op"].as_str().unwrap();
        let Some(&binding) = bindings.get(op) else {
            failures.push(format!("{name}: no binding for op `{op}`"));
            continue;
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(&f, name, meta, binding)));
        match result {
            Ok(errs) => failures.extend(errs.into_iter().map(|e| format!("{name}: {e}"))),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{name}: panicked: {msg}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree with PyTorch:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// `pub fn` names declared directly in `impl Tensor { .. }` blocks (methods) and at the top
/// level (free functions) of a rustfmt-formatted source file.
fn public_fns(source: &str) -> (Vec<String>, Vec<String>) {
    let name = |rest: &str| rest.split(['(', '<']).next().unwrap().trim().to_string();
    let (mut methods, mut free) = (Vec::new(), Vec::new());
    let mut in_impl = false;
    for line in source.lines() {
        if line.starts_with("impl Tensor {") {
            in_impl = true;
        } else if in_impl && line.starts_with('}') {
            in_impl = false;
        } else if let Some(rest) = line.strip_prefix("    pub fn ").filter(|_| in_impl) {
            methods.push(name(rest));
        } else if let Some(rest) = line.strip_prefix("pub fn ") {
            free.push(name(rest));
        }
    }
    (methods, free)
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The public ops by the sources: every `pub fn` of an `impl Tensor` block in crates/tensor,
/// the free `pub fn`s of crates/tensor/src/ops (named `module::name`), and the free `pub fn`s
/// of crates/nn/src/functional and crates/nn/src/loss.rs.
fn public_ops() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ops = BTreeSet::new();
    for file in rust_files(&root.join("crates/tensor/src")) {
        let (methods, free) = public_fns(&std::fs::read_to_string(&file).unwrap());
        ops.extend(methods);
        if file.parent().is_some_and(|p| p.ends_with("ops")) {
            let module = file.file_stem().unwrap().to_string_lossy().to_string();
            ops.extend(free.into_iter().map(|f| format!("{module}::{f}")));
        }
    }
    let mut nn_files = rust_files(&root.join("crates/nn/src/functional"));
    nn_files.push(root.join("crates/nn/src/loss.rs"));
    for file in nn_files {
        ops.extend(public_fns(&std::fs::read_to_string(&file).unwrap()).1);
    }
    ops
}

#[test]
fn every_public_op_has_a_row() {
    let public = public_ops();
    let excluded: BTreeSet<String> = NOT_OPS.iter().map(|(n, _)| n.to_string()).collect();
    let bound: BTreeSet<String> = BINDINGS.iter().map(|(n, _)| n.to_string()).collect();
    let f = load_fixture();
    let with_cases: BTreeSet<String> = f
        .cases()
        .iter()
        .map(|(_, m)| m["op"].as_str().unwrap().to_string())
        .collect();
    // The scan must see the ops it is meant to see (a guard against a scanner that finds nothing).
    for op in [
        "exp",
        "matmul",
        "softmax",
        "unary::sigmoid",
        "conv2d",
        "batch_norm",
        "cross_entropy",
        "arange",
    ] {
        assert!(public.contains(op), "the source scan missed `{op}`");
    }
    let missing: Vec<_> = public.difference(&excluded).filter(|op| !bound.contains(*op)).collect();
    assert!(
        missing.is_empty(),
        "public ops without a row in tests/ops.rs BINDINGS (add one, and cases in scripts/make_op_fixtures.py): {missing:?}"
    );
    let stale: Vec<_> = excluded.difference(&public).collect();
    assert!(
        stale.is_empty(),
        "NOT_OPS names functions that no longer exist: {stale:?}"
    );
    let unknown: Vec<_> = bound
        .iter()
        .filter(|op| !public.contains(*op) && !op.starts_with("op_"))
        .collect();
    assert!(
        unknown.is_empty(),
        "BINDINGS names ops that are not public: {unknown:?}"
    );
    let untested: Vec<_> = bound.difference(&with_cases).collect();
    assert!(
        untested.is_empty(),
        "ops bound in tests/ops.rs without a case in the fixture (rerun scripts/make_op_fixtures.py): {untested:?}"
    );
}

#[test]
fn the_comparison_catches_a_wrong_value() {
    let want = Tensor::from_vec(vec![1.0, f32::NAN, f32::INFINITY, 0.0], &[4]).unwrap();
    let same = Tensor::from_vec(vec![1.0 + 5e-7, f32::NAN, f32::INFINITY, 0.0], &[4]).unwrap();
    assert_eq!(compare("t", &same, &want, 1e-6, 0.0), None);
    for wrong in [
        vec![1.0 + 3e-6, f32::NAN, f32::INFINITY, 0.0],
        vec![1.0, 0.0, f32::INFINITY, 0.0],
        vec![1.0, f32::NAN, f32::NEG_INFINITY, 0.0],
        vec![1.0, f32::NAN, f32::INFINITY, f32::NAN],
        vec![1.0, f32::NAN, f32::INFINITY, 1e-30],
    ] {
        let got = Tensor::from_vec(wrong.clone(), &[4]).unwrap();
        assert!(compare("t", &got, &want, 1e-6, 0.0).is_some(), "{wrong:?} passed");
    }
}

#[test]
fn a_wrong_binding_fails_its_cases() {
    // The table's own check: bind gelu to tanh's code and the gelu rows must fail.
    let f = load_fixture();
    let wrong: Binding = |a| a.x(0).tanh();
    let failing = f
        .cases()
        .iter()
        .filter(|(_, m)| m["op"] == "gelu")
        .filter(|(name, m)| !run_case(&f, name, m, wrong).is_empty())
        .count();
    assert_eq!(failing, 3, "every gelu case must fail with a wrong forward");
}
