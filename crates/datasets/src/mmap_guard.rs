//! Turning a fault on a memory-mapped file into a one-line error.
//!
//! Reading a page of a map whose file another process has truncated raises `SIGBUS`, which
//! kills the process with no message. On Linux, the first map installs a `SIGBUS` handler
//! (unless the program ignores the signal) and every map registers its address range with a
//! message naming the file. A fault inside a registered range prints
//! `error: <file>: the file was truncated or changed while it was mapped ...` on stderr and
//! exits with status 1; any other fault goes to the action that was in place before (the
//! handler puts it back and the faulting access runs again). A program that installs its own
//! `SIGBUS` handler later replaces this one. Elsewhere [`Registration`] does nothing.
//!
//! The rule this enforces: data files must not change while they are loaded. The loaders
//! validate every length against the map once, when the file is opened; a file that changes
//! after that ends the program with the message above, never with wrong data passed off as
//! good or a silent crash.

/// A registered map: its range is known to the fault handler until this is dropped.
pub(crate) struct Registration {
    #[cfg(target_os = "linux")]
    slot: Option<usize>,
}

impl Registration {
    /// Registers `len` bytes at `start` as the map of `path`.
    pub(crate) fn new(start: *const u8, len: usize, path: &std::path::Path) -> Registration {
        #[cfg(target_os = "linux")]
        {
            Registration {
                slot: linux::register(start as usize, len, path),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (start, len, path);
            Registration {}
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(slot) = self.slot {
            linux::unregister(slot);
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::cell::UnsafeCell;
    use std::path::Path;
    use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
    use std::sync::Once;

    const SLOTS: usize = 64;
    const MESSAGE: usize = 512;
    const FREE: u8 = 0;
    const BUSY: u8 = 1;
    const READY: u8 = 2;

    /// One registered range. `state` says who may touch `message`: only the thread that moved
    /// it from FREE to BUSY writes it; the handler reads it only while it is READY.
    struct Slot {
        state: AtomicU8,
        start: AtomicUsize,
        len: AtomicUsize,
        message_len: AtomicUsize,
        message: UnsafeCell<[u8; MESSAGE]>,
    }

    // SAFETY: `message` is written only by the thread holding the slot BUSY and read only
    // while the slot is READY (published with Release, observed with Acquire).
    unsafe impl Sync for Slot {}

    #[allow(clippy::declare_interior_mutable_const)]
    const EMPTY: Slot = Slot {
        state: AtomicU8::new(FREE),
        start: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        message_len: AtomicUsize::new(0),
        message: UnsafeCell::new([0; MESSAGE]),
    };

    static REGISTRY: [Slot; SLOTS] = [EMPTY; SLOTS];
    static INSTALL: Once = Once::new();

    pub(super) fn register(start: usize, len: usize, path: &Path) -> Option<usize> {
        INSTALL.call_once(install);
        let index = REGISTRY.iter().position(|s| {
            s.state
                .compare_exchange(FREE, BUSY, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        })?;
        let slot = &REGISTRY[index];
        let text = format!(
            "error: {}: the file was truncated or changed while it was mapped (data files must not change while they are loaded)\n",
            path.display()
        );
        let n = text.len().min(MESSAGE);
        // SAFETY: this thread moved the slot from FREE to BUSY, so nothing else touches it.
        unsafe { (&mut *slot.message.get())[..n].copy_from_slice(&text.as_bytes()[..n]) };
        slot.message_len.store(n, Ordering::Relaxed);
        slot.start.store(start, Ordering::Relaxed);
        slot.len.store(len, Ordering::Relaxed);
        slot.state.store(READY, Ordering::Release);
        Some(index)
    }

    pub(super) fn unregister(index: usize) {
        REGISTRY[index].state.store(FREE, Ordering::Release);
    }

    /// The action that was in place before ours (Rust's runtime has one for stack overflows).
    struct Previous(UnsafeCell<std::mem::MaybeUninit<libc::sigaction>>);
    // SAFETY: written once inside `INSTALL` before our handler is installed, read-only after.
    unsafe impl Sync for Previous {}
    static PREVIOUS: Previous = Previous(UnsafeCell::new(std::mem::MaybeUninit::zeroed()));

    /// Installs the handler, keeping the previous action to hand faults that are not ours to.
    fn install() {
        // SAFETY: plain sigaction calls on zero-initialised structs; PREVIOUS is written here
        // once, before the handler that reads it exists. The handler only uses
        // async-signal-safe functions (write, _exit, sigaction).
        unsafe {
            let previous = (*PREVIOUS.0.get()).as_mut_ptr();
            if libc::sigaction(libc::SIGBUS, std::ptr::null(), previous) != 0 {
                return;
            }
            if (*previous).sa_sigaction == libc::SIG_IGN {
                return;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(libc::SIGBUS, &action, std::ptr::null_mut());
        }
    }

    extern "C" fn on_sigbus(_signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo_t for an SA_SIGINFO handler.
        let addr = unsafe { (*info).si_addr() } as usize;
        for slot in &REGISTRY {
            if slot.state.load(Ordering::Acquire) != READY {
                continue;
            }
            let (start, len) = (slot.start.load(Ordering::Relaxed), slot.len.load(Ordering::Relaxed));
            if addr >= start && addr - start < len {
                let n = slot.message_len.load(Ordering::Relaxed);
                // SAFETY: the slot is READY, so its message is complete and not being written;
                // write(2) and _exit(2) are async-signal-safe.
                unsafe {
                    libc::write(2, slot.message.get() as *const libc::c_void, n);
                    libc::_exit(1);
                }
            }
        }
        // Not a mapped data file: put the previous action back; the faulting access runs again
        // when the handler returns and gets it.
        // SAFETY: sigaction(2) is async-signal-safe; PREVIOUS was written before this handler
        // was installed.
        unsafe { libc::sigaction(libc::SIGBUS, (*PREVIOUS.0.get()).as_ptr(), std::ptr::null_mut()) };
    }
}
