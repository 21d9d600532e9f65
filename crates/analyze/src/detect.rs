//! Detection alerts as findings: the adapter from a `palisade-detect` [`Alert`] to the
//! report's [`ReportFinding`], and the policy applied to alerts as to the findings of a
//! scan: rule selection (`select`, `ignore`, `enabled: false`), severity overrides and
//! expiring exceptions, which match the audit event's object (`match: {namespace, kind,
//! name}`: `kind` from the resource, `Pod` for `pods`).

use crate::catalogue;
use crate::{exception_for, is_selected, Options};
use palisade_core::report::ExpiredException;
use palisade_core::resources::RESOURCES;
use palisade_core::{EventStats, InputIssue, ObjectRef, Report, ReportFinding, RuleMeta, Severity};
use palisade_detect::{Alert, InputError, RuleSet, Stats};

/// The kind of a request that names no resource (a non-resource URL such as `/version`).
pub const NON_RESOURCE_KIND: &str = "NonResourceURL";

/// The object an alert is about, from the audit event's `objectRef`: the kind of a resource
/// Palisade knows (`pods` → `Pod`), else the resource as written; `*` as the name of a
/// request on a collection (a `list`, a `create` without a name).
pub fn alert_object(a: &Alert) -> ObjectRef {
    let o = &a.object;
    if o.resource.is_empty() {
        return ObjectRef {
            api_version: String::new(),
            kind: NON_RESOURCE_KIND.to_owned(),
            namespace: None,
            name: "*".to_owned(),
        };
    }
    let known = RESOURCES
        .iter()
        .find(|r| r.plural == o.resource && r.group() == o.api_group);
    ObjectRef {
        api_version: known.map_or_else(|| o.api_group.clone(), |r| r.api_version.to_owned()),
        kind: known.map_or_else(|| o.resource.clone(), |r| r.kind.to_owned()),
        namespace: (!o.namespace.is_empty()).then(|| o.namespace.clone()),
        name: if o.name.is_empty() {
            "*".to_owned()
        } else {
            o.name.clone()
        },
    }
}

/// The alert as a finding of `meta`'s rule (no policy applied): the message, the object,
/// the severity, and the event's facts as properties (`user`, `verb`, `time`, `auditID`,
/// `groups`, `sourceIPs`, `subresource`, `resource`, `code`, `count`, `mitre`).
pub fn alert_finding(a: &Alert, meta: &'static RuleMeta) -> ReportFinding {
    let mut p = palisade_core::Properties::new();
    let mut put = |k: &'static str, v: String| {
        if !v.is_empty() {
            p.insert(k.into(), v);
        }
    };
    put("user", a.user.clone());
    put("verb", a.verb.clone());
    put("time", a.time.clone());
    put("auditID", a.audit_id.clone());
    put("groups", a.groups.join(","));
    put("sourceIPs", a.source_ips.join(","));
    put(
        "impersonatedUser",
        a.impersonated_user.clone().unwrap_or_default(),
    );
    put("resource", a.object.resource.clone());
    put("subresource", a.object.subresource.clone());
    put("code", a.code.map(|c| c.to_string()).unwrap_or_default());
    put("count", a.count.map(|c| c.to_string()).unwrap_or_default());
    put("mitre", a.mitre.join(","));
    ReportFinding {
        rule_id: meta.id,
        rule_name: meta.name,
        severity: catalogue::severity(a.severity),
        message: a.message.clone(),
        object: alert_object(a).into(),
        location: None,
        path: None,
        fix: None,
        mode: Default::default(),
        properties: p,
        suppression: None,
    }
}

/// The policy for the alerts of one detection rule set.
pub struct AlertPolicy {
    opts: Options,
    metas: Vec<&'static RuleMeta>,
    expired_hits: Vec<usize>,
}

impl AlertPolicy {
    /// The policy of `opts` for the rules of `rules` (call [`AlertPolicy::select`] on the
    /// rule set before detection, so rules that are not selected do not run).
    pub fn new(rules: &RuleSet, opts: Options) -> AlertPolicy {
        AlertPolicy {
            expired_hits: vec![0; opts.policy.exceptions.len()],
            metas: catalogue::detection_metas(rules),
            opts,
        }
    }

