//! Winograd F(2x2, 3x3) for stride-1, undilated, ungrouped 3x3 convolutions (Lavin & Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2016).
//!
//! Each 2x2 block of outputs (a *tile*) is `Aᵀ [Σ_c (G g G^T) ⊙ (Bᵀ d B)] A`, with `d` the 4x4
//! input patch under the tile and `g` the 3x3 filter: 16 multiplies per tile and channel pair
//! instead of 36 (2.25x fewer). The element-wise products, summed over channels, are 16
//! matrix products `M[ξ] = U[ξ] · V[ξ]` (`U[ξ]`: `[O, C]` transformed filters, `V[ξ]`: `[C, T]`
//! transformed patches of the `T` tiles of a chunk of images), run by the sgemm on a few
//! hundred columns. The sgemm is then a minor part: the transforms, which read and write 16
//! values per tile and channel, cost about as much (docs/benchmarks.md, "Convolution").
//!
//! * Forward: [`forward`] (input transform, 16 products, output transform with the bias and
//!   the epilogue).
//! * Input gradient: a stride-1 3x3 convolution too (of `dY` with the flipped, transposed
//!   filters, padding `2 - p`), so it is [`forward`] again ([`flipped_filters`]); `conv.rs`
//!   uses it only when `NEURITE_CONV=winograd` (it measured slower than im2col on W3).
//! * Weight gradient: the gradient of the Winograd forward itself, [`weight_grad`]:
//!   `dU[ξ] = Σ_t (A dY_t Aᵀ)[ξ] V[ξ]_tᵀ`, then `dW = Gᵀ dU G`: again 16 products, whose inner
//!   size is the tiles of a chunk.
//!
//! Determinism: images are cut into chunks whose size depends on the shape alone; each output
//! element of [`forward`] is one column of one product (its value does not depend on the
//! chunk), and [`weight_grad`] sums per chunk then over chunks in chunk order, so results are
//! bit-identical whatever the thread count.
//!
//! Rounding differs from im2col's direct sums: the transforms add and subtract inputs before
//! multiplying. The error stays of the order of f32's epsilon times the sum of absolute products
//! (checked against f64 references in the tests below).

use ndarray::{ArrayView2, ArrayViewMut2};
use neurite_tensor::gemm::gemm;
use rayon::prelude::*;

use super::epilogue::Epilogue;
use super::worth_parallel;

/// Tiles per chunk that [`Plan::images_per_chunk`] aims for: the width of the 16 products.
/// Wider products run the sgemm faster (64x32 by 144 columns: 91 GFLOP/s, by 288: 115, one
/// Sapphire Rapids core), but the chunk's transformed inputs and products (`16·(C + O)·T`
/// values, 1.8 MB for W3's 32 -> 64 channels at 288 tiles) must stay in the 2 MB L2 cache:
/// 1024 tiles ran W3's forward 25% slower than 300, and 128 no faster.
const TILES_PER_CHUNK: usize = 300;

/// The shape of one Winograd convolution: `c` input channels of `h x w`, `o` output channels
/// of `oh x ow`, padding `(ph, pw)`, a 3x3 filter, stride 1.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub c: usize,
    pub o: usize,
    pub h: usize,
    pub w: usize,
    pub ph: usize,
    pub pw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Plan {
    /// A plan for a stride-1 3x3 convolution with padding `(ph, pw)`: the output size follows.
    pub(crate) fn new(c: usize, o: usize, (h, w): (usize, usize), (ph, pw): (usize, usize)) -> Plan {
        Plan {
            c,
            o,
            h,
            w,
            ph,
            pw,
            oh: h + 2 * ph - 2,
            ow: w + 2 * pw - 2,
        }
    }

    /// Rows of tiles.
    fn th(&self) -> usize {
        self.oh.div_ceil(2)
    }

    /// Columns of tiles.
    fn tw(&self) -> usize {
        self.ow.div_ceil(2)
    }

    /// Tiles of one image.
    fn tiles(&self) -> usize {
        self.th() * self.tw()
    }

    /// Images per chunk: a function of the shape alone (never of the thread count).
    fn images_per_chunk(&self) -> usize {
        (TILES_PER_CHUNK / self.tiles()).max(1)
    }
}

