//! Request attributes (`authorizer.Attributes`) and the kubectl-style forms that build them.

use serde::Serialize;

use crate::model::PolicyRule;

/// What a request is about: an API resource or a non-resource URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Target {
    /// A resource request.
    Resource {
        /// API group (`""` = core).
        api_group: String,
        /// Resource (plural, lower case), e.g. `pods`.
        resource: String,
        /// Subresource, e.g. `exec` (empty when none).
        subresource: String,
        /// Namespace (`None` = cluster scope or all namespaces).
        namespace: Option<String>,
        /// Object name (`None` for list/watch/create and collection requests).
        name: Option<String>,
    },
    /// A non-resource request, e.g. `/metrics`.
    NonResource {
        /// URL path.
        path: String,
    },
}

/// A request to authorize: a verb and a target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Request {
    /// Verb (`get`, `list`, `create`, `escalate`, ..., or for non-resource URLs the
    /// lower-case HTTP verb `get`, `post`, ...).
    pub verb: String,
    /// Target.
    pub target: Target,
}

/// Error from [`Request::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// Well-known resources whose group kubectl would find through discovery.
const KNOWN_GROUPS: &[(&str, &str)] = &[
    ("deployments", "apps"),
    ("replicasets", "apps"),
    ("statefulsets", "apps"),
    ("daemonsets", "apps"),
    ("controllerrevisions", "apps"),
    ("jobs", "batch"),
    ("cronjobs", "batch"),
    ("roles", "rbac.authorization.k8s.io"),
    ("rolebindings", "rbac.authorization.k8s.io"),
    ("clusterroles", "rbac.authorization.k8s.io"),
    ("clusterrolebindings", "rbac.authorization.k8s.io"),
    ("networkpolicies", "networking.k8s.io"),
    ("ingresses", "networking.k8s.io"),
    ("ingressclasses", "networking.k8s.io"),
    ("certificatesigningrequests", "certificates.k8s.io"),
    ("signers", "certificates.k8s.io"),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
    ),
    (
        "validatingadmissionpolicies",
        "admissionregistration.k8s.io",
    ),
    ("customresourcedefinitions", "apiextensions.k8s.io"),
    ("storageclasses", "storage.k8s.io"),
    ("csidrivers", "storage.k8s.io"),
    ("volumeattachments", "storage.k8s.io"),
    ("priorityclasses", "scheduling.k8s.io"),
    ("poddisruptionbudgets", "policy"),
    ("horizontalpodautoscalers", "autoscaling"),
    ("leases", "coordination.k8s.io"),
    ("tokenreviews", "authentication.k8s.io"),
    ("subjectaccessreviews", "authorization.k8s.io"),
    ("selfsubjectaccessreviews", "authorization.k8s.io"),
    ("endpointslices", "discovery.k8s.io"),
    ("events.events.k8s.io", "events.k8s.io"),
];

/// kubectl short names for common resources.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("po", "pods"),
    ("svc", "services"),
    ("deploy", "deployments"),
    ("ds", "daemonsets"),
    ("sts", "statefulsets"),
    ("rs", "replicasets"),
    ("cj", "cronjobs"),
    ("cm", "configmaps"),
    ("ns", "namespaces"),
    ("sa", "serviceaccounts"),
    ("no", "nodes"),
    ("pv", "persistentvolumes"),
    ("pvc", "persistentvolumeclaims"),
    ("ing", "ingresses"),
    ("netpol", "networkpolicies"),
    ("csr", "certificatesigningrequests"),
    ("crd", "customresourcedefinitions"),
    ("ep", "endpoints"),
    ("rc", "replicationcontrollers"),
];

impl Request {
    /// A resource request in the core or a named group.
    pub fn resource(verb: &str, api_group: &str, resource: &str) -> Self {
        Request {
            verb: verb.into(),
            target: Target::Resource {
                api_group: api_group.into(),
                resource: resource.into(),
                subresource: String::new(),
                namespace: None,
                name: None,
            },
        }
    }

    /// A non-resource request.
    pub fn non_resource(verb: &str, path: &str) -> Self {
        Request {
            verb: verb.into(),
            target: Target::NonResource { path: path.into() },
        }
    }

    /// Sets the subresource (resource requests only).
    pub fn with_subresource(mut self, sub: &str) -> Self {
        if let Target::Resource { subresource, .. } = &mut self.target {
            *subresource = sub.into();
        }
        self
    }

    /// Sets the namespace (resource requests only).
    pub fn in_namespace(mut self, ns: &str) -> Self {
        if let Target::Resource { namespace, .. } = &mut self.target {
            *namespace = Some(ns.into()).filter(|s: &String| !s.is_empty());
        }
        self
    }

    /// Sets the object name (resource requests only).
    pub fn named(mut self, n: &str) -> Self {
        if let Target::Resource { name, .. } = &mut self.target {
            *name = Some(n.into()).filter(|s: &String| !s.is_empty());
        }
        self
    }

