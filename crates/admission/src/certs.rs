//! TLS: the serving certificate and key, reloaded in place when their files change, and a
//! small certificate authority (rcgen) for `install --gen-certs` and tests.

use crate::error::{CertGenError, TlsError};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// The crypto provider the webhook uses (ring).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The paths of the serving certificate chain and its private key (PEM).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a file that must hold one or more PEM certificates (a CA bundle): its bytes, or an
/// error naming the file when it holds none or is not PEM.
pub fn read_certificates_pem(path: &Path) -> Result<Vec<u8>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: path.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(pem)
}

/// Reads and checks a certificate chain and key.
pub fn load_certified_key(files: &TlsFiles) -> Result<CertifiedKey, TlsError> {
    let cert_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsError::Pem {
            path: files.cert.clone(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|source| TlsError::Pem {
        path: files.key.clone(),
        source,
    })?;
    let ck = CertifiedKey::from_der(certs, key, &provider()).map_err(|source| TlsError::Key {
        path: files.key.clone(),
        source,
    })?;
    Ok(ck)
}

/// A certificate resolver whose key can be replaced while the server runs: connections
/// already established keep their session; new handshakes get the new certificate.
#[derive(Debug)]
pub struct ReloadingResolver {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingResolver {
    /// A resolver serving this key.
    pub fn new(key: CertifiedKey) -> ReloadingResolver {
        ReloadingResolver {
            current: RwLock::new(Arc::new(key)),
        }
    }

    /// Replaces the served key.
    pub fn set(&self, key: CertifiedKey) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(key);
    }
}

impl ResolvesServerCert for ReloadingResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// The rustls server configuration: TLS 1.2 and 1.3, HTTP/2 and HTTP/1.1 by ALPN, the
/// certificate from the resolver.
pub fn server_config(resolver: Arc<ReloadingResolver>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn stamp(files: &TlsFiles) -> Option<(SystemTime, u64, SystemTime, u64)> {
    let c = std::fs::metadata(&files.cert).ok()?;
    let k = std::fs::metadata(&files.key).ok()?;
    Some((c.modified().ok()?, c.len(), k.modified().ok()?, k.len()))
}

/// Polls the files' modification times and sizes every `interval` and reloads the key into
/// the resolver when they change. A pair that does not load (a half-written file, a key
/// that does not match) is logged and retried at the next change or tick; the previous
/// certificate stays in service. Runs until the task is dropped.
pub async fn watch(resolver: Arc<ReloadingResolver>, files: TlsFiles, interval: Duration) {
    let mut last = stamp(&files);
    let mut pending = false;
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = stamp(&files);
        if now == last && !pending {
            continue;
        }
        last = now;
        match load_certified_key(&files) {
            Ok(key) => {
                resolver.set(key);
                pending = false;
                tracing::info!(cert = %files.cert.display(), key = %files.key.display(), "TLS certificate reloaded");
            }
            Err(e) => {
                pending = true;
                tracing::warn!(error = %error_chain(&e), "TLS certificate not reloaded; keeping the previous one");
            }
        }
    }
}

/// `error: cause: cause` in one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// A certificate authority that issues serving certificates (for `install --gen-certs` and
/// tests).
pub struct CertAuthority {
    cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl std::fmt::Debug for CertAuthority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertAuthority").finish_non_exhaustive()
    }
}

/// A PEM certificate and its PEM private key.
#[derive(Clone, Debug)]
pub struct IssuedCert {
    /// The certificate (PEM).
    pub cert_pem: String,
    /// The private key (PEM, PKCS#8).
    pub key_pem: String,
}

fn validity(params: &mut rcgen::CertificateParams, days: i64) {
    let now = jiff::Timestamp::now();
    let date = |t: jiff::Timestamp| {
        let d = jiff::tz::TimeZone::UTC.to_datetime(t).date();
        rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8)
    };
    let day = jiff::SignedDuration::from_hours(24);
    params.not_before = date(now - day);
    params.not_after = date(now + day * (days as i32));
}

impl CertAuthority {
    /// A new self-signed CA (ECDSA P-256, valid 10 years).
    pub fn generate(common_name: &str) -> Result<CertAuthority, CertGenError> {
        let key = rcgen::KeyPair::generate().map_err(CertGenError::Rcgen)?;
        let mut params =
            rcgen::CertificateParams::new(Vec::<String>::new()).map_err(CertGenError::Rcgen)?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, common_name);
        params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut params, 3650);
        let cert = params.self_signed(&key).map_err(CertGenError::Rcgen)?;
        Ok(CertAuthority { cert, key })
    }

    /// The CA certificate (PEM): the webhook configuration's `caBundle`, base64-encoded.
    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    /// Issues a serving certificate (ECDSA P-256, valid one year) for these DNS names and
    /// IP addresses.
    pub fn issue(&self, dns_names: &[String], ips: &[IpAddr]) -> Result<IssuedCert, CertGenError> {
        let key = rcgen::KeyPair::generate().map_err(CertGenError::Rcgen)?;
        let mut params =
            rcgen::CertificateParams::new(dns_names.to_vec()).map_err(CertGenError::Rcgen)?;
        params
            .subject_alt_names
            .extend(ips.iter().map(|ip| rcgen::SanType::IpAddress(*ip)));
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            dns_names
                .first()
                .map(String::as_str)
                .unwrap_or("palisade-admission"),
        );
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params, 365);
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .map_err(CertGenError::Rcgen)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

/// The DNS names of the webhook's Service in `namespace`.
pub fn service_dns_names(service: &str, namespace: &str) -> Vec<String> {
    vec![
        service.to_owned(),
        format!("{service}.{namespace}"),
        format!("{service}.{namespace}.svc"),
        format!("{service}.{namespace}.svc.cluster.local"),
    ]
}
