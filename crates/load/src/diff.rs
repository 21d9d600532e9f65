//! Security-relevant drift between two snapshots.
//!
//! What counts: RBAC roles and bindings added, removed or changed; admission webhook
//! configurations added, removed or changed; workloads whose rule findings changed (the
//! caller gives the rules: `palisade diff` runs the Pod Security baseline rules, so a
//! workload that became privileged, joined a host namespace or mounts a host path is the
//! finding of POD001, POD004 or POD005 that appeared); Services that became exposed
//! (LoadBalancer, NodePort, externalIPs) and Ingresses added or changed; namespace Pod
//! Security labels changed; container images changed. Status, resourceVersion and other
//! bookkeeping never count. Every item has a severity, so `palisade diff --fail-on` can gate
//! on it.

use palisade_core::{Object, ObjectRef, PodTemplate, ReportFinding, Severity, SpanIndex};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What happened to the object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Only in the new snapshot.
    Added,
    /// Only in the old snapshot.
    Removed,
    /// In both, different.
    Changed,
}

impl Change {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// One item of drift.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// How much it matters.
    pub severity: Severity,
    /// `rbac`, `admission`, `workload`, `exposure`, `pod-security`, `image`.
    pub category: &'static str,
    /// Added, removed or changed.
    pub change: Change,
    /// The object.
    pub object: ObjectRef,
    /// What changed, in words.
    pub detail: String,
    /// The rule whose finding appeared or disappeared (workload drift).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// The rules that classify workload drift: their findings on one workload (Pod, Deployment,
/// any kind with a pod template), compared between the snapshots.
pub type WorkloadRules<'a> = &'a dyn Fn(&Object) -> Vec<ReportFinding>;

type Key = (String, String, Option<String>, String);

/// The objects by identity; objects a controller owns (Pods of ReplicaSets, ReplicaSets of
/// Deployments...) are left out: their owner carries the drift, once.
fn index(values: &[Value]) -> BTreeMap<Key, Object> {
    let owned = crate::cluster::owned_indexes(values);
    values
        .iter()
        .enumerate()
        .filter(|(i, _)| !owned.contains(i))
        .filter_map(|(_, v)| Object::from_value(v.clone(), None, SpanIndex::default()).ok())
        .map(|o| {
            (
                (
                    o.group().to_owned(),
                    o.kind.clone(),
                    o.namespace.clone(),
                    o.name.clone(),
                ),
                o,
            )
        })
        .collect()
}

/// The drift from `old` to `new`, most severe first; `rules` classify workload drift.
pub fn diff(old: &[Value], new: &[Value], rules: WorkloadRules<'_>) -> Vec<Drift> {
    diff_known(old, new, &|_| false, rules)
}

/// True when objects of `kind` are unknown in a snapshot that records `unreadable`: the
/// kind (or, in snapshots that did not record kinds, its resource) could not be read.
pub fn unreadable_kind(unreadable: &[crate::snapshot::Unread], kind: &str) -> bool {
    let lower = kind.to_ascii_lowercase();
    let plural = if lower.ends_with('s') || lower.ends_with('x') || lower.ends_with("ch") {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        format!("{stem}ies")
    } else {
        format!("{lower}s")
    };
    unreadable.iter().any(|u| {
        if !u.kind.is_empty() {
            return u.kind == kind;
        }
        let resource = u.resource.split('.').next().unwrap_or("");
        resource == plural || resource == lower
    })
}

/// [`diff`] where objects of kinds for which `unknown` is true are not compared: a kind one
/// snapshot could not read is unknown there, neither added nor removed.
pub fn diff_known(
    old: &[Value],
    new: &[Value],
    unknown: &dyn Fn(&str) -> bool,
    rules: WorkloadRules<'_>,
) -> Vec<Drift> {
    let old = index(old);
    let new = index(new);
    let mut out = Vec::new();
    for (k, n) in &new {
        match old.get(k) {
            None if unknown(&k.1) => {}
            None => added(n, rules, &mut out),
            Some(o) => changed(o, n, rules, &mut out),
        }
    }
    for (k, o) in &old {
        if !new.contains_key(k) && !unknown(&k.1) {
            removed(o, &mut out);
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.category.cmp(b.category))
            .then_with(|| a.object.cmp(&b.object))
            .then_with(|| a.detail.cmp(&b.detail))
    });
    out
}

