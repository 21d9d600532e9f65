//! The HTTPS server: accept loop, TLS with hot reload, connection limits and deadlines,
//! graceful shutdown.
//!
//! Every connection is bounded in time and in number, so that idle or slow clients cannot
//! hold the webhook (with `failurePolicy: Fail`, a webhook that runs out of connections or
//! file descriptors blocks every change to the objects it validates):
//!
//! - a new connection must complete its TLS handshake within
//!   [`ServerConfig::handshake_timeout`] and deliver a complete first request head within
//!   [`ServerConfig::header_timeout`] of being accepted (handshake included), or it is closed;
//! - after that, a connection is closed when no request has started or finished on it for
//!   [`ServerConfig::idle_timeout`] (HTTP/1.1 keep-alive and HTTP/2 alike: an HTTP/2 client
//!   gets a GOAWAY first). This also bounds a request that stops making progress: a body sent
//!   too slowly, a response the client does not read;
//! - at most [`ServerConfig::max_connections`] connections are served at once. At the limit
//!   the server stops accepting until a connection closes: new connections wait in the
//!   kernel's listen backlog and are served in order as slots free up, rather than being
//!   refused (which would fail the API server's call at once).
//!
//! When the server closes a connection after an answer while the client may still be
//! sending (a request body refused with 413), it keeps reading and discarding for a few
//! seconds before closing the socket, so that the client reads the answer instead of a
//! connection reset.

mod connection;

use crate::api::{router, AppState};
use crate::certs::{self, ReloadingResolver, TlsFiles};
use crate::error::ServeError;
use connection::{Phase, Setup, HTTP2_MAX_CONCURRENT_STREAMS};
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore, TryAcquireError};
use tokio_rustls::TlsAcceptor;

/// How to run the server.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// Serving certificate and key.
    pub tls: TlsFiles,
    /// How often the certificate files are checked for changes (default 1 s).
    pub reload_interval: Duration,
    /// How long in-flight requests may take to finish after a shutdown signal (default 20 s).
    pub drain_timeout: Duration,
    /// Time allowed for a TLS handshake (default 10 s; never more than
    /// [`header_timeout`](Self::header_timeout), which includes the handshake).
    pub handshake_timeout: Duration,
    /// Time from accepting a connection to a complete first request head, TLS handshake
    /// included (default 10 s). A connection that sends nothing, or only part of a request
    /// head, is closed when it passes. The API server sends its request as soon as its
    /// connection is up, so 10 s is generous for it while keeping idle connections from
    /// piling up. A connection asked to close when idle that does not close within this time
    /// is dropped.
    pub header_timeout: Duration,
    /// Once a connection has sent a first request: how long it may go without a request
    /// starting or finishing before it is closed (default 120 s). This must be longer than
    /// the client's own idle timeout for keep-alive connections: the API server's webhook
    /// client (Go `net/http`) keeps idle connections up to 90 s (`IdleConnTimeout`), and a
    /// server that closes one just as the client reuses it can fail that client's POST (Go
    /// does not retry a POST once it is written). At 120 s the client always closes first.
    /// The time to complete the next request head is part of this idle time.
    pub idle_timeout: Duration,
    /// Connections served at once (default 512; at least 1). At the limit the server stops
    /// accepting until a connection closes: new connections wait in the listen backlog. 512 is
    /// far above what a few API servers need (one HTTP/2 connection each, or a few dozen
    /// HTTP/1.1 keep-alive connections) and stays under a 1024 open-file limit (the Linux
    /// default soft limit, which some container runtimes pass on). Probes on the same port
    /// wait at the limit too.
    pub max_connections: usize,
    /// After the shutdown signal, how long to keep accepting connections while reporting
    /// not ready, so that the Service stops routing here before the listener closes
    /// (default 0; the CLI uses 3 s).
    pub shutdown_delay: Duration,
}

impl ServerConfig {
    /// Default header timeout: 10 s.
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default idle timeout: 120 s.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
    /// Default connection limit: 512.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

    /// A configuration with default timings.
    pub fn new(addr: SocketAddr, tls: TlsFiles) -> ServerConfig {
        ServerConfig {
            addr,
            tls,
            reload_interval: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(20),
            handshake_timeout: Duration::from_secs(10),
            header_timeout: ServerConfig::DEFAULT_HEADER_TIMEOUT,
            idle_timeout: ServerConfig::DEFAULT_IDLE_TIMEOUT,
            max_connections: ServerConfig::DEFAULT_MAX_CONNECTIONS,
            shutdown_delay: Duration::ZERO,
        }
    }
}

