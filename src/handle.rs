//! Opaque, reference-counted, validated handles.
//!
//! A handle is not a pointer to memory: it is a 64-bit value
//! `kind << 56 | generation << 32 | slot`, cast to the opaque pointer type
//! of the C API. Every entry point looks the slot up in a table that is
//! never freed and checks kind and generation, so a NULL handle, a handle
//! of the wrong type, a released handle (its slot's generation moved on)
//! or a value that never was a handle gives `DPC_ERROR_INVALID_HANDLE`
//! instead of touching freed memory. Slots are reused in FIFO order and
//! carry a 24-bit generation, so a stale handle is caught even after its
//! slot has been reused, until the generation wraps.
//!
//! The handle's reference count is the number of `retain`s plus one;
//! internally objects refer to each other through `Arc`s, so an object
//! lives as long as a handle or another object needs it. Some handles are
//! immortal (root devices): they are valid for the life of the process and
//! `retain`/`release` on them are accepted and do nothing.

use std::any::Any;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use crate::error::{dpc_status::*, Error, Result};

/// The C type a handle belongs to (the top byte of its value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Device = 1,
    Selector = 2,
    Platform = 3,
    Context = 4,
    Queue = 5,
    Event = 6,
    Bundle = 7,
    Kernel = 8,
    Array = 9,
}

impl Kind {
    fn from_u8(v: u8) -> Option<Kind> {
        match v {
            1 => Some(Kind::Device),
            2 => Some(Kind::Selector),
            3 => Some(Kind::Platform),
            4 => Some(Kind::Context),
            5 => Some(Kind::Queue),
            6 => Some(Kind::Event),
            7 => Some(Kind::Bundle),
            8 => Some(Kind::Kernel),
            9 => Some(Kind::Array),
            _ => None,
        }
    }

    pub fn c_name(self) -> &'static str {
        match self {
            Kind::Device => "dpc_device",
            Kind::Selector => "dpc_selector",
            Kind::Platform => "dpc_platform",
            Kind::Context => "dpc_context",
            Kind::Queue => "dpc_queue",
            Kind::Event => "dpc_event",
            Kind::Bundle => "dpc_bundle",
            Kind::Kernel => "dpc_kernel",
            Kind::Array => "dpc_array",
        }
    }
}

/// A Rust type that C sees through a handle of one kind.
pub trait HandleType: Any + Send + Sync {
    const KIND: Kind;
}

const CHUNK_BITS: usize = 12;
const CHUNK: usize = 1 << CHUNK_BITS;
const MAX_CHUNKS: usize = 4096; // 16 Mi live handles
const GEN_MASK: u64 = 0x00FF_FFFF;

type Obj = Box<dyn Any + Send + Sync>;

struct SlotInner {
    gen: u32,
    refs: u32,
    immortal: bool,
    kind: u8,
    obj: Option<Obj>,
}

struct Slot(RwLock<SlotInner>);

static CHUNKS: [OnceLock<Box<[Slot]>>; MAX_CHUNKS] = [const { OnceLock::new() }; MAX_CHUNKS];

struct FreeList {
    free: VecDeque<u32>,
    next: u32,
}

/// Live handles that the caller must release, per kind (immortal handles
/// are not counted): the leak census (`crate::census`).
static LIVE: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

/// Live releasable handles of `kind` (all kinds with `None`).
pub fn live_count(kind: Option<Kind>) -> u64 {
    match kind {
        Some(k) => LIVE[k as usize].load(Ordering::Relaxed),
        None => LIVE.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
    }
}

/// Every kind, in numeric order.
pub(crate) const ALL_KINDS: [Kind; 9] = [
    Kind::Device,
    Kind::Selector,
    Kind::Platform,
    Kind::Context,
    Kind::Queue,
    Kind::Event,
    Kind::Bundle,
    Kind::Kernel,
    Kind::Array,
];