/// `U = G g Gᵀ` for every filter of `wt` (`[O, C, 3, 3]`), laid out `[16][O][C]`.
pub(crate) fn filter_transform(o: usize, c: usize, wt: &[f32]) -> Vec<f32> {
    let mut u = vec![0.0f32; 16 * o * c];
    for oc in 0..o * c {
        let g = &wt[oc * 9..oc * 9 + 9];
        // t = G g: 4x3, rows (g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2) of g's rows.
        let mut t = [[0.0f32; 3]; 4];
        for j in 0..3 {
            let (a, b, cc) = (g[j], g[3 + j], g[6 + j]);
            t[0][j] = a;
            t[1][j] = 0.5 * (a + b + cc);
            t[2][j] = 0.5 * (a - b + cc);
            t[3][j] = cc;
        }
        for (i, row) in t.iter().enumerate() {
            let (a, b, cc) = (row[0], row[1], row[2]);
            let vals = [a, 0.5 * (a + b + cc), 0.5 * (a - b + cc), cc];
            for (j, v) in vals.into_iter().enumerate() {
                u[(i * 4 + j) * o * c + oc] = v;
            }
        }
    }
    u
}

/// The filters of the input gradient of `wt` (`[O, C, 3, 3]`): `w'[c][o] = flip(w[o][c])`,
/// laid out `[C, O, 3, 3]`.
pub(crate) fn flipped_filters(o: usize, c: usize, wt: &[f32]) -> Vec<f32> {
    let mut f = vec![0.0f32; o * c * 9];
    for oi in 0..o {
        for ci in 0..c {
            let src = &wt[(oi * c + ci) * 9..(oi * c + ci) * 9 + 9];
            let dst = &mut f[(ci * o + oi) * 9..(ci * o + oi) * 9 + 9];
            for k in 0..9 {
                dst[k] = src[8 - k];
            }
        }
    }
    f
}

/// Values between the 16 blocks of a transformed buffer (`[16][rows][t_all]`) beyond their
/// `rows · t_all`: 64 bytes, so that the 16 streams a transform writes (or reads) at once never
/// lie a multiple of 4 KiB apart, which would put them all in one L1 set (and alias in the
/// store buffer): measured 3x slower transforms on W3's shapes.
const BLOCK_PAD: usize = 16;

/// The distance between consecutive blocks of a `[16][rows][t_all]` buffer.
fn block(rows: usize, t_all: usize) -> usize {
    rows * t_all + BLOCK_PAD
}

/// The 16 `[rows][t_all]` blocks of a `[16][rows][t_all]` buffer (blocks [`block`] apart), one
/// per point `ξ` of the 4x4 transform, as disjoint mutable slices.
fn blocks(buf: &mut [f32], rows: usize, t_all: usize) -> [&mut [f32]; 16] {
    let mut it = buf.chunks_mut(block(rows, t_all));
    std::array::from_fn(|_| it.next().expect("16 blocks"))
}

/// Splits a row into its even and odd columns, `even[j] = row[2j]` and `odd[j] = row[2j + 1]`,
/// where the row holds `src` from column `off` on and zeros elsewhere. `off + src.len()` must
/// not exceed `even.len() + odd.len()`.
fn deinterleave(src: &[f32], off: usize, even: &mut [f32], odd: &mut [f32]) {
    even.fill(0.0);
    odd.fill(0.0);
    // src[2i] lands in `first[f0 + i]`, src[2i + 1] in `second[s0 + i]`.
    let (first, second, f0, s0) = if off.is_multiple_of(2) {
        (even, odd, off / 2, off / 2)
    } else {
        (odd, even, off / 2, off / 2 + 1)
    };
    let pairs = src.len() / 2;
    if src.len() % 2 == 1 {
        first[f0 + pairs] = src[2 * pairs];
    }
    let (first, second) = (&mut first[f0..f0 + pairs], &mut second[s0..s0 + pairs]);
    let body = &src[..2 * pairs];
    for i in 0..pairs {
        first[i] = body[2 * i];
        second[i] = body[2 * i + 1];
    }
}

/// `(x0 - x2, x1 + x2, x2 - x1, x1 - x3)` element-wise into `o0 .. o3` (as long as `o0`): one
/// step, on rows or on columns, of `Bᵀ d B`. Separate slices, so that the loop vectorises.
#[allow(clippy::too_many_arguments)] // four inputs and four outputs
fn bt4(x0: &[f32], x1: &[f32], x2: &[f32], x3: &[f32], o0: &mut [f32], o1: &mut [f32], o2: &mut [f32], o3: &mut [f32]) {
    let n = o0.len();
    let (x0, x1, x2, x3) = (&x0[..n], &x1[..n], &x2[..n], &x3[..n]);
    let (o1, o2, o3) = (&mut o1[..n], &mut o2[..n], &mut o3[..n]);
    for i in 0..n {
        o0[i] = x0[i] - x2[i];
        o1[i] = x1[i] + x2[i];
        o2[i] = x2[i] - x1[i];
        o3[i] = x1[i] - x3[i];
    }
}

