use super::{effective, report_places};
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods that run with group id 0 (`root`): a container whose effective `runAsGroup` is 0
    /// (its own setting, else the pod's), a pod-level `fsGroup: 0`, or `supplementalGroups`
    /// containing 0. One finding per object names each place.
    ///
    /// A container that sets no `runAsGroup` runs with the image's primary group, which a
    /// manifest does not show: it is not reported. Windows pods (`spec.os.name: windows`)
    /// are not reported (the fields do not apply to them).
    ///
    /// ## Why it matters
    /// Group 0 owns most of a Linux system's files. A process in it can read and often write
    /// files that are group-`root` in the image, in volumes (`fsGroup` makes every volume
    /// file group-owned by it) and in host paths, without being user 0, which is what
    /// non-root checks look at.
    ///
    /// ## How to fix
    /// Set `runAsGroup` and `fsGroup` to a non-zero group and remove 0 from
    /// `supplementalGroups`.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   runAsGroup: 0
    ///   fsGroup: 0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 10001
    ///   runAsGroup: 10001
    ///   fsGroup: 10001
    /// ```
    ///
    /// ## Exceptions
    /// OpenShift runs arbitrary user ids with group 0 by design (its restricted SCC): use an
    /// exception there.
    pub(crate) struct RootGroupId;
    id: "POD022",
    name: "root-group-id",
    severity: Low,
    summary: "Pod or container runs with group id 0 (runAsGroup, fsGroup or supplementalGroups)",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "book:ops.pod-security-policy"],
    tags: ["workload", "hardening"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

fn is_zero(v: &Value) -> bool {
    v.as_i64() == Some(0) || v.as_u64() == Some(0)
}

impl Rule for RootGroupId {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        if pod.is_windows() {
            return;
        }
        let mut places = Vec::new();
        for c in pod.containers() {
            if let Some((v, path)) = effective(&pod, &c, "runAsGroup") {
                if is_zero(v) {
                    places.push((path, format!("{} runs with runAsGroup: 0", c.describe())));
                }
            }
        }
        let sc = pod.security_context();
        if sc.get("fsGroup").is_some_and(is_zero) {
            places.push((
                pod.spec_pointer("/securityContext/fsGroup"),
                "the pod sets fsGroup: 0".to_owned(),
            ));
        }
        if let Some(groups) = sc.get("supplementalGroups").and_then(Value::as_array) {
            if let Some(i) = groups.iter().position(is_zero) {
                places.push((
                    pod.spec_pointer(&format!("/securityContext/supplementalGroups/{i}")),
                    "the pod's supplementalGroups contain 0".to_owned(),
                ));
            }
        }
        report_places(
            cx,
            "runs with the root group",
            &places,
            "set runAsGroup and fsGroup to a non-zero group and remove 0 from supplementalGroups",
        );
    }
}
