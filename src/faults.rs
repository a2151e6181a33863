//! Fault injection, a testing aid: make the Nth call of a backend
//! operation fail with a chosen status without calling the plugin.
//!
//! The plan comes from the environment variable `DPCORE_FAULTS` (read
//! once, at the first export) or from `dpc_faults_set` (which replaces it
//! at run time). Its grammar is a comma-separated list of rules
//!
//! ```text
//! op:N[+][:status]      e.g.  usm_alloc:3,bundle_create:1,enqueue_memcpy:7:device_lost
//! ```
//!
//! * `op` is the name of a status-returning function of the backend table
//!   ([`Op`]; the same names as the fields of `dpcore_backend_abi::BackendV1`);
//! * `N` (1-based) counts the calls of `op` made by the whole process since
//!   the plan was set; the rule fires on call N only, or with `+` on call N
//!   and every later one;
//! * `status` is one of [`STATUS_NAMES`]; without it the op's default
//!   ([`Op::default_status`]): `out_of_memory` for `usm_alloc`,
//!   `build_failed` for `bundle_create`, `backend` for the others.
//!
//! A fired fault records the status and a message naming the op, the
//! source and the call (`usm_alloc: fault injected by DPCORE_FAULTS (call 3)`)
//! as the plugin's failure, and returns the status without calling the
//! plugin, so nothing is allocated, created or submitted that the caller
//! would then lose.
//!
//! A malformed `DPCORE_FAULTS` arms nothing; it is logged at error level,
//! shown by `dpc_diagnostics` (`dpcore-info --diagnose`), and the first
//! status-returning export of the process fails with
//! `DPC_ERROR_INVALID_ARGUMENT` and a message naming the variable.
//!
//! Cost when no plan is set: one relaxed atomic load per backend call and
//! per export.

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::{Mutex, Once};

use crate::error::{dpc_status, dpc_status::*, Error, Result};

/// The environment variable holding the plan.
pub const ENV: &str = "DPCORE_FAULTS";

macro_rules! ops {
    ($($name:ident),* $(,)?) => {
        /// The injection points: the status-returning functions of the
        /// backend table, named as its fields.
        #[allow(non_camel_case_types)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Op {
            $($name),*
        }

        impl Op {
            /// Every injection point, in table order.
            pub const ALL: &'static [Op] = &[$(Op::$name),*];

            /// The op's name in a plan (the table field's name).
            pub fn name(self) -> &'static str {
                match self {
                    $(Op::$name => stringify!($name)),*
                }
            }
        }
    };
}

ops!(
    runtime_info,
    device_list,
    platform_list,
    device_info,
    device_parent,
    device_partition,
    context_default,
    context_create,
    queue_create,
    queue_adopt,
    queue_wait,
    enqueue_barrier,
    enqueue_memcpy,
    enqueue_memset,
    enqueue_fill,
    enqueue_prefetch,
    enqueue_mem_advise,
    event_wait,
    event_status,
    event_profiling,
    usm_alloc,
    usm_free,
    usm_pointer_info,
    usm_pointer_kind,
    bundle_create,
    bundle_kernel_names,
    bundle_has_kernel,
    bundle_get_kernel,
    kernel_info,
    enqueue_kernel,
    native_handle,
    event_adopt,
);

const N_OPS: usize = Op::ALL.len();

impl Op {
    /// The status a rule without one injects.
    pub fn default_status(self) -> dpc_status {
        match self {
            Op::usm_alloc => DPC_ERROR_OUT_OF_DEVICE_MEMORY,
            Op::bundle_create => DPC_ERROR_BUILD_FAILED,
            _ => DPC_ERROR_BACKEND,
        }
    }

    fn from_name(s: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|o| o.name() == s)
    }
}