static FREE: Mutex<FreeList> = Mutex::new(FreeList {
    free: VecDeque::new(),
    next: 0,
});

fn chunk(i: usize) -> &'static [Slot] {
    CHUNKS[i].get_or_init(|| {
        (0..CHUNK)
            .map(|_| {
                Slot(RwLock::new(SlotInner {
                    gen: 1,
                    refs: 0,
                    immortal: false,
                    kind: 0,
                    obj: None,
                }))
            })
            .collect()
    })
}

fn slot(index: u32) -> Option<&'static Slot> {
    let i = index as usize;
    let c = i >> CHUNK_BITS;
    if c >= MAX_CHUNKS {
        return None;
    }
    // A chunk that was never created holds no live handle.
    CHUNKS[c].get().map(|ch| &ch[i & (CHUNK - 1)])
}

fn encode(kind: Kind, gen: u32, index: u32) -> usize {
    (((kind as u64) << 56) | ((gen as u64 & GEN_MASK) << 32) | index as u64) as usize
}

fn decode(h: usize) -> (u8, u32, u32) {
    let h = h as u64;
    ((h >> 56) as u8, ((h >> 32) & GEN_MASK) as u32, h as u32)
}

fn lock_read(s: &Slot) -> std::sync::RwLockReadGuard<'_, SlotInner> {
    s.0.read().unwrap_or_else(|p| p.into_inner())
}

fn lock_write(s: &Slot) -> std::sync::RwLockWriteGuard<'_, SlotInner> {
    s.0.write().unwrap_or_else(|p| p.into_inner())
}

/// Make a new handle for `obj` with a reference count of one.
pub fn insert<T: HandleType>(obj: Arc<T>, immortal: bool) -> Result<usize> {
    let index = {
        let mut fl = FREE.lock().unwrap_or_else(|p| p.into_inner());
        match fl.free.pop_front() {
            Some(i) => i,
            None => {
                if fl.next as usize >= CHUNK * MAX_CHUNKS {
                    return Err(Error::new(
                        DPC_ERROR_OUT_OF_HOST_MEMORY,
                        format!(
                            "too many live dpcore handles ({}); release handles you no longer need",
                            CHUNK * MAX_CHUNKS
                        ),
                    ));
                }
                let i = fl.next;
                fl.next += 1;
                i
            }
        }
    };
    let s = &chunk(index as usize >> CHUNK_BITS)[index as usize & (CHUNK - 1)];
    let mut g = lock_write(s);
    g.refs = 1;
    g.immortal = immortal;
    g.kind = T::KIND as u8;
    g.obj = Some(Box::new(obj));
    if !immortal {
        LIVE[T::KIND as usize].fetch_add(1, Ordering::Relaxed);
    }
    Ok(encode(T::KIND, g.gen, index))
}

fn invalid(kind: Kind, arg: &str, why: &str) -> Error {
    Error::new(
        DPC_ERROR_INVALID_HANDLE,
        format!(
            "argument `{arg}` {why}; a valid {} is required",
            kind.c_name()
        ),
    )
}

/// Find the live slot of `h`, checked against `kind`, and run `f` on it
/// under the slot's lock (read or write chosen by the caller).
fn check(kind: Kind, arg: &str, h: usize) -> Result<&'static Slot> {
    if h == 0 {
        return Err(invalid(kind, arg, "is NULL"));
    }
    let (k, _gen, index) = decode(h);
    match Kind::from_u8(k) {
        None => return Err(invalid(kind, arg, "is not a dpcore handle")),
        Some(other) if other != kind => {
            return Err(invalid(
                kind,
                arg,
                &format!("is a {} handle, not a {}", other.c_name(), kind.c_name()),
            ))
        }
        Some(_) => {}
    }
    slot(index).ok_or_else(|| invalid(kind, arg, "is not a dpcore handle"))
}

