//! The credential classifier of palisade-core, as detection uses it.

pub(crate) use palisade_core::credentials::{
    credential_name, credential_shape, high_entropy, sensitive_pair, weak_credential_name,
};