/// The status names a rule may use, with their statuses.
pub const STATUS_NAMES: &[(&str, dpc_status)] = &[
    ("backend", DPC_ERROR_BACKEND),
    ("device_lost", DPC_ERROR_DEVICE_LOST),
    ("out_of_memory", DPC_ERROR_OUT_OF_DEVICE_MEMORY),
    ("out_of_host_memory", DPC_ERROR_OUT_OF_HOST_MEMORY),
    ("unsupported", DPC_ERROR_UNSUPPORTED),
    ("build_failed", DPC_ERROR_BUILD_FAILED),
    ("not_found", DPC_ERROR_NOT_FOUND),
    ("invalid_argument", DPC_ERROR_INVALID_ARGUMENT),
    ("internal", DPC_ERROR_INTERNAL),
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    op: Op,
    n: u64,
    every_later: bool,
    status: dpc_status,
}

struct Plan {
    rules: Vec<Rule>,
    /// Calls of each op since the plan was set.
    calls: [u64; N_OPS],
    /// `DPCORE_FAULTS` or `dpc_faults_set`, for messages.
    source: &'static str,
}

const UNREAD: u8 = 0;
const OFF: u8 = 1;
const ARMED: u8 = 2;
/// `DPCORE_FAULTS` is malformed and no export has reported it yet.
const BAD_ENV: u8 = 3;

static MODE: AtomicU8 = AtomicU8::new(UNREAD);
static PLAN: Mutex<Option<Plan>> = Mutex::new(None);
static ENV_READ: Once = Once::new();
/// The variable's value and, when malformed, why (for the diagnostics).
static ENV_STATE: Mutex<Option<(String, Option<String>)>> = Mutex::new(None);

fn grammar() -> String {
    let ops: Vec<&str> = Op::ALL.iter().map(|o| o.name()).collect();
    let statuses: Vec<&str> = STATUS_NAMES.iter().map(|(n, _)| *n).collect();
    format!(
        "the grammar is op:N[+][:status],... with N >= 1 (1-based call count; `+`: that call and \
         every later one); ops: {}; statuses: {}",
        ops.join(", "),
        statuses.join(", ")
    )
}

/// Parse a plan; an empty (or all-blank) spec is an empty plan.
fn parse(spec: &str) -> std::result::Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = |why: String| format!("rule `{item}`: {why}; {}", grammar());
        let mut parts = item.split(':').map(str::trim);
        let op_name = parts.next().unwrap_or_default();
        let op = Op::from_name(op_name)
            .ok_or_else(|| bad(format!("`{op_name}` is not an injection point")))?;
        let count = parts
            .next()
            .ok_or_else(|| bad("the call number N is missing".into()))?;
        let (digits, every_later) = match count.strip_suffix('+') {
            Some(d) => (d, true),
            None => (count, false),
        };
        let n: u64 = digits
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad(format!("`{count}` is not a call number (1, 2, ... or N+)")))?;
        let status = match parts.next() {
            None => op.default_status(),
            Some(s) => STATUS_NAMES
                .iter()
                .find(|(name, _)| *name == s)
                .map(|(_, st)| *st)
                .ok_or_else(|| bad(format!("`{s}` is not a status name")))?,
        };
        if parts.next().is_some() {
            return Err(bad("too many `:` parts".into()));
        }
        rules.push(Rule {
            op,
            n,
            every_later,
            status,
        });
    }
    Ok(rules)
}

fn install(rules: Vec<Rule>, source: &'static str) {
    let mut plan = PLAN.lock().unwrap_or_else(|e| e.into_inner());
    if rules.is_empty() {
        *plan = None;
        MODE.store(OFF, Relaxed);
    } else {
        *plan = Some(Plan {
            rules,
            calls: [0; N_OPS],
            source,
        });
        MODE.store(ARMED, Relaxed);
    }
}