    /// Parses kubectl forms: `pods`, `pods/exec`, `deployments.apps`,
    /// `deployments.apps/scale`, `deployments.v1.apps`, a short name (`deploy`), or a
    /// non-resource URL starting with `/` (e.g. `/metrics`). Bare names of well-known
    /// non-core resources get their group (`deployments` → `apps`), as kubectl's
    /// discovery would.
    pub fn parse(verb: &str, what: &str) -> Result<Self, ParseError> {
        let verb = verb.trim().to_ascii_lowercase();
        if verb.is_empty() {
            return Err(ParseError("empty verb".into()));
        }
        let what = what.trim();
        if what.starts_with('/') {
            return Ok(Request::non_resource(&verb, what));
        }
        let (res_part, sub) = match what.split_once('/') {
            Some((r, s)) if !s.is_empty() && !s.contains('/') => (r, s),
            Some(_) => return Err(ParseError(format!("invalid resource {what:?}"))),
            None => (what, ""),
        };
        if res_part.is_empty() {
            return Err(ParseError("empty resource".into()));
        }
        let res_part = res_part.to_ascii_lowercase();
        let (resource, group) = match res_part.split_once('.') {
            Some((r, g)) => {
                // `deployments.v1.apps` → drop the version segment.
                let g = match g.split_once('.') {
                    Some((v, rest)) if looks_like_version(v) => rest,
                    _ if looks_like_version(g) => "",
                    _ => g,
                };
                (r.to_string(), g.to_string())
            }
            None => {
                let r = SHORT_NAMES
                    .iter()
                    .find(|(s, _)| *s == res_part)
                    .map(|(_, l)| l.to_string())
                    .unwrap_or(res_part.clone());
                let g = KNOWN_GROUPS
                    .iter()
                    .find(|(k, _)| *k == r)
                    .map(|(_, g)| g.to_string())
                    .unwrap_or_default();
                (r, g)
            }
        };
        Ok(Request::resource(&verb, &group, &resource).with_subresource(sub))
    }

    /// The namespace of a resource request.
    pub fn namespace(&self) -> Option<&str> {
        match &self.target {
            Target::Resource { namespace, .. } => namespace.as_deref(),
            Target::NonResource { .. } => None,
        }
    }

    /// `RuleAllows` from the RBAC authorizer.
    pub fn allowed_by(&self, rule: &PolicyRule) -> bool {
        if !rule.verb_matches(&self.verb) {
            return false;
        }
        match &self.target {
            Target::Resource {
                api_group,
                resource,
                subresource,
                name,
                ..
            } => {
                let combined;
                let combined_ref = if subresource.is_empty() {
                    resource.as_str()
                } else {
                    combined = format!("{resource}/{subresource}");
                    combined.as_str()
                };
                rule.api_group_matches(api_group)
                    && rule.resource_matches(combined_ref, subresource)
                    && rule.resource_name_matches(name.as_deref().unwrap_or(""))
            }
            Target::NonResource { path } => rule.non_resource_url_matches(path),
        }
    }
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.target {
            Target::Resource {
                api_group,
                resource,
                subresource,
                namespace,
                name,
            } => {
                write!(f, "{} {resource}", self.verb)?;
                if !api_group.is_empty() {
                    write!(f, ".{api_group}")?;
                }
                if !subresource.is_empty() {
                    write!(f, "/{subresource}")?;
                }
                if let Some(n) = name {
                    write!(f, " {n}")?;
                }
                match namespace {
                    Some(ns) => write!(f, " in namespace {ns}"),
                    None => write!(f, " cluster-wide"),
                }
            }
            Target::NonResource { path } => write!(f, "{} {path}", self.verb),
        }
    }
}

fn looks_like_version(s: &str) -> bool {
    let mut c = s.chars();
    c.next() == Some('v') && c.next().is_some_and(|d| d.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let r = Request::parse("get", "pods").unwrap();
        assert_eq!(r, Request::resource("get", "", "pods"));
        let r = Request::parse("create", "pods/exec").unwrap();
        assert_eq!(
            r,
            Request::resource("create", "", "pods").with_subresource("exec")
        );
        let r = Request::parse("get", "deployments.apps").unwrap();
        assert_eq!(r, Request::resource("get", "apps", "deployments"));
        let r = Request::parse("update", "deployments.apps/scale").unwrap();
        assert_eq!(
            r,
            Request::resource("update", "apps", "deployments").with_subresource("scale")
        );
        let r = Request::parse("get", "deployments.v1.apps").unwrap();
        assert_eq!(r, Request::resource("get", "apps", "deployments"));
        let r = Request::parse("get", "deploy").unwrap();
        assert_eq!(r, Request::resource("get", "apps", "deployments"));
        let r = Request::parse("GET", "/metrics").unwrap();
        assert_eq!(r, Request::non_resource("get", "/metrics"));
        assert!(Request::parse("get", "pods/").is_err());
        assert!(Request::parse("get", "a/b/c").is_err());
        assert!(Request::parse("", "pods").is_err());
    }
}
