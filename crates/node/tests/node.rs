//! Node roots built in temporary directories: a hardened kubeadm-like tree passes every
//! automated check; its insecure twin fails exactly the expected ones.

use palisade_core::{CheckStatus, NodeReport};
use palisade_node::{Options, Root};
use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, path: &str, mode: u32, content: impl AsRef<[u8]>) {
        let p = self.dir.path().join(path.trim_start_matches('/'));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, content).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn mkdir(&self, path: &str, mode: u32) {
        let p = self.dir.path().join(path.trim_start_matches('/'));
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn cmdline(&self, pid: u32, args: &[&str]) {
        let mut bytes = Vec::new();
        for a in args {
            bytes.extend_from_slice(a.as_bytes());
            bytes.push(0);
        }
        self.write(&format!("/proc/{pid}/cmdline"), 0o444, bytes);
    }

    fn root(&self) -> Root {
        let m = fs::metadata(self.dir.path()).unwrap();
        Root::new(self.dir.path()).with_root_ids(m.uid(), m.gid())
    }

    fn run(&self) -> NodeReport {
        palisade_node::run(
            &self.root(),
            &Options {
                benchmark: "cis-1.12".to_owned(),
                now: jiff::Timestamp::now(),
                cves: None,
            },
        )
    }
}

/// A self-signed ECDSA certificate valid for `days` from now (negative: expired).
fn cert(cn: &str, days: i64) -> (String, String) {
    let now = jiff::Timestamp::now();
    let ymd = |t: jiff::Timestamp| {
        let d = jiff::tz::TimeZone::UTC.to_datetime(t).date();
        rcgen::date_time_ymd(i32::from(d.year()), d.month() as u8, d.day() as u8)
    };
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec![cn.to_owned()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params.not_before = ymd(now - jiff::SignedDuration::from_hours(24 * 400));
    params.not_after = ymd(now + jiff::SignedDuration::from_hours(24 * days));
    let c = params.self_signed(&key).unwrap();
    (c.pem(), key.serialize_pem())
}

fn kubeconfig(user: &str, cert_pem: &str) -> String {
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(cert_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster:\n    server: https://10.0.0.5:6443\nusers:\n- name: {user}\n  user:\n    client-certificate-data: {data}\n    client-key-data: UkVEQUNURUQ=\ncontexts:\n- name: k\n  context: {{cluster: k, user: {user}}}\ncurrent-context: k\n"
    )
}

/// A Kubernetes release that is supported today (so the hardened tree stays current): the
/// newest of the table with more than the warning period left, else one newer than the table.
fn current_release() -> String {
    use palisade_node::version::{support, Support, Version, RELEASES};
    let today = jiff::tz::TimeZone::UTC
        .to_datetime(jiff::Timestamp::now())
        .date();
    let last = RELEASES[RELEASES.len() - 1].0;
    for minor in (RELEASES[0].0..=last).rev() {
        let v = Version {
            major: 1,
            minor: u64::from(minor),
            patch: 4,
        };
        if matches!(support(v, today), Support::Supported(_)) {
            return format!("v{v}");
        }
    }
    format!("v1.{}.0", last + 1)
}

fn pod(name: &str, image: &str, command: &[&str]) -> String {
    let image = image.replace("v1.31.4", &current_release());
    let mut s = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: kube-system\nspec:\n  hostNetwork: true\n  containers:\n  - name: {name}\n    image: {image}\n    command:\n"
    );
    for c in command {
        s.push_str(&format!("    - \"{c}\"\n"));
    }
    s
}

struct Knobs {
    manifest_mode: u32,
    kubelet_config_mode: u32,
    api_extra: Vec<&'static str>,
    api_drop: Vec<&'static str>,
    etcd_extra: Vec<&'static str>,
    scheduler_bind: &'static str,
    kubelet_config: &'static str,
    encryption: &'static str,
    sshd: &'static str,
    expired_cert: bool,
    weak_key: bool,
}

const HARDENED_KUBELET: &str = "apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: Webhook
readOnlyPort: 0
rotateCertificates: true
serverTLSBootstrap: true
tlsMinVersion: VersionTLS12
tlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
podPidsLimit: 4096
seccompDefault: true
";

const INSECURE_KUBELET: &str = "apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: true
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
authorization:
  mode: AlwaysAllow
rotateCertificates: false
serverTLSBootstrap: true
tlsMinVersion: VersionTLS10
tlsCipherSuites: [TLS_RSA_WITH_AES_128_CBC_SHA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]
";

