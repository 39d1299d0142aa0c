//! TLS settings, built once from the command line: rustls with the system's roots (read on the
//! first TLS connection), `--cacert`, `--insecure`, and client certificates.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;

/// How to do TLS, built once from the command line.
///
/// The system certificate store is read on the first TLS connection, not up front: reading it
/// opens and parses every certificate file on the machine (about 150 here, half of a short plain
/// run's start-up), wasted when every URL is plain (a plain SSE URL can still redirect to https).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    inner: Arc<TlsInner>,
}

#[derive(Debug)]
struct TlsInner {
    parts: TlsParts,
    /// Built without the system store at start (so every option error is reported before any
    /// connection); its verifier is used as is when no system store is wanted.
    checked: Arc<ClientConfig>,
    /// With the system store, built on first use.
    full: OnceLock<Arc<ClientConfig>>,
}

/// What the TLS configuration is built from.
#[derive(Debug)]
struct TlsParts {
    insecure: bool,
    /// `--cacert` certificates, read and checked at start.
    extra_roots: Vec<CertificateDer<'static>>,
    /// `--cert` chain and `--key`, read and checked at start.
    client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
}

impl TlsSettings {
    /// System roots plus an optional extra CA file; `insecure` turns verification off;
    /// `client_cert` is a (certificate chain, private key) pair of PEM files for mutual TLS.
    /// Every file is read and checked here; errors are one line for exit code 2.
    pub fn new(
        cacert: Option<&Path>,
        insecure: bool,
        client_cert: Option<(&Path, &Path)>,
    ) -> Result<Self, String> {
        let mut extra_roots = Vec::new();
        if let Some(path) = cacert {
            for cert in CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("--cacert {}: {e}", path.display()))?
            {
                extra_roots.push(cert.map_err(|e| format!("--cacert {}: {e}", path.display()))?);
            }
            if extra_roots.is_empty() {
                return Err(format!(
                    "--cacert {}: no PEM certificate found",
                    path.display()
                ));
            }
        }
        let client_auth = match client_cert {
            None => None,
            Some((cert, key)) => {
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
                Some((chain, key_der))
            }
        };
        let parts = TlsParts {
            insecure,
            extra_roots,
            client_auth,
        };
        let checked = Arc::new(parts.build(false)?);
        Ok(TlsSettings {
            inner: Arc::new(TlsInner {
                parts,
                checked,
                full: OnceLock::new(),
            }),
        })
    }

    /// Certificate verification is off.
    pub fn insecure(&self) -> bool {
        self.inner.parts.insecure
    }

    /// The client configuration, with the system store loaded (once) unless `--insecure`.
    pub(crate) fn config(&self) -> Arc<ClientConfig> {
        let inner = &self.inner;
        if inner.parts.insecure {
            return inner.checked.clone();
        }
        inner
            .full
            .get_or_init(|| {
                // The same inputs built fine at start; should the second build fail anyway,
                // the checked configuration (without system roots) still verifies certificates.
                inner
                    .parts
                    .build(true)
                    .map_or_else(|_| inner.checked.clone(), Arc::new)
            })
            .clone()
    }
}

impl TlsParts {
    fn build(&self, system_roots: bool) -> Result<ClientConfig, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?;
        let builder = if self.insecure {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerify(provider)))
        } else {
            let mut roots = RootCertStore::empty();
            if system_roots {
                // A machine without a system store still works with --cacert; errors for single
                // unreadable certificates are not fatal, as in curl.
                let native = rustls_native_certs::load_native_certs();
                roots.add_parsable_certificates(native.certs);
            }
            for cert in &self.extra_roots {
                roots
                    .add(cert.clone())
                    .map_err(|e| format!("--cacert: {e}"))?;
            }
            builder.with_root_certificates(roots)
        };
        let mut config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| format!("--cert/--key: {e}"))?,
        };
        // Only HTTP/1.1: SSE and the WebSocket upgrade are both HTTP/1.1 here.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// Accepts any certificate (`--insecure`), still checking handshake signatures so the session
/// itself is sound.
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
