//! Job components as Wasm OCI artifacts, laid out the way `wkg oci push` writes them (the
//! CNCF "Wasm OCI artifact": an image manifest whose config is
//! `application/vnd.wasm.config.v0+json` and whose one layer is `application/wasm`), so
//! Spin, wasmCloud and other platforms pull the same artifact this host pulls.
//!
//! A pulled component is trusted only by its digests: the manifest's against the reference
//! (when it names one), the blob's against the manifest. Verified blobs are cached under the
//! store's directory and verified again on every use.

use super::cache::Cache;
use cordial_jobs::manifest::Manifest;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::manifest::{OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The config blob's media type in a Wasm OCI artifact.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
/// The one layer's media type: the component itself.
pub const WASM_MEDIA_TYPE: &str = "application/wasm";
/// The annotation naming the WIT world the component implements.
pub const WORLD_ANNOTATION: &str = "dev.cordial.jobs.world";
/// Where the project's source lives, for `org.opencontainers.image.source`.
const SOURCE: &str = "https://github.com/cordial-jobs/cordial-host";

/// Parses a reference; one without a tag or digest means `:latest`, as with every OCI tool.
pub fn reference(text: &str) -> anyhow::Result<Reference> {
    text.parse().map_err(|e| {
        anyhow::anyhow!("`{text}` is not an OCI reference (registry/namespace/name:tag or …@sha256:<digest>): {e}")
    })
}

/// A client for `reference`'s registry. Registries on loopback are spoken to over plain
/// HTTP (as Docker does); every other registry over HTTPS.
fn client(reference: &Reference) -> Client {
    crate::tls::install_ring();
    let registry = reference.resolve_registry().to_owned();
    let host = registry
        .rsplit_once(':')
        .map_or(registry.as_str(), |(h, _)| h);
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let protocol = if loopback {
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    };
    Client::new(ClientConfig {
        protocol,
        ..ClientConfig::default()
    })
}

/// Registry credentials from `CORDIAL_REGISTRY_USERNAME` and `CORDIAL_REGISTRY_PASSWORD`
/// (a password or token), else anonymous.
fn auth() -> RegistryAuth {
    match (
        std::env::var("CORDIAL_REGISTRY_USERNAME"),
        std::env::var("CORDIAL_REGISTRY_PASSWORD"),
    ) {
        (Ok(user), Ok(password)) => RegistryAuth::Basic(user, password),
        _ => RegistryAuth::Anonymous,
    }
}

/// The config blob of a Wasm OCI artifact: what the component imports and exports.
fn wasm_config(manifest: &Manifest, layer_digest: &str) -> serde_json::Value {
    serde_json::json!({
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer_digest],
        "component": {
            "imports": manifest.imports,
            "exports": manifest.exports,
            "target": manifest.world,
        },
    })
}

/// The manifest's key facts as OCI annotations.
fn annotations(manifest: &Manifest) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "org.opencontainers.image.title".into(),
            manifest.kind.clone(),
        ),
        (
            "org.opencontainers.image.version".into(),
            manifest.version.clone(),
        ),
        ("org.opencontainers.image.source".into(), SOURCE.into()),
        (
            "org.opencontainers.image.description".into(),
            format!("Cordial job `{}`", manifest.kind),
        ),
        (WORLD_ANNOTATION.into(), manifest.world.clone()),
    ])
}

/// The parts of an artifact: its image manifest, its config and its layer.
pub fn artifact(component: &[u8], manifest: &Manifest) -> (OciImageManifest, Config, ImageLayer) {
    let layer = ImageLayer::new(component.to_vec(), WASM_MEDIA_TYPE.into(), None);
    let config = Config::new(
        serde_json::to_vec(&wasm_config(manifest, &layer.sha256_digest())).expect("JSON"),
        CONFIG_MEDIA_TYPE.into(),
        None,
    );
    let image = OciImageManifest::build(
        std::slice::from_ref(&layer),
        &config,
        Some(annotations(manifest)),
    );
    (image, config, layer)
}

/// Pushes a packaged component to `target` and returns the pushed manifest's digest.
pub async fn push(component: &[u8], manifest: &Manifest, target: &str) -> anyhow::Result<String> {
    let reference = reference(target)?;
    let client = client(&reference);
    let (image, config, layer) = artifact(component, manifest);
    client
        .push(&reference, &[layer], config, &auth(), Some(image))
        .await
        .map_err(|e| anyhow::anyhow!("pushing to {target}: {e}"))?;
    client
        .fetch_manifest_digest(&reference, &auth())
        .await
        .map_err(|e| anyhow::anyhow!("reading back the digest of {target}: {e}"))
}

/// Pulls the component `source` names into `cache` and returns its file. A reference by
/// digest that is already cached is not fetched again; a tag is always resolved anew.
pub async fn pull(source: &str, cache: &Cache) -> anyhow::Result<PathBuf> {
    let reference = reference(source)?;
    if let Some(digest) = reference.digest()
        && let Some(path) = cache.component_of(digest)?
    {
        return Ok(path);
    }
    let client = client(&reference);
    let auth = auth();
    let (raw, _) = client
        .pull_manifest_raw(&reference, &auth, &[OCI_IMAGE_MEDIA_TYPE])
        .await
        .map_err(|e| anyhow::anyhow!("fetching the manifest of {source}: {e}"))?;
    let manifest_digest = super::cache::sha256(&raw);
    if let Some(wanted) = reference.digest()
        && wanted != manifest_digest
    {
        anyhow::bail!(
            "the registry answered {source} with a manifest whose digest is {manifest_digest}; refusing it"
        );
    }
    let image: OciImageManifest = serde_json::from_slice(&raw).map_err(|e| {
        anyhow::anyhow!("the manifest of {source} is not an OCI image manifest: {e}")
    })?;
    let layer = match image.layers.as_slice() {
        [layer]
            if image.config.media_type == CONFIG_MEDIA_TYPE
                && layer.media_type == WASM_MEDIA_TYPE =>
        {
            layer
        }
        layers => anyhow::bail!(
            "{source} is not a Wasm component artifact: its config is `{}` and its layers are [{}], where one `{WASM_MEDIA_TYPE}` layer under a `{CONFIG_MEDIA_TYPE}` config was expected",
            image.config.media_type,
            layers
                .iter()
                .map(|l| l.media_type.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    if let Some(path) = cache.blob(&layer.digest)? {
        cache.remember(&manifest_digest, &layer.digest)?;
        return Ok(path);
    }
    let mut blob = Vec::with_capacity(layer.size.max(0) as usize);
    client
        .pull_blob(&reference, layer, &mut blob)
        .await
        .map_err(|e| {
            anyhow::anyhow!("fetching the component of {source} ({}): {e}", layer.digest)
        })?;
    let path = cache.store(&layer.digest, &blob).map_err(|e| {
        anyhow::anyhow!("the component the registry sent for {source} {e}; refusing it")
    })?;
    cache.remember(&manifest_digest, &layer.digest)?;
    Ok(path)
}
