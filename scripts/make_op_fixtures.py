#!/usr/bin/env python3
"""The op table: PyTorch's values and gradients for every public neurite op (tests/ops.rs).

Run from the repository root with a Python that has torch and safetensors:

    python scripts/make_op_fixtures.py

It writes tests/fixtures/ops.safetensors (committed; the Rust test needs no Python).

CASES below is the one list of ops and their cases, in the spirit of tinygrad's test_ops: one
`case(...)` line per case, naming the neurite op (the key of its binding in tests/ops.rs), the
input shapes and value domains, the op's arguments, and the PyTorch expression. Inputs are
drawn in float32; the reference is computed in float64 from those same f32 values and rounded
to f32 once, so it is (almost always) the correctly rounded answer, not PyTorch's f32 kernel.

For a case named C the file holds:
  C/in<i>    the f32 inputs (before any view), C/idx<i> the integer inputs (indices, targets)
  C/out      the reference output (argmax-like ops: the indices, as f32)
  C/gy       the upstream gradient; the backward is (out * gy).sum().backward()
  C/gin<i>   the reference gradient of float input i (for inputs listed in `grad`)
  C/after<i>  the value input i holds after the op, for ops that update an input in place
             (batch norm's running statistics)
and the metadata entry C is a JSON object: op, args, views, grad, rtol/atol (forward) and
grad_rtol/grad_atol (backward) with `why` when a case needs more than the 1e-6 default.
An element passes when |ours - ref| <= atol + rtol * |ref|; NaN must meet NaN and an infinity
the same infinity; below f32's smallest normal number (subnormals carry fewer digits) the
difference only has to stay below that number.
"""

import json
import math
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "tests", "fixtures", "ops.safetensors")

NAN, INF = float("nan"), float("inf")
# Edge values for element-wise ops defined on the whole line (3 x 7).
EDGE = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 5.0, -5.0, 10.0, -10.0, 30.0, -30.0,
        100.0, -100.0, 1e4, -1e4, NAN, INF, -INF]
# Edge values for ops defined on x >= 0 (ln, sqrt), with one negative (3 x 4).
EDGE_POS = [0.0, 1e-30, 1e-6, 0.25, 1.0, 2.0, 10.0, 1e4, 1e30, INF, NAN, -1.0]

gen = torch.Generator().manual_seed(0)


def f32(v):
    """`v` rounded to f32: the scalar neurite receives (an f32 argument)."""
    return torch.tensor(v, dtype=torch.float32).item()


