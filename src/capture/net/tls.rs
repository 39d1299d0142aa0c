//! TLS settings, built once from the command line: rustls with the system's roots (read on the
//! first TLS connection), `--cacert`, `--insecure`, and client certificates; the ALPN offer of
//! each connection; what a finished handshake settled ([`facts`]); and certificate errors told as
//! sentences with a hint instead of rustls' enum names.
//!
//! A certificate named with `--cacert` is trusted as the server's own certificate when the server
//! presents exactly it, as curl does: the usual self-signed one-liner (`openssl req -x509 …`) makes
//! a CA certificate, which webpki refuses as an end entity (`CaUsedAsEndEntity`). Such a pinned
//! certificate is still checked for the server's name and its validity dates.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;

use crate::capture::net::cert::CertFacts;
use crate::record::TlsFacts;

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

    /// The client configuration offering `alpn` (`h2`, `http/1.1`), in that order of preference.
    pub(crate) fn config_with_alpn(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let base = self.config();
        if base
            .alpn_protocols
            .iter()
            .map(Vec::as_slice)
            .eq(alpn.iter().copied())
        {
            return base;
        }
        let mut config = (*base).clone();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
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
                // A certificate webpki cannot take as an anchor may still be the server's own
                // (pinned below).
                let _ = roots.add(cert.clone());
            }
            let inner = if roots.is_empty() {
                None
            } else {
                Some(
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| format!("TLS setup: {e}"))?,
                )
            };
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Verifier {
                    inner,
                    pinned: self.extra_roots.clone(),
                    provider,
                }))
        };
        let mut config = match &self.client_auth {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| format!("--cert/--key: {e}"))?,
        };
        // Each connection says what it offers (`config_with_alpn`); this is the HTTP/1.1 default.
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

/// Verifies with webpki, trusts a `--cacert` certificate the server presents as its own, and
/// turns a refusal into a sentence.
#[derive(Debug)]
struct Verifier {
    /// webpki with the system roots and `--cacert`; `None` when there is no root at all.
    inner: Option<Arc<WebPkiServerVerifier>>,
    /// The `--cacert` certificates, trusted as end entities when presented exactly.
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

/// A certificate refusal told as a sentence (rustls' error, explained).
#[derive(Debug)]
pub(crate) struct Explained(pub String);

impl std::fmt::Display for Explained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Explained {}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer,
            )),
        };
        let Err(error) = result else { return result };
        let facts = CertFacts::parse(end_entity).unwrap_or_default();
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        let sentence = if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            match pinned_check(end_entity, server_name, now, &facts) {
                Ok(()) => return Ok(ServerCertVerified::assertion()),
                Err(sentence) => sentence,
            }
        } else {
            explain(&error, server_name, now, &facts)
        };
        Err(rustls::Error::InvalidCertificate(CertificateError::Other(
            rustls::OtherError(Arc::new(Explained(sentence))),
        )))
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
            &self.provider.signature_verification_algorithms,
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
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A pinned (`--cacert`) certificate the server presented as its own: still valid for the name
/// and the dates.
fn pinned_check(
    end_entity: &CertificateDer<'_>,
    server_name: &ServerName<'_>,
    now: i64,
    facts: &CertFacts,
) -> Result<(), String> {
    let name_ok = webpki::EndEntityCert::try_from(end_entity)
        .is_ok_and(|ee| ee.verify_is_valid_for_subject_name(server_name).is_ok());
    if !name_ok {
        return Err(name_mismatch(server_name, facts));
    }
    if facts.not_after.is_some_and(|t| now > t) {
        return Err(expired(facts));
    }
    if facts.not_before.is_some_and(|t| now < t) {
        return Err(not_yet(facts));
    }
    Ok(())
}

/// rustls' refusal as a sentence with a hint.
fn explain(
    error: &rustls::Error,
    server_name: &ServerName<'_>,
    now: i64,
    facts: &CertFacts,
) -> String {
    let rustls::Error::InvalidCertificate(cert_error) = error else {
        return error.to_string();
    };
    let who = subject_of(facts);
    match cert_error {
        CertificateError::UnknownIssuer => format!(
            "the server's certificate ({who}) is issued by {}, which is not a trusted authority; \
             hint: pass the issuer's certificate (or the server's own, if self-signed) with \
             --cacert FILE, or skip verification with --insecure",
            if facts.issuer.is_empty() {
                "an unknown issuer"
            } else {
                &facts.issuer
            }
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            name_mismatch(server_name, facts)
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => expired(facts),
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            not_yet(facts)
        }
        CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            format!(
                "the server presented a CA certificate ({who}) as its own, as a self-signed \
                 certificate is; hint: if you trust it, pass that certificate with --cacert FILE"
            )
        }
        other => {
            let _ = now;
            format!("the server's certificate ({who}) was refused: {other:?}")
        }
    }
}