/// Read `DPCORE_FAULTS`, once per process.
fn read_env() {
    ENV_READ.call_once(|| {
        let value = std::env::var(ENV).ok();
        let Some(value) = value else {
            // `dpc_faults_set` may have armed a plan already.
            let _ = MODE.compare_exchange(UNREAD, OFF, Relaxed, Relaxed);
            return;
        };
        match parse(&value) {
            Ok(rules) => {
                crate::log::info(&format!("{ENV}={value}: {} rule(s) armed", rules.len()));
                *ENV_STATE.lock().unwrap_or_else(|e| e.into_inner()) = Some((value, None));
                install(rules, ENV);
            }
            Err(why) => {
                crate::log::error(&format!(
                    "{ENV}={value} is malformed, no fault is armed: {why}"
                ));
                *ENV_STATE.lock().unwrap_or_else(|e| e.into_inner()) = Some((value, Some(why)));
                let mut plan = PLAN.lock().unwrap_or_else(|e| e.into_inner());
                *plan = None;
                MODE.store(BAD_ENV, Relaxed);
            }
        }
    });
}

/// Called on entry to every status-returning export: reads the variable
/// on first use, and fails the first export after a malformed one.
#[inline]
pub fn on_entry() -> Result<()> {
    match MODE.load(Relaxed) {
        OFF | ARMED => Ok(()),
        _ => on_entry_slow(),
    }
}

#[cold]
fn on_entry_slow() -> Result<()> {
    read_env();
    if MODE
        .compare_exchange(BAD_ENV, OFF, Relaxed, Relaxed)
        .is_ok()
    {
        let why = ENV_STATE
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|(v, w)| w.as_ref().map(|w| format!("{ENV}={v} is malformed: {w}")))
            .unwrap_or_else(|| format!("{ENV} is malformed"));
        return Err(Error::invalid_arg(format!(
            "{why} (no fault is armed; fix or unset {ENV})"
        )));
    }
    Ok(())
}

/// Whether the next call of `op` must fail: `Some(status)` after recording
/// the failure as the plugin's (for `backend::check`), `None` to call the
/// plugin. Use it through `table_call!`.
#[inline]
pub fn fire(op: Op) -> Option<i32> {
    if MODE.load(Relaxed) == OFF {
        return None;
    }
    fire_slow(op)
}

#[cold]
fn fire_slow(op: Op) -> Option<i32> {
    read_env();
    if MODE.load(Relaxed) != ARMED {
        return None;
    }
    let (status, call, source) = {
        let mut guard = PLAN.lock().unwrap_or_else(|e| e.into_inner());
        let plan = guard.as_mut()?;
        let i = op as usize;
        plan.calls[i] += 1;
        let call = plan.calls[i];
        let rule = plan
            .rules
            .iter()
            .find(|r| r.op == op && (r.n == call || (r.every_later && call >= r.n)))?;
        (rule.status, call, plan.source)
    };
    let e = Error::new(
        status,
        format!(
            "{}: fault injected by {source} (call {call}, {})",
            op.name(),
            status.name()
        ),
    );
    crate::log::debug(&e.message);
    crate::backend::record_plugin_error(e);
    Some(status as i32)
}

/// Replace the plan (the body of `dpc_faults_set`): `None` or an empty
/// spec clears it. A malformed spec changes nothing.
pub(crate) fn set(spec: Option<&str>) -> Result<()> {
    read_env();
    let rules = match spec {
        None => Vec::new(),
        Some(s) => parse(s).map_err(|why| {
            Error::invalid_arg(format!(
                "dpc_faults_set: the spec `{s}` is malformed: {why}"
            ))
        })?,
    };
    install(rules, "dpc_faults_set");
    Ok(())
}

/// Lines for the diagnostics: the variable and what became of it.
pub fn describe() -> String {
    read_env();
    let env = ENV_STATE.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut s = match env {
        None => format!("  {ENV} (not set)\n"),
        Some((v, None)) => format!("  {ENV}={v}: armed at start\n"),
        Some((v, Some(why))) => format!("  {ENV}={v}: MALFORMED, nothing armed: {why}\n"),
    };
    let plan = PLAN.lock().unwrap_or_else(|e| e.into_inner());
    match plan.as_ref() {
        Some(p) => {
            let rules: Vec<String> = p
                .rules
                .iter()
                .map(|r| {
                    format!(
                        "{}:{}{}:{}",
                        r.op.name(),
                        r.n,
                        if r.every_later { "+" } else { "" },
                        r.status.name()
                    )
                })
                .collect();
            s.push_str(&format!(
                "  armed (by {}): {}\n",
                p.source,
                rules.join(", ")
            ));
        }
        None => s.push_str("  no fault armed\n"),
    }
    s
}