    /// Disables the rules of the set the options do not select. Returns how many rules are
    /// still enabled.
    pub fn select(&self, rules: &mut RuleSet) -> usize {
        let off: Vec<String> = rules
            .rules()
            .iter()
            .zip(&self.metas)
            .filter(|(r, m)| r.enabled && !is_selected(m, &self.opts))
            .map(|(r, _)| r.id.clone())
            .collect();
        for id in off {
            rules.set_enabled(&id, false);
        }
        rules.rules().iter().filter(|r| r.enabled).count()
    }

    /// The options (policy, selectors, day).
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The day exceptions expire against (a long-running `detect serve` moves it forward).
    pub fn set_today(&mut self, today: jiff::civil::Date) {
        self.opts.today = today;
    }

    /// The metadata of the enabled rules, in rule-set order.
    pub fn rules(&self, rules: &RuleSet) -> Vec<&'static RuleMeta> {
        rules
            .rules()
            .iter()
            .zip(&self.metas)
            .filter(|(r, _)| r.enabled)
            .map(|(_, m)| *m)
            .collect()
    }

    /// The finding an alert is after the policy: `None` when its rule is not selected;
    /// otherwise with the configured severity, the admission mode of its namespace, and the
    /// suppression of the first unexpired exception that covers it (an expired one is
    /// counted, see [`AlertPolicy::expired`]).
    pub fn apply(&mut self, a: &Alert) -> Option<ReportFinding> {
        let meta = self.metas.iter().copied().find(|m| m.id == a.rule_id)?;
        if !is_selected(meta, &self.opts) {
            return None;
        }
        let mut f = alert_finding(a, meta);
        let policy = &self.opts.policy;
        if let Some(sev) = policy.rule(meta.id).and_then(|c| c.severity) {
            f.severity = sev;
        }
        let ns = f.object.namespace.as_deref();
        f.mode = policy.mode(meta.id, ns);
        f.suppression = exception_for(
            policy,
            meta,
            ns,
            &f.object.kind,
            &f.object.name,
            self.opts.today,
            &mut self.expired_hits,
        )
        .map(Box::new);
        Some(f)
    }

    /// The exceptions expired on the policy's day, with the alerts they would have covered.
    pub fn expired(&self) -> Vec<ExpiredException> {
        crate::expired_exceptions(&self.opts.policy, self.opts.today, &self.expired_hits)
    }

    /// The report of a run: the findings (in arrival order) split into active and
    /// suppressed, the expired exceptions, the input errors and the event counts.
    pub fn report(
        &self,
        rules: &RuleSet,
        findings: Vec<ReportFinding>,
        errors: &[InputError],
        stats: Stats,
    ) -> Report {
        let (suppressed, active): (Vec<_>, Vec<_>) =
            findings.into_iter().partition(|f| f.suppression.is_some());
        Report {
            findings: active,
            suppressed,
            expired_exceptions: self.expired(),
            errors: errors.iter().map(input_issue).collect(),
            rules: self.rules(rules),
            events: Some(EventStats {
                events: stats.events,
                alerts: stats.alerts,
                bad_lines: stats.bad_lines,
                non_events: stats.non_events,
                oversized: stats.oversized,
                bad_items: stats.bad_items,
            }),
            ..Report::default()
        }
    }
}

/// An input error of the detector as a report's input issue.
pub fn input_issue(e: &InputError) -> InputIssue {
    InputIssue {
        file: e.file.clone(),
        line: u32::try_from(e.line).unwrap_or(u32::MAX),
        column: 0,
        message: match e.item {
            Some(i) => format!("EventList item {i}: {}", e.message),
            None => e.message.clone(),
        },
    }
}

