//! One connection: TLS handshake, HTTP/1.1 or HTTP/2, the first-request and idle deadlines,
//! graceful close, and a lingering close so that a client still sending a body reads the
//! answer instead of a reset.

use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify, OwnedSemaphorePermit};
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Streams accepted at once on one HTTP/2 connection (the number the HTTP/2 specification
/// recommends as a minimum; evaluations are bounded separately by the handlers).
pub(super) const HTTP2_MAX_CONCURRENT_STREAMS: u32 = 100;

/// After the server closed its side, how long it keeps reading and discarding what the
/// client still sends (a request body it refused) before closing the socket: closing with
/// unread data sends a TCP reset, which can destroy the answer before the client reads it.
const LINGER_TOTAL: Duration = Duration::from_secs(5);

/// During the lingering close, how long a silence ends it early.
const LINGER_QUIET: Duration = Duration::from_secs(1);

/// The server's phase, as seen by each connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Serving normally.
    Serving,
    /// Shutting down: finish in-flight requests, then close.
    Draining,
    /// The drain timeout passed: close now.
    Abort,
}

/// What one connection is given.
pub(super) struct Setup {
    pub tcp: TcpStream,
    pub peer: SocketAddr,
    pub accepted: Instant,
    pub permit: OwnedSemaphorePermit,
    pub acceptor: TlsAcceptor,
    pub builder: Arc<auto::Builder<TokioExecutor>>,
    pub app: axum::Router,
    pub phase: watch::Receiver<Phase>,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
}

/// Serves one connection to its end.
pub(super) async fn serve(setup: Setup) {
    let Setup {
        tcp,
        peer,
        accepted,
        permit,
        acceptor,
        builder,
        app,
        mut phase,
        handshake_timeout,
        header_timeout,
        idle_timeout,
    } = setup;
    // The first request head is due `header_timeout` after the accept, handshake included.
    let first_request_due = accepted + header_timeout;
    let handshake_due = (accepted + handshake_timeout).min(first_request_due);
    let handshake = tokio::time::timeout_at(handshake_due, acceptor.accept(tcp));
    let tls = tokio::select! {
        result = handshake => match result {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "TLS handshake timed out");
                return;
            }
        },
        () = shutting_down(&mut phase) => return,
    };
    let activity = Arc::new(Activity::new());
    let service = Tracked {
        app,
        activity: activity.clone(),
    };
    let io = ConnIo {
        tls: Some(tls),
        closed_by_us: false,
        peer_done: false,
        permit: Some(permit),
    };
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let deadlines = activity.expired(first_request_due, idle_timeout);
    tokio::pin!(deadlines);
    // Set once the connection was asked to close; it is dropped if not closed by then.
    let mut close_by: Option<Instant> = None;
    let mut draining = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            expired = &mut deadlines, if close_by.is_none() => match expired {
                Expired::FirstRequest => {
                    tracing::debug!(
                        %peer,
                        header_timeout_ms = header_timeout.as_millis() as u64,
                        "no complete request head in time; closing"
                    );
                    return;
                }
                Expired::Idle => {
                    tracing::debug!(
                        %peer,
                        idle_timeout_ms = idle_timeout.as_millis() as u64,
                        "idle connection; closing"
                    );
                    if !draining {
                        conn.as_mut().graceful_shutdown();
                    }
                    close_by = Some(Instant::now() + header_timeout);
                }
            },
            () = sleep_until_some(close_by) => {
                tracing::debug!(%peer, "connection did not close when asked; dropping it");
                return;
            }
            changed = phase.changed() => {
                let now = match changed {
                    Ok(()) => *phase.borrow_and_update(),
                    Err(_) => Phase::Abort,
                };
                match now {
                    Phase::Serving => {}
                    Phase::Draining => {
                        if !draining && close_by.is_none() {
                            conn.as_mut().graceful_shutdown();
                        }
                        draining = true;
                    }
                    Phase::Abort => return,
                }
            }
        }
    }
}

/// Completes once the server is shutting down (or gone).
async fn shutting_down(phase: &mut watch::Receiver<Phase>) {
    let _ = phase.wait_for(|p| *p != Phase::Serving).await;
}

async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Why a connection's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expired {
    /// No request head was complete within the header timeout.
    FirstRequest,
    /// No request started or finished within the idle timeout.
    Idle,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// No request yet.
    Fresh,
    /// Requests in flight, and when one last started or finished.
    Busy { requests: usize, since: Instant },
    /// No request in flight since then.
    Idle { since: Instant },
}

