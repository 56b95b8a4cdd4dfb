//! What a result depends on besides the code: the CPU (model, vector ISA, clock), the thread
//! count, the sgemm kernel neurite picked, and the physical floor derived from them.

use serde::Serialize;

/// The ISA flags worth recording with a figure (those the kernels and peers dispatch on).
const FLAGS: [&str; 8] = [
    "avx2",
    "fma",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
    "avx512_bf16",
    "amx_tile",
];

/// The machine a run was measured on.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// `model name` of /proc/cpuinfo (`lscpu`'s model).
    pub cpu: String,
    /// The [`FLAGS`] this CPU has.
    pub isa: Vec<&'static str>,
    /// The clock /proc/cpuinfo reports for the first CPU, in MHz (the nominal clock on most
    /// VMs; turbo clocks may be higher).
    pub mhz: Option<f64>,
    /// Threads the run used.
    pub threads: usize,
    /// The sgemm kernels `neurite_tensor::gemm` selects (per shape: the narrow products' one
    /// is named when it differs).
    pub sgemm_kernel: String,
    /// The f32 peak of `threads` cores in GFLOP/s: given with `--peak-gflops`, or estimated as
    /// threads x 2 FMA units x 2 FLOPs x vector lanes (16 with AVX-512F, 8 with AVX2) x clock.
    pub peak_gflops: Option<f64>,
    /// Whether `peak_gflops` is an estimate from the clock rather than given.
    pub peak_estimated: bool,
}

impl Machine {
    /// Reads this machine's description; `peak_gflops` overrides the estimate.
    pub fn current(threads: usize, peak_gflops: Option<f64>) -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo
                .lines()
                .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        };
        let cpu = field("model name").unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let flags = field("flags").unwrap_or_default();
        let has = |f: &str| flags.split_whitespace().any(|x| x == f);
        let isa: Vec<&'static str> = FLAGS.into_iter().filter(|f| has(f)).collect();
        let mhz = field("cpu MHz").and_then(|v| v.parse::<f64>().ok());
        let lanes = if has("avx512f") {
            16.0
        } else if has("avx2") && has("fma") {
            8.0
        } else {
            4.0
        };
        let estimate = mhz.map(|m| threads as f64 * 2.0 * 2.0 * lanes * m / 1000.0);
        Machine {
            cpu,
            isa,
            mhz,
            threads,
            sgemm_kernel: sgemm_kernels(),
            peak_gflops: peak_gflops.or(estimate),
            peak_estimated: peak_gflops.is_none() && estimate.is_some(),
        }
    }

    /// One line for the report's header.
    pub fn describe(&self) -> String {
        let mhz = self.mhz.map_or("clock unknown".to_string(), |m| format!("{m:.0} MHz"));
        let peak = self.peak_gflops.map_or("peak unknown".to_string(), |p| {
            let how = if self.peak_estimated {
                "estimated from the clock"
            } else {
                "given"
            };
            format!("peak {p:.0} GFLOP/s ({how})")
        });
        format!(
            "CPU: {} ({}; {}), {} threads, neurite sgemm kernel {}, {}",
            self.cpu,
            self.isa.join(" "),
            mhz,
            self.threads,
            self.sgemm_kernel,
            peak
        )
    }
}

/// `Avx512` or, where narrow products use another kernel, `Avx512 (Portable for products of
/// at most 16 columns)`.
fn sgemm_kernels() -> String {
    use neurite_tensor::gemm::{Kernel, NARROW_MAX_COLS};
    let large = Kernel::selected();
    let narrow = Kernel::for_product(64, 128, NARROW_MAX_COLS);
    if narrow == large {
        format!("{large:?}")
    } else {
        format!("{large:?} ({narrow:?} for products of at most {NARROW_MAX_COLS} columns)")
    }
}
