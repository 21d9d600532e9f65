use super::report_places;
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods whose `securityContext.sysctls` carry a value containing `+` or `=`, whatever the
    /// sysctl's name, safe ones included. No sysctl a pod may set takes such a value; both
    /// characters are separators in the runtime's `key=value` sysctl handling, and CRI-O
    /// 1.19 to 1.23.1 (CVE-2022-0811, "cr8escape") let a value such as
    /// `1+kernel.core_pattern=|/path/to/payload` set a second, host-wide sysctl.
    ///
    /// POD017 judges the sysctl's name against the safe set; this rule judges the value, so an
    /// allowed name (`kernel.shm_rmid_forced`) with an injected value is still reported.
    ///
    /// ## Why it matters
    /// On a vulnerable runtime the injected `kernel.core_pattern` runs a command as root on
    /// the node the next time any process dumps core: a container escape with nothing more
    /// than permission to create a pod. On a patched runtime the value is rejected, so such a
    /// value is never legitimate.
    ///
    /// ## How to fix
    /// Remove the sysctl or give it a plain value; upgrade CRI-O past 1.23.2 (or the
    /// patched 1.22.3 / 1.21.6 / 1.20.7 / 1.19.6).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   sysctls:
    ///   - name: kernel.shm_rmid_forced
    ///     value: "1+kernel.core_pattern=|/var/lib/containers/payload.sh #"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   sysctls:
    ///   - name: kernel.shm_rmid_forced
    ///     value: "1"
    /// ```
    pub(crate) struct SysctlInjection;
    id: "POD028",
    name: "sysctl-injection",
    severity: High,
    summary: "Sysctl value carries `+` or `=` (sysctl injection, CVE-2022-0811)",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "book:ops.pod-security-policy", "book:platform.patches"],
    tags: ["workload", "cve"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for SysctlInjection {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        let sysctls = pod
            .security_context()
            .get("sysctls")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let mut places = Vec::new();
        for (i, s) in sysctls.iter().enumerate() {
            let Some(value) = s.get("value").and_then(Value::as_str) else {
                continue;
            };
            if value.contains(['+', '=']) {
                let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
                places.push((
                    pod.spec_pointer(&format!("/securityContext/sysctls/{i}/value")),
                    format!("{name} = {value:?}"),
                ));
            }
        }
        report_places(
            cx,
            "sysctl value carries `+` or `=`, the pattern that sets a second sysctl on CRI-O (CVE-2022-0811)",
            &places,
            "give each sysctl a plain value; upgrade CRI-O to a patched release",
        );
    }
}