fn live(g: &SlotInner, kind: Kind, arg: &str, h: usize) -> Result<()> {
    let (_, gen, _) = decode(h);
    if g.obj.is_none() || g.gen as u64 & GEN_MASK != gen as u64 || g.kind != kind as u8 {
        return Err(invalid(kind, arg, "has been released (or was never valid)"));
    }
    Ok(())
}

/// Run `f` on the object behind `h` without touching its reference count.
#[inline]
pub fn with<T: HandleType, R>(arg: &str, h: usize, f: impl FnOnce(&Arc<T>) -> R) -> Result<R> {
    let s = check(T::KIND, arg, h)?;
    let g = lock_read(s);
    live(&g, T::KIND, arg, h)?;
    match g.obj.as_ref().and_then(|o| o.downcast_ref::<Arc<T>>()) {
        Some(a) => Ok(f(a)),
        None => Err(Error::new(
            DPC_ERROR_INTERNAL,
            format!(
                "{} handle holds an object of another type",
                T::KIND.c_name()
            ),
        )),
    }
}

/// The object behind `h`, as a new `Arc`.
pub fn get<T: HandleType>(arg: &str, h: usize) -> Result<Arc<T>> {
    with::<T, _>(arg, h, |a| a.clone())
}

/// Add one reference to `h`.
pub fn retain(kind: Kind, arg: &str, h: usize) -> Result<()> {
    let s = check(kind, arg, h)?;
    let mut g = lock_write(s);
    live(&g, kind, arg, h)?;
    if !g.immortal {
        g.refs = g.refs.checked_add(1).ok_or_else(|| {
            Error::new(
                DPC_ERROR_INVALID_ARGUMENT,
                format!("{} reference count overflow", kind.c_name()),
            )
        })?;
    }
    Ok(())
}

/// Drop one reference to `h`; at zero the handle dies (its object lives on
/// while other objects refer to it). Releasing NULL does nothing.
pub fn release(kind: Kind, arg: &str, h: usize) -> Result<()> {
    if h == 0 {
        return Ok(());
    }
    let s = check(kind, arg, h)?;
    let (_, _, index) = decode(h);
    let dropped = {
        let mut g = lock_write(s);
        live(&g, kind, arg, h)?;
        if g.immortal {
            return Ok(());
        }
        g.refs -= 1;
        if g.refs > 0 {
            return Ok(());
        }
        g.gen = ((g.gen as u64 + 1) & GEN_MASK).max(1) as u32;
        g.kind = 0;
        LIVE[kind as usize].fetch_sub(1, Ordering::Relaxed);
        g.obj.take()
    };
    // The object's destructor runs outside the slot lock: it may call into
    // the backend or release other handles.
    drop(dropped);
    FREE.lock()
        .unwrap_or_else(|p| p.into_inner())
        .free
        .push_back(index);
    Ok(())
}