def values(shape, domain):
    """f32 input values of `shape` from `domain`."""
    n = math.prod(shape)
    if domain == "any":
        v = torch.randn(n, generator=gen)
    elif domain == "wide":
        v = torch.randn(n, generator=gen) * 4
    elif domain == "nan":  # normal values with two NaNs
        v = torch.randn(n, generator=gen)
        v[3] = NAN
        v[n // 2 + 1] = NAN
    elif domain == "huge":
        v = torch.randn(n, generator=gen) * 1e3
    elif domain == "pos":
        v = torch.rand(n, generator=gen) * 2 + 0.1
    elif domain == "away":  # |x| >= 0.2: no kinks, poles or ties near zero
        r = torch.rand(n, generator=gen) * 1.8 + 0.2
        v = r * torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    elif domain == "unit":  # targets of binary cross-entropy
        v = torch.rand(n, generator=gen)
    elif domain == "ties":  # small integers: many exact ties
        v = torch.randint(-2, 3, (n,), generator=gen).float()
    elif domain == "edge":
        assert n == len(EDGE), (shape, n)
        v = torch.tensor(EDGE)
    elif domain == "edge_finite":
        finite = [e for e in EDGE if math.isfinite(e)]
        assert n == len(finite), (shape, n)
        v = torch.tensor(finite)
    elif domain == "edge_pos":
        assert n == len(EDGE_POS), (shape, n)
        v = torch.tensor(EDGE_POS)
    else:
        raise ValueError(domain)
    return v.float().reshape(shape)


CASES = []


def case(name, op, inputs, fn, args=None, views=None, grad=None, ints=None, **tol):
    """One row: `inputs` are (shape, domain) pairs; `fn(*inputs64, *ints)` is the PyTorch
    reference; `grad` lists the inputs differentiated (default: all float inputs; [] for none);
    `views` maps an input index to ["permute", axes] or ["narrow", axis, start, len], applied
    before the op on both sides; `ints` are integer inputs (index lists, targets) given as
    tensors; `tol` holds rtol/atol/grad_rtol/grad_atol and `why`."""
    CASES.append(dict(name=name, op=op, inputs=inputs, fn=fn, args=args or {}, views=views or {},
                      grad=grad, ints=ints or [], tol=tol))


def view(t, spec):
    if spec[0] == "permute":
        return t.permute(*spec[1])
    if spec[0] == "narrow":
        return t.narrow(spec[1], spec[2], spec[3])
    raise ValueError(spec)


# ---------------------------------------------------------------------------------------------
# The table. Sums of n f32 terms round n times: such rows state atol = n * 2^-24 * sum|terms|
# (rounded up), since a float64 reference is exact where f32 accumulation is not.
# ---------------------------------------------------------------------------------------------
SUM_WHY = "an f32 sum of n terms: error up to n*eps*sum|terms| against the float64 reference"

class TailSafe(torch.autograd.Function):
    """sigmoid and tanh whose float64 derivative keeps its digits in the tails: PyTorch's own
    backward, y(1 - y) and 1 - y^2, is 0 (or 1e-3 off) in float64 already once y is within
    1e-13 of 1, where the true derivative is a normal f32 number."""

    @staticmethod
    def forward(ctx, x, kind):
        ctx.save_for_backward(x)
        ctx.kind = kind
        return x.sigmoid() if kind == "sigmoid" else x.tanh()

    @staticmethod
    def backward(ctx, gy):
        (x,) = ctx.saved_tensors
        d = x.sigmoid() * (-x).sigmoid() if ctx.kind == "sigmoid" else 1.0 / x.cosh().square()
        return gy * d, None


def gelu_erfc(x):
    """x·Φ(x) with Φ(x) = erfc(-x/√2)/2: F.gelu's 1 + erf(x/√2) loses every digit below
    x = -8 even in float64 (and 1e-4 of them at x = -7)."""
    return x * 0.5 * torch.special.erfc(-x / math.sqrt(2.0))


# Element-wise unary: a plain shape, a non-contiguous view, and the edge values.
UNARY = {
    "exp": (lambda x: x.exp(), "any"),
    "ln": (lambda x: x.log(), "pos"),
    "sqrt": (lambda x: x.sqrt(), "pos"),
    "abs": (lambda x: x.abs(), "any"),
    "relu": (lambda x: x.relu(), "any"),
    "sigmoid": (lambda x: TailSafe.apply(x, "sigmoid"), "wide"),
    "tanh": (lambda x: TailSafe.apply(x, "tanh"), "wide"),
    "gelu": (gelu_erfc, "wide"),
    "square": (lambda x: x.square(), "any"),
    "neg": (lambda x: -x, "any"),
}
for op, (fn, dom) in UNARY.items():
    case(f"{op}/2x3", op, [([2, 3], dom)], fn)
    case(f"{op}/permuted", op, [([3, 4, 2], dom)], fn, views={0: ["permute", [2, 0, 1]]})
    edge = "edge_pos" if op in ("ln", "sqrt") else "edge"
    case(f"{op}/edges", op, [([3, 4] if edge == "edge_pos" else [3, 7], edge)], fn)
for p in (2.0, 0.5, 3.0, -1.5, 0.0):
    case(f"powf/p={p}", "powf", [([2, 5], "pos")], lambda x, p=p: x.pow(p), args={"p": p})
case("powf/edges", "powf", [([3, 7], "edge")], lambda x: x.pow(2.0), args={"p": 2.0})
case("powf/edges_p=0", "powf", [([3, 7], "edge")], lambda x: x.pow(0.0), args={"p": 0.0})
case("powf/edges_half", "powf", [([3, 4], "edge_pos")], lambda x: x.pow(0.5), args={"p": 0.5})
for slope in (0.01, 0.2):
    case(f"leaky_relu/{slope}", "leaky_relu", [([3, 7], "edge")], lambda x, s=slope: F.leaky_relu(x, f32(s)),
         args={"slope": slope})
case("leaky_relu/permuted", "leaky_relu", [([4, 3], "any")], lambda x: F.leaky_relu(x, f32(0.1)),
     args={"slope": 0.1}, views={0: ["permute", [1, 0]]})
case("clamp/any", "clamp", [([4, 5], "wide")], lambda x: x.clamp(-1.0, 2.0), args={"min": -1.0, "max": 2.0})
case("clamp/edges", "clamp", [([3, 7], "edge")], lambda x: x.clamp(-3.0, 7.0), args={"min": -3.0, "max": 7.0})
case("clamp/at_bounds", "clamp", [([4, 5], "ties")], lambda x: x.clamp(-1.0, 1.0), args={"min": -1.0, "max": 1.0})
case("clamp/narrowed", "clamp", [([5, 4], "any")], lambda x: x.clamp(0.0, 0.5), args={"min": 0.0, "max": 0.5},
     views={0: ["narrow", 0, 1, 3]})
case("unary::sigmoid/edges", "unary::sigmoid", [([3, 7], "edge")], lambda x: x.sigmoid(), grad=[])

# Element-wise binary with broadcasting; the operator forms (a + b, ...) are rows of their own.
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: torch.maximum(a, b),
}
for op, fn in BINARY.items():
    dom_b = "away" if op == "div" else "any"
    case(f"{op}/same", op, [([2, 3], "any"), ([2, 3], dom_b)], fn)
    case(f"{op}/bcast_row", op, [([3, 4], "any"), ([4], dom_b)], fn, grad_atol=1e-6, why=SUM_WHY)
    case(f"{op}/bcast_both", op, [([2, 1, 4], "any"), ([3, 1], dom_b)], fn, grad_atol=1e-6, why=SUM_WHY)
    case(f"{op}/bcast_scalar", op, [([], "any"), ([2, 3], dom_b)], fn, grad_atol=1e-6, why=SUM_WHY)
    case(f"{op}/transposed", op, [([4, 3], "any"), ([3, 4], dom_b)], fn, views={0: ["permute", [1, 0]]})
    case(f"{op}/edges", op, [([3, 7], "edge"), ([3, 7], "any")], fn)
    case(f"{op}/edges_rhs", op, [([3, 7], "any"), ([3, 7], "edge")], fn)
case("maximum/ties", "maximum", [([4, 5], "ties"), ([4, 5], "ties")], lambda a, b: torch.maximum(a, b))
for op, fn in (("op_add", lambda a, b: a + b), ("op_sub", lambda a, b: a - b),
               ("op_mul", lambda a, b: a * b), ("op_div", lambda a, b: a / b)):
    case(f"{op}/bcast", op, [([3, 4], "any"), ([4], "away")], fn, grad_atol=1e-6, why=SUM_WHY)
