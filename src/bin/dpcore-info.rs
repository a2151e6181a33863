//! dpcore-info: what `sycl-ls` is to SYCL, for dpcore.
//!
//! Lists every device with its index, filter string, DLPack id, name,
//! driver and memory. `--verbose` prints every info field, `--json`
//! machine-readable output, `--diagnose` how the backend and devices were
//! found (and, for 0 devices, why there are none and what to do).

#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use dpcore::device::{self, dpc_device_info::*, Device};
use dpcore::{backend, diagnostics, platform, selector};

const USAGE: &str = "usage: dpcore-info [--verbose] [--json] [--diagnose] [--help]
  (no option)  one line per device: index, filter string, DLPack id, name, driver, memory
  --verbose    every info field of every device
  --json       the same information as JSON
  --diagnose   plugin path and load result, SYCL runtime, OpenCL ICD and Level Zero
               status, environment, and advice when there are no devices";

fn gib(b: u64) -> String {
    if b >= 1 << 30 {
        format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
    } else if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    } else {
        format!("{:.0} KiB", b as f64 / 1024.0)
    }
}

fn s(d: &Device, k: dpcore::device::dpc_device_info) -> String {
    d.string_info(k as i32).unwrap_or_default()
}

fn n(d: &Device, k: dpcore::device::dpc_device_info) -> u64 {
    d.u64_info(k as i32).unwrap_or(0)
}

const ASPECTS: &[(u32, &str)] = &[
    (0, "fp16"),
    (1, "fp64"),
    (2, "atomic64"),
    (3, "image"),
    (4, "usm_device_allocations"),
    (5, "usm_host_allocations"),
    (6, "usm_shared_allocations"),
    (7, "usm_system_allocations"),
    (8, "usm_atomic_host_allocations"),
    (9, "usm_atomic_shared_allocations"),
    (10, "queue_profiling"),
    (11, "online_compiler"),
    (12, "online_linker"),
    (13, "uuid"),
];

fn uuid_str(d: &Device) -> Option<String> {
    if !d.has_aspect(13) {
        return None;
    }
    let u = d.info.uuid;
    let mut out = String::new();
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{b:02x}");
    }
    Some(out)
}

fn numeric_fields(d: &Device) -> Vec<(&'static str, u64)> {
    vec![
        ("max_compute_units", n(d, DPC_DEVICE_INFO_MAX_COMPUTE_UNITS)),
        (
            "max_clock_frequency_mhz",
            n(d, DPC_DEVICE_INFO_MAX_CLOCK_FREQUENCY),
        ),
        ("global_mem_size", n(d, DPC_DEVICE_INFO_GLOBAL_MEM_SIZE)),
        ("local_mem_size", n(d, DPC_DEVICE_INFO_LOCAL_MEM_SIZE)),
        (
            "max_mem_alloc_size",
            n(d, DPC_DEVICE_INFO_MAX_MEM_ALLOC_SIZE),
        ),
        (
            "global_mem_cache_size",
            n(d, DPC_DEVICE_INFO_GLOBAL_MEM_CACHE_SIZE),
        ),
        (
            "max_work_group_size",
            n(d, DPC_DEVICE_INFO_MAX_WORK_GROUP_SIZE),
        ),
        (
            "max_work_item_dimensions",
            n(d, DPC_DEVICE_INFO_MAX_WORK_ITEM_DIMENSIONS),
        ),
        (
            "max_num_sub_groups",
            n(d, DPC_DEVICE_INFO_MAX_NUM_SUB_GROUPS),
        ),
        ("vendor_id", n(d, DPC_DEVICE_INFO_VENDOR_ID)),
        (
            "partition_max_sub_devices",
            n(d, DPC_DEVICE_INFO_PARTITION_MAX_SUB_DEVICES),
        ),
    ]
}

fn partition_kinds(d: &Device) -> Vec<&'static str> {
    let p = d.info.partition_properties;
    let mut v = Vec::new();
    if p & 1 != 0 {
        v.push("equally");
    }
    if p & 2 != 0 {
        v.push("by_counts");
    }
    if p & 4 != 0 {
        v.push("by_affinity_domain");
    }
    v
}

