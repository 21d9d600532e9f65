//! `NODE`: node access and hardening seen from the cluster: workloads that amount to a shell
//! on the node.

pub(crate) mod node_shell_workload;
