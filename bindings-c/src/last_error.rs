//! The per-handle last error: the message of the most recent failed call made *by this thread* on a
//! handle, so threads sharing one verifier never read each other's messages (the result code a thread got
//! and the message it reads always belong to the same call). A handle remembers its 64 most recently
//! failing threads (memory stays bounded however many threads a host runs); the header says so.
//!
//! A failure with no handle to keep its message (a constructor, `anchor_sign`, a NULL handle) keeps it for
//! its thread instead, read by `anchor_last_error`.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// How many threads' messages one handle remembers; past that the oldest is forgotten.
const THREADS_REMEMBERED: usize = 64;

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's number. A plain integer: unlike `std::thread::current()`, it allocates nothing, so a
    /// C host's threads (the main one included) leave nothing behind for valgrind to report.
    static THREAD: u64 = NEXT_THREAD.fetch_add(1, Ordering::Relaxed);

    /// The message of this thread's latest failure that had no handle to keep it.
    static WITHOUT_HANDLE: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Keeps `message` as this thread's latest failure without a handle.
pub(crate) fn record_for_thread(message: &str) {
    WITHOUT_HANDLE.with_borrow_mut(|kept| {
        kept.clear();
        kept.push_str(message);
    });
}

/// This thread's latest failure without a handle (empty when there was none).
pub(crate) fn for_thread() -> String {
    WITHOUT_HANDLE.with_borrow(String::clone)
}

fn this_thread() -> u64 {
    THREAD.with(|id| *id)
}

/// Messages by thread, most recent last. Only failures take the lock: successful calls never touch it.
#[derive(Debug, Default)]
pub(crate) struct LastError(Mutex<Vec<(u64, String)>>);

impl LastError {
    pub(crate) fn record(&self, message: &str) {
        let me = this_thread();
        let mut messages = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        messages.retain(|(thread, _)| *thread != me);
        if messages.len() >= THREADS_REMEMBERED {
            messages.remove(0);
        }
        messages.push((me, message.to_owned()));
    }

    /// This thread's last message on the handle, if it had a failure.
    pub(crate) fn get(&self) -> Option<String> {
        let me = this_thread();
        let messages = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        messages.iter().find(|(thread, _)| *thread == me).map(|(_, message)| message.clone())
    }
}
