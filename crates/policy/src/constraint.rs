//! Constraints (`constraints.gatekeeper.sh/*`): a template's kind instantiated with
//! parameters, a `match` and an enforcement action.

use crate::template::err;
use crate::LoadError;
use palisade_core::labels::{labels_of, LabelSelector, Labels};
use palisade_core::{Mode, Object};
use serde_json::Value;

/// The API group of constraints.
pub const CONSTRAINT_GROUP: &str = "constraints.gatekeeper.sh";

/// What Gatekeeper does with a violation (`enforcementAction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Record only (audit results).
    Dryrun,
    /// Allow, with a warning to the client.
    Warn,
    /// Reject.
    Deny,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        match s.to_ascii_lowercase().as_str() {
            "deny" => Some(Action::Deny),
            "warn" => Some(Action::Warn),
            "dryrun" => Some(Action::Dryrun),
            _ => None,
        }
    }

    /// Palisade's admission mode for this action: deny → deny, warn → warn, dryrun → audit.
    pub fn mode(self) -> Mode {
        match self {
            Action::Deny => Mode::Deny,
            Action::Warn => Mode::Warn,
            Action::Dryrun => Mode::Audit,
        }
    }

    /// The name Gatekeeper writes.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Deny => "deny",
            Action::Warn => "warn",
            Action::Dryrun => "dryrun",
        }
    }
}

/// Where a constraint is enforced (`scopedEnforcementActions[].enforcementPoints[].name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnforcementPoint {
    /// `audit.gatekeeper.sh`: Gatekeeper's audit of the cluster; `palisade scan`.
    Audit,
    /// `validation.gatekeeper.sh`: the admission webhook; `palisade admission serve`.
    Validation,
}

impl EnforcementPoint {
    /// The name Gatekeeper gives it.
    pub fn name(self) -> &'static str {
        match self {
            EnforcementPoint::Audit => "audit.gatekeeper.sh",
            EnforcementPoint::Validation => "validation.gatekeeper.sh",
        }
    }
}

/// Namespace-name pattern with Gatekeeper's globbing: a `*` at the front, at the end, or
/// both (`kube-*`, `*-system`, `*`).
fn glob_match(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let (front, back) = (pattern.starts_with('*'), pattern.ends_with('*'));
    match (front, back) {
        (true, true) => value.contains(&pattern[1..pattern.len() - 1]),
        (true, false) => value.ends_with(&pattern[1..]),
        (false, true) => value.starts_with(&pattern[..pattern.len() - 1]),
        (false, false) => pattern == value,
    }
}

/// `spec.match.scope`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchScope {
    /// `*` or absent.
    All,
    /// `Cluster`: objects without a namespace.
    Cluster,
    /// `Namespaced`: objects with one.
    Namespaced,
}

/// A constraint's `spec.match`.
#[derive(Clone, Debug)]
pub struct Match {
    /// `kinds`: (apiGroups, kinds) pairs; empty matches every kind.
    pub kinds: Vec<(Vec<String>, Vec<String>)>,
    /// `scope`.
    pub scope: MatchScope,
    /// `namespaces` (globs).
    pub namespaces: Vec<String>,
    /// `excludedNamespaces` (globs).
    pub excluded_namespaces: Vec<String>,
    /// `labelSelector`.
    pub label_selector: Option<LabelSelector>,
    /// `namespaceSelector`.
    pub namespace_selector: Option<LabelSelector>,
    /// `name` (glob).
    pub name: Option<String>,
}

/// What the matcher needs to know of an object under review.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// API group (empty for the core group).
    pub group: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Namespace (`None` or empty: cluster-scoped, as Gatekeeper sees a review without one).
    pub namespace: Option<&'a str>,
    /// Name.
    pub name: &'a str,
    /// The object (for its labels).
    pub object: &'a Value,
}

