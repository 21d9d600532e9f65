//! `NODE`: node and kubelet hardening seen from the cluster: workloads that amount to a shell
//! on the node, and kubelet flags in Pod manifests, evaluated with the CIS flag table of
//! `palisade-node` (the one `palisade node` and the `CP` rules use).

pub(crate) mod kubelet_insecure_flags;
pub(crate) mod node_shell_workload;