for op, fn in (("add_scalar", lambda x: x + f32(0.3)), ("mul_scalar", lambda x: x * f32(-1.7)),
               ("op_add_f32", lambda x: x + f32(0.3)), ("op_sub_f32", lambda x: x - f32(0.3)),
               ("op_mul_f32", lambda x: x * f32(-1.7)), ("op_div_f32", lambda x: x / 3.0), ("op_neg", lambda x: -x)):
    case(f"{op}/any", op, [([2, 5], "any")], fn)
    case(f"{op}/edges", op, [([3, 7], "edge")], fn)

# Comparisons: 0/1 masks, no gradient.
for op, fn in (("gt", torch.gt), ("lt", torch.lt), ("ge", torch.ge), ("le", torch.le), ("eq_elem", torch.eq)):
    f = (lambda a, b, fn=fn: fn(a, b).double())
    case(f"{op}/ties", op, [([3, 4], "ties"), ([3, 4], "ties")], f, grad=[])
    case(f"{op}/bcast", op, [([3, 4], "ties"), ([4], "ties")], f, grad=[])
    case(f"{op}/edges", op, [([3, 7], "edge"), ([3, 7], "edge")], f, grad=[])
for op, fn in (("argmax", torch.argmax), ("argmin", torch.argmin)):
    case(f"{op}/axis1", op, [([4, 6], "any")], lambda x, fn=fn: fn(x, 1).double(), args={"axis": 1}, grad=[])
    case(f"{op}/axis0_3d", op, [([3, 4, 2], "any")], lambda x, fn=fn: fn(x, 0).double(), args={"axis": 0}, grad=[])
    case(f"{op}/ties", op, [([5, 6], "ties")], lambda x, fn=fn: fn(x, 1).double(), args={"axis": 1}, grad=[])
    case(f"{op}/permuted", op, [([6, 4], "any")], lambda x, fn=fn: fn(x, 1).double(), args={"axis": 1}, grad=[],
         views={0: ["permute", [1, 0]]})

# Reductions.
case("sum/2x3x4", "sum", [([2, 3, 4], "any")], lambda x: x.sum(), atol=1e-5, why=SUM_WHY)
case("sum/permuted", "sum", [([3, 5], "any")], lambda x: x.sum(), atol=1e-5, why=SUM_WHY,
     views={0: ["permute", [1, 0]]})
case("sum/scalar", "sum", [([], "any")], lambda x: x.sum())
case("sum/nan_inf", "sum", [([3, 7], "edge")], lambda x: x.sum())
case("mean/2x3x4", "mean", [([2, 3, 4], "any")], lambda x: x.mean(), atol=1e-6, why=SUM_WHY)
case("mean/narrowed", "mean", [([6, 4], "any")], lambda x: x.mean(), atol=1e-6, why=SUM_WHY,
     views={0: ["narrow", 1, 1, 2]})
for op, fn in (("sum_axis", lambda x, a, k: x.sum(a, keepdim=k)), ("mean_axis", lambda x, a, k: x.mean(a, keepdim=k))):
    for axis, keep in ((0, False), (1, True), (2, False)):
        case(f"{op}/a{axis}k{int(keep)}", op, [([3, 4, 5], "any")], lambda x, a=axis, k=keep, fn=fn: fn(x, a, k),
             args={"axis": axis, "keepdim": keep}, atol=1e-6, why=SUM_WHY)
    case(f"{op}/permuted", op, [([4, 3], "any")], lambda x, fn=fn: fn(x, 1, False), args={"axis": 1, "keepdim": False},
         views={0: ["permute", [1, 0]]}, atol=1e-6, why=SUM_WHY)
    case(f"{op}/edges", op, [([3, 7], "edge")], lambda x, fn=fn: fn(x, 1, False), args={"axis": 1, "keepdim": False})
for op, fn in (("max_axis", lambda x, a, k: x.max(a, keepdim=k).values),
               ("min_axis", lambda x, a, k: x.min(a, keepdim=k).values)):
    case(f"{op}/a1k0", op, [([3, 5], "any")], lambda x, fn=fn: fn(x, 1, False), args={"axis": 1, "keepdim": False})
    case(f"{op}/a0k1_3d", op, [([3, 4, 2], "any")], lambda x, fn=fn: fn(x, 0, True), args={"axis": 0, "keepdim": True})
    case(f"{op}/ties", op, [([5, 6], "ties")], lambda x, fn=fn: fn(x, 1, False), args={"axis": 1, "keepdim": False})
    case(f"{op}/edges", op, [([3, 7], "edge")], lambda x, fn=fn: fn(x, 1, False), args={"axis": 1, "keepdim": False})
    case(f"{op}/permuted", op, [([5, 3], "any")], lambda x, fn=fn: fn(x, 1, False), args={"axis": 1, "keepdim": False},
         views={0: ["permute", [1, 0]]})
# Full max/min: PyTorch splits the gradient evenly between tied maxima, neurite sends it to the
# first one (documented on Tensor::max), so these cases have no ties.
for op, fn in (("max", lambda x: x.max()), ("min", lambda x: x.min())):
    case(f"{op}/3x4", op, [([3, 4], "any")], fn)
    case(f"{op}/permuted", op, [([2, 3, 4], "any")], fn, views={0: ["permute", [2, 0, 1]]})

