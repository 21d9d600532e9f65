//! A minimal HTTPS client for the webhook (HTTP/1.1 over rustls, one connection): used by
//! the tests, the load generator and health checks.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::{http1, http2};
use hyper::{Request, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

/// Client errors.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA bundle is not valid PEM.
    #[error("invalid CA certificate")]
    Ca(#[source] rustls::pki_types::pem::Error),
    /// The CA certificate was rejected.
    #[error("invalid CA certificate")]
    CaRejected(#[source] rustls::Error),
    /// The server name is not a DNS name or IP address.
    #[error("invalid server name `{0}`")]
    ServerName(String),
    /// TCP or TLS failed.
    #[error("connection failed")]
    Io(#[source] std::io::Error),
    /// HTTP failed.
    #[error("HTTP exchange failed")]
    Http(#[source] hyper::Error),
    /// A request could not be built.
    #[error("invalid request")]
    Request(#[source] hyper::http::Error),
    /// rustls could not be configured.
    #[error("TLS set-up failed")]
    Tls(#[source] rustls::Error),
}

/// A TLS client configuration trusting only `ca_pem`. Session resumption is off, as in the
/// API server's client: every connection gets a full handshake and sees the current
/// certificate.
pub fn tls_config(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    tls_config_alpn(ca_pem, &[b"http/1.1"])
}

/// Like [`tls_config`], offering these ALPN protocols (`h2` gives an HTTP/2 connection, as
/// the API server's client negotiates).
pub fn tls_config_alpn(
    ca_pem: &str,
    alpn: &[&[u8]],
) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(cert.map_err(ClientError::Ca)?)
            .map_err(ClientError::CaRejected)?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(crate::certs::provider())
        .with_safe_default_protocol_versions()
        .map_err(ClientError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

#[derive(Debug)]
enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

/// One HTTP/1.1 or HTTP/2 connection (by ALPN) over TLS.
#[derive(Debug)]
pub struct Client {
    sender: Sender,
    host: String,
    peer_certificate: Option<Vec<u8>>,
}

impl Client {
    /// Connects to `addr`, verifying the server's certificate for `server_name`.
    pub async fn connect(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> Result<Client, ClientError> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|_| ClientError::ServerName(server_name.to_owned()))?;
        let tcp = TcpStream::connect(addr).await.map_err(ClientError::Io)?;
        let _ = tcp.set_nodelay(true);
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(ClientError::Io)?;
        let peer_certificate = tls
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| c.as_ref().to_vec());
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        let sender = if h2 {
            let (sender, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
                .await
                .map_err(ClientError::Http)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Sender::H2(sender)
        } else {
            let (sender, conn) = http1::handshake(TokioIo::new(tls))
                .await
                .map_err(ClientError::Http)?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Sender::H1(sender)
        };
        Ok(Client {
            sender,
            host: server_name.to_owned(),
            peer_certificate,
        })
    }

    /// True when the connection speaks HTTP/2.
    pub fn is_http2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// True once the connection is closed (by either side).
    pub fn is_closed(&self) -> bool {
        match &self.sender {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    /// The DER of the certificate the server presented.
    pub fn peer_certificate(&self) -> Option<&[u8]> {
        self.peer_certificate.as_deref()
    }

    /// Sends a request and reads the whole response.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let builder = match self.sender {
            Sender::H1(_) => Request::builder().uri(path).header("host", &self.host),
            // HTTP/2 carries the authority in the URI (`:authority`).
            Sender::H2(_) => Request::builder().uri(format!("https://{}{path}", self.host)),
        };
        let req = builder
            .method(method)
            .header("content-type", "application/json")
            .body(Full::new(body))
            .map_err(ClientError::Request)?;
        let resp = match &mut self.sender {
            Sender::H1(s) => {
                s.ready().await.map_err(ClientError::Http)?;
                s.send_request(req).await.map_err(ClientError::Http)?
            }
            Sender::H2(s) => {
                s.ready().await.map_err(ClientError::Http)?;
                s.send_request(req).await.map_err(ClientError::Http)?
            }
        };
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(ClientError::Http)?
            .to_bytes();
        Ok((status, body))
    }

    /// `POST path` with a JSON body.
    pub async fn post(
        &mut self,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        self.request("POST", path, body).await
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<(StatusCode, Bytes), ClientError> {
        self.request("GET", path, Bytes::new()).await
    }
}
