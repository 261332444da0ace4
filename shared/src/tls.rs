//! TLS for every outbound connection — PostgreSQL, the creator API, SQS — on one stack: rustls
//! with the ring crypto provider and the system's root certificates.
//!
//! One provider keeps a second crypto library (aws-lc, the default of reqwest and of the AWS SDK's
//! HTTPS client) out of the binaries, which is most of their size. Root certificates come from the
//! system store, or from the single bundle named by `SSL_CERT_FILE` (the template sets it, so a
//! cold start reads one file instead of every file of `/etc/ssl/certs`).

use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use rustls::{
    crypto::CryptoProvider,
    pki_types::{pem::PemObject, CertificateDer},
    ClientConfig, RootCertStore,
};

/// The crypto provider of every TLS connection, also installed as the process default so that a
/// client built anywhere in the process finds it.
pub fn provider() -> Arc<CryptoProvider> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Fails only when a default is already installed, which is then this same provider.
    let _ = CryptoProvider::install_default(provider.as_ref().clone());
    provider
}

/// The system's root certificates, read once per process: PostgreSQL's connector and the HTTP
/// clients of one function share them.
fn system_roots() -> &'static RootCertStore {
    static SYSTEM: OnceLock<RootCertStore> = OnceLock::new();
    SYSTEM.get_or_init(|| {
        let mut roots = RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        roots
    })
}

/// The system's root certificates, plus the PEM bundle at `extra_pem` when given.
pub fn roots(extra_pem: Option<&str>) -> anyhow::Result<RootCertStore> {
    let mut roots = system_roots().clone();
    if let Some(path) = extra_pem {
        for cert in
            CertificateDer::pem_file_iter(path).with_context(|| format!("Failed to read {path}"))?
        {
            roots
                .add(cert.with_context(|| format!("Failed to parse a certificate in {path}"))?)
                .with_context(|| format!("Failed to add a certificate of {path}"))?;
        }
    }
    Ok(roots)
}

/// A client configuration that verifies servers against `roots`.
pub fn client_config(roots: RootCertStore) -> anyhow::Result<ClientConfig> {
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("Failed to configure TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The client configuration verifying against the system's roots, built once per process and
/// shared by every HTTP client (the creator API's and the SQS SDK's).
pub fn system_client_config() -> anyhow::Result<ClientConfig> {
    static SYSTEM: OnceLock<ClientConfig> = OnceLock::new();
    if let Some(config) = SYSTEM.get() {
        return Ok(config.clone());
    }
    let config = client_config(roots(None)?)?;
    Ok(SYSTEM.get_or_init(|| config).clone())
}

/// A reqwest client builder on this TLS stack, verifying servers against the system's roots.
pub fn http_client() -> anyhow::Result<reqwest::ClientBuilder> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(system_client_config()?))
}

/// A reqwest client builder on this TLS stack, verifying servers against `roots`.
pub fn http_client_with_roots(roots: RootCertStore) -> anyhow::Result<reqwest::ClientBuilder> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(client_config(roots)?))
}