# Softmax family: along the last and a middle axis, views, extreme and infinite logits.
for op, fn in (("softmax", lambda x, a: x.softmax(a)), ("log_softmax", lambda x, a: x.log_softmax(a))):
    case(f"{op}/last", op, [([3, 5], "wide")], lambda x, fn=fn: fn(x, 1), args={"axis": 1},
         grad_atol=1e-6, why=SUM_WHY)
    case(f"{op}/middle", op, [([2, 4, 3], "wide")], lambda x, fn=fn: fn(x, 1), args={"axis": 1},
         grad_atol=1e-6, why=SUM_WHY)
    case(f"{op}/permuted", op, [([5, 3], "wide")], lambda x, fn=fn: fn(x, 1), args={"axis": 1},
         views={0: ["permute", [1, 0]]}, grad_atol=1e-6, why=SUM_WHY)
    case(f"{op}/extreme", op, [([3, 7], "edge")], lambda x, fn=fn: fn(x, 1), args={"axis": 1}, grad_atol=1e-9,
         why="where y rounds to 1 in f32, the backward's g - sum(g*y) cancels to 0 (PyTorch's f32 kernel too)")
    case(f"{op}/huge", op, [([4, 6], "huge")], lambda x, fn=fn: fn(x, 1), args={"axis": 1},
         grad_atol=1e-6, why=SUM_WHY)

# Matrix products: every rank combination, transposed (strided) operands, a wide inner size.
MM_WHY = "an f32 dot product of k terms: error up to k*eps*sum|a*b|"
case("matmul/2d", "matmul", [([3, 4], "any"), ([4, 5], "any")], lambda a, b: a @ b,
     atol=1e-5, grad_atol=1e-5, why=MM_WHY)
case("matmul/2d_transposed", "matmul", [([4, 3], "any"), ([5, 4], "any")], lambda a, b: a @ b,
     views={0: ["permute", [1, 0]], 1: ["permute", [1, 0]]}, atol=1e-5, grad_atol=1e-5, why=MM_WHY)
case("matmul/3d", "matmul", [([2, 3, 4], "any"), ([2, 4, 5], "any")], lambda a, b: a @ b,
     atol=1e-5, grad_atol=1e-5, why=MM_WHY)
case("matmul/3d_2d", "matmul", [([2, 3, 4], "any"), ([4, 5], "any")], lambda a, b: a @ b,
     atol=1e-5, grad_atol=1e-5, why=MM_WHY)
case("matmul/3d_permuted", "matmul", [([2, 4, 3], "any"), ([5, 4], "any")], lambda a, b: a @ b,
     views={0: ["permute", [0, 2, 1]], 1: ["permute", [1, 0]]}, atol=1e-5, grad_atol=1e-5, why=MM_WHY)
case("matmul/k=300", "matmul", [([5, 300], "any"), ([300, 7], "any")], lambda a, b: a @ b,
     atol=1e-4, grad_atol=2e-5, why=MM_WHY)
case("matmul/edges", "matmul", [([3, 7], "edge"), ([7, 2], "any")], lambda a, b: a @ b, grad=[],
     atol=1e-2, why="sums of terms up to 1e4 in f32 (the NaN/inf rows must match exactly)")

# Shape ops: values move, gradients move back.
case("reshape/2x6", "reshape", [([3, 4], "any")], lambda x: x.reshape(2, 6), args={"shape": [2, 6]})
case("reshape/permuted", "reshape", [([3, 4], "any")], lambda x: x.reshape(12), args={"shape": [12]},
     views={0: ["permute", [1, 0]]})
case("try_reshape/4x3", "try_reshape", [([2, 6], "any")], lambda x: x.reshape(4, 3), args={"shape": [4, 3]})
case("flatten_from/1", "flatten_from", [([2, 3, 4], "any")], lambda x: x.flatten(1), args={"axis": 1})
case("flatten_from/0_permuted", "flatten_from", [([2, 3, 4], "any")], lambda x: x.flatten(0), args={"axis": 0},
     views={0: ["permute", [2, 1, 0]]})
case("unsqueeze/1", "unsqueeze", [([2, 3], "any")], lambda x: x.unsqueeze(1), args={"axis": 1})
case("unsqueeze/end", "unsqueeze", [([2, 3], "any")], lambda x: x.unsqueeze(2), args={"axis": 2})
case("squeeze/1", "squeeze", [([2, 1, 3], "any")], lambda x: x.squeeze(1), args={"axis": 1})
case("permute/3d", "permute", [([2, 3, 4], "any")], lambda x: x.permute(2, 0, 1), args={"axes": [2, 0, 1]})
case("transpose/0_2", "transpose", [([2, 3, 4], "any")], lambda x: x.transpose(0, 2), args={"a": 0, "b": 2})
case("t/2d", "t", [([3, 5], "any")], lambda x: x.t())
case("t/narrowed", "t", [([3, 5], "any")], lambda x: x.t(), views={0: ["narrow", 1, 1, 3]})
case("narrow/axis1", "narrow", [([3, 6], "any")], lambda x: x.narrow(1, 2, 3), args={"axis": 1, "start": 2, "len": 3})
case("narrow/permuted", "narrow", [([4, 5, 3], "any")], lambda x: x.narrow(0, 1, 2),
     args={"axis": 0, "start": 1, "len": 2}, views={0: ["permute", [2, 0, 1]]})
case("concat/axis0", "concat", [([2, 3], "any"), ([1, 3], "any"), ([3, 3], "any")],
     lambda a, b, c: torch.cat([a, b, c], 0), args={"axis": 0})
case("concat/axis1_permuted", "concat", [([2, 3], "any"), ([4, 2], "any")], lambda a, b: torch.cat([a, b], 1),
     args={"axis": 1}, views={1: ["permute", [1, 0]]})