/// Call the backend table function `$op` of table `$t` with the arguments,
/// unless a fault is armed for this call of `$op` (see [`fire`]): then its
/// status, with the failure recorded for `backend::check`, and the plugin
/// is not called. Used inside the caller's `unsafe` block, whose
/// `// SAFETY:` covers the call.
macro_rules! table_call {
    ($t:expr, $op:ident ( $($arg:expr),* $(,)? )) => {
        match $crate::faults::fire($crate::faults::Op::$op) {
            Some(st) => st,
            None => ($t.$op)($($arg),*),
        }
    };
}
pub(crate) use table_call;

// ---------------------------------------------------------------- exports

/// Replace the fault-injection plan (a testing aid): `spec` in the grammar
/// of `DPCORE_FAULTS` (README, "Fault injection": `op:N[+][:status]`,
/// comma-separated, e.g. `"usm_alloc:1:out_of_memory"`), with call counts
/// starting from 0 again; NULL or `""` clears every fault.
///
/// A fired fault makes the backend operation fail with its status and a
/// message naming the op (`usm_alloc: fault injected by dpc_faults_set
/// (call 1, ...)`) without calling the backend.
/// Ownership: `spec` is borrowed for the call. Errors:
/// `DPC_ERROR_INVALID_UTF8` (`spec` not UTF-8), `DPC_ERROR_INVALID_ARGUMENT`
/// (malformed spec: the message quotes it and the grammar; the plan is
/// unchanged). Thread safety: any thread; the plan and its call counts are
/// process-wide, so calls on other threads count too.
#[no_mangle]
pub unsafe extern "C" fn dpc_faults_set(spec: *const std::ffi::c_char) -> dpc_status {
    crate::export!(|| {
        let text = if spec.is_null() {
            None
        } else {
            // SAFETY: `spec` is non-NULL (checked above) and, by the
            // export's contract, a NUL-terminated string alive and unchanged
            // for the call, which the borrow does not outlive.
            Some(unsafe { crate::strings::in_str("spec", spec) }?)
        };
        set(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rules_with_defaults_and_plus() {
        let r = parse(" usm_alloc:3 , bundle_create:1,enqueue_memcpy:7+:device_lost,").unwrap();
        assert_eq!(
            r,
            vec![
                Rule {
                    op: Op::usm_alloc,
                    n: 3,
                    every_later: false,
                    status: DPC_ERROR_OUT_OF_DEVICE_MEMORY
                },
                Rule {
                    op: Op::bundle_create,
                    n: 1,
                    every_later: false,
                    status: DPC_ERROR_BUILD_FAILED
                },
                Rule {
                    op: Op::enqueue_memcpy,
                    n: 7,
                    every_later: true,
                    status: DPC_ERROR_DEVICE_LOST
                },
            ]
        );
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn rejects_malformed_rules_with_the_grammar() {
        for (spec, needle) in [
            ("usm_allok:1", "`usm_allok` is not an injection point"),
            ("usm_alloc", "the call number N is missing"),
            ("usm_alloc:0", "`0` is not a call number"),
            ("usm_alloc:x", "`x` is not a call number"),
            ("usm_alloc:1:lost", "`lost` is not a status name"),
            ("usm_alloc:1:backend:2", "too many"),
        ] {
            let e = parse(spec).unwrap_err();
            assert!(e.contains(needle), "{spec}: {e}");
            assert!(e.contains("op:N[+][:status]"), "{e}");
        }
    }

    #[test]
    fn every_op_name_round_trips() {
        for op in Op::ALL {
            assert_eq!(Op::from_name(op.name()), Some(*op));
        }
        assert_eq!(N_OPS, 32);
    }
}
