//! Load generator for the admission webhook: starts the webhook in-process on 127.0.0.1
//! (real TLS, certificates from rcgen, the default rule set), then sends AdmissionReviews at
//! fixed rates (open loop: requests are dispatched on a fixed schedule whatever the
//! latency; latency is measured from dispatch, waiting for a free connection included) over
//! a pool of keep-alive HTTPS connections, and reports p50/p90/p99/max latency and the
//! throughput achieved.
//!
//! ```sh
//! cargo run --release -p palisade-admission --example loadgen -- --rates 500,2000 --duration 10
//! ```
//!
//! Options: `--rates R1,R2,...` (requests/s, default 500,2000), `--duration SECONDS`
//! (default 10 per rate), `--connections N` (default 32), `--server-threads N` (default 2),
//! `--review FILE` (an AdmissionReview JSON; default a Deployment with a typical pod),
//! `--policy FILE` (palisade.yaml; default: the default policy, every finding audited),
//! `--http2` (HTTP/2 connections, as the API server opens; default HTTP/1.1).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use hyper::body::Bytes;
use palisade_admission::certs::{CertAuthority, TlsFiles};
use palisade_admission::client::{tls_config, Client};
use palisade_admission::{
    AppState, Evaluator, EvaluatorOptions, Limits, Server, ServerConfig, SystemClock,
};
use palisade_analyze::Options;
use palisade_core::Policy;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    rates: Vec<u32>,
    duration: u64,
    connections: usize,
    server_threads: usize,
    review: Option<String>,
    policy: Option<String>,
    http2: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        rates: vec![500, 2000],
        duration: 10,
        connections: 32,
        server_threads: 2,
        review: None,
        policy: None,
        http2: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--rates" => {
                a.rates = value()
                    .split(',')
                    .map(|r| r.trim().parse().expect("rate"))
                    .collect()
            }
            "--duration" => a.duration = value().parse().expect("seconds"),
            "--connections" => a.connections = value().parse().expect("connections"),
            "--server-threads" => a.server_threads = value().parse().expect("threads"),
            "--review" => a.review = Some(value()),
            "--policy" => a.policy = Some(value()),
            "--http2" => a.http2 = true,
            other => panic!("unknown option {other}"),
        }
    }
    a
}

fn policy(path: Option<&str>) -> Policy {
    let Some(path) = path else {
        return Policy::default();
    };
    let text = std::fs::read_to_string(path).expect("policy file");
    let doc = palisade_load::yaml::parse_documents(&text, 1, true)
        .expect("policy YAML")
        .into_iter()
        .next()
        .expect("one document");
    Policy::from_value(
        &doc.value,
        &doc.spans,
        path,
        &palisade_rules::registry::metas(),
    )
    .expect("valid policy")
}

/// A Deployment such as a CI pipeline applies: hardened in part, with a few findings.
fn default_review() -> String {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "00000000-0000-0000-0000-000000000000",
            "kind": { "group": "apps", "version": "v1", "kind": "Deployment" },
            "resource": { "group": "apps", "version": "v1", "resource": "deployments" },
            "requestKind": { "group": "apps", "version": "v1", "kind": "Deployment" },
            "requestResource": { "group": "apps", "version": "v1", "resource": "deployments" },
            "name": "checkout",
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": { "username": "ci-deployer", "groups": ["ci", "system:authenticated"] },
            "object": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": "checkout",
                    "namespace": "shop",
                    "labels": { "app": "checkout", "team": "payments" },
                    "annotations": { "deployment.kubernetes.io/revision": "1" }
                },
                "spec": {
                    "replicas": 3,
                    "selector": { "matchLabels": { "app": "checkout" } },
                    "template": {
                        "metadata": { "labels": { "app": "checkout" } },
                        "spec": {
                            "securityContext": { "runAsNonRoot": true, "seccompProfile": { "type": "RuntimeDefault" } },
                            "containers": [{
                                "name": "checkout",
                                "image": "ghcr.io/example/checkout:1.4.2",
                                "ports": [{ "containerPort": 8080 }],
                                "env": [
                                    { "name": "DB_HOST", "value": "db.shop.svc" },
                                    { "name": "DB_PASSWORD", "valueFrom": { "secretKeyRef": { "name": "db", "key": "password" } } }
                                ],
                                "resources": { "requests": { "cpu": "100m", "memory": "128Mi" }, "limits": { "memory": "256Mi" } },
                                "readinessProbe": { "httpGet": { "path": "/ready", "port": 8080 } },
                                "securityContext": { "allowPrivilegeEscalation": false, "capabilities": { "drop": ["ALL"] } }
                            }, {
                                "name": "sidecar",
                                "image": "envoyproxy/envoy:v1.31.0",
                                "securityContext": { "allowPrivilegeEscalation": false }
                            }]
                        }
                    }
                }
            },
            "oldObject": null,
            "dryRun": false,
            "options": { "apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions" }
        }
    })
    .to_string()
}

/// CPU time (user + system) this process has used, from /proc (Linux); zero elsewhere.
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which is in parentheses): utime is the 14th field.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return Duration::ZERO;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

