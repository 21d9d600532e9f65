use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Ingresses without `spec.tls`, or whose rule hosts are not all covered by a `tls` entry.
    ///
    /// ## Why it matters
    /// Traffic to the application, cookies and credentials included, crosses networks in clear text.
    ///
    /// ## How to fix
    /// Add a `tls` section with a certificate for every host (cert-manager rotates them).
    ///
    /// ## Example
    /// ```yaml
    /// kind: Ingress
    /// spec:
    ///   rules:
    ///   - host: shop.example.com
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Ingress
    /// spec:
    ///   tls:
    ///   - hosts: [shop.example.com]
    ///     secretName: shop-tls
    ///   rules:
    ///   - host: shop.example.com
    /// ```
    pub(crate) struct IngressWithoutTls;
    id: "NET010",
    name: "ingress-without-tls",
    severity: Medium,
    summary: "Ingress serves plain HTTP",
    references: ["nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.cert-rotation", "book:workload.waf"],
    tags: ["network"],
    level: None,
    scope: Object,
    kinds: &["Ingress"],
    options: &[],
}

impl Rule for IngressWithoutTls {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "Ingress" || !matches!(object.group(), "networking.k8s.io" | "extensions")
        {
            return;
        }
        let tls = object.pointer("/spec/tls").and_then(Value::as_array);
        let Some(tls) = tls.filter(|t| !t.is_empty()) else {
            cx.report(
                "/spec".to_owned(),
                format!(
                    "Ingress {} has no tls section: it serves plain HTTP",
                    object.name
                ),
            )
            .fix("add spec.tls with a certificate for every host");
            return;
        };
        let covered: Vec<&str> = tls
            .iter()
            .filter_map(|t| t.get("hosts").and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let wildcard = |h: &str| {
            covered.iter().any(|c| {
                c.strip_prefix("*.")
                    .is_some_and(|d| h.split_once('.').is_some_and(|(_, rest)| rest == d))
            })
        };
        let rules = object
            .pointer("/spec/rules")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for (i, r) in rules.iter().enumerate() {
            let Some(host) = r.get("host").and_then(Value::as_str) else {
                continue;
            };
            if !covered.contains(&host) && !wildcard(host) {
                cx.report(
                    format!("/spec/rules/{i}/host"),
                    format!(
                        "Ingress {} host {host} is not covered by its tls section",
                        object.name
                    ),
                )
                .fix("list the host in a spec.tls entry");
            }
        }
    }
}
