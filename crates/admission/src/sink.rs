//! Alert sinks: each detection alert POSTed as JSON to an HTTP endpoint (`palisade detect
//! serve --sink-url`, `palisade detect --follow --sink-url`), in Palisade's own format or
//! as Falco's JSON output, so pipelines built for Falco (falcosidekick-style routers) take
//! Palisade's alerts unchanged.
//!
//! Delivery never blocks the caller: [`HttpSink::push`] only puts the alert on a bounded
//! queue; one task sends them in order, retrying a failed POST (connection refused, a
//! non-2xx answer, a timeout) with exponential back-off. An alert is dropped, and counted,
//! when the queue is full or its retries run out.

use hyper::body::Bytes;
use palisade_detect::Alert;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The JSON an alert is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SinkFormat {
    /// Palisade's alert JSON (as `palisade detect --format json` writes each alert).
    Palisade,
    /// Falco's JSON output (`output`, `priority`, `rule`, `time`, `output_fields`, `source`,
    /// `tags`, `hostname`), with the `k8s_audit` plugin's field names.
    Falco,
}

impl std::str::FromStr for SinkFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "palisade" | "json" => Ok(SinkFormat::Palisade),
            "falco" => Ok(SinkFormat::Falco),
            _ => Err(format!(
                "unknown sink format `{s}` (expected palisade or falco)"
            )),
        }
    }
}

/// Sink settings.
#[derive(Clone, Debug)]
pub struct SinkOptions {
    /// `http://` or `https://` URL (https verified against the system's roots).
    pub url: String,
    /// The JSON format.
    pub format: SinkFormat,
    /// Alerts waiting to be sent at most; beyond, new alerts are dropped.
    pub queue: usize,
    /// Retries of a failed POST before the alert is dropped.
    pub retries: u32,
    /// The first back-off; it doubles on each retry, up to 30 s.
    pub backoff: Duration,
    /// Time allowed to one POST.
    pub timeout: Duration,
}

impl SinkOptions {
    /// Defaults for `url`: Palisade's format, 10,000 queued alerts, 5 retries from 200 ms,
    /// 10 s per POST.
    pub fn new(url: impl Into<String>) -> SinkOptions {
        SinkOptions {
            url: url.into(),
            format: SinkFormat::Palisade,
            queue: 10_000,
            retries: 5,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(10),
        }
    }
}

/// What a sink did, so far.
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Alerts delivered (2xx).
    pub sent: AtomicU64,
    /// Alerts dropped: queue full, or retries exhausted.
    pub dropped: AtomicU64,
    /// Failed attempts that were retried.
    pub retried: AtomicU64,
    /// Alerts queued and not yet delivered or dropped (the one being sent included).
    pending: AtomicU64,
}

/// Why a sink cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The URL is not an http(s) URL.
    #[error("invalid sink URL `{0}` (expected http:// or https://)")]
    Url(String),
    /// The system's root certificates could not be loaded (https).
    #[error("cannot load the system's root certificates")]
    Roots(#[source] std::io::Error),
}

/// A running sink.
#[derive(Clone, Debug)]
pub struct HttpSink {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    format: SinkFormat,
    stats: Arc<SinkStats>,
}

impl HttpSink {
    /// Starts the sender task (inside a Tokio runtime).
    pub fn start(opts: SinkOptions) -> Result<HttpSink, SinkError> {
        let uri: hyper::Uri = opts
            .url
            .parse()
            .map_err(|_| SinkError::Url(opts.url.clone()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(SinkError::Url(opts.url.clone()));
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(SinkError::Roots)?
            .https_or_http()
            .enable_http1()
            .build();
        let client: hyper_util::client::legacy::Client<_, http_body_util::Full<Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(opts.queue.max(1));
        let stats = Arc::new(SinkStats::default());
        let st = stats.clone();
        tokio::spawn(async move {
            while let Some(body) = rx.recv().await {
                let mut delay = opts.backoff;
                let mut delivered = false;
                for attempt in 0..=opts.retries {
                    if attempt > 0 {
                        st.retried.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(30));
                    }
                    let req = hyper::Request::post(uri.clone())
                        .header(hyper::header::CONTENT_TYPE, "application/json")
                        .header(
                            hyper::header::USER_AGENT,
                            concat!("palisade/", env!("CARGO_PKG_VERSION")),
                        )
                        .body(http_body_util::Full::new(body.clone()));
                    let Ok(req) = req else { break };
                    let sent = tokio::time::timeout(opts.timeout, client.request(req)).await;
                    if let Ok(Ok(resp)) = sent {
                        if resp.status().is_success() {
                            delivered = true;
                            break;
                        }
                    }
                }
                // Counted before the alert stops being pending, so that a drained sink's
                // counters are final.
                if delivered {
                    st.sent.fetch_add(1, Ordering::Relaxed);
                } else {
                    st.dropped.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        dropped = st.dropped.load(Ordering::Relaxed),
                        "alert sink: an alert could not be delivered and was dropped"
                    );
                }
                st.pending.fetch_sub(1, Ordering::SeqCst);
            }
        });
        Ok(HttpSink {
            tx,
            format: opts.format,
            stats,
        })
    }

    /// Queues an alert (never waits); a full queue drops it and counts it.
    pub fn push(&self, alert: &Alert) {
        let body = match self.format {
            SinkFormat::Palisade => serde_json::to_vec(alert).unwrap_or_default(),
            SinkFormat::Falco => falco_json(alert).to_string().into_bytes(),
        };
        self.stats.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.try_send(Bytes::from(body)).is_err() {
            self.stats.pending.fetch_sub(1, Ordering::SeqCst);
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counters.
    pub fn stats(&self) -> Arc<SinkStats> {
        self.stats.clone()
    }

    /// Waits until every queued alert has been delivered or dropped (the last one's POST
    /// answered, not merely taken off the queue), at most `timeout`: for a clean shutdown.
    pub async fn drain(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.stats.pending.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Falco's priority for a severity.
fn priority(s: palisade_detect::Severity) -> &'static str {
    use palisade_detect::Severity::*;
    match s {
        Critical => "Critical",
        High => "Error",
        Medium => "Warning",
        Low => "Notice",
        Info => "Informational",
    }
}

/// An alert as Falco's JSON output of a `k8s_audit` rule.
pub fn falco_json(a: &Alert) -> Value {
    let priority = priority(a.severity);
    let target = a.object.display();
    let output = format!(
        "{} {}: {} (user={} verb={} target={} auditID={})",
        a.time, priority, a.message, a.user, a.verb, target, a.audit_id
    );
    let mut tags: Vec<String> = vec!["k8s".into(), "palisade".into(), a.rule_id.clone()];
    tags.extend(a.mitre.iter().cloned());
    json!({
        "output": output,
        "priority": priority,
        "rule": a.rule_name,
        "time": a.time,
        "source": "k8s_audit",
        "hostname": "palisade",
        "tags": tags,
        "output_fields": {
            "ka.auditid": a.audit_id,
            "ka.user.name": a.user,
            "ka.user.groups": a.groups,
            "ka.impuser.name": a.impersonated_user,
            "ka.verb": a.verb,
            "ka.target.resource": a.object.resource,
            "ka.target.namespace": a.object.namespace,
            "ka.target.name": a.object.name,
            "ka.target.subresource": a.object.subresource,
            "ka.sourceips": a.source_ips,
            "ka.response.code": a.code,
            "palisade.rule_id": a.rule_id,
            "palisade.count": a.count,
        },
    })
}