fn push(
    out: &mut Vec<Drift>,
    severity: Severity,
    category: &'static str,
    change: Change,
    o: &Object,
    detail: String,
) {
    out.push(Drift {
        severity,
        category,
        change,
        object: o.reference(),
        detail,
        rule: None,
    });
}

fn rule_text(f: &ReportFinding) -> String {
    format!("{} {}: {}", f.rule_id, f.rule_name, f.message)
}

fn push_rule(
    out: &mut Vec<Drift>,
    severity: Severity,
    change: Change,
    o: &Object,
    f: &ReportFinding,
    detail: String,
) {
    out.push(Drift {
        severity,
        category: "workload",
        change,
        object: o.reference(),
        detail,
        rule: Some(f.rule_id.to_owned()),
    });
}

/// The findings that appear and disappear between two versions of a workload. A finding is
/// its rule and message; a rule whose finding only changed (`hostPID` joined by
/// `hostNetwork`) is one item, `now ... (was ...)`. What disappears is reported as info.
fn workload_drift(o: &Object, n: &Object, rules: WorkloadRules<'_>, out: &mut Vec<Drift>) {
    let key = |f: &ReportFinding| (f.rule_id, f.message.clone());
    let before = rules(o);
    let after = rules(n);
    let mut gone: Vec<&ReportFinding> = before
        .iter()
        .filter(|b| !after.iter().any(|a| key(a) == key(b)))
        .collect();
    for f in after
        .iter()
        .filter(|a| !before.iter().any(|b| key(a) == key(b)))
    {
        let was = gone.iter().position(|g| g.rule_id == f.rule_id);
        let detail = match was.map(|i| gone.remove(i)) {
            Some(g) => format!("now {} (was: {})", rule_text(f), g.message),
            None => format!("now {}", rule_text(f)),
        };
        push_rule(out, f.severity, Change::Changed, n, f, detail);
    }
    for g in gone {
        push_rule(
            out,
            Severity::Info,
            Change::Changed,
            n,
            g,
            format!("no longer {}", rule_text(g)),
        );
    }
}

const RBAC: &[&str] = &["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"];
const WEBHOOKS: &[&str] = &[
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
];

fn is_rbac(o: &Object) -> bool {
    o.group() == "rbac.authorization.k8s.io" && RBAC.contains(&o.kind.as_str())
}

fn is_webhook(o: &Object) -> bool {
    o.group() == "admissionregistration.k8s.io" && WEBHOOKS.contains(&o.kind.as_str())
}

fn role_ref(o: &Object) -> String {
    let r = o
        .pointer("/roleRef/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let k = o
        .pointer("/roleRef/kind")
        .and_then(Value::as_str)
        .unwrap_or("?");
    format!("{k}/{r}")
}

fn subjects(o: &Object) -> Vec<String> {
    o.pointer("/subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|s| {
            let kind = s.get("kind").and_then(Value::as_str).unwrap_or("?");
            let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
            match s.get("namespace").and_then(Value::as_str) {
                Some(ns) => format!("{kind} {ns}/{name}"),
                None => format!("{kind} {name}"),
            }
        })
        .collect()
}

fn rbac_severity(o: &Object) -> Severity {
    let binding = o.kind.ends_with("Binding");
    let admin =
        binding && o.pointer("/roleRef/name").and_then(Value::as_str) == Some("cluster-admin");
    let wildcard = o
        .pointer("/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| {
            ["verbs", "resources", "apiGroups"].iter().all(|f| {
                r.get(*f)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|x| x == "*"))
            })
        });
    if admin || wildcard {
        Severity::Critical
    } else if o.kind.starts_with("Cluster") {
        Severity::High
    } else {
        Severity::Medium
    }
}

