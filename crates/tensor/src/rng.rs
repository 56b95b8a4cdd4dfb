//! The seeded random generator every random constructor takes.

use rand::SeedableRng;

/// The random generator neurite uses everywhere: ChaCha8, portable and reproducible across
/// platforms and releases of this crate.
pub type TensorRng = rand_chacha::ChaCha8Rng;

/// A [`TensorRng`] from a 64-bit seed.
pub fn seeded_rng(seed: u64) -> TensorRng {
    TensorRng::seed_from_u64(seed)
}
