//! Compiled components kept on disk, so that a host's later starts skip Cranelift: the
//! first call of a job then costs a file mapping instead of hundreds of milliseconds.
//!
//! A compiled copy is named by the sha256 of the component's bytes and the engine's
//! compatibility hash (wasmtime's version, the compiler and its settings, the enabled
//! features), so a changed component or a host built differently never reuses an older
//! copy; writing a new copy removes the older ones of the same source. The copies live in
//! the store's own folder (`<store>.components/compiled/`) and are trusted as the store is:
//! wasmtime checks that a copy belongs to this engine, not that nobody rewrote its code.

use crate::artifact::cache::{Cache, sha256, write_atomically};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::time::Instant;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::error::Context;

/// The component `bytes` from `source`, compiled for `engine`: the cached copy when there
/// is a usable one, otherwise compiled now and cached for the next start.
pub fn component(
    engine: &Engine,
    bytes: &[u8],
    source: &str,
    cache: &Cache,
) -> wasmtime::Result<Component> {
    let folder = cache.compiled_folder(source);
    let path = folder.join(file_name(engine, bytes));
    let started = Instant::now();
    if path.exists() {
        // SAFETY: the file was written by `Component::serialize` of an engine with this
        // compatibility hash (its name says so, and wasmtime checks the header again); the
        // cache folder is the host's own, as trusted as the store beside it.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => {
                tracing::info!(
                    component = source,
                    took_ms = millis(started),
                    "loaded the compiled component from the cache"
                );
                return Ok(component);
            }
            Err(e) => tracing::warn!(
                component = source,
                cached = %path.display(),
                "the cached compiled component cannot be used ({e:#}); compiling it again"
            ),
        }
    }
    let component = Component::from_binary(engine, bytes)
        .with_context(|| format!("compiling component {source}"))?;
    tracing::info!(
        component = source,
        took_ms = millis(started),
        "compiled the component"
    );
    if let Err(e) = keep(&component, &folder, &path) {
        tracing::warn!(
            component = source,
            "could not cache the compiled component ({e:#}); the next start compiles it again"
        );
    }
    Ok(component)
}

/// `<component sha256>-<engine hash>.cwasm`.
fn file_name(engine: &Engine, bytes: &[u8]) -> String {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = sha256(bytes);
    format!(
        "{}-{:016x}.cwasm",
        &digest["sha256:".len()..],
        hasher.finish()
    )
}

/// Writes the compiled copy at `path`, then removes the folder's older copies (not the
/// files another writer is still writing).
fn keep(component: &Component, folder: &Path, path: &Path) -> anyhow::Result<()> {
    let compiled = component
        .serialize()
        .map_err(|e| anyhow::anyhow!("{e:#}"))?;
    write_atomically(path, &compiled)?;
    for entry in std::fs::read_dir(folder)? {
        let older = entry?.path();
        if older != path && older.extension().is_some_and(|e| e == "cwasm") {
            std::fs::remove_file(&older)
                .map_err(|e| anyhow::anyhow!("removing {}: {e}", older.display()))?;
        }
    }
    Ok(())
}

fn millis(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}