/// Whether an active finding is at or above `threshold` (`None`: never).
pub fn fails(f: &ReportFinding, threshold: Option<Severity>) -> bool {
    f.suppression.is_none() && threshold.is_some_and(|t| f.severity >= t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::Policy;
    use palisade_detect::Detector;

    fn event(id: &str, ns: &str, pod: &str) -> String {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"{id}","stage":"ResponseComplete","verb":"create","user":{{"username":"alice","groups":["dev"]}},"sourceIPs":["10.0.0.5"],"requestURI":"/api/v1/namespaces/{ns}/pods/{pod}/exec?command=sh","objectRef":{{"resource":"pods","namespace":"{ns}","name":"{pod}","subresource":"exec","apiVersion":"v1"}},"responseStatus":{{"code":101}},"stageTimestamp":"2026-11-23T10:00:01.000000Z"}}"#
        )
    }

    fn policy(yaml: &str) -> Policy {
        let docs = palisade_load::yaml::parse_documents(yaml, 1, true).unwrap();
        Policy::from_value(&docs[0].value, &docs[0].spans, "p.yaml", catalogue::all()).unwrap()
    }

    #[test]
    fn an_alert_is_a_finding_on_its_object() {
        let mut d = Detector::new(RuleSet::builtin());
        let a = d.feed_line(&event("a1", "dev", "web")).remove(0);
        let f = alert_finding(&a, catalogue::find("DET001").unwrap());
        assert_eq!(f.object.to_string(), "Pod dev/web");
        assert_eq!(f.object.api_version, "v1");
        assert_eq!((f.rule_id, f.rule_name), ("DET001", "pod-exec-attach"));
        assert_eq!(f.severity, Severity::High);
        for (k, v) in [
            ("user", "alice"),
            ("verb", "create"),
            ("auditID", "a1"),
            ("subresource", "exec"),
            ("sourceIPs", "10.0.0.5"),
            ("time", "2026-11-23T10:00:01.000000Z"),
        ] {
            assert_eq!(f.properties.get(k).map(String::as_str), Some(v), "{k}");
        }
        let mut other = a.clone();
        other.object = Default::default();
        assert_eq!(alert_object(&other).kind, NON_RESOURCE_KIND);
        other.object.resource = "widgets".into();
        other.object.api_group = "example.com".into();
        let o = alert_object(&other);
        assert_eq!((o.kind.as_str(), o.name.as_str()), ("widgets", "*"));
    }

    #[test]
    fn selection_severity_and_exceptions() {
        let mut opts = Options::new("2027-01-31".parse().unwrap());
        opts.policy = policy(
            "ignore: [DET002]\nrules:\n  DET001: {severity: critical}\nexceptions:\n- rules: [DET001]\n  match: {namespace: dev, kind: Pod, name: debug-*}\n  reason: debugging pods\n  expires: 2027-01-31\n",
        );
        let mut rules = RuleSet::builtin();
        let mut p = AlertPolicy::new(&rules, opts);
        let enabled = p.select(&mut rules);
        assert_eq!(
            enabled,
            RuleSet::builtin()
                .rules()
                .iter()
                .filter(|r| r.enabled)
                .count()
                - 1
        );
        assert!(!rules.get("DET002").unwrap().enabled);
        assert!(p.rules(&rules).iter().all(|m| m.id != "DET002"));
        let mut d = Detector::new(rules.clone());
        let mut findings = Vec::new();
        for (id, pod) in [("1", "web"), ("2", "debug-1")] {
            for a in d.feed_line(&event(id, "dev", pod)) {
                findings.extend(p.apply(&a));
            }
        }
        assert_eq!(findings.len(), 2);
        assert!(findings.iter().all(|f| f.severity == Severity::Critical));
        assert!(findings[0].suppression.is_none());
        assert!(findings[1].suppression.is_some());
        assert!(fails(&findings[0], Some(Severity::Critical)));
        assert!(!fails(&findings[1], Some(Severity::Info)));
        let r = p.report(&rules, findings, &[], d.stats());
        assert_eq!((r.findings.len(), r.suppressed.len()), (1, 1));
        assert_eq!(r.events.as_ref().unwrap().events, 2);
        // Expired the day after: nothing suppressed, the exception listed with its hit.
        p.set_today("2027-02-01".parse().unwrap());
        let a = d.feed_line(&event("3", "dev", "debug-2")).remove(0);
        assert!(p.apply(&a).unwrap().suppression.is_none());
        let expired = p.expired();
        assert_eq!((expired.len(), expired[0].findings), (1, 1));
    }
}