impl Match {
    /// True when the constraint applies to the subject. `namespace_labels` gives the labels of
    /// a namespace by name, `None` when the Namespace object is not known: a
    /// `namespaceSelector` is then evaluated against no labels (see the crate documentation).
    pub fn matches(
        &self,
        s: &Subject<'_>,
        namespace_labels: &dyn Fn(&str) -> Option<Labels>,
    ) -> bool {
        let kind_ok = self.kinds.is_empty()
            || self.kinds.iter().any(|(groups, kinds)| {
                (groups.is_empty() || groups.iter().any(|g| g == "*" || g == s.group))
                    && (kinds.is_empty() || kinds.iter().any(|k| k == "*" || k == s.kind))
            });
        if !kind_ok {
            return false;
        }
        let is_namespace = s.kind == "Namespace" && s.group.is_empty();
        let ns = s.namespace.filter(|n| !n.is_empty());
        match self.scope {
            MatchScope::All => {}
            MatchScope::Cluster if ns.is_some() => return false,
            MatchScope::Namespaced if ns.is_none() => return false,
            _ => {}
        }
        // The namespace a namespace-based matcher reads: a Namespace's own name; nothing for
        // other cluster-scoped objects, which these matchers never exclude.
        let effective_ns = if is_namespace { Some(s.name) } else { ns };
        if let Some(n) = effective_ns {
            if !self.namespaces.is_empty() && !self.namespaces.iter().any(|p| glob_match(p, n)) {
                return false;
            }
            if self.excluded_namespaces.iter().any(|p| glob_match(p, n)) {
                return false;
            }
        }
        if let Some(sel) = &self.label_selector {
            if !sel.matches(&labels_of(s.object)) {
                return false;
            }
        }
        if let Some(sel) = &self.namespace_selector {
            let labels = if is_namespace {
                Some(labels_of(s.object))
            } else {
                ns.map(|n| namespace_labels(n).unwrap_or_default())
            };
            if let Some(labels) = labels {
                if !sel.matches(&labels) {
                    return false;
                }
            }
        }
        if let Some(pattern) = &self.name {
            if !glob_match(pattern, s.name) {
                return false;
            }
        }
        true
    }
}

/// A scoped action: an action and the enforcement points it applies at.
#[derive(Clone, Debug)]
pub struct ScopedAction {
    /// The action.
    pub action: Action,
    /// Enforcement point names (`audit.gatekeeper.sh`, `validation.gatekeeper.sh`, `*`...).
    pub points: Vec<String>,
}

/// A loaded constraint.
#[derive(Clone, Debug)]
pub struct Constraint {
    /// Its kind: the template's constraint kind.
    pub kind: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.parameters` (an empty object when absent).
    pub parameters: Value,
    /// `spec.match`.
    pub matcher: Match,
    /// `spec.match` as written, for `palisade explain`.
    pub match_value: Value,
    /// `spec.enforcementAction` (`None` when it is `scoped`).
    pub action: Option<Action>,
    /// `spec.scopedEnforcementActions` (with `enforcementAction: scoped`).
    pub scoped: Vec<ScopedAction>,
    /// Where it was read.
    pub source: Option<palisade_core::SourceLoc>,
}

impl Constraint {
    /// The action at an enforcement point: the constraint's action, or with scoped actions the
    /// strongest of those listing the point (or `*`); `None` when it is not enforced there.
    pub fn action_at(&self, point: EnforcementPoint) -> Option<Action> {
        if let Some(a) = self.action {
            return Some(a);
        }
        self.scoped
            .iter()
            .filter(|s| s.points.iter().any(|p| p == "*" || p == point.name()))
            .map(|s| s.action)
            .max()
    }

    /// The rule id of its violations: `Kind/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// True when the object is a constraint (of any kind).
pub fn is_constraint(o: &Object) -> bool {
    o.group() == CONSTRAINT_GROUP
}

fn strings(o: &Object, v: Option<&Value>, ptr: &str, what: &str) -> Result<Vec<String>, LoadError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str().map(str::to_owned).ok_or_else(|| {
                    err(
                        o,
                        &format!("{ptr}/{i}"),
                        format!("{what} must be a list of strings"),
                    )
                })
            })
            .collect(),
        Some(_) => Err(err(o, ptr, format!("{what} must be a list of strings"))),
    }
}

fn selector(
    o: &Object,
    v: Option<&Value>,
    ptr: &str,
    what: &str,
) -> Result<Option<LabelSelector>, LoadError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(s) => LabelSelector::from_value(s)
            .map(Some)
            .map_err(|e| err(o, ptr, format!("{what}: {e}"))),
    }
}