case("stack/axis0", "stack", [([2, 3], "any"), ([2, 3], "any")], lambda a, b: torch.stack([a, b], 0), args={"axis": 0})
case("stack/axis2", "stack", [([2, 3], "any"), ([2, 3], "any"), ([2, 3], "any")],
     lambda a, b, c: torch.stack([a, b, c], 2), args={"axis": 2})
case("broadcast_to/row", "broadcast_to", [([4], "any")], lambda x: x.broadcast_to(3, 4), args={"shape": [3, 4]},
     grad_atol=1e-6, why=SUM_WHY)
case("broadcast_to/3d", "broadcast_to", [([3, 1], "any")], lambda x: x.broadcast_to(2, 3, 4),
     args={"shape": [2, 3, 4]}, grad_atol=1e-6, why=SUM_WHY)
case("contiguous/permuted", "contiguous", [([3, 4], "any")], lambda x: x.contiguous(), views={0: ["permute", [1, 0]]})
case("contiguous/already", "contiguous", [([3, 4], "any")], lambda x: x.contiguous())
case("arange/int", "arange", [], lambda: torch.arange(0.0, 5.0, 1.0, dtype=torch.float64),
     args={"start": 0.0, "end": 5.0, "step": 1.0}, grad=[])
case("arange/frac", "arange", [], lambda: torch.arange(-1.0, 1.0, f32(0.3), dtype=torch.float64),
     args={"start": -1.0, "end": 1.0, "step": 0.3}, grad=[], rtol=1e-6, atol=1e-7,
     why="start + i*step in f32 (PyTorch's f32 arange does the same)")
case("arange/down", "arange", [], lambda: torch.arange(2.0, -1.0, -0.5, dtype=torch.float64),
     args={"start": 2.0, "end": -1.0, "step": -0.5}, grad=[])

# Indexing.
case("index_select/rows", "index_select", [([4, 3], "any")], lambda x, i: x.index_select(0, i),
     args={"axis": 0}, ints=[[3, 0, 3, 1]])
case("index_select/cols_permuted", "index_select", [([4, 3], "any")], lambda x, i: x.index_select(1, i),
     args={"axis": 1}, ints=[[2, 2, 0]], views={0: ["permute", [1, 0]]})
case("gather/axis1", "gather", [([3, 4], "any")], lambda x, i: x.gather(1, i), args={"axis": 1},
     ints=[[[0, 3], [1, 1], [2, 0]]])
case("gather/axis0", "gather", [([3, 2], "any")], lambda x, i: x.gather(0, i), args={"axis": 0},
     ints=[[[2, 0], [2, 2], [0, 1], [1, 1]]])

# ---------------------------------------------------------------------------------------------
# nn functional ops and losses.
# ---------------------------------------------------------------------------------------------
for op, relu in (("linear", False), ("linear_relu", True)):
    f = (lambda x, w, b, r=relu: (F.linear(x, w, b).relu() if r else F.linear(x, w, b)))
    fnb = (lambda x, w, r=relu: (F.linear(x, w).relu() if r else F.linear(x, w)))
    case(f"{op}/bias", op, [([4, 5], "any"), ([3, 5], "any"), ([3], "any")], f, atol=1e-5, grad_atol=1e-5, why=MM_WHY)
    case(f"{op}/no_bias", op, [([4, 5], "any"), ([3, 5], "any")], fnb, atol=1e-5, grad_atol=1e-5, why=MM_WHY)
    case(f"{op}/3d_input", op, [([2, 3, 5], "any"), ([4, 5], "any"), ([4], "any")], f,
         atol=1e-5, grad_atol=1e-5, why=MM_WHY)
    case(f"{op}/transposed_input", op, [([5, 4], "any"), ([3, 5], "any"), ([3], "any")], f,
         views={0: ["permute", [1, 0]]}, atol=1e-5, grad_atol=1e-5, why=MM_WHY)
case("linear_relu/nan", "linear_relu", [([4, 5], "nan"), ([3, 5], "any"), ([3], "any")],
     lambda x, w, b: F.linear(x, w, b).relu(), atol=1e-5, grad_atol=1e-5, why=MM_WHY)
case("conv2d_relu/nan", "conv2d_relu", [([1, 2, 5, 5], "nan"), ([3, 2, 3, 3], "any"), ([3], "any")],
     lambda x, w, b: F.conv2d(x, w, b, padding=1).relu(), args={"stride": 1, "padding": 1, "dilation": 1, "groups": 1},
     atol=2e-5, grad_atol=5e-5, why="an f32 sum over C*kh*kw (and over N*OH*OW for the weight gradient)")
for op, relu in (("dense", False), ("dense_relu", True)):
    f = (lambda x, k, b, r=relu: ((x @ k + b).relu() if r else x @ k + b))
    fnb = (lambda x, k, r=relu: ((x @ k).relu() if r else x @ k))
    case(f"{op}/bias", op, [([4, 5], "any"), ([5, 3], "any"), ([3], "any")], f, atol=1e-5, grad_atol=1e-5, why=MM_WHY)
    case(f"{op}/no_bias", op, [([2, 3, 5], "any"), ([5, 3], "any")], fnb, atol=1e-5, grad_atol=1e-5, why=MM_WHY)
    case(f"{op}/transposed_kernel", op, [([4, 5], "any"), ([3, 5], "any"), ([3], "any")], f,
         views={1: ["permute", [1, 0]]}, atol=1e-5, grad_atol=1e-5, why=MM_WHY)

