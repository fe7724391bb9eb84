//! Cold start: the first call on the host's first start (compiling the component) and on
//! later starts (loading the compiled copy the first start cached).
//!
//! Host overhead per run: compile once, then instantiate a job component in a fresh store
//! and call it, measured against the same logic called natively in the same process.
//!
//! The call is `configurable.validate` on an Import Activity job whose settings need no
//! Cordial call, so what is timed is the host's own cost: a new store with its limits, the
//! instantiation from the pre-linked component, passing the settings in and the problems
//! out, plus the job's settings check (which the native side runs too).

use cordial_e2e::harness::components_dir;
use cordial_e2e::measure::{machine, median, percentile};
use cordial_host::config;
use cordial_host::db::Db;
use cordial_host::runtime::Runtime;
use cordial_jobs::settings::{JobKind, validate};
use std::hint::black_box;
use std::time::Instant;

const ITERATIONS: usize = 2_000;
/// Later starts of the host, each timed from its first call.
const RESTARTS: usize = 5;

fn main() -> anyhow::Result<()> {
    let components = components_dir();
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("key"), "bench-key")?;
    let text = format!(
        "[host]\nstore = \"{}\"\ncomponents_dir = \"{}\"\n[auth.cordial]\nbase_url = \"http://127.0.0.1:9\"\napi_key_file = \"{}\"\n\
         [[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"cordial\"\nimport_since = \"2026-11-01\"\n\
         custom_actions = [\"browse\", \"cart\"]\n",
        dir.path().join("store.sqlite").display(),
        components.display(),
        dir.path().join("key").display()
    );
    let config = || config::parse(&text).map_err(|p| anyhow::anyhow!("{p:?}"));
    let job = config()?.job("activity").unwrap().clone();
    let runtime = Runtime::new(config()?, Db::in_memory()?)?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    println!("cordial-host overhead benchmark — {}", machine());
    for name in [
        "import_activity",
        "export_bulk",
        "export_realtime",
        "experience_capture",
    ] {
        let size = std::fs::metadata(components.join(format!("{name}.wasm")))?.len();
        println!("  component {name}.wasm: {:.0} KiB", size as f64 / 1024.0);
    }

    let compile = Instant::now();
    let first = tokio.block_on(runtime.validate(&job))?;
    anyhow::ensure!(
        first.is_empty(),
        "the bench job's settings are invalid: {first:?}"
    );
    println!(
        "  first call, host's first start (compile + link + instantiate + call): {:.1} ms",
        compile.elapsed().as_secs_f64() * 1e3
    );
    // A later start of the host: a new runtime (engine, linker, pool) over the same store,
    // whose compiled-component cache the first start filled.
    let mut later = Vec::new();
    for _ in 0..RESTARTS {
        let restarted = Runtime::new(config()?, Db::in_memory()?)?;
        let t = Instant::now();
        black_box(tokio.block_on(restarted.validate(&job))?);
        later.push(t.elapsed());
    }
    println!(
        "  first call, later starts (cached compiled component + link + instantiate + call): median {:.1} ms of {RESTARTS}",
        median(later).as_secs_f64() * 1e3
    );

    let mut wasm = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let t = Instant::now();
        black_box(tokio.block_on(runtime.validate(&job))?);
        wasm.push(t.elapsed());
    }
    let settings = job.settings.to_string();
    let mut native = Vec::with_capacity(ITERATIONS);
    for _ in 0..ITERATIONS {
        let t = Instant::now();
        let value: serde_json::Value = serde_json::from_str(black_box(&settings))?;
        black_box(validate(JobKind::ImportActivity, &value));
        native.push(t.elapsed());
    }
    let (wasm_median, native_median) = (median(wasm.clone()), median(native));
    println!("  per run, {ITERATIONS} runs (fresh store + instantiate + validate call):");
    println!(
        "    wasm component: median {:.1} µs, p90 {:.1} µs",
        wasm_median.as_secs_f64() * 1e6,
        percentile(wasm, 0.9).as_secs_f64() * 1e6
    );
    println!(
        "    same logic native: median {:.2} µs",
        native_median.as_secs_f64() * 1e6
    );
    println!(
        "    host overhead per run (median wasm − native): {:.1} µs; ratio wasm/native {:.0}×",
        (wasm_median.saturating_sub(native_median)).as_secs_f64() * 1e6,
        wasm_median.as_secs_f64() / native_median.as_secs_f64().max(1e-9)
    );
    Ok(())
}
