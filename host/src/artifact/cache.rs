//! The cache of pulled components under the store's directory: blobs by their sha256
//! digest (as in an OCI image layout), and which blob each pulled manifest names. A blob is
//! verified when stored and again whenever it is used; one that no longer matches its digest
//! is removed and pulled anew.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `sha256:<hex>` of `bytes`, the form OCI digests take.
pub fn sha256(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A folder of verified component blobs.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(dir: impl Into<PathBuf>) -> Cache {
        Cache { dir: dir.into() }
    }

    /// The cache beside a store file: `cordial-host.sqlite` → `cordial-host.components/`.
    pub fn beside(store: &Path) -> Cache {
        Cache::new(store.with_extension("components"))
    }

    fn path(&self, kind: &str, digest: &str) -> anyhow::Result<PathBuf> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| anyhow::anyhow!("`{digest}` is not a sha256 digest"))?;
        Ok(self.dir.join(kind).join("sha256").join(hex))
    }

    /// The cached blob with `digest`, if it is there and still matches it.
    pub fn blob(&self, digest: &str) -> anyhow::Result<Option<PathBuf>> {
        let path = self.path("blobs", digest)?;
        match std::fs::read(&path) {
            Ok(bytes) if sha256(&bytes) == digest => Ok(Some(path)),
            Ok(_) => {
                tracing::warn!(blob = %path.display(), "a cached component no longer matches its digest; pulling it again");
                std::fs::remove_file(&path)?;
                Ok(None)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("reading {}: {e}", path.display())),
        }
    }

    /// Stores `bytes` as the blob `digest` once they match it; the error says how they
    /// differ.
    pub fn store(&self, digest: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
        let actual = sha256(bytes);
        if actual != digest {
            anyhow::bail!("does not match its digest: its sha256 is {actual}, not {digest}");
        }
        let path = self.path("blobs", digest)?;
        write_atomically(&path, bytes)?;
        Ok(path)
    }

    /// The folder that holds the compiled form of the component from `source` (one file at a
    /// time: a newer compilation replaces the older ones there).
    pub fn compiled_folder(&self, source: &str) -> PathBuf {
        let digest = sha256(source.as_bytes());
        self.dir
            .join("compiled")
            .join(&digest["sha256:".len()..][..16])
    }

    /// Notes that the manifest `manifest_digest` names the blob `blob_digest`.
    pub fn remember(&self, manifest_digest: &str, blob_digest: &str) -> anyhow::Result<()> {
        write_atomically(
            &self.path("manifests", manifest_digest)?,
            blob_digest.as_bytes(),
        )
    }

    /// The cached component of the manifest `manifest_digest`, if both are cached and the
    /// blob still matches.
    pub fn component_of(&self, manifest_digest: &str) -> anyhow::Result<Option<PathBuf>> {
        match std::fs::read_to_string(self.path("manifests", manifest_digest)?) {
            Ok(blob) => self.blob(blob.trim()),
            Err(_) => Ok(None),
        }
    }
}

/// Writes a file whole or not at all: a temporary file beside it, renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().expect("cache paths have a folder");
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("creating the component cache {}: {e}", dir.display()))?;
    // Unique per process and per write, so two writers of one path never share a file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let temporary = path.with_extension(format!("part-{}-{write}", std::process::id()));
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_kept_only_while_they_match_their_digest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let digest = sha256(b"component");
        assert_eq!(
            digest,
            "sha256:6985ca1f4daa5a584a28eae043a239cb96689af1337ea13afb63e00c2bf512fa"
        );
        let wrong = cache.store(&sha256(b"other"), b"component").unwrap_err();
        assert!(wrong.to_string().contains(&digest), "{wrong}");
        let path = cache.store(&digest, b"component").unwrap();
        assert!(cache.remember("sha256:short", &digest).is_err());
        let manifest = sha256(b"manifest");
        cache.remember(&manifest, &digest).unwrap();
        assert_eq!(cache.component_of(&manifest).unwrap(), Some(path.clone()));
        std::fs::write(&path, b"tampered").unwrap();
        assert_eq!(
            cache.component_of(&manifest).unwrap(),
            None,
            "a changed blob is dropped"
        );
        assert!(!path.exists());
    }
}