/// `(x0 + x1 + x2, x1 - x2 - x3)` element-wise into `s`, `d` (as long as `s`): one step of
/// `Aᵀ M A`.
fn at4(x0: &[f32], x1: &[f32], x2: &[f32], x3: &[f32], s: &mut [f32], d: &mut [f32]) {
    let n = s.len();
    let (x0, x1, x2, x3, d) = (&x0[..n], &x1[..n], &x2[..n], &x3[..n], &mut d[..n]);
    for i in 0..n {
        s[i] = x0[i] + x1[i] + x2[i];
        d[i] = x1[i] - x2[i] - x3[i];
    }
}

/// `(a, a + b, a - b, -b)` element-wise into `o0 .. o3` (as long as `o0`): one step of
/// `A g Aᵀ`.
fn a4(a: &[f32], b: &[f32], o0: &mut [f32], o1: &mut [f32], o2: &mut [f32], o3: &mut [f32]) {
    let n = o0.len();
    let (a, b) = (&a[..n], &b[..n]);
    let (o1, o2, o3) = (&mut o1[..n], &mut o2[..n], &mut o3[..n]);
    for i in 0..n {
        o0[i] = a[i];
        o1[i] = a[i] + b[i];
        o2[i] = a[i] - b[i];
        o3[i] = -b[i];
    }
}

/// Four disjoint consecutive `len`-value parts of `buf`.
fn four(buf: &mut [f32], len: usize) -> [&mut [f32]; 4] {
    let mut it = buf.chunks_mut(len);
    std::array::from_fn(|_| it.next().expect("four parts"))
}

/// Scratch values the transforms of one plan need.
fn scratch_len(p: &Plan) -> usize {
    ((2 * p.th() + 6) * 2 * (p.tw() + 1)).max(12 * p.tw())
}

/// Writes `V = Bᵀ d B` of every tile of one image `x` (`[C, H, W]`) into columns
/// `t0 .. t0 + tiles` of `v` (`[16][C][t_all]`). `scratch` holds [`scratch_len`] values.
///
/// Each channel's padded rows are split into even and odd columns first, so that every step
/// is a contiguous, vectorisable loop over the tiles of a row: with `e`, `o` a row's even and
/// odd columns, the tile at `tx` reads `e[tx], o[tx], e[tx+1], o[tx+1]`.
fn input_transform(p: &Plan, x: &[f32], v: &mut [f32], t_all: usize, t0: usize, scratch: &mut [f32]) {
    let (tw, half) = (p.tw(), p.tw() + 1);
    let len = 2 * half;
    let (plane_rows, d) = scratch.split_at_mut((2 * p.th() + 2) * len);
    let mut vb = blocks(v, p.c, t_all);
    for ci in 0..p.c {
        let plane = &x[ci * p.h * p.w..(ci + 1) * p.h * p.w];
        // Padded row `r` is input row `r - ph` (zero outside the image).
        for (r, buf) in plane_rows.chunks_mut(len).enumerate() {
            let (even, odd) = buf.split_at_mut(half);
            let ih = r as isize - p.ph as isize;
            if ih >= 0 && (ih as usize) < p.h {
                deinterleave(&plane[ih as usize * p.w..(ih as usize + 1) * p.w], p.pw, even, odd);
            } else {
                even.fill(0.0);
                odd.fill(0.0);
            }
        }
        for ty in 0..p.th() {
            // Bᵀ d on the four rows under this row of tiles (even and odd columns alike).
            let row = |k: usize| &plane_rows[(2 * ty + k) * len..(2 * ty + k + 1) * len];
            let [d0, d1, d2, d3] = four(&mut d[..4 * len], len);
            bt4(row(0), row(1), row(2), row(3), d0, d1, d2, d3);
            // (Bᵀ d) B: the column combinations of (e[tx], o[tx], e[tx+1], o[tx+1]).
            let at = ci * t_all + t0 + ty * tw;
            for (k, dk) in d[..4 * len].chunks(len).enumerate() {
                let (e, o) = dk.split_at(half);
                let [v0, v1, v2, v3] = &mut vb[4 * k..4 * k + 4] else {
                    unreachable!("four blocks")
                };
                bt4(
                    e,
                    o,
                    &e[1..],
                    &o[1..],
                    &mut v0[at..at + tw],
                    &mut v1[at..at + tw],
                    &mut v2[at..at + tw],
                    &mut v3[at..at + tw],
                );
            }
        }
    }
}