CONV_WHY = "an f32 sum over C*kh*kw (and over N*OH*OW for the weight gradient)"
CONVS = {  # name -> (x shape, weight shape, stride, padding, dilation)
    "s1p0": ([2, 3, 6, 5], [4, 3, 3, 3], [1, 1], [0, 0], [1, 1]),
    "s2p1": ([2, 3, 7, 6], [4, 3, 3, 3], [2, 2], [1, 1], [1, 1]),
    "d2p2": ([1, 2, 7, 7], [3, 2, 3, 3], [1, 1], [2, 2], [2, 2]),
    "rect": ([2, 2, 6, 7], [3, 2, 2, 3], [2, 1], [1, 0], [1, 2]),
    "1x1": ([2, 4, 3, 3], [5, 4, 1, 1], [1, 1], [0, 0], [1, 1]),
}
for op, relu in (("conv2d", False), ("conv2d_relu", True)):
    for name, (xs, ws, s, p, d) in CONVS.items():
        def f(x, w, b, s=s, p=p, d=d, r=relu):
            y = F.conv2d(x, w, b, stride=s, padding=p, dilation=d)
            return y.relu() if r else y
        case(f"{op}/{name}", op, [(xs, "any"), (ws, "any"), ([ws[0]], "any")], f,
             args={"stride": s, "padding": p, "dilation": d, "groups": 1}, atol=2e-5, grad_atol=5e-5, why=CONV_WHY)
    case(f"{op}/no_bias_permuted", op, [([2, 5, 6, 3], "any"), ([4, 3, 3, 3], "any")],
         lambda x, w, r=relu: (F.conv2d(x, w, padding=1).relu() if r else F.conv2d(x, w, padding=1)),
         args={"stride": [1, 1], "padding": [1, 1], "dilation": [1, 1], "groups": 1},
         views={0: ["permute", [0, 3, 1, 2]]}, atol=2e-5, grad_atol=5e-5, why=CONV_WHY)

POOLS = {"k2s2p0": (2, 2, 0), "k3s2p1": (3, 2, 1), "k3s1p0": (3, 1, 0), "k2s1p1": (2, 1, 1)}
for name, (k, s, p) in POOLS.items():
    case(f"max_pool2d/{name}", "max_pool2d", [([2, 2, 7, 6], "any")], lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p),
         args={"kernel": k, "stride": s, "padding": p})
    case(f"avg_pool2d/{name}", "avg_pool2d", [([2, 2, 7, 6], "any")], lambda x, k=k, s=s, p=p: F.avg_pool2d(x, k, s, p),
         args={"kernel": k, "stride": s, "padding": p}, atol=1e-6, grad_atol=1e-6, why=SUM_WHY)
case("max_pool2d/nan", "max_pool2d", [([1, 2, 5, 6], "nan")], lambda x: F.max_pool2d(x, 3, 2, 1),
     args={"kernel": 3, "stride": 2, "padding": 1})
case("max_pool2d/nan_2x2", "max_pool2d", [([1, 2, 4, 6], "nan")], lambda x: F.max_pool2d(x, 2, 2, 0),
     args={"kernel": 2, "stride": 2, "padding": 0})
case("avg_pool2d/nan", "avg_pool2d", [([1, 2, 5, 6], "nan")], lambda x: F.avg_pool2d(x, 3, 2, 1),
     args={"kernel": 3, "stride": 2, "padding": 1}, atol=1e-6, grad_atol=1e-6, why=SUM_WHY)
case("max_pool2d/ties", "max_pool2d", [([1, 2, 6, 6], "ties")], lambda x: F.max_pool2d(x, 2, 2, 0),
     args={"kernel": 2, "stride": 2, "padding": 0})
case("max_pool2d/ties_overlap", "max_pool2d", [([1, 2, 6, 6], "ties")], lambda x: F.max_pool2d(x, 3, 1, 1),
     args={"kernel": 3, "stride": 1, "padding": 1})
case("max_pool2d/permuted", "max_pool2d", [([2, 6, 4, 3], "any")], lambda x: F.max_pool2d(x, 2, 2, 0),
     args={"kernel": 2, "stride": 2, "padding": 0}, views={0: ["permute", [0, 3, 1, 2]]})
case("avg_pool2d/permuted", "avg_pool2d", [([2, 6, 4, 3], "any")], lambda x: F.avg_pool2d(x, 2, 2, 0),
     args={"kernel": 2, "stride": 2, "padding": 0}, views={0: ["permute", [0, 3, 1, 2]]})


def bn(training, affine, stats):
    def f(x, *rest):
        rest = list(rest)
        w, b = (rest.pop(0), rest.pop(0)) if affine else (None, None)
        rm, rv = (rest.pop(0), rest.pop(0)) if stats else (None, None)
        return F.batch_norm(x, rm, rv, w, b, training, f32(0.1), f32(1e-5))
    return f


BN_WHY = "per-channel sums over N*H*W in the backward"
for name, (xs, training, affine, stats) in {
    "train_4d": ([3, 2, 4, 3], True, True, True),
    "train_2d": ([6, 3], True, True, True),
    "train_plain": ([4, 3, 2, 2], True, False, False),
    "eval_4d": ([3, 2, 4, 3], False, True, True),
}.items():
    c = xs[1]
    ins = [(xs, "wide")]
    grad = [0]
    if affine:
        ins += [([c], "pos"), ([c], "any")]
        grad += [1, 2]
    if stats:
        ins += [([c], "any"), ([c], "pos")]
    case(f"batch_norm/{name}", "batch_norm", ins, bn(training, affine, stats),
         args={"training": training, "affine": affine, "stats": stats, "momentum": 0.1, "eps": 1e-5},
         grad=grad, rtol=2e-6, atol=1e-6, grad_atol=1e-5, why=BN_WHY)