fn describe_rbac(o: &Object) -> String {
    if o.kind.ends_with("Binding") {
        format!("binds {} to {}", role_ref(o), subjects(o).join(", "))
    } else {
        let n = o
            .pointer("/rules")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        let agg = if o.pointer("/aggregationRule").is_some() {
            ", aggregated"
        } else {
            ""
        };
        format!("{n} rule(s){agg}")
    }
}

fn security_content(o: &Object) -> Value {
    let mut v = o.value().clone();
    if let Value::Object(m) = &mut v {
        m.remove("status");
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            for f in [
                "resourceVersion",
                "generation",
                "managedFields",
                "creationTimestamp",
                "uid",
                "selfLink",
            ] {
                meta.remove(f);
            }
            if let Some(Value::Object(a)) = meta.get_mut("annotations") {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
                a.remove("deployment.kubernetes.io/revision");
            }
        }
    }
    v
}

fn images(o: &Object) -> BTreeMap<String, String> {
    PodTemplate::of(o)
        .map(|t| {
            t.containers()
                .map(|c| (c.name.to_owned(), c.image().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// Exposure of a Service: LoadBalancer, NodePort, externalIPs.
fn exposure(o: &Object) -> Vec<String> {
    if o.kind != "Service" || o.group() != "" {
        return Vec::new();
    }
    let mut e = Vec::new();
    match o.pointer("/spec/type").and_then(Value::as_str) {
        Some("LoadBalancer") => {
            let ranges = o
                .pointer("/spec/loadBalancerSourceRanges")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            e.push(if ranges {
                "type LoadBalancer (source ranges set)".to_owned()
            } else {
                "type LoadBalancer open to any source".to_owned()
            });
        }
        Some("NodePort") => e.push("type NodePort".to_owned()),
        _ => {}
    }
    if let Some(ips) = o.pointer("/spec/externalIPs").and_then(Value::as_array) {
        if !ips.is_empty() {
            let list: Vec<_> = ips.iter().filter_map(Value::as_str).collect();
            e.push(format!("externalIPs {}", list.join(", ")));
        }
    }
    e
}

const PSS_LABELS: &[&str] = &[
    "pod-security.kubernetes.io/enforce",
    "pod-security.kubernetes.io/enforce-version",
    "pod-security.kubernetes.io/audit",
    "pod-security.kubernetes.io/audit-version",
    "pod-security.kubernetes.io/warn",
    "pod-security.kubernetes.io/warn-version",
];

fn pss_labels(o: &Object) -> BTreeMap<&'static str, String> {
    let labels: BTreeMap<&str, &str> = o.labels().collect();
    PSS_LABELS
        .iter()
        .filter_map(|k| labels.get(k).map(|v| (*k, (*v).to_owned())))
        .collect()
}

fn level_rank(l: Option<&str>) -> u8 {
    match l {
        Some("restricted") => 2,
        Some("baseline") => 1,
        _ => 0,
    }
}

fn added(n: &Object, rules: WorkloadRules<'_>, out: &mut Vec<Drift>) {
    if is_rbac(n) {
        push(
            out,
            rbac_severity(n),
            "rbac",
            Change::Added,
            n,
            describe_rbac(n),
        );
    } else if is_webhook(n) {
        push(
            out,
            Severity::High,
            "admission",
            Change::Added,
            n,
            "admission configuration added".into(),
        );
    } else if n.kind == "Ingress" {
        push(
            out,
            Severity::Medium,
            "exposure",
            Change::Added,
            n,
            "new Ingress".into(),
        );
    } else if PodTemplate::of(n).is_some() {
        for f in rules(n) {
            let detail = format!("new workload: {}", rule_text(&f));
            push_rule(out, f.severity, Change::Added, n, &f, detail);
        }
    }
    for e in exposure(n) {
        let sev = if e.contains("any source") {
            Severity::High
        } else {
            Severity::Medium
        };
        push(
            out,
            sev,
            "exposure",
            Change::Added,
            n,
            format!("new Service exposed: {e}"),
        );
    }
    if n.kind == "Namespace" && n.group().is_empty() && pss_labels(n).is_empty() {
        push(
            out,
            Severity::Low,
            "pod-security",
            Change::Added,
            n,
            "new namespace without Pod Security labels".into(),
        );
    }
}

fn removed(o: &Object, out: &mut Vec<Drift>) {
    if is_rbac(o) {
        push(
            out,
            Severity::Low,
            "rbac",
            Change::Removed,
            o,
            describe_rbac(o),
        );
    } else if is_webhook(o) {
        push(
            out,
            Severity::High,
            "admission",
            Change::Removed,
            o,
            "admission configuration removed: its checks no longer run".into(),
        );
    } else if o.kind == "NetworkPolicy" {
        push(
            out,
            Severity::Medium,
            "exposure",
            Change::Removed,
            o,
            "NetworkPolicy removed".into(),
        );
    }
}

fn changed(o: &Object, n: &Object, rules: WorkloadRules<'_>, out: &mut Vec<Drift>) {
    if is_rbac(n) || is_webhook(n) {
        if security_content(o) != security_content(n) {
            let (sev, cat) = if is_rbac(n) {
                (rbac_severity(n).max(rbac_severity(o)), "rbac")
            } else {
                (Severity::High, "admission")
            };
            let detail = if is_rbac(n) {
                format!("was: {}; now: {}", describe_rbac(o), describe_rbac(n))
            } else {
                changed_fields(o, n)
            };
            push(out, sev, cat, Change::Changed, n, detail);
        }
        return;
    }
    if PodTemplate::of(n).is_some() {
        if security_content(o) != security_content(n) {
            workload_drift(o, n, rules, out);
        }
        let (bi, ai) = (images(o), images(n));
        for (c, img) in &ai {
            match bi.get(c) {
                Some(old) if old != img => push(
                    out,
                    Severity::Low,
                    "image",
                    Change::Changed,
                    n,
                    format!("container {c}: {old} -> {img}"),
                ),
                None if !bi.is_empty() => push(
                    out,
                    Severity::Low,
                    "image",
                    Change::Changed,
                    n,
                    format!("new container {c}: {img}"),
                ),
                _ => {}
            }
        }
    }
    let before = exposure(o);
    for e in exposure(n) {
        if !before.contains(&e) {
            let sev = if e.contains("any source") {
                Severity::High
            } else {
                Severity::Medium
            };
            push(
                out,
                sev,
                "exposure",
                Change::Changed,
                n,
                format!("Service now exposed: {e}"),
            );
        }
    }
    if n.kind == "Ingress" && o.pointer("/spec") != n.pointer("/spec") {
        let tls_lost = o.pointer("/spec/tls").is_some() && n.pointer("/spec/tls").is_none();
        let sev = if tls_lost {
            Severity::High
        } else {
            Severity::Medium
        };
        let detail = if tls_lost {
            "Ingress lost its TLS section".to_owned()
        } else {
            "Ingress rules changed".to_owned()
        };
        push(out, sev, "exposure", Change::Changed, n, detail);
    }
    if n.kind == "Namespace" && n.group().is_empty() {
        let (a, b) = (pss_labels(o), pss_labels(n));
        if a != b {
            let key = "pod-security.kubernetes.io/enforce";
            let weaker = level_rank(b.get(key).map(String::as_str))
                < level_rank(a.get(key).map(String::as_str));
            let sev = if weaker {
                Severity::High
            } else {
                Severity::Low
            };
            let show = |m: &BTreeMap<&str, String>| {
                if m.is_empty() {
                    "none".to_owned()
                } else {
                    m.iter()
                        .map(|(k, v)| {
                            format!(
                                "{}={v}",
                                k.trim_start_matches("pod-security.kubernetes.io/")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(",")
                }
            };
            let what = if weaker { "weakened" } else { "changed" };
            push(
                out,
                sev,
                "pod-security",
                Change::Changed,
                n,
                format!("Pod Security labels {what}: {} -> {}", show(&a), show(&b)),
            );
        }
    }
}

fn changed_fields(o: &Object, n: &Object) -> String {
    let (a, b) = (security_content(o), security_content(n));
    let mut fields = Vec::new();
    if let (Value::Object(a), Value::Object(b)) = (&a, &b) {
        for (k, v) in b {
            if a.get(k) != Some(v) {
                fields.push(k.clone());
            }
        }
        for k in a.keys() {
            if !b.contains_key(k) {
                fields.push(k.clone());
            }
        }
    }
    format!("changed: {}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn drift_is_found_and_bookkeeping_ignored() {
        let old = vec![
            json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a","resourceVersion":"1","labels":{"pod-security.kubernetes.io/enforce":"restricted"}}}),
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"a","resourceVersion":"1"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x:1"}]}}}}),
            json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"a"},"spec":{"type":"ClusterIP"}}),
        ];
        let mut new = old.clone();
        new[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!("privileged");
        new[1]["metadata"]["resourceVersion"] = json!("2");
        new[1]["spec"]["template"]["spec"]["hostPID"] = json!(true);
        new[1]["spec"]["template"]["spec"]["containers"][0]["image"] = json!("x:2");
        new[2]["spec"]["type"] = json!("NodePort");
        new.push(json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":"b"},"roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"eve"}]}));
        let d = diff(&old, &new, &host_pid);
        let cats: Vec<_> = d.iter().map(|x| (x.severity, x.category)).collect();
        assert_eq!(
            cats,
            [
                (Severity::Critical, "rbac"),
                (Severity::High, "pod-security"),
                (Severity::High, "workload"),
                (Severity::Medium, "exposure"),
                (Severity::Low, "image"),
            ]
        );
        let w = d.iter().find(|x| x.category == "workload").unwrap();
        assert_eq!(w.rule.as_deref(), Some("POD004"));
        assert_eq!(w.detail, "now POD004 host-namespaces: hostPID=true");
        assert!(diff(&old, &old, &host_pid).is_empty());
        // The way back: the finding disappears, reported as info.
        let back = diff(&new, &old, &host_pid);
        let w = back.iter().find(|x| x.category == "workload").unwrap();
        assert_eq!(w.severity, Severity::Info);
        assert!(w.detail.starts_with("no longer POD004"), "{}", w.detail);
    }

    /// A stand-in for the rules: POD004 on hostPID.
    fn host_pid(o: &Object) -> Vec<ReportFinding> {
        let Some(t) = PodTemplate::of(o) else {
            return Vec::new();
        };
        if !t.flag("hostPID") {
            return Vec::new();
        }
        vec![ReportFinding {
            rule_id: "POD004",
            rule_name: "host-namespaces",
            severity: Severity::High,
            message: "hostPID=true".into(),
            object: o.reference().into(),
            location: None,
            path: None,
            fix: None,
            mode: Default::default(),
            properties: Default::default(),
            suppression: None,
        }]
    }

    #[test]
    fn a_changed_finding_is_one_item() {
        let rules = |o: &Object| -> Vec<ReportFinding> {
            let mut f = host_pid(o);
            if let (Some(f), Some(t)) = (f.first_mut(), PodTemplate::of(o)) {
                if t.flag("hostNetwork") {
                    f.message = "hostNetwork=true, hostPID=true".into();
                }
            }
            f
        };
        let old = vec![
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a"},"spec":{"hostPID":true,"containers":[{"name":"c","image":"x:1"}]}}),
        ];
        let mut new = old.clone();
        new[0]["spec"]["hostNetwork"] = json!(true);
        let d = diff(&old, &new, &rules);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            d[0].detail,
            "now POD004 host-namespaces: hostNetwork=true, hostPID=true (was: hostPID=true)"
        );
        let added = diff(&[], &new, &rules);
        assert_eq!(added[0].change, Change::Added);
        assert!(added[0].detail.starts_with("new workload: POD004"));
    }
}