const AESCBC: &str = "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - name: key1
        secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==
  - identity: {}
";

const IDENTITY_FIRST: &str = "apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - identity: {}
  - aescbc:
      keys:
      - name: key1
        secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==
";

const AUDIT_POLICY: &str = "apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Metadata
";

fn hardened() -> Knobs {
    Knobs {
        manifest_mode: 0o600,
        kubelet_config_mode: 0o600,
        api_extra: vec![],
        api_drop: vec![],
        etcd_extra: vec![],
        scheduler_bind: "127.0.0.1",
        kubelet_config: HARDENED_KUBELET,
        encryption: AESCBC,
        sshd: "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nListenAddress 10.0.0.5\n",
        expired_cert: false,
        weak_key: false,
    }
}

fn build(k: &Knobs) -> Tree {
    let t = Tree::new();
    let uid = fs::metadata(t.dir.path()).unwrap().uid();
    let gid = fs::metadata(t.dir.path()).unwrap().gid();
    t.write(
        "/etc/passwd",
        0o644,
        format!("root:x:0:0:root:/root:/bin/sh\netcd:x:{uid}:{gid}::/var/lib/etcd:/bin/false\n"),
    );
    t.write("/etc/group", 0o644, format!("root:x:0:\netcd:x:{gid}:\n"));
    // PKI.
    for name in [
        "ca",
        "apiserver",
        "apiserver-kubelet-client",
        "front-proxy-ca",
        "etcd/ca",
        "etcd/server",
        "etcd/peer",
    ] {
        let (crt, key) = cert(name, 365);
        t.write(&format!("/etc/kubernetes/pki/{name}.crt"), 0o644, crt);
        t.write(&format!("/etc/kubernetes/pki/{name}.key"), 0o600, key);
    }
    t.write("/etc/kubernetes/pki/sa.key", 0o600, "key");
    t.write("/etc/kubernetes/pki/sa.pub", 0o644, "pub");
    if k.expired_cert {
        let (crt, _) = cert("apiserver-etcd-client", -3);
        t.write("/etc/kubernetes/pki/apiserver-etcd-client.crt", 0o644, crt);
        let (crt, _) = cert("front-proxy-client", 10);
        t.write("/etc/kubernetes/pki/front-proxy-client.crt", 0o644, crt);
    }
    if k.weak_key {
        t.write(
            "/etc/kubernetes/pki/legacy.crt",
            0o644,
            fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/rsa1024.crt")).unwrap(),
        );
    }
    for (file, user) in [
        ("admin.conf", "kubernetes-admin"),
        ("super-admin.conf", "kubernetes-super-admin"),
        ("controller-manager.conf", "system:kube-controller-manager"),
        ("scheduler.conf", "system:kube-scheduler"),
        ("kubelet.conf", "system:node:cp-1"),
    ] {
        let (crt, _) = cert(user, 300);
        t.write(
            &format!("/etc/kubernetes/{file}"),
            0o600,
            kubeconfig(user, &crt),
        );
    }
    // Static pods.
    let mut api: Vec<&str> = vec![
        "kube-apiserver",
        "--advertise-address=10.0.0.5",
        "--anonymous-auth=false",
        "--authorization-mode=Node,RBAC",
        "--client-ca-file=/etc/kubernetes/pki/ca.crt",
        "--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
        "--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
        "--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt",
        "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
        "--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt",
        "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
        "--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
        "--profiling=false",
        "--audit-log-path=/var/log/kubernetes/audit/audit.log",
        "--audit-log-maxage=30",
        "--audit-log-maxbackup=10",
        "--audit-log-maxsize=100",
        "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
        "--encryption-provider-config=/etc/kubernetes/enc/encryption.yaml",
        "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-extend-token-expiration=false",
        "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
        "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
        "--tls-min-version=VersionTLS12",
    ];
    api.retain(|a| !k.api_drop.iter().any(|d| a.starts_with(d)));
    api.extend(k.api_extra.iter().copied());
    t.write(
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        k.manifest_mode,
        pod(
            "kube-apiserver",
            "registry.k8s.io/kube-apiserver:v1.31.4",
            &api,
        ),
    );
    t.write(
        "/etc/kubernetes/manifests/kube-controller-manager.yaml",
        0o600,
        pod(
            "kube-controller-manager",
            "registry.k8s.io/kube-controller-manager:v1.31.4",
            &[
                "kube-controller-manager",
                "--bind-address=127.0.0.1",
                "--kubeconfig=/etc/kubernetes/controller-manager.conf",
                "--profiling=false",
                "--root-ca-file=/etc/kubernetes/pki/ca.crt",
                "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
                "--use-service-account-credentials=true",
                "--terminated-pod-gc-threshold=10",
            ],
        ),
    );
    let bind = format!("--bind-address={}", k.scheduler_bind);
    t.write(
        "/etc/kubernetes/manifests/kube-scheduler.yaml",
        0o600,
        pod(
            "kube-scheduler",
            "registry.k8s.io/kube-scheduler:v1.31.4",
            &[
                "kube-scheduler",
                &bind,
                "--kubeconfig=/etc/kubernetes/scheduler.conf",
                "--profiling=false",
            ],
        ),
    );
    let mut etcd: Vec<&str> = vec![
        "etcd",
        "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
        "--key-file=/etc/kubernetes/pki/etcd/server.key",
        "--client-cert-auth=true",
        "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
        "--peer-key-file=/etc/kubernetes/pki/etcd/peer.key",
        "--peer-client-cert-auth=true",
        "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt",
        "--data-dir=/var/lib/etcd",
    ];
    etcd.extend(k.etcd_extra.iter().copied());
    t.write(
        "/etc/kubernetes/manifests/etcd.yaml",
        0o600,
        pod("etcd", "registry.k8s.io/etcd:3.5.15-0", &etcd),
    );
    t.mkdir("/var/lib/etcd", 0o700);
    t.write("/etc/kubernetes/enc/encryption.yaml", 0o600, k.encryption);
    t.write("/etc/kubernetes/audit-policy.yaml", 0o600, AUDIT_POLICY);
    // Kubelet.
    t.write(
        "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        0o600,
        "[Service]\nEnvironment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS\n",
    );
    t.write("/var/lib/kubelet/kubeadm-flags.env", 0o600, "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock\"\n");
    t.write(
        "/var/lib/kubelet/config.yaml",
        k.kubelet_config_mode,
        k.kubelet_config,
    );
    t.write("/etc/cni/net.d/10-calico.conflist", 0o600, "{}");
    // kube-proxy, seen as a process.
    t.write(
        "/var/lib/kube-proxy/kubeconfig.conf",
        0o600,
        "apiVersion: v1\nkind: Config\n",
    );
    t.cmdline(
        4242,
        &[
            "/usr/local/bin/kube-proxy",
            "--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf",
            "--metrics-bind-address=127.0.0.1:10249",
        ],
    );
    t.cmdline(1, &["/sbin/init"]);
    // SSH.
    t.write("/etc/ssh/sshd_config", 0o600, k.sshd);
    t.write(
        "/etc/ssh/sshd_config.d/50-hardening.conf",
        0o600,
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
    );
    t
}