case("batch_norm/permuted", "batch_norm", [([2, 4, 3], "wide"), ([3], "pos"), ([3], "any")],
     lambda x, w, b: F.batch_norm(x, None, None, w, b, True, f32(0.1), f32(1e-5)),
     args={"training": True, "affine": True, "stats": False, "momentum": 0.1, "eps": 1e-5},
     views={0: ["permute", [1, 2, 0]]}, grad=[0, 1, 2], rtol=2e-6, atol=1e-6, grad_atol=1e-5, why=BN_WHY)

TARGETS = [[0, 4, 2, 2, 1, 3]]
CE_WHY = "softmax - target cancels where the two agree (PyTorch's f32 kernel too); a mean over B rows in f32"
case("cross_entropy/mean", "cross_entropy", [([6, 5], "wide")], lambda x, t: F.cross_entropy(x, t), ints=TARGETS,
     atol=1e-6, grad_atol=1e-7, why=CE_WHY)
case("cross_entropy/permuted", "cross_entropy", [([5, 6], "wide")], lambda x, t: F.cross_entropy(x, t), ints=TARGETS,
     views={0: ["permute", [1, 0]]}, atol=1e-6, grad_atol=1e-7, why=CE_WHY)
case("cross_entropy/extreme", "cross_entropy", [([3, 6], "edge_finite")], lambda x, t: F.cross_entropy(x, t),
     ints=[[0, 3, 5]], atol=1e-6, grad_atol=1e-7, why=CE_WHY)
for red, ls in (("sum", 0.0), ("none", 0.0), ("mean", 0.1), ("sum", 0.2), ("none", 0.3)):
    case(f"cross_entropy_with/{red}_ls{ls}", "cross_entropy_with", [([6, 5], "wide")],
         lambda x, t, red=red, ls=ls: F.cross_entropy(x, t, reduction=red, label_smoothing=f32(ls)),
         args={"reduction": red, "label_smoothing": ls}, ints=TARGETS, atol=1e-6, grad_atol=1e-7, why=CE_WHY)
case("mse_loss/2d", "mse_loss", [([4, 3], "any"), ([4, 3], "any")], lambda a, b: F.mse_loss(a, b),
     atol=1e-6, why=SUM_WHY)
case("mse_loss/permuted", "mse_loss", [([3, 4], "any"), ([4, 3], "any")], lambda a, b: F.mse_loss(a, b),
     views={0: ["permute", [1, 0]]}, atol=1e-6, why=SUM_WHY)
for red in ("sum", "none", "mean"):
    case(f"mse_loss_with/{red}", "mse_loss_with", [([2, 3, 2], "any"), ([2, 3, 2], "any")],
         lambda a, b, red=red: F.mse_loss(a, b, reduction=red), args={"reduction": red}, atol=1e-5, why=SUM_WHY)
BCE_WHY = "the gradient sigmoid(x) - t cancels where the two agree (PyTorch's f32 kernel too); a mean in f32"
case("bce_with_logits/mean", "binary_cross_entropy_with_logits", [([4, 3], "wide"), ([4, 3], "unit")],
     lambda x, t: F.binary_cross_entropy_with_logits(x, t), atol=1e-6, grad_atol=1e-7, why=BCE_WHY)
case("bce_with_logits/permuted", "binary_cross_entropy_with_logits", [([3, 4], "wide"), ([4, 3], "unit")],
     lambda x, t: F.binary_cross_entropy_with_logits(x, t), views={0: ["permute", [1, 0]]},
     atol=1e-6, grad_atol=1e-7, why=BCE_WHY)
for red in ("sum", "none", "mean"):
    case(f"bce_with_logits_with/{red}", "binary_cross_entropy_with_logits_with", [([2, 5], "wide"), ([2, 5], "unit")],
         lambda x, t, red=red: F.binary_cross_entropy_with_logits(x, t, reduction=red), args={"reduction": red},
         atol=1e-6, grad_atol=1e-7, why=BCE_WHY)
case("bce_with_logits_with/extreme", "binary_cross_entropy_with_logits_with", [([3, 6], "edge_finite"), ([3, 6], "unit")],
     lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"), args={"reduction": "none"},
     atol=1e-6, grad_atol=1e-7, why=BCE_WHY)

# Grouped (2 groups of 2 input, 3 output channels), depthwise (groups = C = O), and depthwise
# with a channel multiplier of 2 (O = 2C), strided and padded. (The rows added after the
# original table sit at its end, so the random inputs of the rows above stay the same.)
for op, relu in (("conv2d", False), ("conv2d_relu", True)):
    for name, (xs, ws, s, p, g) in {
        "groups2": ([2, 4, 6, 5], [6, 2, 3, 3], [1, 1], [1, 1], 2),
        "depthwise": ([2, 3, 7, 6], [3, 1, 3, 3], [2, 2], [1, 1], 3),
        "depthwise_x2": ([3, 2, 5, 5], [4, 1, 3, 2], [1, 2], [0, 1], 2),
    }.items():
        def f(x, w, b, s=s, p=p, g=g, r=relu):
            y = F.conv2d(x, w, b, stride=s, padding=p, groups=g)
            return y.relu() if r else y
        case(f"{op}/{name}", op, [(xs, "any"), (ws, "any"), ([ws[0]], "any")], f,
             args={"stride": s, "padding": p, "dilation": [1, 1], "groups": g}, atol=2e-5, grad_atol=5e-5,
             why=CONV_WHY)

