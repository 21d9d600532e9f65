//! `NODE002`: kubelet flags in Pod manifests, evaluated with the CIS flag table of
//! `palisade-node` (the one `palisade node` and the `CP` rules use).

pub(crate) mod kubelet_insecure_flags;