fn not_passing(r: &NodeReport) -> BTreeSet<(String, CheckStatus)> {
    r.results
        .iter()
        .filter(|c| c.automated && !matches!(c.status, CheckStatus::Pass))
        .map(|c| (c.id.clone(), c.status))
        .collect()
}

#[test]
fn hardened_tree_passes_every_automated_check() {
    let t = build(&hardened());
    let r = t.run();
    let bad: Vec<String> = r
        .results
        .iter()
        .filter(|c| c.automated && c.status != CheckStatus::Pass)
        .map(|c| format!("{} {} {}", c.status, c.id, c.observed))
        .collect();
    assert!(bad.is_empty(), "not passing:\n{}", bad.join("\n"));
    // Every component found, every manual check listed as MANUAL.
    let names: Vec<&str> = r.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "etcd",
            "kubelet",
            "kube-proxy"
        ]
    );
    assert_eq!(
        r.components[0].version.as_deref(),
        Some(current_release().trim_start_matches('v'))
    );
    assert!(r
        .results
        .iter()
        .filter(|c| !c.automated)
        .all(|c| c.status == CheckStatus::Manual));
    assert!(r.totals.manual > 20, "{:?}", r.totals);
    assert_eq!(r.totals.skip, 0);
    assert!(r.totals.pass > 80, "{:?}", r.totals);
    // Sections in benchmark order with counts that add up.
    let ids: Vec<&str> = r.sections.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        ["1.1", "1.2", "1.3", "1.4", "2", "3.2", "4.1", "4.2", "4.3", "tls", "access", "version"]
    );
    let sum: usize = r
        .sections
        .iter()
        .map(|s| s.counts.pass + s.counts.manual)
        .sum();
    assert_eq!(sum, r.results.len());
}

