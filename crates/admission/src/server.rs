//! The HTTPS server: accept loop, TLS with hot reload, graceful shutdown.

use crate::api::{router, AppState};
use crate::certs::{self, ReloadingResolver, TlsFiles};
use crate::error::ServeError;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
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
    /// Time allowed for a TLS handshake (default 10 s).
    pub handshake_timeout: Duration,
    /// After the shutdown signal, how long to keep accepting connections while reporting
    /// not ready, so that the Service stops routing here before the listener closes
    /// (default 0; the CLI uses 3 s).
    pub shutdown_delay: Duration,
}

impl ServerConfig {
    /// A configuration with default timings.
    pub fn new(addr: SocketAddr, tls: TlsFiles) -> ServerConfig {
        ServerConfig {
            addr,
            tls,
            reload_interval: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(20),
            handshake_timeout: Duration::from_secs(10),
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
        let graceful = GracefulShutdown::new();
        ready.store(true, Ordering::Relaxed);
        tracing::info!(addr = %listener.local_addr().map_err(ServeError::Accept)?, "palisade listening");
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
        loop {
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
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let service = TowerToHyperService::new(app.clone());
            let watch = graceful.watcher();
            let handshake_timeout = config.handshake_timeout;
            tokio::spawn(async move {
                let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await
                {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                };
                // No header-read timer: the API server keeps idle keep-alive connections,
                // and closing them under it would fail its next POST.
                let builder = auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection(TokioIo::new(tls), service);
                if let Err(e) = watch.watch(conn).await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
            });
        }
        ready.store(false, Ordering::Relaxed);
        drop(listener);
        tracing::info!(
            connections = graceful.count(),
            "shutting down: draining in-flight requests"
        );
        if tokio::time::timeout(config.drain_timeout, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("drain timeout reached; closing remaining connections");
        }
        watcher.abort();
        tracing::info!("stopped");
        Ok(())
    }
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