/// Reads a constraint. The template is checked by the caller (kind, parameter schema).
pub fn parse(o: &Object) -> Result<Constraint, LoadError> {
    let what = format!("constraint {} `{}`", o.kind, o.name);
    if o.name.is_empty() {
        return Err(err(o, "/metadata", format!("{what} has no metadata.name")));
    }
    let spec = o.value().get("spec").cloned().unwrap_or(Value::Null);
    if !(spec.is_object() || spec.is_null()) {
        return Err(err(o, "/spec", format!("{what}: spec must be a mapping")));
    }
    let m = spec.get("match").cloned().unwrap_or(Value::Null);
    if !(m.is_object() || m.is_null()) {
        return Err(err(
            o,
            "/spec/match",
            format!("{what}: spec.match must be a mapping"),
        ));
    }
    let mut kinds = Vec::new();
    match m.get("kinds") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for (i, k) in list.iter().enumerate() {
                let p = format!("/spec/match/kinds/{i}");
                let groups = strings(
                    o,
                    k.get("apiGroups"),
                    &format!("{p}/apiGroups"),
                    &format!("{what}: match.kinds[{i}].apiGroups"),
                )?;
                let ks = strings(
                    o,
                    k.get("kinds"),
                    &format!("{p}/kinds"),
                    &format!("{what}: match.kinds[{i}].kinds"),
                )?;
                kinds.push((groups, ks));
            }
        }
        Some(_) => {
            return Err(err(
                o,
                "/spec/match/kinds",
                format!("{what}: match.kinds must be a list"),
            ))
        }
    }
    let scope = match m.get("scope").and_then(Value::as_str) {
        None | Some("*") => MatchScope::All,
        Some("Cluster") => MatchScope::Cluster,
        Some("Namespaced") => MatchScope::Namespaced,
        Some(other) => {
            return Err(err(
                o,
                "/spec/match/scope",
                format!(
                    "{what}: unknown match.scope `{other}` (expected *, Cluster or Namespaced)"
                ),
            ))
        }
    };
    let name = match m.get("name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(err(
                o,
                "/spec/match/name",
                format!("{what}: match.name must be a string"),
            ))
        }
    };
    let matcher = Match {
        kinds,
        scope,
        namespaces: strings(
            o,
            m.get("namespaces"),
            "/spec/match/namespaces",
            &format!("{what}: match.namespaces"),
        )?,
        excluded_namespaces: strings(
            o,
            m.get("excludedNamespaces"),
            "/spec/match/excludedNamespaces",
            &format!("{what}: match.excludedNamespaces"),
        )?,
        label_selector: selector(
            o,
            m.get("labelSelector"),
            "/spec/match/labelSelector",
            &format!("{what}: match.labelSelector"),
        )?,
        namespace_selector: selector(
            o,
            m.get("namespaceSelector"),
            "/spec/match/namespaceSelector",
            &format!("{what}: match.namespaceSelector"),
        )?,
        name,
    };
    let (action, scoped) = match spec.get("enforcementAction") {
        None | Some(Value::Null) => (Some(Action::Deny), Vec::new()),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("scoped") => {
            let mut scoped = Vec::new();
            let list = spec.get("scopedEnforcementActions").and_then(Value::as_array);
            let Some(list) = list.filter(|l| !l.is_empty()) else {
                return Err(err(o, "/spec/enforcementAction", format!("{what}: enforcementAction `scoped` needs scopedEnforcementActions")));
            };
            for (i, sa) in list.iter().enumerate() {
                let p = format!("/spec/scopedEnforcementActions/{i}");
                let a = sa.get("action").and_then(Value::as_str).and_then(Action::parse).ok_or_else(|| {
                    err(o, &format!("{p}/action"), format!("{what}: scopedEnforcementActions[{i}].action must be deny, warn or dryrun"))
                })?;
                let points: Vec<String> = sa
                    .get("enforcementPoints")
                    .and_then(Value::as_array)
                    .map(|ps| ps.iter().filter_map(|x| x.get("name").and_then(Value::as_str)).map(str::to_owned).collect())
                    .unwrap_or_default();
                if points.is_empty() {
                    return Err(err(o, &p, format!("{what}: scopedEnforcementActions[{i}] names no enforcementPoints")));
                }
                scoped.push(ScopedAction { action: a, points });
            }
            (None, scoped)
        }
        Some(Value::String(s)) => match Action::parse(s) {
            Some(a) => (Some(a), Vec::new()),
            None => {
                return Err(err(o, "/spec/enforcementAction", format!("{what}: unknown enforcementAction `{s}` (expected deny, warn, dryrun or scoped)")))
            }
        },
        Some(_) => return Err(err(o, "/spec/enforcementAction", format!("{what}: enforcementAction must be a string"))),
    };
    let parameters = match spec.get("parameters") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(p) => p.clone(),
    };
    Ok(Constraint {
        kind: o.kind.clone(),
        name: o.name.clone(),
        parameters,
        matcher,
        match_value: m,
        action,
        scoped,
        source: o.source.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("kube-*", "kube-system"));
        assert!(glob_match("*-system", "gatekeeper-system"));
        assert!(!glob_match("*-system", "system-x"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("*mid*", "a-mid-b"));
        assert!(!glob_match("prod", "prod-1"));
    }
}