async fn run_rate(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    body: Bytes,
    rate: u32,
    seconds: u64,
    connections: usize,
) -> (Vec<Duration>, usize, Duration) {
    let (pool_tx, pool_rx) = tokio::sync::mpsc::unbounded_channel::<Client>();
    for _ in 0..connections {
        let c = Client::connect(addr, config.clone(), "localhost")
            .await
            .expect("connect");
        pool_tx.send(c).expect("pool");
    }
    let pool_rx = Arc::new(tokio::sync::Mutex::new(pool_rx));
    let total = rate as usize * seconds as usize;
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let errors = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let start = Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = start + period * (i as u32);
        tokio::time::sleep_until(scheduled.into()).await;
        let (pool_rx, pool_tx, body, latencies, errors) = (
            pool_rx.clone(),
            pool_tx.clone(),
            body.clone(),
            latencies.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            // Latency from dispatch (waiting for a free connection included); the timer
            // wheel's millisecond granularity would otherwise add up to 1 ms of our own.
            let dispatched = Instant::now();
            let mut client = pool_rx.lock().await.recv().await.expect("client");
            match client.post("/validate", body).await {
                Ok((status, _)) if status == 200 => {
                    latencies.lock().expect("lock").push(dispatched.elapsed());
                }
                _ => {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            let _ = pool_tx.send(client);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed();
    let mut l = std::mem::take(&mut *latencies.lock().expect("lock"));
    l.sort();
    (
        l,
        errors.load(std::sync::atomic::Ordering::Relaxed),
        elapsed,
    )
}

fn main() {
    let args = parse_args();
    let dir = std::env::temp_dir().join(format!("palisade-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca = CertAuthority::generate("loadgen-ca").expect("ca");
    let issued = ca
        .issue(&["localhost".into()], &[IpAddr::V4(Ipv4Addr::LOCALHOST)])
        .expect("cert");
    let files = TlsFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    std::fs::write(&files.cert, &issued.cert_pem).expect("write");
    std::fs::write(&files.key, &issued.key_pem).expect("write");

    let today = jiff::tz::TimeZone::system()
        .to_datetime(jiff::Timestamp::now())
        .date();
    let evaluator = Evaluator::new(
        Options {
            policy: policy(args.policy.as_deref()),
            ..Options::new(today)
        },
        EvaluatorOptions::default(),
    );
    let rules = evaluator.rule_ids().len();
    {
        // Evaluation alone, on this thread: the floor under the HTTP latency.
        let body = default_review();
        let n = 2000;
        let t = Instant::now();
        for _ in 0..n {
            let _ = evaluator.review(body.as_bytes(), today).expect("review");
        }
        let t2 = Instant::now();
        for _ in 0..n {
            let _ = palisade_admission::Clock::today(&SystemClock);
        }
        println!(
            "clock: {:.1} µs per call",
            t2.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        );
        println!(
            "evaluation alone (parse, {} rules, policy, response): {:.1} µs per review",
            evaluator.rule_ids().len(),
            t.elapsed().as_secs_f64() * 1e6 / f64::from(n)
        );
    }
    let limits = Limits {
        max_concurrent: args.server_threads,
        ..Limits::default()
    };
    let state = AppState::new(evaluator, Arc::new(SystemClock), limits);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.server_threads)
        .max_blocking_threads(args.server_threads.max(1) * 2)
        .thread_name("webhook")
        .enable_all()
        .build()
        .expect("server runtime");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let addr = server_rt.block_on(async {
        let server = Server::bind(
            ServerConfig::new("127.0.0.1:0".parse().expect("addr"), files.clone()),
            state.clone(),
        )
        .await
        .expect("bind");
        let addr = server.local_addr().expect("addr");
        tokio::spawn(server.run(async {
            let _ = stop_rx.await;
        }));
        addr
    });

    let body = Bytes::from(match &args.review {
        Some(f) => std::fs::read_to_string(f).expect("review file"),
        None => default_review(),
    });
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    let config = if args.http2 {
        palisade_admission::client::tls_config_alpn(&ca.cert_pem(), &[b"h2"])
    } else {
        tls_config(&ca.cert_pem())
    }
    .expect("client TLS");
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "palisade admission load test: TLS on {addr}, {}, {rules} rules, {} server threads, {} connections, {cpus} CPUs",
        if args.http2 { "HTTP/2" } else { "HTTP/1.1" },
        args.server_threads, args.connections
    );
    client_rt.block_on(async {
        // Warm-up.
        let _ = run_rate(addr, config.clone(), body.clone(), 200, 1, 8).await;
        println!("| target req/s | sent | errors | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | CPU µs/req (server+client) | load avg (1m) |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for &rate in &args.rates {
            let cpu_before = cpu_time();
            let (lat, errors, elapsed) = run_rate(
                addr,
                config.clone(),
                body.clone(),
                rate,
                args.duration,
                args.connections,
            )
            .await;
            let load = std::fs::read_to_string("/proc/loadavg")
                .ok()
                .and_then(|s| s.split_whitespace().next().map(str::to_owned))
                .unwrap_or_else(|| "?".into());
            let cpu = (cpu_time() - cpu_before).as_secs_f64() * 1e6 / (lat.len() + errors).max(1) as f64;
            println!(
                "| {rate} | {} | {errors} | {:.0} | {} | {} | {} | {} | {cpu:.0} | {load} |",
                lat.len() + errors,
                lat.len() as f64 / elapsed.as_secs_f64(),
                ms(percentile(&lat, 0.50)),
                ms(percentile(&lat, 0.90)),
                ms(percentile(&lat, 0.99)),
                ms(lat.last().copied().unwrap_or_default()),
            );
        }
    });
    let _ = stop_tx.send(());
    drop(server_rt);
    let _ = std::fs::remove_dir_all(&dir);
}