fn subject_of(facts: &CertFacts) -> String {
    if facts.subject.is_empty() {
        "no subject".to_owned()
    } else {
        facts.subject.clone()
    }
}

fn name_mismatch(server_name: &ServerName<'_>, facts: &CertFacts) -> String {
    let names = if facts.names.is_empty() {
        "no subjectAltName at all".to_owned()
    } else {
        format!("only {}", facts.names.join(", "))
    };
    format!(
        "the server's certificate is not valid for {}: it names {names}; hint: connect by one of \
         those names, or fix the certificate",
        server_name.to_str()
    )
}

fn expired(facts: &CertFacts) -> String {
    format!(
        "the server's certificate ({}) expired on {} (valid from {})",
        subject_of(facts),
        date(facts.not_after),
        date(facts.not_before)
    )
}

fn not_yet(facts: &CertFacts) -> String {
    format!(
        "the server's certificate ({}) is not valid before {} (check the clocks)",
        subject_of(facts),
        date(facts.not_before)
    )
}

/// `2026-12-01 10:00:00 UTC`.
fn date(secs: Option<i64>) -> String {
    let Some(secs) = secs else {
        return "an unreadable date".to_owned();
    };
    let mut b = Vec::with_capacity(32);
    crate::record::time::write_rfc3339_micros(&mut b, secs.saturating_mul(1_000_000));
    let s = String::from_utf8_lossy(&b);
    format!(
        "{} {} UTC",
        s.get(..10).unwrap_or(&s),
        s.get(11..19).unwrap_or("")
    )
}

/// What a finished handshake settled, and the server certificate's facts.
pub(crate) fn facts(conn: &rustls::ClientConnection) -> TlsFacts {
    let version = conn
        .protocol_version()
        .map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
            other => format!("{other:?}"),
        })
        .unwrap_or_default();
    let cipher = conn
        .negotiated_cipher_suite()
        .map(|s| {
            let suite = s.suite();
            suite
                .as_str()
                .map_or_else(|| format!("{suite:?}"), str::to_owned)
        })
        .unwrap_or_default();
    let cert = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|c| CertFacts::parse(c))
        .unwrap_or_default();
    let now = crate::record::time::Stamp::now()
        .wall_us
        .div_euclid(1_000_000);
    TlsFacts {
        version,
        cipher,
        alpn: conn
            .alpn_protocol()
            .map(|p| String::from_utf8_lossy(p).into_owned()),
        cert_subject: cert.subject.clone(),
        cert_issuer: cert.issuer.clone(),
        cert_names: cert.names.join(", "),
        cert_not_after_us: cert.not_after.map(|s| s.saturating_mul(1_000_000)),
        cert_days_left: cert.days_left(now),
    }
}

/// A TLS handshake failure as a sentence: certificate refusals already are one (see [`Verifier`]);
/// a server that accepts none of the offered ALPN protocols is told with what it wants.
pub(crate) fn handshake_error(error: &rustls::Error, offered: &[&[u8]]) -> String {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            match other.0.downcast_ref::<Explained>() {
                Some(e) => e.0.clone(),
                None => error.to_string(),
            }
        }
        rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol) => {
            if offered.iter().all(|p| *p != b"h2") {
                "this server requires HTTP/2: it refused ALPN http/1.1 (drop --http1.1; for \
                 WebSocket, --http2 uses WebSocket over HTTP/2)"
                    .to_owned()
            } else {
                let names: Vec<_> = offered.iter().map(|p| String::from_utf8_lossy(p)).collect();
                format!(
                    "the server accepts none of the protocols offered by ALPN ({})",
                    names.join(", ")
                )
            }
        }
        rustls::Error::AlertReceived(alert) => {
            format!("the server refused the handshake ({alert:?} alert)")
        }
        other => other.to_string(),
    }
}
