//! The test CA and the server certificate it signed (`localhost`, `127.0.0.1`), for TLS
//! servers on loopback.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const CA: &[u8] = include_bytes!("../data/ca.der");
const CERT: &[u8] = include_bytes!("../data/server.der");
const KEY: &[u8] = include_bytes!("../data/server.key.der");

/// Roots holding only the test CA.
pub fn test_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(CA.to_vec())).unwrap();
    roots
}

/// A server configuration with the test certificate (ring provider, default versions).
pub fn server_config() -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(CERT.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(KEY.to_vec())),
        )
        .unwrap();
    Arc::new(config)
}
