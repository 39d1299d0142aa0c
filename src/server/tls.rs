//! `serve --tls`: the server's certificate (generated at start with rcgen, or the user's
//! `--cert`/`--key`) and the rustls configuration that offers HTTP/2 and HTTP/1.1 by ALPN.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls_pki_types::pem::PemObject;

/// The TLS side of the embedded server.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub(super) config: Arc<rustls::ServerConfig>,
    /// The certificate in PEM, for a client's `--cacert`.
    pub cert_pem: String,
}

impl ServerTls {
    /// A self-signed certificate for `localhost` and `127.0.0.1`, valid for 30 days, without CA
    /// constraints (an end-entity certificate, which any client's `--cacert` accepts).
    pub fn generate() -> Result<ServerTls, String> {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .map_err(|e| format!("certificate: {e}"))?;
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(std::net::IpAddr::from([
                127, 0, 0, 1,
            ])));
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "streamscope serve");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(30);
        let key = rcgen::KeyPair::generate().map_err(|e| format!("key: {e}"))?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("certificate: {e}"))?;
        let key_der =
            PrivateKeyDer::try_from(key.serialize_der()).map_err(|e| format!("key: {e}"))?;
        Self::build(vec![cert.der().clone()], key_der, cert.pem())
    }

    /// The user's certificate chain and key (PEM files).
    pub fn from_files(cert: &Path, key: &Path) -> Result<ServerTls, String> {
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|e| format!("--cert {}: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!(
                "--cert {}: no PEM certificate found",
                cert.display()
            ));
        }
        let key_der = PrivateKeyDer::from_pem_file(key)
            .map_err(|e| format!("--key {}: {e}", key.display()))?;
        let pem =
            std::fs::read_to_string(cert).map_err(|e| format!("--cert {}: {e}", cert.display()))?;
        Self::build(chain, key_der, pem)
    }

    fn build(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        cert_pem: String,
    ) -> Result<ServerTls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("TLS setup: {e}"))?;
        // As browsers' servers do: HTTP/2 when the client offers it, else HTTP/1.1.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            cert_pem,
        })
    }
}
