//! The Spin deployment's build: each job component, byte for byte the one the bundled host
//! runs, composed with thin Spin-side components (see the README, "Deploy on Spin"):
//!
//! ```text
//!   Spin variables ─▶ settings-scope ─▶ job ─▶ entry ─▶ wasi:http/incoming-handler
//!   Spin variables, key-value ───────────────▶ entry
//!   Spin variables, key-value ─▶ adapter ─▶ job        (bulk: sftp and members)
//!   Spin's wasi:http, clocks, random ─▶ job, entry, adapter
//! ```
//!
//! Everything the composition leaves unsatisfied becomes an import of the composed
//! component, which Spin must provide; [`check_for_spin`] says so before Spin is asked.

use anyhow::{Context, Result, bail};
use std::path::Path;
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId, PackageId};

/// The HTTP handler Spin's HTTP trigger calls.
pub const HANDLER: &str = "wasi:http/incoming-handler@0.2.12";
/// The settings a job reads; the scope exports it to the job.
const CONFIG: &str = "wasi:config/store@0.2.0-draft-2024-09-27";

/// One composed Spin component.
pub struct Composition<'a> {
    /// The job component (`jobs/target/.../export_realtime.wasm`).
    pub job: &'a [u8],
    /// Its HTTP entry (`realtime_entry.wasm`).
    pub entry: &'a [u8],
    /// The settings scope (`settings_scope.wasm`).
    pub scope: &'a [u8],
    /// What serves the job's other project imports on Spin (`bulk_store.wasm`: `sftp` and
    /// `members` over the key-value store), for a job that has any.
    pub adapter: Option<&'a [u8]>,
}

impl Composition<'_> {
    /// The composed component's bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let mut graph = CompositionGraph::new();
        let scope = register(&mut graph, "cordial:settings-scope", self.scope)?;
        let job = register(&mut graph, "cordial:job", self.job)?;
        let entry = register(&mut graph, "cordial:entry", self.entry)?;

        let scope = (scope, graph.instantiate(scope));
        let job = (job, graph.instantiate(job));
        let entry = (entry, graph.instantiate(entry));
        // The job's settings and the shared types come from the scope; the entry keeps
        // Spin's own variables (its secrets) and takes only the types from the scope.
        plug(&mut graph, scope, job, |_| true)?;
        plug(&mut graph, scope, entry, |name| name != CONFIG)?;
        if let Some(adapter) = self.adapter {
            let adapter = register(&mut graph, "cordial:adapter", adapter)?;
            let adapter = (adapter, graph.instantiate(adapter));
            plug(&mut graph, adapter, job, |_| true)?;
        }
        let called = plug(&mut graph, job, entry, |_| true)?;
        if called == 0 {
            bail!("the job exports nothing its entry calls");
        }
        let entry_instance = entry.1;
        let handler = graph
            .alias_instance_export(entry_instance, HANDLER)
            .with_context(|| format!("the entry does not export {HANDLER}"))?;
        graph.export(handler, HANDLER)?;
        Ok(graph.encode(EncodeOptions::default())?)
    }
}

fn register(graph: &mut CompositionGraph, name: &str, bytes: &[u8]) -> Result<PackageId> {
    let package = Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut())
        .with_context(|| format!("{name} is not a WebAssembly component"))?;
    Ok(graph.register_package(package)?)
}

