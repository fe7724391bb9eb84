//! TLS everywhere in the process (the registry client, the platform's collect API) is rustls
//! with the `ring` provider: no C toolchain beyond what `ring` needs, no system OpenSSL.

/// Installs `ring` as the process's rustls provider, once; reqwest is built without one.
pub fn install_ring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one already; either serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
