//! `CP`: control-plane configuration. The static pod specs of kube-apiserver,
//! kube-controller-manager, kube-scheduler and etcd (kubeadm's mirror pods in `kube-system`,
//! or `/etc/kubernetes/manifests` scanned as files) evaluated with the CIS flag table of
//! `palisade-node`, the same table `palisade node` runs on a host.

pub(crate) mod insecure_api_server_flags;
pub(crate) mod insecure_controller_manager_flags;
pub(crate) mod insecure_etcd_flags;
pub(crate) mod insecure_scheduler_flags;

use palisade_core::{Context, Object};
use palisade_node::checks::cis::{FLAG_CHECKS, NEWEST_MINOR};
use palisade_node::checks::Component;
use palisade_node::discover::container_component;
use serde_json::Value;

/// Where a flag is written in a container: `/spec/containers/I/command/J` (or `args/J`).
fn flag_path(container: &Value, base: &str, flag: &str) -> Option<String> {
    for key in ["command", "args"] {
        let Some(words) = container.get(key).and_then(Value::as_array) else {
            continue;
        };
        for (j, w) in words.iter().enumerate() {
            let Some(w) = w.as_str() else { continue };
            let name = w.trim_start_matches('-').split('=').next().unwrap_or("");
            if w.starts_with('-') && name == flag {
                return Some(format!("{base}/{key}/{j}"));
            }
        }
    }
    None
}

/// Evaluates the automated CIS flag checks of `component` on every container of a Pod that
/// runs it; one finding per failing check, at the flag (or the container's command when the
/// flag is missing), with the CIS id as a property. Manual checks are not evaluated.
/// True when the object is a Pod with a container running `component`.
pub(crate) fn runs_component(component: Component, object: &Object) -> bool {
    object.kind == "Pod"
        && object.group().is_empty()
        && object
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| container_component(c).is_some_and(|(found, _)| found == component))
            })
}

/// True when the object is a Pod with a container running any Kubernetes component.
pub(crate) fn runs_any_component(object: &Object) -> bool {
    object.kind == "Pod"
        && object.group().is_empty()
        && object
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .is_some_and(|cs| cs.iter().any(|c| container_component(c).is_some()))
}

pub(crate) fn check_component(component: Component, object: &Object, cx: &mut Context<'_>) {
    if object.kind != "Pod" || !object.group().is_empty() {
        return;
    }
    let Some(containers) = object.pointer("/spec/containers").and_then(Value::as_array) else {
        return;
    };
    for (i, c) in containers.iter().enumerate() {
        let Some((found, flags)) = container_component(c) else {
            continue;
        };
        if found != component {
            continue;
        }
        let base = format!("/spec/containers/{i}");
        for check in FLAG_CHECKS.iter().filter(|k| {
            k.component == component
                && !k.manual
                && k.versions.since <= NEWEST_MINOR
                && NEWEST_MINOR <= k.versions.until
        }) {
            let out = check.evaluate(&flags, None);
            if out.pass {
                continue;
            }
            let path = out
                .failing_flag
                .and_then(|f| flag_path(c, &base, f))
                .unwrap_or_else(|| {
                    if c.get("command").is_some() {
                        format!("{base}/command")
                    } else {
                        base.clone()
                    }
                });
            cx.report(
                path,
                format!(
                    "CIS {} {}: {} (expected {})",
                    check.id,
                    check.title.trim_start_matches("Ensure that the "),
                    out.observed,
                    check.expected()
                ),
            )
            .fix(check.remediation)
            .severity(check.severity)
            .property("cis", check.id)
            .property(
                "container",
                c.get("name").and_then(Value::as_str).unwrap_or(""),
            );
        }
    }
}
