//! Seeded data augmentation for small colour images (CIFAR): random crop with zero padding
//! and random horizontal flip.
//!
//! Each sample's draw depends only on `(seed, epoch, sample index)`, never on thread
//! scheduling, so augmented batches are identical whatever the thread count or prefetching.

/// Which augmentations to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Augment {
    /// Zero padding on each side before the random crop back to the original size
    /// (0 disables the crop).
    pub pad: usize,
    /// Flip left-right with probability 1/2.
    pub flip: bool,
}

impl Augment {
    /// The usual CIFAR recipe: pad 4 then crop 32x32, random horizontal flip.
    pub fn cifar() -> Augment {
        Augment { pad: 4, flip: true }
    }

    /// The transform drawn for sample `index` in `epoch` under `seed`.
    pub fn draw(&self, seed: u64, epoch: u64, index: usize) -> Transform {
        let h = mix(mix(seed ^ 0x5EED_A06E_0000_0000, epoch), index as u64);
        let span = 2 * self.pad as u64 + 1;
        Transform {
            dy: (h % span) as usize,
            dx: ((h >> 21) % span) as usize,
            flip: self.flip && (h >> 63) == 1,
            pad: self.pad,
        }
    }
}

/// One sample's augmentation: the crop offset inside the padded image and the flip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transform {
    /// Crop row offset in the padded image, `0..=2*pad`.
    pub dy: usize,
    /// Crop column offset in the padded image, `0..=2*pad`.
    pub dx: usize,
    /// Whether to flip left-right.
    pub flip: bool,
    /// The padding.
    pub pad: usize,
}

impl Transform {
    /// The identity transform.
    pub const IDENTITY: Transform = Transform {
        dy: 0,
        dx: 0,
        flip: false,
        pad: 0,
    };

    /// Applies the transform to a channel-major `u8` image of `shape = [C, H, W]`, mapping
    /// each byte (padding is byte 0) through `lut[c * 256 + byte]` into `out`.
    ///
    /// # Panics
    /// When `src`, `out` or `lut` are shorter than the shape requires.
    pub fn apply(&self, src: &[u8], shape: [usize; 3], lut: &[f32], out: &mut [f32]) {
        let [c, h, w] = shape;
        let plane = h * w;
        if *self == Transform::IDENTITY || (self.pad == self.dy && self.pad == self.dx && !self.flip) {
            for ch in 0..c {
                let lut = &lut[ch * 256..ch * 256 + 256];
                let (s, o) = (
                    &src[ch * plane..(ch + 1) * plane],
                    &mut out[ch * plane..(ch + 1) * plane],
                );
                for (o, &b) in o.iter_mut().zip(s) {
                    *o = lut[usize::from(b)];
                }
            }
            return;
        }
        for ch in 0..c {
            let lut = &lut[ch * 256..ch * 256 + 256];
            for y in 0..h {
                let row = &mut out[ch * plane + y * w..ch * plane + (y + 1) * w];
                // Source row in the unpadded image, if inside.
                let sy = (y + self.dy).checked_sub(self.pad).filter(|&sy| sy < h);
                for (x, o) in row.iter_mut().enumerate() {
                    let xx = if self.flip { w - 1 - x } else { x };
                    let sx = (xx + self.dx).checked_sub(self.pad).filter(|&sx| sx < w);
                    let byte = match (sy, sx) {
                        (Some(sy), Some(sx)) => src[ch * plane + sy * w + sx],
                        _ => 0,
                    };
                    *o = lut[usize::from(byte)];
                }
            }
        }
    }
}

/// SplitMix64-style mixing of a state with a value: a fast, well-spread hash.
pub(crate) fn mix(state: u64, value: u64) -> u64 {
    let mut z = state ^ value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