/// The reference count of a live handle (0 for an immortal one); for tests
/// and diagnostics.
pub fn ref_count(kind: Kind, h: usize) -> Result<u32> {
    let s = check(kind, "handle", h)?;
    let g = lock_read(s);
    live(&g, kind, "handle", h)?;
    Ok(if g.immortal { 0 } else { g.refs })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Thing(#[allow(dead_code)] u32);
    impl HandleType for Thing {
        const KIND: Kind = Kind::Selector;
    }
    struct Other;
    impl HandleType for Other {
        const KIND: Kind = Kind::Device;
    }

    #[test]
    fn lifecycle_and_validation() {
        let h = insert(Arc::new(Thing(7)), false).unwrap();
        assert_eq!(with::<Thing, _>("t", h, |t| t.0).unwrap(), 7);
        retain(Kind::Selector, "t", h).unwrap();
        assert_eq!(ref_count(Kind::Selector, h).unwrap(), 2);
        release(Kind::Selector, "t", h).unwrap();
        release(Kind::Selector, "t", h).unwrap();
        let e = with::<Thing, _>("t", h, |_| ()).unwrap_err();
        assert_eq!(e.status, DPC_ERROR_INVALID_HANDLE);
        assert!(e.message.contains("released"), "{}", e.message);
        // Releasing again is detected, not a double free.
        assert_eq!(
            release(Kind::Selector, "t", h).unwrap_err().status,
            DPC_ERROR_INVALID_HANDLE
        );
        // Wrong type.
        let h2 = insert(Arc::new(Thing(1)), false).unwrap();
        let e = with::<Other, _>("d", h2, |_| ()).unwrap_err();
        assert!(
            e.message.contains("dpc_selector handle, not a dpc_device"),
            "{}",
            e.message
        );
        // Garbage and NULL.
        assert_eq!(
            with::<Thing, _>("t", 0, |_| ()).unwrap_err().status,
            DPC_ERROR_INVALID_HANDLE
        );
        assert_eq!(
            with::<Thing, _>("t", 0x1234, |_| ()).unwrap_err().status,
            DPC_ERROR_INVALID_HANDLE
        );
        assert_eq!(
            with::<Thing, _>("t", encode(Kind::Selector, 1, 0x00FF_FFFF), |_| ())
                .unwrap_err()
                .status,
            DPC_ERROR_INVALID_HANDLE
        );
        release(Kind::Selector, "t", 0).unwrap();
        release(Kind::Selector, "t", h2).unwrap();
    }

    #[test]
    fn stale_handle_detected_after_slot_reuse() {
        let mut stale = Vec::new();
        for i in 0..100 {
            let h = insert(Arc::new(Thing(i)), false).unwrap();
            stale.push(h);
            release(Kind::Selector, "t", h).unwrap();
        }
        let fresh: Vec<usize> = (0..100)
            .map(|i| insert(Arc::new(Thing(i)), false).unwrap())
            .collect();
        for h in &stale {
            assert!(with::<Thing, _>("t", *h, |_| ()).is_err());
        }
        for h in fresh {
            release(Kind::Selector, "t", h).unwrap();
        }
    }

    // Threads retaining, using and releasing one shared handle while others
    // insert and release their own (reusing slots): no data race (Miri and
    // the ThreadSanitizer build check that), no lost reference, and every
    // handle dead at the end.
    #[test]
    fn concurrent_retain_release_and_slot_reuse() {
        let (threads, rounds) = if cfg!(miri) { (4, 8) } else { (16, 2000) };
        let shared = insert(Arc::new(Thing(42)), false).unwrap();
        std::thread::scope(|sc| {
            for t in 0..threads {
                sc.spawn(move || {
                    for i in 0..rounds {
                        retain(Kind::Selector, "t", shared).unwrap();
                        assert_eq!(with::<Thing, _>("t", shared, |x| x.0).unwrap(), 42);
                        let own = insert(Arc::new(Thing(t * 1000 + i)), false).unwrap();
                        assert_eq!(with::<Thing, _>("t", own, |x| x.0).unwrap(), t * 1000 + i);
                        release(Kind::Selector, "t", own).unwrap();
                        // The released handle stays dead even if another
                        // thread has reused its slot meanwhile.
                        assert!(with::<Thing, _>("t", own, |_| ()).is_err());
                        release(Kind::Selector, "t", shared).unwrap();
                    }
                });
            }
        });
        assert_eq!(ref_count(Kind::Selector, shared).unwrap(), 1);
        release(Kind::Selector, "t", shared).unwrap();
        assert!(with::<Thing, _>("t", shared, |_| ()).is_err());
    }

    #[test]
    fn immortal_ignores_refcount() {
        let h = insert(Arc::new(Thing(3)), true).unwrap();
        release(Kind::Selector, "t", h).unwrap();
        release(Kind::Selector, "t", h).unwrap();
        retain(Kind::Selector, "t", h).unwrap();
        assert_eq!(with::<Thing, _>("t", h, |t| t.0).unwrap(), 3);
    }
}
