//! The W1-W7 workloads of docs/benchmarks.md (copied from the shared bench spec) and the
//! targets the ratios are judged against.

use super::peer::PeerKind;

/// One benchmark workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Workload {
    /// MLP 784-128-10, SGD lr 0.1, batch 64, one epoch.
    W1,
    /// MLP 784-512-512-10, Adam 1e-3, batch 128, one epoch.
    W2,
    /// MNIST CNN, SGD momentum, batch 64, 200 timed steps.
    W3,
    /// CIFAR CNN on random data, batch 64, 100 timed steps.
    W4,
    /// W1 model inference over the 10,000 test images in batches of 1000.
    W5,
    /// Fresh process: open MNIST and produce the first normalised batch; a full shuffled pass.
    W6,
    /// sgemm 1024³ and 64x784x128.
    W7,
}

impl Workload {
    /// All workloads in order.
    pub const ALL: [Workload; 7] = [
        Workload::W1,
        Workload::W2,
        Workload::W3,
        Workload::W4,
        Workload::W5,
        Workload::W6,
        Workload::W7,
    ];

    /// `W1` ... `W7`.
    pub fn id(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::W4 => "W4",
            Workload::W5 => "W5",
            Workload::W6 => "W6",
            Workload::W7 => "W7",
        }
    }

    /// The spec's short name.
    pub fn name(self) -> &'static str {
        match self {
            Workload::W1 => "mlp-train",
            Workload::W2 => "mlp-wide-train",
            Workload::W3 => "mnist-cnn-train",
            Workload::W4 => "cifar-cnn-train",
            Workload::W5 => "mlp-infer",
            Workload::W6 => "load",
            Workload::W7 => "sgemm",
        }
    }

    /// The target for the time ratio neurite / `peer` (lower is better), where one is set:
    /// the first performance issue's against PyTorch and numpy, the second's against the best
    /// peer per workload (JAX's whole-epoch scan on W1/W2, TensorFlow on W3/W4, ONNX Runtime
    /// on W5, OpenBLAS through numpy on W7).
    pub fn target(self, peer: PeerKind) -> Option<f64> {
        use PeerKind::*;
        Some(match (self, peer) {
            (Workload::W1, Pytorch) => 0.5,
            (Workload::W1, JaxScan) => 0.8,
            (Workload::W2, Pytorch) => 0.8,
            (Workload::W2, JaxScan) => 0.9,
            (Workload::W3 | Workload::W4, Pytorch) => 1.0,
            // At least 1.2x TensorFlow's images/s.
            (Workload::W3 | Workload::W4, Tensorflow) => 1.0 / 1.2,
            (Workload::W5, Pytorch) => 0.5,
            (Workload::W5, Onnxruntime) => 1.1,
            (Workload::W6, Numpy) => 0.1,
            // At least 0.95x OpenBLAS's GFLOP/s at 1024³.
            (Workload::W7, Numpy) => 1.0 / 0.95,
            _ => return None,
        })
    }

    /// W7's second shape: the target for the time ratio at 64x784x128 against numpy (at least
    /// 1.1x OpenBLAS's GFLOP/s).
    pub const W7_SMALL_TARGET: f64 = 1.0 / 1.1;

    /// Floating-point operations in the timed quantity, for the physical floor (`None` for W6,
    /// which moves bytes). Multiply-adds count 2; a training step counts each layer's forward
    /// product, its weight gradient and (except the first layer) its input gradient; element-wise
    /// work, pooling and the optimizer are left out, so the floor is a lower bound.
    pub fn flops(self) -> Option<f64> {
        const TRAIN_IMAGES: f64 = 60_000.0;
        let w1 = [784.0 * 128.0, 128.0 * 10.0];
        let w2 = [784.0 * 512.0, 512.0 * 512.0, 512.0 * 10.0];
        // Per image: conv outputs x kernel volume, then the dense layers.
        let w3 = [
            26.0 * 26.0 * 32.0 * 9.0,
            24.0 * 24.0 * 64.0 * 32.0 * 9.0,
            9216.0 * 128.0,
            1280.0,
        ];
        let w4 = [
            32.0 * 32.0 * 32.0 * 27.0,
            16.0 * 16.0 * 64.0 * 32.0 * 9.0,
            4096.0 * 128.0,
            1280.0,
        ];
        Some(match self {
            Workload::W1 => TRAIN_IMAGES * train_flops(&w1),
            Workload::W2 => TRAIN_IMAGES * train_flops(&w2),
            Workload::W3 => 200.0 * 64.0 * train_flops(&w3),
            Workload::W4 => 100.0 * 64.0 * train_flops(&w4),
            Workload::W5 => 10_000.0 * 2.0 * w1.iter().sum::<f64>(),
            Workload::W6 => return None,
            Workload::W7 => 2.0 * 1024f64.powi(3),
        })
    }

    /// Parses `W1` (case-insensitive).
    pub fn parse(s: &str) -> Option<Workload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.id().eq_ignore_ascii_case(s.trim()))
    }
}

/// FLOPs of one training step per example: forward, weight gradient and input gradient of each
/// layer's product (`macs` multiply-adds per example), the first layer without input gradient.
fn train_flops(macs: &[f64]) -> f64 {
    macs.iter()
        .enumerate()
        .map(|(i, m)| 2.0 * m * if i == 0 { 2.0 } else { 3.0 })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_match_the_bench_spec_figures() {
        // The bench spec's floors at ~420 GFLOP/s: W1 ~0.06 s, W3 ~5,800 img/s, W5 ~4.8 ms.
        let peak = 420e9;
        let w1 = Workload::W1.flops().unwrap() / peak;
        assert!((0.055..0.062).contains(&w1), "{w1}");
        let w3_img_per_s = 200.0 * 64.0 / (Workload::W3.flops().unwrap() / peak);
        assert!((5_700.0..5_950.0).contains(&w3_img_per_s), "{w3_img_per_s}");
        let w5 = Workload::W5.flops().unwrap() / peak;
        assert!((0.0047..0.0050).contains(&w5), "{w5}");
        assert_eq!(Workload::W6.flops(), None);
    }

    #[test]
    fn targets_follow_the_issues() {
        assert_eq!(Workload::W1.target(PeerKind::JaxScan), Some(0.8));
        assert_eq!(Workload::W5.target(PeerKind::Onnxruntime), Some(1.1));
        assert_eq!(Workload::W1.target(PeerKind::Tensorflow), None);
        assert!((Workload::W3.target(PeerKind::Tensorflow).unwrap() - 1.0 / 1.2).abs() < 1e-12);
    }
}