/// Writes `Y = Aᵀ M A` (plus the bias) of the tiles in columns `t0 .. t0 + tiles` of `m`
/// (`[16][O][t_all]`) into one output image `y` (`[O, OH, OW]`). `scratch` holds
/// [`scratch_len`] values.
#[allow(clippy::too_many_arguments)] // the plan, both buffers and their column window
fn output_transform(
    p: &Plan,
    m: &[f32],
    t_all: usize,
    t0: usize,
    bias: Option<&[f32]>,
    y: &mut [f32],
    scratch: &mut [f32],
) {
    let tw = p.tw();
    let (sums, ys) = scratch.split_at_mut(8 * tw);
    let blk = block(p.o, t_all);
    for oi in 0..p.o {
        let b = bias.map_or(0.0, |b| b[oi]);
        let plane = &mut y[oi * p.oh * p.ow..(oi + 1) * p.oh * p.ow];
        for ty in 0..p.th() {
            let base = oi * t_all + t0 + ty * tw;
            let mm = |xi: usize| &m[xi * blk + base..xi * blk + base + tw];
            // Aᵀ M: for each column l, rows m0 + m1 + m2 and m1 - m2 - m3, at (2l + i)·tw.
            for (l, pair) in sums.chunks_mut(2 * tw).enumerate() {
                let (s0, s1) = pair.split_at_mut(tw);
                at4(mm(l), mm(4 + l), mm(8 + l), mm(12 + l), s0, s1);
            }
            // (Aᵀ M) A: the same on the columns of each of the two rows.
            let [y0e, y0o, y1e, y1o] = four(&mut ys[..4 * tw], tw);
            let s = |l: usize, i: usize| &sums[(2 * l + i) * tw..(2 * l + i + 1) * tw];
            at4(s(0, 0), s(1, 0), s(2, 0), s(3, 0), y0e, y0o);
            at4(s(0, 1), s(1, 1), s(2, 1), s(3, 1), y1e, y1o);
            let interleave = |dst: &mut [f32], even: &[f32], odd: &[f32]| {
                let mut pairs = dst.chunks_exact_mut(2);
                for ((d, &e), &o) in (&mut pairs).zip(even).zip(odd) {
                    d[0] = e + b;
                    d[1] = o + b;
                }
                if let [last] = pairs.into_remainder() {
                    *last = even[p.ow / 2] + b;
                }
            };
            let oy = 2 * ty;
            interleave(&mut plane[oy * p.ow..(oy + 1) * p.ow], y0e, y0o);
            if oy + 1 < p.oh {
                interleave(&mut plane[(oy + 1) * p.ow..(oy + 2) * p.ow], y1e, y1o);
            }
        }
    }
}

