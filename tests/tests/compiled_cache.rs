//! The compiled-component cache through the real `cordial-host` binary: a job's component is
//! compiled on the host's first start and loaded compiled on later ones; a changed component
//! and a damaged cached copy are compiled again, and the job still runs.

use cordial_e2e::cli::host;
use cordial_e2e::harness::{Harness, components_dir};
use std::path::{Path, PathBuf};

const COMPILED: &str = "compiled the component";
const LOADED: &str = "loaded the compiled component from the cache";

/// An Import Activity job running the component at `component`.
fn job(component: &Path) -> String {
    format!(
        "[[job]]\nname = \"activity\"\nkind = \"import-activity\"\nauth = \"cordial\"\n\
         import_since = 2026-11-01\ncomponent = \"{}\"\n",
        component.display()
    )
}

/// The compiled copies the host keeps beside its store.
fn compiled_copies(h: &Harness) -> Vec<PathBuf> {
    let root = h.store_path().with_extension("components").join("compiled");
    let mut found = Vec::new();
    for folder in std::fs::read_dir(&root).unwrap() {
        for file in std::fs::read_dir(folder.unwrap().path()).unwrap() {
            found.push(file.unwrap().path());
        }
    }
    found
}

/// `cordial-host check`, which loads the job's component and calls it; its log lines.
async fn check(config: &Path) -> String {
    let ran = host(&[&"check", &config]).await;
    assert!(ran.ok, "check failed:\n{ran}");
    ran.stderr
}

/// A WebAssembly custom section: changes the component's bytes, not what it does.
fn custom_section(name: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = vec![name.len() as u8];
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(payload);
    assert!(body.len() < 128, "one LEB128 byte of size");
    let mut section = vec![0, body.len() as u8];
    section.extend(body);
    section
}

/// A copy of the built Import Activity component, and a config whose job runs it.
fn job_on_a_copy(h: &Harness) -> (PathBuf, PathBuf) {
    let component = h.dir.path().join("activity.wasm");
    std::fs::copy(components_dir().join("import_activity.wasm"), &component).unwrap();
    let config = h.config_file(&job(&component));
    (component, config)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_is_compiled_once_then_loaded_compiled_until_it_changes() {
    let h = Harness::start().await;
    let (component, config) = job_on_a_copy(&h);

    let first = check(&config).await;
    assert!(
        first.contains(COMPILED) && !first.contains(LOADED),
        "{first}"
    );
    let copies = compiled_copies(&h);
    assert_eq!(copies.len(), 1, "{copies:?}");

    let second = check(&config).await;
    assert!(
        second.contains(LOADED) && !second.contains(COMPILED),
        "{second}"
    );
    assert_eq!(compiled_copies(&h), copies);

    let mut changed = std::fs::read(&component).unwrap();
    changed.extend(custom_section("cordial-test", b"a rebuilt component"));
    std::fs::write(&component, changed).unwrap();
    let after_change = check(&config).await;
    assert!(
        after_change.contains(COMPILED) && !after_change.contains(LOADED),
        "a changed component must be compiled again:\n{after_change}"
    );
    let replaced = compiled_copies(&h);
    assert_eq!(replaced.len(), 1, "the older copy is removed: {replaced:?}");
    assert_ne!(replaced, copies);
    assert!(check(&config).await.contains(LOADED));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_compiled_copy_is_compiled_again_and_replaced() {
    let h = Harness::start().await;
    let (_, config) = job_on_a_copy(&h);
    check(&config).await;
    let [copy] = compiled_copies(&h).try_into().unwrap();
    std::fs::write(&copy, b"\x7fELF not really").unwrap();

    let damaged = check(&config).await;
    assert!(
        damaged.contains("cannot be used") && damaged.contains(COMPILED),
        "{damaged}"
    );
    assert!(
        check(&config).await.contains(LOADED),
        "the copy was replaced"
    );
}
