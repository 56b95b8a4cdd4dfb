//! Keeping freed tensor buffers in the process.
//!
//! A training step allocates and frees the same large activation and gradient buffers every
//! step. glibc's malloc serves blocks above its mmap threshold (128 KiB at first) with fresh
//! `mmap`s and returns them with `munmap`, so each step pays page faults, page clearing and
//! TLB shootdowns for memory it just gave back (over 10% of a CNN step in a profile). Raising
//! the thresholds makes freed buffers stay in the heap for reuse, as PyTorch's caching CPU
//! allocator does for its tensors.

/// Asks the C allocator to keep freed buffers of up to 32 MiB for reuse instead of returning
/// them to the OS. Binaries that train call it once at start; it is a no-op outside Linux/glibc.
/// Returns whether the allocator accepted the settings.
pub fn retain_freed_buffers() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // 32 MiB is glibc's ceiling for the mmap threshold on 64-bit systems.
        const MMAP_THRESHOLD: libc::c_int = 32 << 20;
        const TRIM_THRESHOLD: libc::c_int = 512 << 20;
        // SAFETY: mallopt only changes allocator tuning parameters; it is called with valid
        // option constants and values and touches no memory of ours.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}