/// The convolution of `n` images `x` (`[N, C, H, W]`) with the transformed filters `u`
/// ([`filter_transform`]), plus `bias`, then `epilogue` (per image, while it is in cache), into
/// `out` (`[N, O, OH, OW]`, every element written).
/// Chunks of images run in parallel; each element's value does not depend on the chunking.
#[allow(clippy::too_many_arguments)] // the plan, the operands and the epilogue
pub(crate) fn forward(
    p: &Plan,
    n: usize,
    x: &[f32],
    u: &[f32],
    bias: Option<&[f32]>,
    epilogue: Epilogue,
    out: &mut [f32],
) {
    let (tiles, per) = (p.tiles(), p.images_per_chunk());
    let (img, oimg) = (p.c * p.h * p.w, p.o * p.oh * p.ow);
    let scratch = || {
        let t = per * tiles;
        (
            vec![0.0f32; 16 * block(p.c, t)],
            vec![0.0f32; 16 * block(p.o, t)],
            vec![0.0f32; scratch_len(p)],
        )
    };
    let chunk = |(v, m, rows): &mut (Vec<f32>, Vec<f32>, Vec<f32>), (yc, xc): (&mut [f32], &[f32])| {
        let images = xc.len() / img;
        let t = images * tiles;
        for (i, xi) in xc.chunks(img).enumerate() {
            input_transform(p, xi, v, t, i * tiles, rows);
        }
        for xi in 0..16 {
            let uv = ArrayView2::from_shape((p.o, p.c), &u[xi * p.o * p.c..(xi + 1) * p.o * p.c]).expect("U shape");
            let vv = ArrayView2::from_shape((p.c, t), &v[xi * block(p.c, t)..xi * block(p.c, t) + p.c * t])
                .expect("V shape");
            let mut mv = ArrayViewMut2::from_shape((p.o, t), &mut m[xi * block(p.o, t)..xi * block(p.o, t) + p.o * t])
                .expect("M shape");
            gemm(1.0, &uv, &vv, 0.0, &mut mv);
        }
        for (i, yi) in yc.chunks_mut(oimg).enumerate() {
            output_transform(p, m, t, i * tiles, bias, yi, rows);
            epilogue.forward(yi);
        }
    };
    if n > per && worth_parallel(n * p.o * p.c * tiles * 16) {
        // One task per thread, each a run of whole chunks with one scratch (`for_each_init`
        // would allocate, and page-fault, a fresh 2 MB scratch for every split). Chunk
        // boundaries stay where they are, so the values do not change.
        let per_task = n.div_ceil(per).div_ceil(rayon::current_num_threads()) * per;
        out.par_chunks_mut(per_task * oimg)
            .zip(x.par_chunks(per_task * img))
            .for_each(|(yt, xt)| {
                let mut s = scratch();
                for pair in yt.chunks_mut(per * oimg).zip(xt.chunks(per * img)) {
                    chunk(&mut s, pair);
                }
            });
    } else {
        let mut s = scratch();
        for pair in out.chunks_mut(per * oimg).zip(x.chunks(per * img)) {
            chunk(&mut s, pair);
        }
    }
}

/// Writes `A dY Aᵀ` (4x4 from each 2x2 tile of the output gradient, zero beyond the output)
/// of one image's gradient `gy` (`[O, OH, OW]`) into columns `t0 ..` of `dm` (`[16][O][t_all]`).
/// `scratch` holds [`scratch_len`] values. As in [`input_transform`], rows are split into even
/// and odd columns so that every loop runs contiguously over the tiles of a row.
fn grad_transform(p: &Plan, gy: &[f32], dm: &mut [f32], t_all: usize, t0: usize, scratch: &mut [f32]) {
    let tw = p.tw();
    let mut db = blocks(dm, p.o, t_all);
    let (g, q) = scratch.split_at_mut(4 * tw);
    let [e0, o0, e1, o1] = four(&mut g[..4 * tw], tw);
    for oi in 0..p.o {
        let plane = &gy[oi * p.oh * p.ow..(oi + 1) * p.oh * p.ow];
        for ty in 0..p.th() {
            let r = 2 * ty;
            deinterleave(&plane[r * p.ow..(r + 1) * p.ow], 0, e0, o0);
            if r + 1 < p.oh {
                deinterleave(&plane[(r + 1) * p.ow..(r + 2) * p.ow], 0, e1, o1);
            } else {
                e1.fill(0.0);
                o1.fill(0.0);
            }
            // A g: rows (g0, g0 + g1, g0 - g1, -g1), even columns at k·tw, odd at (4 + k)·tw.
            {
                let (qe, qo) = q[..8 * tw].split_at_mut(4 * tw);
                let [q0, q1, q2, q3] = four(qe, tw);
                a4(e0, e1, q0, q1, q2, q3);
                let [q0, q1, q2, q3] = four(qo, tw);
                a4(o0, o1, q0, q1, q2, q3);
            }
            // (A g) Aᵀ: each row's columns (a, b) -> (a, a + b, a - b, -b).
            let at = oi * t_all + t0 + ty * tw;
            for k in 0..4 {
                let [w0, w1, w2, w3] = &mut db[4 * k..4 * k + 4] else {
                    unreachable!("four blocks")
                };
                a4(
                    &q[k * tw..(k + 1) * tw],
                    &q[(4 + k) * tw..(5 + k) * tw],
                    &mut w0[at..at + tw],
                    &mut w1[at..at + tw],
                    &mut w2[at..at + tw],
                    &mut w3[at..at + tw],
                );
            }
        }
    }
}