/// `kDLOneAPI`, `kDLCUDA`, ... for a DLPack device type.
fn dlpack_type_name(t: i32) -> String {
    match t {
        1 => "kDLCPU".into(),
        2 => "kDLCUDA".into(),
        12 => "kDLExtDev".into(),
        14 => "kDLOneAPI".into(),
        other => format!("DLPack type {other}"),
    }
}

fn line(d: &Arc<Device>) -> String {
    format!(
        "[{}] {:<18} {}:{}  {}  (driver {}; {} global, {} local, {} max alloc)",
        d.root_index.unwrap_or(0),
        d.filter.clone().unwrap_or_default(),
        dlpack_type_name(d.dlpack_type().unwrap_or(0)),
        d.dlpack_id().unwrap_or(0),
        d.name,
        s(d, DPC_DEVICE_INFO_DRIVER_VERSION),
        gib(d.info.global_mem_size),
        gib(d.info.local_mem_size),
        gib(d.info.max_mem_alloc_size),
    )
}

fn verbose(d: &Arc<Device>, out: &mut String) {
    let _ = writeln!(out, "{}", line(d));
    let kv = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "    {k:<28} {v}");
    };
    kv(out, "backend", d.backend_str().into());
    kv(out, "device_type", d.type_str().into());
    kv(out, "name", d.name.clone());
    kv(out, "vendor", s(d, DPC_DEVICE_INFO_VENDOR));
    kv(out, "driver_version", s(d, DPC_DEVICE_INFO_DRIVER_VERSION));
    kv(out, "version", s(d, DPC_DEVICE_INFO_VERSION));
    kv(
        out,
        "platform",
        format!(
            "[{}] {}",
            d.info.platform_index,
            s(d, DPC_DEVICE_INFO_PLATFORM_NAME)
        ),
    );
    kv(
        out,
        "platform_version",
        s(d, DPC_DEVICE_INFO_PLATFORM_VERSION),
    );
    for (k, v) in numeric_fields(d) {
        kv(out, k, v.to_string());
    }
    kv(
        out,
        "max_work_item_sizes",
        format!("{:?}", d.info.max_work_item_sizes),
    );
    kv(out, "sub_group_sizes", format!("{:?}", d.sub_group_sizes()));
    let asp: Vec<&str> = ASPECTS
        .iter()
        .filter(|(a, _)| d.has_aspect(*a))
        .map(|(_, n)| *n)
        .collect();
    kv(out, "aspects", asp.join(" "));
    kv(
        out,
        "uuid",
        uuid_str(d).unwrap_or_else(|| "(not reported)".into()),
    );
    kv(out, "partition", {
        let p = partition_kinds(d);
        if p.is_empty() {
            "(not supported)".into()
        } else {
            p.join(" ")
        }
    });
    kv(out, "is_sub_device", (d.parent.is_some() as u8).to_string());
}

fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json(devs: &[Arc<Device>]) -> String {
    let r = backend::report();
    let mut o = String::from("{\n");
    let _ = writeln!(
        o,
        "  \"dpcore_version\": {},",
        json_str(env!("CARGO_PKG_VERSION"))
    );
    // "backend" is the SYCL plugin (kept from before there were several);
    // "plugins" lists every plugin in load order.
    let plugin_json = |pl: &backend::PluginLoad| match &pl.backend {
        Ok(b) => format!(
            "{{\"name\": {}, \"loaded\": true, \"plugin\": {}, \"runtime\": {}}}",
            json_str(&pl.name),
            json_str(&b.path.to_string_lossy()),
            json_str(&backend::field(&b.runtime.runtime))
        ),
        Err(e) => format!(
            "{{\"name\": {}, \"loaded\": false, \"status\": {}, \"message\": {}}}",
            json_str(&pl.name),
            json_str(e.status.name()),
            json_str(&e.message)
        ),
    };
    let _ = writeln!(o, "  \"backend\": {},", plugin_json(r.sycl()));
    let all: Vec<String> = r.plugins.iter().map(plugin_json).collect();
    let _ = writeln!(o, "  \"plugins\": [{}],", all.join(", "));
    o.push_str("  \"platforms\": [");
    let plats = &platform::platforms().list;
    for (i, p) in plats.iter().enumerate() {
        let _ = write!(
            o,
            "{}    {{\"index\": {}, \"backend\": {}, \"name\": {}, \"vendor\": {}, \"version\": {}, \"devices\": {}}}",
            if i == 0 { "\n" } else { ",\n" },
            p.index,
            json_str(device::backend_name(p.backend)),
            json_str(&p.name),
            json_str(&p.vendor),
            json_str(&p.version),
            p.n_devices
        );
    }
    o.push_str(if plats.is_empty() { "],\n" } else { "\n  ],\n" });
    o.push_str("  \"devices\": [");
    for (i, d) in devs.iter().enumerate() {
        o.push_str(if i == 0 { "\n" } else { ",\n" });
        let mut f: Vec<String> = vec![
            format!("\"index\": {}", d.root_index.unwrap_or(0)),
            format!(
                "\"filter_string\": {}",
                json_str(d.filter.as_deref().unwrap_or(""))
            ),
            format!(
                "\"dlpack_device\": [{}, {}]",
                d.dlpack_type().unwrap_or(0),
                d.dlpack_id().unwrap_or(0)
            ),
            format!("\"plugin\": {}", json_str(d.plugin())),
            format!("\"backend\": {}", json_str(d.backend_str())),
            format!("\"device_type\": {}", json_str(d.type_str())),
            format!("\"name\": {}", json_str(&d.name)),
            format!("\"vendor\": {}", json_str(&s(d, DPC_DEVICE_INFO_VENDOR))),
            format!(
                "\"driver_version\": {}",
                json_str(&s(d, DPC_DEVICE_INFO_DRIVER_VERSION))
            ),
            format!("\"version\": {}", json_str(&s(d, DPC_DEVICE_INFO_VERSION))),
            format!("\"platform_index\": {}", d.info.platform_index),
            format!(
                "\"platform\": {}",
                json_str(&s(d, DPC_DEVICE_INFO_PLATFORM_NAME))
            ),
            format!(
                "\"platform_version\": {}",
                json_str(&s(d, DPC_DEVICE_INFO_PLATFORM_VERSION))
            ),
        ];
        for (k, v) in numeric_fields(d) {
            f.push(format!("\"{k}\": {v}"));
        }
        f.push(format!(
            "\"max_work_item_sizes\": {:?}",
            d.info.max_work_item_sizes
        ));
        f.push(format!("\"sub_group_sizes\": {:?}", d.sub_group_sizes()));
        let asp: Vec<String> = ASPECTS
            .iter()
            .filter(|(a, _)| d.has_aspect(*a))
            .map(|(_, n)| json_str(n))
            .collect();
        f.push(format!("\"aspects\": [{}]", asp.join(", ")));
        f.push(format!(
            "\"uuid\": {}",
            uuid_str(d)
                .map(|u| json_str(&u))
                .unwrap_or_else(|| "null".into())
        ));
        let parts: Vec<String> = partition_kinds(d).iter().map(|p| json_str(p)).collect();
        f.push(format!("\"partition\": [{}]", parts.join(", ")));
        let _ = write!(o, "    {{{}}}", f.join(", "));
    }
    o.push_str(if devs.is_empty() { "]\n" } else { "\n  ]\n" });
    o.push('}');
    o
}

fn main() -> ExitCode {
    let mut verbose_mode = false;
    let mut json_mode = false;
    let mut diagnose = false;
    for a in std::env::args().skip(1) {
        match a.as_str() {
            "-v" | "--verbose" => verbose_mode = true,
            "--json" => json_mode = true,
            "--diagnose" => diagnose = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("dpcore-info: unknown option `{other}`\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if diagnose {
        print!("{}", diagnostics::report());
        return ExitCode::SUCCESS;
    }
    let devs = &device::registry().devices;
    if json_mode {
        println!("{}", json(devs));
        return ExitCode::SUCCESS;
    }
    if devs.is_empty() {
        println!("no devices. {}", device::list_for_message());
        println!("run `dpcore-info --diagnose` for the details and what to do");
        return ExitCode::SUCCESS;
    }
    let mut out = String::new();
    for d in devs {
        if verbose_mode {
            verbose(d, &mut out);
        } else {
            let _ = writeln!(out, "{}", line(d));
        }
    }
    if let Ok(d) = selector::default_device() {
        let _ = writeln!(out, "default device: {}", d.describe());
    }
    print!("{out}");
    ExitCode::SUCCESS
}