/// A bound server, ready to run: the admission webhook, or any router served the same way
/// (TLS with certificate reload, graceful shutdown), such as the audit webhook backend.
pub struct Server {
    listener: TcpListener,
    acceptor: TlsAcceptor,
    resolver: Arc<ReloadingResolver>,
    config: ServerConfig,
    app: axum::Router,
    ready: Arc<AtomicBool>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("listener", &self.listener)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads the certificate and binds the address, for the admission webhook.
    pub async fn bind(config: ServerConfig, state: AppState) -> Result<Server, ServeError> {
        let ready = state.ready.clone();
        Server::bind_router(config, router(state), ready).await
    }

    /// Loads the certificate and binds the address, for any router; `ready` is set while
    /// serving and cleared on shutdown (the router's `/readyz` should read it).
    pub async fn bind_router(
        config: ServerConfig,
        app: axum::Router,
        ready: Arc<AtomicBool>,
    ) -> Result<Server, ServeError> {
        let key = certs::load_certified_key(&config.tls)?;
        let resolver = Arc::new(ReloadingResolver::new(key));
        let tls = certs::server_config(resolver.clone())?;
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.addr,
                source,
            })?;
        Ok(Server {
            listener,
            acceptor: TlsAcceptor::from(tls),
            resolver,
            config,
            app,
            ready,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then reports not ready, keeps accepting for
    /// [`ServerConfig::shutdown_delay`], stops accepting and waits (up to the drain timeout)
    /// for in-flight connections to finish their requests.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Server {
            listener,
            acceptor,
            resolver,
            config,
            app,
            ready,
        } = self;
        let watcher = tokio::spawn(certs::watch(
            resolver,
            config.tls.clone(),
            config.reload_interval,
        ));
        // Each connection holds one permit from its accept to its close; all permits back
        // means every connection is closed.
        let slots = config
            .max_connections
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let limit = Arc::new(Semaphore::new(slots));
        let (phase, _) = watch::channel(Phase::Serving);
        let builder = Arc::new(http_builder());
        ready.store(true, Ordering::Relaxed);
        tracing::info!(
            addr = %listener.local_addr().map_err(ServeError::Accept)?,
            max_connections = slots,
            header_timeout_ms = config.header_timeout.as_millis() as u64,
            idle_timeout_ms = config.idle_timeout.as_millis() as u64,
            "palisade listening"
        );
        let flag = ready.clone();
        let delay = config.shutdown_delay;
        let shutdown = async move {
            shutdown.await;
            flag.store(false, Ordering::Relaxed);
            if !delay.is_zero() {
                tracing::info!(
                    delay_ms = delay.as_millis() as u64,
                    "not ready; still accepting while endpoints update"
                );
                tokio::time::sleep(delay).await;
            }
        };
        tokio::pin!(shutdown);
        let mut at_limit = false;
        loop {
            let permit = match limit.clone().try_acquire_owned() {
                Ok(p) => {
                    at_limit = false;
                    p
                }
                Err(TryAcquireError::Closed) => break,
                Err(TryAcquireError::NoPermits) => {
                    if !at_limit {
                        tracing::warn!(
                            max_connections = slots,
                            "connection limit reached; not accepting until a connection closes"
                        );
                        at_limit = true;
                    }
                    tokio::select! {
                        p = limit.clone().acquire_owned() => match p {
                            Ok(p) => p,
                            Err(_) => break,
                        },
                        () = &mut shutdown => break,
                    }
                }
            };
            let (tcp, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // Out of file descriptors and the like: back off, keep serving.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let accepted = tokio::time::Instant::now();
            let _ = tcp.set_nodelay(true);
            tokio::spawn(connection::serve(Setup {
                tcp,
                peer,
                accepted,
                permit,
                acceptor: acceptor.clone(),
                builder: builder.clone(),
                app: app.clone(),
                phase: phase.subscribe(),
                handshake_timeout: config.handshake_timeout,
                header_timeout: config.header_timeout,
                idle_timeout: config.idle_timeout,
            }));
        }
        ready.store(false, Ordering::Relaxed);
        drop(listener);
        tracing::info!(
            connections = slots - limit.available_permits(),
            "shutting down: draining in-flight requests"
        );
        phase.send_replace(Phase::Draining);
        let all_closed = limit.acquire_many(slots as u32);
        if tokio::time::timeout(config.drain_timeout, all_closed)
            .await
            .is_err()
        {
            tracing::warn!(
                connections = slots - limit.available_permits(),
                "drain timeout reached; closing remaining connections"
            );
        }
        phase.send_replace(Phase::Abort);
        watcher.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

/// HTTP/1.1 and HTTP/2 (chosen by the client's first bytes; ALPN offers both). The
/// deadlines are kept by the connection task, not by hyper's timers: hyper's HTTP/1 header
/// read timeout restarts after every response, so it cannot give a new connection a shorter
/// deadline than a kept-alive one, and it does not cover the protocol detection before it.
fn http_builder() -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_concurrent_streams(HTTP2_MAX_CONCURRENT_STREAMS);
    builder
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