/// The requests of one connection, as its deadlines need them.
#[derive(Debug)]
struct Activity {
    state: Mutex<State>,
    changed: Notify,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            state: Mutex::new(State::Fresh),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> State {
        *self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A request head is complete: the request is in flight until the guard drops (with the
    /// response body, once it is sent).
    fn begin(self: &Arc<Self>) -> InFlight {
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let requests = match *state {
                State::Busy { requests, .. } => requests + 1,
                State::Fresh | State::Idle { .. } => 1,
            };
            *state = State::Busy {
                requests,
                since: Instant::now(),
            };
        }
        self.changed.notify_one();
        InFlight(self.clone())
    }

    fn end(&self) {
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            *state = match *state {
                State::Busy { requests, .. } if requests > 1 => State::Busy {
                    requests: requests - 1,
                    since: Instant::now(),
                },
                _ => State::Idle {
                    since: Instant::now(),
                },
            };
        }
        self.changed.notify_one();
    }

    /// Completes when a deadline passes: the first request head not complete by
    /// `first_request_due`, or `idle` without a request starting or finishing.
    async fn expired(&self, first_request_due: Instant, idle: Duration) -> Expired {
        loop {
            let (deadline, reason) = match self.state() {
                State::Fresh => (first_request_due, Expired::FirstRequest),
                State::Busy { since, .. } | State::Idle { since } => (since + idle, Expired::Idle),
            };
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    // Only if nothing happened meanwhile.
                    let same = match (self.state(), reason) {
                        (State::Fresh, Expired::FirstRequest) => true,
                        (State::Busy { since, .. } | State::Idle { since }, Expired::Idle) => {
                            since + idle <= Instant::now()
                        }
                        _ => false,
                    };
                    if same {
                        return reason;
                    }
                }
                () = self.changed.notified() => {}
            }
        }
    }
}

/// A request in flight on a connection.
#[derive(Debug)]
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

/// The router, noting each request's start and end for the connection's deadlines.
#[derive(Clone)]
struct Tracked {
    app: axum::Router,
    activity: Arc<Activity>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl hyper::service::Service<Request<Incoming>> for Tracked {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let in_flight = self.activity.begin();
        let app = self.app.clone();
        Box::pin(async move {
            let response = tower::ServiceExt::oneshot(app, req).await?;
            Ok(response.map(|body| TrackedBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// A response body that keeps its request in flight until it is sent (or dropped).
struct TrackedBody {
    body: axum::body::Body,
    _in_flight: InFlight,
}

impl Body for TrackedBody {
    type Data = hyper::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The TLS stream of a connection, holding its slot under the connection limit. When the
/// server closed its side while the client may still be sending, dropping it hands the
/// socket (and the slot) to a lingering close.
struct ConnIo {
    tls: Option<TlsStream<TcpStream>>,
    /// The server sent close_notify and shut down its side.
    closed_by_us: bool,
    /// The client closed its side, or the connection failed: nothing to linger for.
    peer_done: bool,
    permit: Option<OwnedSemaphorePermit>,
}

impl ConnIo {
    fn io(&mut self) -> std::io::Result<&mut TlsStream<TcpStream>> {
        self.tls
            .as_mut()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotConnected))
    }

    fn note<T>(&mut self, poll: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(Err(_)) = &poll {
            self.peer_done = true;
        }
        poll
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = match this.io() {
            Ok(io) => Pin::new(io).poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        };
        if let Poll::Ready(Ok(())) = &poll {
            if buf.filled().len() == before && buf.remaining() > 0 {
                this.peer_done = true;
            }
        }
        this.note(poll)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = match this.io() {
            Ok(io) => Pin::new(io).poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        };
        this.note(poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let poll = match this.io() {
            Ok(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        };
        this.note(poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.is_write_vectored())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let poll = match this.io() {
            Ok(io) => Pin::new(io).poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        };
        this.note(poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let poll = match this.io() {
            Ok(io) => Pin::new(io).poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        };
        if let Poll::Ready(Ok(())) = &poll {
            this.closed_by_us = true;
        }
        this.note(poll)
    }
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if !self.closed_by_us || self.peer_done {
            return;
        }
        let (Some(tls), Ok(runtime)) = (self.tls.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let permit = self.permit.take();
        runtime.spawn(async move {
            let (tcp, _) = tls.into_inner();
            linger(tcp).await;
            drop(permit);
        });
    }
}

/// Reads and discards what the client still sends, until it closes its side, falls silent
/// for [`LINGER_QUIET`], or [`LINGER_TOTAL`] has passed.
async fn linger(mut tcp: TcpStream) {
    let until = Instant::now() + LINGER_TOTAL;
    let mut sink = vec![0u8; 16 * 1024];
    loop {
        let quiet = (Instant::now() + LINGER_QUIET).min(until);
        match tokio::time::timeout_at(quiet, tcp.read(&mut sink)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return,
        }
    }
}