#[test]
fn insecure_twin_fails_exactly_the_expected_checks() {
    let mut k = hardened();
    k.manifest_mode = 0o644;
    k.kubelet_config_mode = 0o644;
    k.api_drop = vec![
        "--profiling",
        "--authorization-mode",
        "--audit-",
        "--encryption-provider-config",
    ];
    k.api_extra = vec![
        "--authorization-mode=AlwaysAllow",
        "--token-auth-file=/etc/kubernetes/tokens.csv",
    ];
    k.etcd_extra = vec![
        "--client-cert-auth=false",
        "--auto-tls=true",
        "--peer-auto-tls=true",
    ];
    k.scheduler_bind = "0.0.0.0";
    k.kubelet_config = INSECURE_KUBELET;
    k.sshd = "PermitRootLogin yes\nPasswordAuthentication yes\nListenAddress 0.0.0.0\n";
    k.expired_cert = true;
    k.weak_key = true;
    let r = build(&k).run();
    let got = not_passing(&r);
    let fail = |id: &str| (id.to_owned(), CheckStatus::Fail);
    let warn = |id: &str| (id.to_owned(), CheckStatus::Warn);
    let expected: BTreeSet<(String, CheckStatus)> = [
        fail("1.1.1"),
        fail("1.2.2"),
        fail("1.2.6"),
        fail("1.2.7"),
        fail("1.2.8"),
        fail("1.2.15"),
        fail("1.2.16"),
        fail("1.2.17"),
        fail("1.2.18"),
        fail("1.2.19"),
        fail("1.4.2"),
        fail("2.2"),
        fail("2.3"),
        fail("2.6"),
        fail("4.1.9"),
        fail("4.2.1"),
        fail("4.2.2"),
        fail("4.2.10"),
        fail("tls.cert-expiry"),
        warn("tls.cert-expiry"),
        fail("tls.key-strength"),
        fail("tls.encryption-at-rest"),
        fail("tls.audit-policy"),
        fail("tls.audit-log"),
        fail("tls.kubelet-tls-min-version"),
        fail("tls.kubelet-cipher-suites"),
        fail("access.sshd-root-login"),
        fail("access.sshd-password-auth"),
        warn("access.sshd-listen-address"),
    ]
    .into_iter()
    .collect();
    assert_eq!(
        got,
        expected,
        "\nunexpected: {:?}\nmissing: {:?}",
        got.difference(&expected).collect::<Vec<_>>(),
        expected.difference(&got).collect::<Vec<_>>()
    );
    // The expired certificate is named.
    assert!(r.results.iter().any(|c| c.id == "tls.cert-expiry"
        && c.status == CheckStatus::Fail
        && c.observed.contains("apiserver-etcd-client")
        && c.observed.contains("expired")));
    assert!(r.results.iter().any(|c| c.id == "tls.key-strength"
        && c.status == CheckStatus::Fail
        && c.observed.contains("RSA 1024")));
}

#[test]
fn identity_first_fails_and_aesgcm_warns() {
    let mut k = hardened();
    k.encryption = IDENTITY_FIRST;
    let r = build(&k).run();
    assert_eq!(
        not_passing(&r),
        [("tls.encryption-at-rest".to_owned(), CheckStatus::Fail)]
            .into_iter()
            .collect()
    );
    let gcm = AESCBC.replace("aescbc", "aesgcm");
    k.encryption = Box::leak(gcm.into_boxed_str());
    let r = build(&k).run();
    assert_eq!(
        not_passing(&r),
        [("tls.encryption-at-rest".to_owned(), CheckStatus::Warn)]
            .into_iter()
            .collect()
    );
}

#[test]
fn ownership_is_compared_with_ids() {
    let t = build(&hardened());
    // A root that is not the running user: every ownership check fails.
    let r = palisade_node::run(
        &Root::new(t.dir.path()).with_root_ids(u32::MAX - 1, u32::MAX - 1),
        &Options {
            benchmark: "cis-1.12".to_owned(),
            now: jiff::Timestamp::now(),
            cves: None,
        },
    );
    for id in [
        "1.1.2", "1.1.4", "1.1.14", "1.1.19", "4.1.2", "4.1.6", "4.1.10",
    ] {
        let c = r.results.iter().find(|c| c.id == id).unwrap();
        assert_eq!(c.status, CheckStatus::Fail, "{id}: {}", c.observed);
    }
}