/// `dW` (`[O, C, 3, 3]`) of the Winograd forward for inputs `x` (`[N, C, H, W]`) and output
/// gradient `gy` (`[N, O, OH, OW]`): per chunk `dU[ξ] = dM[ξ] · V[ξ]ᵀ`, the chunks' `dU`
/// summed in chunk order, then `dW = Gᵀ dU G`. Bit-identical for any thread count.
pub(crate) fn weight_grad(p: &Plan, n: usize, x: &[f32], gy: &[f32]) -> Vec<f32> {
    let (tiles, per) = (p.tiles(), p.images_per_chunk());
    let (img, oimg) = (p.c * p.h * p.w, p.o * p.oh * p.ow);
    let oc = p.o * p.c;
    let scratch = || {
        let t = per * tiles;
        (
            vec![0.0f32; 16 * block(p.c, t)],
            vec![0.0f32; 16 * block(p.o, t)],
            vec![0.0f32; scratch_len(p)],
        )
    };
    let chunk = |(v, dm, rows): &mut (Vec<f32>, Vec<f32>, Vec<f32>), ci: usize| -> Vec<f32> {
        let (lo, hi) = (ci * per, ((ci + 1) * per).min(n));
        let t = (hi - lo) * tiles;
        for i in lo..hi {
            input_transform(p, &x[i * img..(i + 1) * img], v, t, (i - lo) * tiles, rows);
            grad_transform(p, &gy[i * oimg..(i + 1) * oimg], dm, t, (i - lo) * tiles, rows);
        }
        let mut du = vec![0.0f32; 16 * oc];
        for xi in 0..16 {
            let dmv = ArrayView2::from_shape((p.o, t), &dm[xi * block(p.o, t)..xi * block(p.o, t) + p.o * t])
                .expect("dM shape");
            let vv = ArrayView2::from_shape((p.c, t), &v[xi * block(p.c, t)..xi * block(p.c, t) + p.c * t])
                .expect("V shape");
            let mut duv = ArrayViewMut2::from_shape((p.o, p.c), &mut du[xi * oc..(xi + 1) * oc]).expect("dU shape");
            gemm(1.0, &dmv, &vv.t(), 0.0, &mut duv);
        }
        du
    };
    let chunks = n.div_ceil(per);
    let partials: Vec<Vec<f32>> = if chunks > 1 && worth_parallel(n * oc * tiles * 16) {
        // One task per thread, each a run of chunks with one scratch (see `forward`); the
        // partials are still one per chunk, summed below in chunk order.
        let per_task = chunks.div_ceil(rayon::current_num_threads());
        let runs: Vec<Vec<Vec<f32>>> = (0..chunks.div_ceil(per_task))
            .into_par_iter()
            .map(|ti| {
                let mut s = scratch();
                (ti * per_task..((ti + 1) * per_task).min(chunks))
                    .map(|ci| chunk(&mut s, ci))
                    .collect()
            })
            .collect();
        runs.into_iter().flatten().collect()
    } else {
        let mut s = scratch();
        (0..chunks).map(|ci| chunk(&mut s, ci)).collect()
    };
    let mut du = vec![0.0f32; 16 * oc];
    for part in partials {
        du.iter_mut().zip(&part).for_each(|(a, b)| *a += b);
    }
    // dW = Gᵀ dU G, with Gᵀ = [[1, ½, ½, 0], [0, ½, -½, 0], [0, ½, ½, 1]].
    let mut dw = vec![0.0f32; 9 * oc];
    for (k, out) in dw.chunks_mut(9).enumerate() {
        let d = |xi: usize| du[xi * oc + k];
        // Gᵀ dU, stored by column l of dU: cols[l][i].
        let cols: [[f32; 3]; 4] = std::array::from_fn(|l| {
            let (a, b, cc, e) = (d(l), d(4 + l), d(8 + l), d(12 + l));
            [a + 0.5 * (b + cc), 0.5 * (b - cc), 0.5 * (b + cc) + e]
        });
        // (Gᵀ dU) G.
        for (i, row) in out.chunks_mut(3).enumerate() {
            let (a, b, cc, e) = (cols[0][i], cols[1][i], cols[2][i], cols[3][i]);
            row[0] = a + 0.5 * (b + cc);
            row[1] = 0.5 * (b - cc);
            row[2] = 0.5 * (b + cc) + e;
        }
    }
    dw
}

#[cfg(test)]
mod tests;
