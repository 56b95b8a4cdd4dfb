//! A cache prefetch hint for the batch gather: shuffled batches read images at random places
//! in a memory map far larger than the caches, so each image's first bytes would otherwise
//! stall the copy loop until they arrive from memory.

/// Cache-line size assumed for the hint (64 bytes on current x86-64 and most ARM cores).
const LINE: usize = 64;

/// Asks the CPU to start loading `bytes` into its caches and returns at once. Only a hint:
/// it changes no values, and does nothing on architectures other than x86-64.
#[inline]
pub(crate) fn prefetch(bytes: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    for line in bytes.chunks(LINE) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: `_mm_prefetch` needs SSE, which every x86-64 CPU has; a prefetch never
        // faults and reads nothing into the program, and the address is inside `bytes` anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (bytes, LINE);
}
