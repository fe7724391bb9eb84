//! Each built component's imports and exports match its world in `wit/`: it exports exactly
//! the world's interfaces, imports nothing the world does not grant, and beyond what Rust's
//! standard library imports (`std-runtime`) imports exactly the list its job needs: standard
//! WASI interfaces plus the project interfaces no standard covers.

use cordial_e2e::harness::components_dir;
use std::collections::BTreeSet;
use std::path::PathBuf;
use wit_parser::{Resolve, WorldId, WorldItem, WorldKey};

/// `wasi:http/types@0.2.12` → `wasi:http/types@0.2`: Rust's std may import a different
/// patch release of WASI 0.2 than the one vendored in wit/, and semver says they link. A
/// pre-release (`wasi:keyvalue/store@0.2.0-draft2`) links only to the very same version, so
/// it is kept whole.
fn name(resolve: &Resolve, key: &WorldKey, item: &WorldItem) -> String {
    let full = match (key, item) {
        (WorldKey::Interface(id), _) => resolve.id_of(*id).expect("a named interface"),
        (WorldKey::Name(n), WorldItem::Function(_)) => format!("function {n}"),
        (WorldKey::Name(n), _) => n.clone(),
    };
    match full.rsplit_once('@') {
        Some((base, version)) if full.starts_with("wasi:") && !version.contains('-') => {
            let minor: Vec<&str> = version.split('.').take(2).collect();
            format!("{base}@{}", minor.join("."))
        }
        _ => full,
    }
}

fn interfaces(resolve: &Resolve, world: WorldId) -> (BTreeSet<String>, BTreeSet<String>) {
    let w = &resolve.worlds[world];
    let imports = w
        .imports
        .iter()
        .filter(|(_, item)| !matches!(item, WorldItem::Type { .. }))
        .map(|(k, i)| name(resolve, k, i))
        .collect();
    let exports = w.exports.iter().map(|(k, i)| name(resolve, k, i)).collect();
    (imports, exports)
}

fn world_from_wit(world: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve
        .push_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../wit"))
        .expect("wit/ parses");
    let id = resolve
        .select_world(&[pkg], Some(world))
        .expect("the world exists");
    interfaces(&resolve, id)
}

fn world_of_component(file: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let bytes = std::fs::read(components_dir().join(file)).unwrap();
    match wit_component::decode(&bytes).expect("a component") {
        wit_component::DecodedWasm::Component(resolve, world) => interfaces(&resolve, world),
        wit_component::DecodedWasm::WitPackage(..) => {
            panic!("{file} is a WIT package, not a component")
        }
    }
}

/// What every job imports beyond the standard library: HTTP (its `types` come with it),
/// and its state and settings in the versions Spin links.
const EVERY_JOB: [&str; 5] = [
    "cordial:jobs/types@0.2.0",
    "wasi:config/store@0.2.0-draft-2024-09-27",
    "wasi:http/outgoing-handler@0.2",
    "wasi:http/types@0.2",
    "wasi:keyvalue/store@0.2.0-draft2",
];

fn check(file: &str, world: &str, own: &[&str]) {
    let (granted, expected_exports) = world_from_wit(world);
    let (imported, exported) = world_of_component(file);
    assert_eq!(
        exported, expected_exports,
        "{file} must export exactly the `{world}` world's interfaces"
    );
    let extra: Vec<&String> = imported.difference(&granted).collect();
    assert!(
        extra.is_empty(),
        "{file} imports what `{world}` does not grant: {extra:?}"
    );
    let (std_runtime, _) = world_from_wit("std-runtime");
    let beyond_std: BTreeSet<&str> = imported
        .difference(&std_runtime)
        .map(String::as_str)
        .collect();
    let needed: BTreeSet<&str> = EVERY_JOB.iter().chain(own).copied().collect();
    assert_eq!(
        beyond_std, needed,
        "{file}: beyond the standard library it must import exactly what its job needs"
    );
}

#[test]
fn import_activity_matches_its_world() {
    check(
        "import_activity.wasm",
        "import-activity",
        &["cordial:jobs/sftp@0.2.0", "cordial:jobs/streams@0.2.0"],
    );
}

#[test]
fn export_bulk_matches_its_world() {
    check(
        "export_bulk.wasm",
        "export-bulk",
        &["cordial:jobs/sftp@0.2.0", "cordial:jobs/members@0.2.0"],
    );
}

#[test]
fn export_realtime_matches_its_world() {
    check(
        "export_realtime.wasm",
        "export-realtime",
        &["cordial:jobs/items@0.2.0", "cordial:jobs/outcomes@0.2.0"],
    );
}

#[test]
fn experience_capture_matches_its_world() {
    check(
        "experience_capture.wasm",
        "experience-capture",
        &["cordial:jobs/items@0.2.0", "cordial:jobs/outcomes@0.2.0"],
    );
}

#[test]
fn the_real_time_job_may_not_touch_files_streams_or_members() {
    let forbidden = |i: &String| {
        [
            "cordial:jobs/sftp",
            "cordial:jobs/streams",
            "cordial:jobs/members",
        ]
        .iter()
        .any(|f| i.starts_with(f))
    };
    let (granted, _) = world_from_wit("export-realtime");
    assert!(!granted.iter().any(forbidden), "{granted:?}");
    let (imported, _) = world_of_component("export_realtime.wasm");
    assert!(!imported.iter().any(forbidden), "{imported:?}");
}