/// Satisfies every import of `to` that `from` exports under the same name and `wanted`
/// accepts; returns how many.
fn plug(
    graph: &mut CompositionGraph,
    (from, from_instance): (PackageId, NodeId),
    (to, to_instance): (PackageId, NodeId),
    wanted: impl Fn(&str) -> bool,
) -> Result<usize> {
    let exports: Vec<String> = graph.types()[graph[from].ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    let imports: Vec<String> = graph.types()[graph[to].ty()]
        .imports
        .keys()
        .cloned()
        .collect();
    let mut plugged = 0;
    for name in imports.iter().filter(|i| exports.contains(i) && wanted(i)) {
        let export = graph.alias_instance_export(from_instance, name)?;
        graph.set_instantiation_argument(to_instance, name, export)?;
        plugged += 1;
    }
    Ok(plugged)
}

/// A component's top-level import and export names.
pub fn interface(bytes: &[u8]) -> Result<(Vec<String>, Vec<String>)> {
    let mut graph = CompositionGraph::new();
    let package = register(&mut graph, "cordial:inspected", bytes)?;
    let world = &graph.types()[graph[package].ty()];
    Ok((
        world.imports.keys().cloned().collect(),
        world.exports.keys().cloned().collect(),
    ))
}

/// What Spin links (its `spin:up` platform world, as far as a job can use it): WASI 0.2's
/// stable interfaces, and the pre-release key-value and config drafts in these versions.
fn spin_provides(import: &str) -> bool {
    let (name, version) = import.split_once('@').unwrap_or((import, ""));
    let stable = version.starts_with("0.2.")
        && [
            "wasi:cli/",
            "wasi:clocks/",
            "wasi:random/",
            "wasi:io/",
            "wasi:filesystem/",
            "wasi:sockets/",
        ]
        .iter()
        .any(|p| name.starts_with(p));
    let http = version.starts_with("0.2.")
        && matches!(name, "wasi:http/types" | "wasi:http/outgoing-handler");
    let drafts = (name.starts_with("wasi:keyvalue/") && version == "0.2.0-draft2")
        || (name == "wasi:config/store" && version == "0.2.0-draft-2024-09-27");
    stable || http || drafts
}

/// Checks a composed component as Spin's HTTP trigger will: exactly one HTTP handler
/// export, and only imports Spin provides. The error lists every problem.
pub fn check_for_spin(bytes: &[u8]) -> Result<()> {
    let (imports, exports) = interface(bytes)?;
    let mut problems = Vec::new();
    let handlers: Vec<&String> = exports
        .iter()
        .filter(|e| {
            e.starts_with("wasi:http/incoming-handler@") || e.starts_with("wasi:http/handler@")
        })
        .collect();
    if handlers.len() != 1 {
        problems.push(format!(
            "Spin needs exactly one HTTP handler export, found {handlers:?}"
        ));
    }
    for import in imports.iter().filter(|i| !spin_provides(i)) {
        problems.push(format!("Spin does not provide the import `{import}`"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("; "))
    }
}

/// One Spin component of the deployment and the files it is composed of.
pub struct Composed {
    /// Its name in `spin.toml` (and `dist/<name>.wasm`).
    pub name: &'static str,
    pub job: &'static str,
    pub entry: &'static str,
    pub adapter: Option<&'static str>,
}

/// The composed components of the deployment.
pub const COMPOSED: &[Composed] = &[
    Composed {
        name: "export-realtime",
        job: "export_realtime.wasm",
        entry: "realtime_entry.wasm",
        adapter: None,
    },
    Composed {
        name: "experience-capture",
        job: "experience_capture.wasm",
        entry: "capture_entry.wasm",
        adapter: None,
    },
    Composed {
        name: "export-bulk",
        job: "export_bulk.wasm",
        entry: "bulk_entry.wasm",
        adapter: Some("bulk_store.wasm"),
    },
    Composed {
        name: "import-activity",
        job: "import_activity.wasm",
        entry: "activity_entry.wasm",
        adapter: Some("activity_store.wasm"),
    },
];

/// Builds `out/<name>.wasm` for every composed component, and copies the proxy; returns
/// the files written with their sizes.
pub fn build(components: &Path, out: &Path) -> Result<Vec<(String, u64)>> {
    let read = |file: &str| {
        let path = components.join(file);
        std::fs::read(&path).with_context(|| {
            format!(
                "reading {} (build the components first: ./dev build)",
                path.display()
            )
        })
    };
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let scope = read("settings_scope.wasm")?;
    let mut written = Vec::new();
    for Composed {
        name,
        job,
        entry,
        adapter,
    } in COMPOSED
    {
        let adapter = adapter.map(read).transpose()?;
        let bytes = Composition {
            job: &read(job)?,
            entry: &read(entry)?,
            scope: &scope,
            adapter: adapter.as_deref(),
        }
        .encode()
        .with_context(|| format!("composing {name}"))?;
        check_for_spin(&bytes).with_context(|| format!("{name} would not run on Spin"))?;
        written.push(write(out, name, &bytes)?);
    }
    let proxy = read("cordial_proxy.wasm")?;
    check_for_spin(&proxy).context("cordial-proxy would not run on Spin")?;
    written.push(write(out, "cordial-proxy", &proxy)?);
    Ok(written)
}

fn write(out: &Path, name: &str, bytes: &[u8]) -> Result<(String, u64)> {
    let path = out.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok((path.display().to_string(), bytes.len() as u64))
}
