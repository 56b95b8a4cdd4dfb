//! The W1-W7 workloads of docs/benchmarks.md (copied from the shared bench spec) and the
//! targets the ratios are judged against.

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

    /// The peer this workload is compared with: PyTorch for W1-W5, numpy for W6-W7.
    pub fn peer(self) -> &'static str {
        match self {
            Workload::W6 | Workload::W7 => "numpy",
            _ => "pytorch",
        }
    }

    /// Target for the time ratio neurite/peer (lower is better).
    pub fn target_ratio(self) -> f64 {
        match self {
            Workload::W1 => 0.5,
            Workload::W2 => 0.8,
            Workload::W3 | Workload::W4 | Workload::W5 => 1.0,
            Workload::W6 => 0.1,
            // sgemm reaches at least 0.85x numpy's GFLOP/s: time ratio at most 1/0.85.
            Workload::W7 => 1.0 / 0.85,
        }
    }

    /// Parses `W1` (case-insensitive).
    pub fn parse(s: &str) -> Option<Workload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.id().eq_ignore_ascii_case(s.trim()))
    }
}
