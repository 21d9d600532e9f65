//! Idle, slow and oversized clients over real TLS on 127.0.0.1: the first-request and idle
//! deadlines, the connection limit, and 413 answers as they arrive on the wire.

use crate::util::{date, privileged_pod, review, state};
use hyper::body::Bytes;
use palisade_admission::certs::{CertAuthority, TlsFiles};
use palisade_admission::client::{tls_config, tls_config_alpn, Client};
use palisade_admission::{FixedClock, ServeError, Server, ServerConfig};
use rustls::pki_types::ServerName;
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// The tests that open many sockets run one at a time.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The webhook's default body limit.
const LIMIT: usize = 3 * 1024 * 1024;

struct Started {
    addr: SocketAddr,
    ca_pem: String,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<Result<(), ServeError>>,
    _dir: tempfile::TempDir,
}

async fn start(configure: impl FnOnce(&mut ServerConfig)) -> Started {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = CertAuthority::generate("palisade-test-ca").expect("ca");
    let issued = ca
        .issue(
            &["localhost".to_owned()],
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
        )
        .expect("issue");
    let files = TlsFiles {
        cert: dir.path().join("tls.crt"),
        key: dir.path().join("tls.key"),
    };
    std::fs::write(&files.cert, &issued.cert_pem).expect("write");
    std::fs::write(&files.key, &issued.key_pem).expect("write");
    let state = state(
        "defaultMode: deny\n",
        Arc::new(FixedClock::new(date("2026-11-23"))),
    );
    let mut config = ServerConfig::new("127.0.0.1:0".parse().expect("addr"), files);
    configure(&mut config);
    let server = Server::bind(config, state).await.expect("bind");
    let addr = server.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    Started {
        addr,
        ca_pem: ca.cert_pem(),
        shutdown: Some(tx),
        handle,
        _dir: dir,
    }
}

impl Started {
    fn config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        tls_config_alpn(&self.ca_pem, alpn).expect("client config")
    }

    /// A well-formed review on a new connection; the uid it was answered for.
    async fn review(&self, uid: &str) -> String {
        let mut c = Client::connect(
            self.addr,
            tls_config(&self.ca_pem).expect("config"),
            "localhost",
        )
        .await
        .expect("connect");
        let (status, bytes) = c
            .post(
                "/validate",
                Bytes::from(review(uid, "CREATE", privileged_pod("a", "p")).to_string()),
            )
            .await
            .expect("request");
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        let v: Value = serde_json::from_slice(&bytes).expect("JSON");
        v["response"]["uid"].as_str().unwrap_or_default().to_owned()
    }

    async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        tokio::time::timeout(Duration::from_secs(30), self.handle)
            .await
            .expect("server stops")
            .expect("join")
            .expect("server ran");
    }
}

/// A TCP connection with a completed TLS handshake.
async fn open_tls(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").expect("server name");
    TlsConnector::from(config).connect(name, tcp).await
}

/// Reads (and discards) until the server closes the connection; when it did, if by
/// `deadline`.
async fn closed_by(stream: &mut (impl AsyncRead + Unpin), deadline: Instant) -> Option<Instant> {
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => return Some(Instant::now()),
            Ok(Ok(_)) => {}
        }
    }
}

/// Everything the server sends until it closes the connection (or `within` passes).
async fn read_all(stream: &mut (impl AsyncRead + Unpin), within: Duration) -> Vec<u8> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => out.extend_from_slice(&buf[..n]),
            _ => return out,
        }
    }
}

/// An HTTP/1.1 response: status, headers (names lower-cased), body as JSON.
fn parse_response(bytes: &[u8]) -> (u16, Vec<(String, String)>, Value) {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no complete response: {text:?}"));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()));
    (status, headers, body)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The 413 answer: a Kubernetes `Status` naming the limit.
fn assert_too_large(status: u16, body: &Value, declared: Option<u64>) {
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["apiVersion"], "v1", "{body}");
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["reason"], "RequestEntityTooLarge", "{body}");
    assert_eq!(body["code"], 413, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("limit of {LIMIT} bytes")),
        "{message}"
    );
    if let Some(n) = declared {
        assert!(message.contains(&format!("of {n} bytes")), "{message}");
    }
    assert_eq!(body["error"].as_str(), Some(message));
}

