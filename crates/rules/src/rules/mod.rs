//! Rule families.

pub(crate) mod control_plane;
pub(crate) mod images;
pub(crate) mod network;
pub(crate) mod node;
pub(crate) mod platform;
pub(crate) mod pod_security;
pub(crate) mod rbac;
pub(crate) mod reliability;
pub(crate) mod secrets;
pub(crate) mod versions;