#[test]
fn components_absent_are_skipped() {
    let t = Tree::new();
    t.cmdline(
        7,
        &[
            "kubelet",
            "--anonymous-auth=false",
            "--authorization-mode=Webhook",
            "--client-ca-file=/ca.crt",
            "--rotate-certificates",
        ],
    );
    let r = t.run();
    let api = r.results.iter().find(|c| c.id == "1.2.2").unwrap();
    assert_eq!(api.status, CheckStatus::Skip);
    for id in ["4.2.1", "4.2.2", "4.2.3", "4.2.10"] {
        let c = r.results.iter().find(|c| c.id == id).unwrap();
        assert_eq!(c.status, CheckStatus::Pass, "{id}: {}", c.observed);
    }
}

#[test]
fn kubelet_config_checks_run_on_a_value() {
    let v: serde_json::Value = serde_yaml_ng::from_str(INSECURE_KUBELET).unwrap();
    let results = palisade_node::checks::kubelet::kubelet_config_checks(&v, 12);
    let fails: BTreeSet<&str> = results
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(
        fails,
        [
            "4.2.1",
            "4.2.10",
            "4.2.2",
            "tls.kubelet-cipher-suites",
            "tls.kubelet-tls-min-version"
        ]
        .into_iter()
        .collect()
    );
}

#[test]
fn old_control_plane_reports_end_of_life_and_known_cves() {
    let Some(dir) = palisade_testkit::corpus("k8s-cves/cves") else {
        return;
    };
    let t = build(&hardened());
    let manifest = t
        .dir
        .path()
        .join("etc/kubernetes/manifests/kube-apiserver.yaml");
    let text = fs::read_to_string(&manifest).unwrap();
    let text = text.replace(&current_release(), "v1.24.0");
    fs::write(&manifest, text).unwrap();
    let r = palisade_node::run(
        &t.root(),
        &Options {
            benchmark: "cis-1.12".to_owned(),
            now: jiff::Timestamp::now(),
            cves: Some(palisade_node::cve::CveDatabase::load(&dir).unwrap()),
        },
    );
    let api = |id: &str| {
        r.results
            .iter()
            .find(|c| c.id == id && c.component.as_deref() == Some("kube-apiserver"))
            .unwrap()
    };
    assert_eq!(api("version.supported-release").status, CheckStatus::Fail);
    let cves = api("version.known-cves");
    assert_eq!(cves.status, CheckStatus::Fail);
    assert!(cves.observed.contains("CVE-2022-3172"), "{}", cves.observed);
    // The other components run a supported release without known CVEs in the data.
    let others: Vec<_> = r
        .results
        .iter()
        .filter(|c| {
            c.id.starts_with("version.") && c.component.as_deref() != Some("kube-apiserver")
        })
        .collect();
    assert!(!others.is_empty());
    assert!(
        others.iter().all(|c| c.status == CheckStatus::Pass),
        "{others:?}"
    );
}

/// Every result of the hardened tree and its insecure twin is a check of the catalogue, with
/// the catalogue's title, section and family: the list the rule catalogue is built from is
/// the list the engine reports.
#[test]
fn every_result_is_in_the_catalogue() {
    let catalogue = palisade_node::catalog::checks();
    let mut insecure = hardened();
    insecure.expired_cert = true;
    insecure.weak_key = true;
    insecure.kubelet_config = INSECURE_KUBELET;
    let mut seen = BTreeSet::new();
    for r in [build(&hardened()).run(), build(&insecure).run()] {
        for c in &r.results {
            let Some(info) = catalogue.iter().find(|i| i.id == c.id) else {
                panic!("{} is not in the catalogue", c.id);
            };
            assert_eq!(c.section, info.section, "{}", c.id);
            assert_eq!(c.family, info.family, "{}", c.id);
            assert_eq!(c.automated, info.automated, "{}", c.id);
            if c.status != CheckStatus::Skip {
                assert_eq!(c.title, info.title, "{}", c.id);
            }
            seen.insert(c.id.clone());
        }
    }
    // The trees exercise most of the catalogue (what is left needs other hosts: kube-proxy,
    // CVE data, an older benchmark).
    assert!(
        seen.len() * 10 >= catalogue.len() * 8,
        "{} of {}",
        seen.len(),
        catalogue.len()
    );
}