/// Raises the soft open-file limit (up to the hard one) to `wanted` when it is lower;
/// returns the soft limit now in force.
#[cfg(unix)]
fn open_file_limit(wanted: u64) -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let limit = getrlimit(Resource::Nofile);
    let Some(current) = limit.current else {
        return u64::MAX;
    };
    if current < wanted {
        let raised = limit.maximum.map_or(wanted, |max| max.min(wanted));
        if let Err(e) = setrlimit(
            Resource::Nofile,
            rustix::process::Rlimit {
                current: Some(raised),
                maximum: limit.maximum,
            },
        ) {
            eprintln!("cannot raise the open-file limit from {current} to {raised}: {e}");
        }
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

#[cfg(not(unix))]
fn open_file_limit(_wanted: u64) -> u64 {
    u64::MAX
}

/// How many idle connections one test can open: `wanted`, unless the open-file limit (two
/// descriptors per connection in this process, plus a margin for the rest) forbids it.
fn affordable_connections(wanted: usize) -> usize {
    const MARGIN: u64 = 200;
    let limit = open_file_limit(2 * wanted as u64 + MARGIN);
    let affordable = usize::try_from(limit.saturating_sub(MARGIN) / 2).unwrap_or(wanted);
    if affordable < wanted {
        eprintln!("open-file limit {limit}: {affordable} connections instead of {wanted}");
    }
    affordable.min(wanted)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Junk {
    /// TLS handshake, then nothing.
    Silent,
    /// Half an HTTP/1.1 request head.
    HalfHead,
    /// The HTTP/2 preface and SETTINGS, then no request.
    Http2Preface,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_and_reviews_still_answered() {
    let _heavy = HEAVY.lock().await;
    let count = affordable_connections(500);
    assert!(count >= 100, "open-file limit too low for this test");
    let header_timeout = Duration::from_secs(2);
    let s = start(|c| {
        c.header_timeout = header_timeout;
        c.max_connections = count + 16;
    })
    .await;
    let started = Instant::now();
    let h1 = s.config(&[b"http/1.1"]);
    let h2 = s.config(&[b"h2"]);
    // At most 32 handshakes at once, as a client pool would open them.
    let gate = Arc::new(Semaphore::new(32));
    let mut opening = JoinSet::new();
    for i in 0..count {
        let kind = match i % 10 {
            0 => Junk::Http2Preface,
            1 | 2 => Junk::HalfHead,
            _ => Junk::Silent,
        };
        let config = if kind == Junk::Http2Preface {
            h2.clone()
        } else {
            h1.clone()
        };
        let (gate, addr) = (gate.clone(), s.addr);
        opening.spawn(async move {
            let _turn = gate.acquire_owned().await.expect("gate");
            let opened = Instant::now();
            let mut tls = open_tls(addr, config).await?;
            match kind {
                Junk::Silent => {}
                Junk::HalfHead => {
                    tls.write_all(b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
                        .await?;
                    tls.flush().await?;
                }
                Junk::Http2Preface => {
                    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
                        .await?;
                    tls.flush().await?;
                }
            }
            std::io::Result::Ok((kind, opened, tls))
        });
    }
    let mut open = Vec::new();
    let mut failed = Vec::new();
    while let Some(joined) = opening.join_next().await {
        match joined.expect("join") {
            Ok(c) => open.push(c),
            Err(e) => failed.push(e.to_string()),
        }
    }
    let opened_in = started.elapsed();
    assert!(
        failed.is_empty(),
        "{} of {count} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );

    // A review sent while they are open is answered.
    let asked = Instant::now();
    let uid = tokio::time::timeout(Duration::from_secs(10), s.review("amid-idle"))
        .await
        .expect("review answered within 10 s");
    assert_eq!(uid, "amid-idle");
    let answered = Instant::now();
    // The server closes none before the header timeout (checked below): those opened less
    // than that before the answer were held while the review was served.
    let held = open
        .iter()
        .filter(|(_, opened, _)| *opened + header_timeout > answered)
        .count();
    assert!(
        held >= count / 10,
        "only {held} idle connections were open while the review was served"
    );

    // Every one of them is closed by the server: not before the header timeout, and within
    // it plus a generous margin.
    let mut watching = JoinSet::new();
    for (kind, opened, mut tls) in open {
        watching.spawn(async move {
            let closed =
                closed_by(&mut tls, opened + header_timeout + Duration::from_secs(10)).await;
            (kind, closed.map(|at| at - opened))
        });
    }
    let mut slowest = Duration::ZERO;
    let mut closed = 0;
    while let Some(joined) = watching.join_next().await {
        let (kind, after) = joined.expect("join");
        let after = after.unwrap_or_else(|| panic!("{kind:?} connection still open"));
        assert!(
            after + Duration::from_millis(50) >= header_timeout,
            "{kind:?} connection closed after {after:?}, before the header timeout"
        );
        slowest = slowest.max(after);
        closed += 1;
    }
    assert_eq!(closed, count);
    // Still serving.
    assert_eq!(s.review("after-idle").await, "after-idle");
    println!(
        "{count} idle connections opened in {opened_in:?}; review answered in {:?} with \
         {held} of them open; all closed, the last {slowest:?} after opening",
        answered - asked
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_limit_new_connections_wait_for_a_free_slot() {
    let _heavy = HEAVY.lock().await;
    let limit = 20;
    let header_timeout = Duration::from_secs(3);
    let s = start(|c| {
        c.max_connections = limit;
        c.header_timeout = header_timeout;
    })
    .await;
    let config = s.config(&[b"http/1.1"]);
    let first_opened = Instant::now();
    let mut held = Vec::new();
    for _ in 0..limit {
        let opened = Instant::now();
        held.push((
            opened,
            open_tls(s.addr, config.clone()).await.expect("handshake"),
        ));
    }
    // One more: it waits in the listen backlog while every slot is taken.
    let (addr, client) = (s.addr, tls_config(&s.ca_pem).expect("config"));
    let mut queued = tokio::spawn(async move {
        let mut c = Client::connect(addr, client, "localhost").await?;
        let connected = Instant::now();
        let answer = c
            .post(
                "/validate",
                Bytes::from(review("queued", "CREATE", privileged_pod("a", "p")).to_string()),
            )
            .await?;
        Ok::<_, palisade_admission::client::ClientError>((connected, answer))
    });
    assert!(
        tokio::time::timeout(Duration::from_secs(1), &mut queued)
            .await
            .is_err(),
        "a connection over the limit was served while every slot was held"
    );
    // Served once the idle ones are closed for sending nothing.
    let (connected, (status, bytes)) =
        tokio::time::timeout(header_timeout + Duration::from_secs(10), queued)
            .await
            .expect("served once a slot freed")
            .expect("join")
            .expect("request");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&bytes).contains("\"queued\""));
    assert!(
        connected - first_opened + Duration::from_millis(50) >= header_timeout,
        "accepted after {:?}, before any slot could free",
        connected - first_opened
    );
    for (opened, mut tls) in held {
        assert!(
            closed_by(&mut tls, opened + header_timeout + Duration::from_secs(10))
                .await
                .is_some(),
            "idle connection still open"
        );
    }
    println!(
        "limit {limit}: the connection over it was accepted {:?} after the first",
        connected - first_opened
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kept_alive_connections_outlive_the_header_timeout_then_close_when_idle() {
    let header_timeout = Duration::from_millis(500);
    let idle_timeout = Duration::from_secs(3);
    let s = start(|c| {
        c.header_timeout = header_timeout;
        c.idle_timeout = idle_timeout;
    })
    .await;
    let one = |alpn: &'static [u8]| {
        let (addr, config) = (s.addr, s.config(&[alpn]));
        async move {
            let mut c = Client::connect(addr, config, "localhost")
                .await
                .expect("connect");
            assert_eq!(c.is_http2(), alpn == b"h2");
            let body = Bytes::from(review("ka", "CREATE", privileged_pod("a", "p")).to_string());
            let (status, _) = c.post("/validate", body.clone()).await.expect("first");
            assert_eq!(status, 200);
            // Twice the header timeout later, the kept-alive connection is still usable.
            tokio::time::sleep(header_timeout * 2).await;
            assert!(
                !c.is_closed(),
                "kept-alive connection closed by the header timeout"
            );
            let (status, _) = c
                .post("/validate", body)
                .await
                .expect("second, same connection");
            assert_eq!(status, 200);
            let answered = Instant::now();
            // Then closed once idle for the idle timeout.
            let deadline = answered + idle_timeout + Duration::from_secs(10);
            while !c.is_closed() {
                assert!(Instant::now() < deadline, "idle connection never closed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            answered.elapsed()
        }
    };
    let (h1, h2) = tokio::join!(one(b"http/1.1"), one(b"h2"));
    for (protocol, after) in [("HTTP/1.1", h1), ("HTTP/2", h2)] {
        assert!(
            after >= idle_timeout / 2,
            "{protocol}: closed {after:?} after its last answer, before the idle timeout"
        );
        println!("{protocol}: idle connection closed {after:?} after its last answer");
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_body_stalls_is_bounded_by_the_idle_timeout() {
    let header_timeout = Duration::from_millis(500);
    let idle_timeout = Duration::from_secs(1);
    let s = start(|c| {
        c.header_timeout = header_timeout;
        c.idle_timeout = idle_timeout;
    })
    .await;
    let mut tls = open_tls(s.addr, s.config(&[b"http/1.1"]))
        .await
        .expect("connect");
    tls.write_all(&head("Content-Length: 1000\r\n"))
        .await
        .expect("write");
    tls.write_all(b"{\"apiVersion\":").await.expect("write");
    tls.flush().await.expect("flush");
    let sent = Instant::now();
    // Far sooner than the handler's own bound (twice the 8 s evaluation timeout): the idle
    // timeout, then the header timeout to close.
    let closed = closed_by(&mut tls, sent + Duration::from_secs(8))
        .await
        .expect("stalled request still open");
    let after = closed - sent;
    assert!(
        after + Duration::from_millis(50) >= idle_timeout,
        "{after:?}"
    );
    println!("stalled request closed after {after:?}");
    s.stop().await;
}

fn head(extra: &str) -> Vec<u8> {
    let head = "POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n";
    format!("{head}{extra}\r\n").into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_a_413_status_on_the_wire() {
    let s = start(|_| {}).await;
    let h1 = s.config(&[b"http/1.1"]);
    let big: u64 = 50 * 1024 * 1024;
    let chunk = vec![b' '; 64 * 1024];

    // Declared over the limit and never sent: answered without reading the body.
    let mut tls = open_tls(s.addr, h1.clone()).await.expect("connect");
    tls.write_all(&head(&format!("Content-Length: {big}\r\n")))
        .await
        .expect("write");
    let (status, headers, body) =
        parse_response(&read_all(&mut tls, Duration::from_secs(10)).await);
    assert_too_large(status, &body, Some(big));
    assert_eq!(header(&headers, "connection"), Some("close"));

    // Declared over the limit, the client sending it all the same: it still reads the 413.
    let tls = open_tls(s.addr, h1.clone()).await.expect("connect");
    let (mut rx, mut tx) = tokio::io::split(tls);
    let (head_bytes, data) = (head(&format!("Content-Length: {big}\r\n")), chunk.clone());
    let sending = tokio::spawn(async move {
        tx.write_all(&head_bytes).await?;
        for _ in 0..big / data.len() as u64 {
            tx.write_all(&data).await?;
        }
        tx.flush().await
    });
    let (status, _, body) = parse_response(&read_all(&mut rx, Duration::from_secs(30)).await);
    assert_too_large(status, &body, Some(big));
    let _ = sending.await;

    // Chunked: cut when it goes past the limit.
    let tls = open_tls(s.addr, h1.clone()).await.expect("connect");
    let (mut rx, mut tx) = tokio::io::split(tls);
    let data = chunk.clone();
    let sending = tokio::spawn(async move {
        tx.write_all(&head("Transfer-Encoding: chunked\r\n"))
            .await?;
        for _ in 0..big / data.len() as u64 {
            tx.write_all(format!("{:x}\r\n", data.len()).as_bytes())
                .await?;
            tx.write_all(&data).await?;
            tx.write_all(b"\r\n").await?;
        }
        tx.write_all(b"0\r\n\r\n").await?;
        tx.flush().await
    });
    let (status, headers, body) = parse_response(&read_all(&mut rx, Duration::from_secs(30)).await);
    assert_too_large(status, &body, None);
    assert_eq!(header(&headers, "connection"), Some("close"));
    let _ = sending.await;

    // HTTP/2: the same answer, and the connection keeps serving.
    let mut c = Client::connect(s.addr, s.config(&[b"h2"]), "localhost")
        .await
        .expect("connect");
    assert!(c.is_http2());
    let (status, bytes) = c
        .post("/validate", Bytes::from(vec![b' '; 2 * LIMIT]))
        .await
        .expect("request");
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_too_large(status.as_u16(), &body, Some(2 * LIMIT as u64));
    let (status, _) = c
        .post(
            "/validate",
            Bytes::from(review("h2-after", "CREATE", privileged_pod("a", "p")).to_string()),
        )
        .await
        .expect("request");
    assert_eq!(status, 200);
    s.stop().await;
}
