//! `POD`: pod and container security, the Pod Security Standards controls and beyond.

pub(crate) mod host_namespaces;
pub(crate) mod host_path_volume;
pub(crate) mod privilege_escalation;
pub(crate) mod privileged_container;
pub(crate) mod root_user_id;
pub(crate) mod run_as_root;