# Adaptive average pooling: bins floor(i*H/out) .. ceil((i+1)*H/out), overlapping when out
# does not divide the size (5 -> 3: {0,1}, {1,2,3}, {3,4}), larger than the input (3 -> 4), and
# global (out = 1).
for name, (xs, out) in {
    "divides": ([2, 3, 6, 4], [3, 2]),
    "overlap": ([2, 2, 5, 7], [3, 4]),
    "upsample": ([1, 2, 3, 2], [4, 3]),
    "global": ([2, 3, 5, 6], [1, 1]),
}.items():
    case(f"adaptive_avg_pool2d/{name}", "adaptive_avg_pool2d", [(xs, "any")],
         lambda x, out=out: F.adaptive_avg_pool2d(x, out), args={"output": out}, atol=1e-6, grad_atol=1e-6,
         why=SUM_WHY)
case("adaptive_avg_pool2d/permuted", "adaptive_avg_pool2d", [([2, 5, 6, 3], "any")],
     lambda x: F.adaptive_avg_pool2d(x, 2), args={"output": 2}, views={0: ["permute", [0, 3, 1, 2]]},
     atol=1e-6, grad_atol=1e-6, why=SUM_WHY)
case("adaptive_avg_pool2d/nan", "adaptive_avg_pool2d", [([1, 2, 5, 6], "nan")],
     lambda x: F.adaptive_avg_pool2d(x, 3), args={"output": 3}, atol=1e-6, grad_atol=1e-6, why=SUM_WHY)

LN_WHY = "row sums over the normalized axes in the backward, parameter gradients summed over rows"
for name, (xs, ns, affine, dom) in {
    "last": ([3, 4, 5], [5], True, "wide"),
    "two_axes": ([2, 3, 4, 5], [4, 5], True, "any"),
    "plain": ([6, 7], [7], False, "wide"),
    "one_row": ([1, 8], [8], True, "any"),
}.items():
    ins = [(xs, dom)] + ([(ns, "pos"), (ns, "any")] if affine else [])
    case(f"layer_norm/{name}", "layer_norm", ins,
         lambda x, *wb, ns=ns: F.layer_norm(x, ns, *wb, eps=f32(1e-5)),
         args={"normalized_shape": ns, "eps": 1e-5}, rtol=2e-6, atol=1e-6, grad_atol=1e-5, why=LN_WHY)
case("layer_norm/permuted", "layer_norm", [([4, 3, 2], "wide"), ([4, 2], "pos"), ([4, 2], "any")],
     lambda x, w, b: F.layer_norm(x, [4, 2], w, b, eps=f32(1e-5)), args={"normalized_shape": [4, 2], "eps": 1e-5},
     views={0: ["permute", [1, 0, 2]]}, rtol=2e-6, atol=1e-6, grad_atol=1e-5, why=LN_WHY)


def run(c):
    """Computes one case's reference in float64; returns its tensors and metadata."""
    name = c["name"]
    t, meta = {}, {"op": c["op"], "args": c["args"], "views": {str(k): v for k, v in c["views"].items()}}
    xs32 = [values(shape, dom) for shape, dom in c["inputs"]]
    grad = c["grad"] if c["grad"] is not None else list(range(len(xs32)))
    meta["grad"] = grad
    meta.update(c["tol"])
    leaves = [x.double().requires_grad_(i in grad) for i, x in enumerate(xs32)]
    viewed = [view(x, c["views"][i]) if i in c["views"] else x for i, x in enumerate(leaves)]
    ints = [torch.tensor(v, dtype=torch.int64) for v in c["ints"]]
    for i, x in enumerate(xs32):
        t[f"{name}/in{i}"] = x
    for i, v in enumerate(ints):
        t[f"{name}/idx{i}"] = v
    out = c["fn"](*viewed, *ints)
    t[f"{name}/out"] = out.detach().float()
    if c["op"] == "batch_norm" and c["args"]["stats"] and c["args"]["training"]:
        # F.batch_norm updated the float64 running statistics (inputs 3 and 4) in place.
        t[f"{name}/after3"] = leaves[3].detach().float()
        t[f"{name}/after4"] = leaves[4].detach().float()
    if grad:
        gy = torch.randn(out.shape, generator=gen).float()
        t[f"{name}/gy"] = gy
        (out * gy.double()).sum().backward()
        for i in grad:
            g = leaves[i].grad
            t[f"{name}/gin{i}"] = (g if g is not None else torch.zeros_like(leaves[i])).float()
    return t, json.dumps(meta, sort_keys=True)


def sort_header(path):
    """Rewrites the file's JSON header with sorted keys: safetensors writes the metadata in
    hash-map order, which would make every regeneration a diff of the same values."""
    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.dumps(json.loads(data[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    with open(path, "wb") as f:
        f.write(len(header).to_bytes(8, "little") + header + data[8 + n:])


def main():
    torch.set_default_dtype(torch.float64)
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    tensors, meta = {}, {"generator": "scripts/make_op_fixtures.py", "torch": torch.__version__}
    for c in CASES:
        t, m = run(c)
        tensors.update(t)
        meta[c["name"]] = m
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, OUT, metadata=meta)
    sort_header(OUT)
    print(f"wrote {len(CASES)} cases of {len(set(c['op'] for c in CASES))} ops to {os.path.relpath(OUT)} "
          f"({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
