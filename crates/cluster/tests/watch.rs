//! The watch cache against the replay server (recorded kube-apiserver responses, served with
//! list and watch semantics).

#![allow(clippy::print_stderr)]

use palisade_cluster::watch::{ClusterCache, Storage};
use palisade_cluster::ReadOptions;
use palisade_replay::{Config, Replay};
use std::collections::HashSet;
use std::time::Duration;

fn replay(cfg: impl FnOnce(&mut Config)) -> Option<(Replay, tempfile_dir::Dir)> {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let Some(rec) = palisade_replay::find_recordings(here) else {
        palisade_testkit::missing("shared/corpus/apiserver-recordings/api (the test corpus)");
        return None;
    };
    let mut c = Config {
        recordings: rec,
        ..Config::default()
    };
    cfg(&mut c);
    let srv = Replay::start(c).unwrap();
    let dir = tempfile_dir::Dir::new();
    srv.write_kubeconfig(&dir.path.join("kubeconfig")).unwrap();
    Some((srv, dir))
}

mod tempfile_dir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!(
                "palisade-watch-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

fn opts(dir: &tempfile_dir::Dir) -> ReadOptions {
    ReadOptions {
        kubeconfig: Some(dir.path.join("kubeconfig")),
        ..ReadOptions::default()
    }
}

fn names(cache: &ClusterCache, kind: &'static str) -> HashSet<String> {
    cache
        .objects(&[kind].into())
        .unwrap()
        .into_iter()
        .map(|o| match o.namespace {
            Some(ns) => format!("{ns}/{}", o.name),
            None => o.name,
        })
        .collect()
}

/// Waits until `cond` holds (watch events arrive asynchronously).
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..250 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_lists_then_follows_watch_events() {
    let Some((srv, dir)) = replay(|_| {}) else {
        return;
    };
    let kinds: HashSet<&str> = ["ClusterRole", "Namespace", "Secret", "AzureIdentity"].into();
    let cache = ClusterCache::start(&opts(&dir), &kinds).await.unwrap();
    assert!(
        cache.wait_synced(Duration::from_secs(20)).await,
        "{:?}",
        cache.status()
    );
    // The recorded lists, in full.
    let recorded = |path: &str| {
        palisade_replay::recorded_items(
            &palisade_replay::find_recordings(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
                .unwrap(),
            path,
        )
        .unwrap()
        .len()
    };
    let st = cache.status();
    let count = |k: &str| st.iter().find(|s| s.kind == k).unwrap().objects;
    assert_eq!(
        count("ClusterRole"),
        recorded("/apis/rbac.authorization.k8s.io/v1/clusterroles")
    );
    assert_eq!(count("Namespace"), recorded("/api/v1/namespaces"));
    assert!(count("Secret") > 0);
    // A CRD the cluster does not serve is known to be empty, not "not synced".
    assert_eq!(count("AzureIdentity"), 0);
    // Secrets are metadata: no data, and no value in any annotation.
    for s in cache.objects(&["Secret"].into()).unwrap() {
        assert!(s.value().get("data").is_none(), "{}", s.value());
        let text = s.value().to_string();
        assert!(!text.contains("\"stringData\""), "{text}");
    }
    // Watch events: added, modified, deleted.
    let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "watched", "labels": {"team": "a"}}});
    eventually("the watch to open", || {
        srv.emit("/api/v1/namespaces", "BOOKMARK", serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"resourceVersion": "1"}})) > 0
    })
    .await;
    srv.emit("/api/v1/namespaces", "ADDED", ns.clone());
    eventually("ADDED", || names(&cache, "Namespace").contains("watched")).await;
    let mut changed = ns.clone();
    changed["metadata"]["labels"]["team"] = "b".into();
    srv.emit("/api/v1/namespaces", "MODIFIED", changed);
    eventually("MODIFIED", || {
        cache
            .objects(&["Namespace"].into())
            .unwrap()
            .iter()
            .any(|o| {
                o.name == "watched"
                    && o.value().pointer("/metadata/labels/team") == Some(&"b".into())
            })
    })
    .await;
    srv.emit("/api/v1/namespaces", "DELETED", ns);
    eventually("DELETED", || {
        !names(&cache, "Namespace").contains("watched")
    })
    .await;
    // A Secret's values never reach the cache, even through a watch event.
    srv.emit("/api/v1/secrets", "ADDED", serde_json::json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "default", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{\"stringData\":{\"p\":\"hunter2-canary\"}}"}},
        "data": {"p": "aHVudGVyMi1jYW5hcnk="}}));
    eventually("the Secret", || {
        names(&cache, "Secret").contains("default/s")
    })
    .await;
    let text: String = cache
        .objects(&["Secret"].into())
        .unwrap()
        .iter()
        .map(|o| o.value().to_string())
        .collect();
    assert!(
        !text.contains("hunter2-canary") && !text.contains("aHVudGVyMi1jYW5hcnk"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_kind_is_not_synced_and_says_why() {
    let Some((_srv, dir)) = replay(|c| {
        c.forbid = vec!["/apis/rbac.authorization.k8s.io/v1/clusterroles".to_owned()];
    }) else {
        return;
    };
    let kinds: HashSet<&str> = ["ClusterRole", "Namespace"].into();
    let cache = ClusterCache::start(&opts(&dir), &kinds).await.unwrap();
    assert!(!cache.wait_synced(Duration::from_secs(2)).await);
    // Namespaces are answered; ClusterRoles are not, with the server's reason.
    assert!(!names(&cache, "Namespace").is_empty());
    let err = cache.objects(&kinds).unwrap_err();
    assert_eq!(err.len(), 1, "{err:?}");
    assert_eq!(err[0].0, "ClusterRole");
    assert!(err[0].1.contains("forbidden"), "{}", err[0].1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_watch_relists_in_place_and_drops_what_the_list_no_longer_has() {
    let Some((srv, dir)) = replay(|_| {}) else {
        return;
    };
    let kinds: HashSet<&str> = ["Namespace"].into();
    let cache = ClusterCache::start_with(&opts(&dir), &kinds, Storage::Lines)
        .await
        .unwrap();
    assert!(cache.wait_synced(Duration::from_secs(20)).await);
    let listed = names(&cache, "Namespace");
    eventually("the watch to open", || {
        srv.emit("/api/v1/namespaces", "BOOKMARK", serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"resourceVersion": "1"}})) > 0
    })
    .await;
    // An object only the watch told of (the recorded list does not hold it).
    srv.emit(
        "/api/v1/namespaces",
        "ADDED",
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ghost"}}),
    );
    eventually("ADDED", || names(&cache, "Namespace").contains("ghost")).await;
    let lines = cache.lines(&kinds).unwrap();
    assert_eq!(lines.len(), listed.len() + 1);
    assert!(lines
        .iter()
        .any(|l| l.text().unwrap().contains("\"ghost\"")));
    // The watch's resource version is too old (etcd compacted): 410 Gone.
    srv.emit(
        "/api/v1/namespaces",
        "ERROR",
        serde_json::json!({"apiVersion": "v1", "kind": "Status", "metadata": {},
            "status": "Failure", "reason": "Expired", "code": 410,
            "message": "too old resource version: 1 (1000)"}),
    );
    // The relist brings the cache back to what the server lists: the object it no longer
    // lists is gone, every listed one is there once, and the kind stayed synced throughout.
    eventually("the relist", || {
        !names(&cache, "Namespace").contains("ghost")
    })
    .await;
    assert!(cache.synced());
    assert_eq!(names(&cache, "Namespace"), listed);
    assert_eq!(cache.lines(&kinds).unwrap().len(), listed.len());
    let lists = srv
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /api/v1/namespaces") && !r.contains("watch="))
        .count();
    assert!(
        lists >= 2,
        "one list, then the relist: {:?}",
        srv.requests()
    );
}
