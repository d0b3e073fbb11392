//! The global allocator: mimalloc, plus one uncontended add per allocation,
//! so "heap bytes in use" is exact rather than inferred from RSS. Each
//! thread counts into its own cache line (threads share lines only past
//! 64), because a single global counter bounced between cores on every
//! allocation and showed in the throughput figures. mimalloc because
//! messages are allocated on one thread and freed on another, which glibc
//! malloc serialises on an arena lock (measured: 4x the memory bus's
//! throughput). Before a settle every thread is asked to give its free
//! pages back, so the settle sees the process as it really is.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc as System;

use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};

const SLOTS: usize = 64;

#[repr(align(128))]
struct Slot(AtomicI64);

static IN_USE: [Slot; SLOTS] = [const { Slot(AtomicI64::new(0)) }; SLOTS];
static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    // const-initialised and without a destructor, so reading it never
    // allocates (this runs inside the allocator)
    static MINE: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// This thread's number, handed out in the order threads first ask (0 for
/// a thread being torn down). Never allocates, so the allocator can use it;
/// other per-thread striping (the recorder's) uses it too.
pub fn thread_number() -> usize {
    MINE.try_with(|m| {
        if m.get() == usize::MAX {
            m.set(NEXT.fetch_add(1, Relaxed));
        }
        m.get()
    })
    .unwrap_or(0)
}

fn add(bytes: i64) {
    IN_USE[thread_number() % SLOTS].0.fetch_add(bytes, Relaxed);
}

pub struct Counting;

// SAFETY: every call is forwarded unchanged to the system allocator; the
// counter is only arithmetic on the sizes it was given.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            add(layout.size() as i64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        add(-(layout.size() as i64));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

static RELEASES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static RELEASED: Cell<usize> = const { Cell::new(0) };
}

/// Asks every thread to hand its free memory back to the OS, as the settle
/// begins: allocators keep freed pages per thread, and without this a
/// finished stage's message buffers would look like resident memory still
/// held. The calling thread releases at once; runtime workers do it when
/// they next go idle (`release_if_asked`, installed as the runtime's park
/// hook). glibc's arenas (C libraries such as librdkafka use malloc) are
/// trimmed too.
pub fn release() {
    RELEASES.fetch_add(1, Relaxed);
    release_if_asked();
    // SAFETY: malloc_trim only walks glibc's own arenas
    unsafe { libc::malloc_trim(0) };
}

/// The runtime's park hook: releases this thread's free memory once per
/// `release` call.
pub fn release_if_asked() {
    let wanted = RELEASES.load(Relaxed);
    let _ = RELEASED.try_with(|done| {
        if done.get() != wanted {
            done.set(wanted);
            // SAFETY: collecting the calling thread's own heap is always allowed
            unsafe { libmimalloc_sys::mi_collect(true) };
        }
    });
}

/// Bytes currently allocated through Rust's allocator (C libraries such as
/// librdkafka allocate with malloc directly and show only in RSS).
pub fn heap_in_use() -> u64 {
    IN_USE.iter().map(|s| s.0.load(Relaxed)).sum::<i64>().max(0) as u64
}
