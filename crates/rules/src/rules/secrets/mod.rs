//! `SEC`: secrets handling. Findings name keys and describe values; they never contain a value.

pub(crate) mod credentials_in_configmap;
pub(crate) mod embedded;
pub(crate) mod legacy_service_account_token;
pub(crate) mod literal_secret_in_env;
pub(crate) mod secret_in_env_var;
pub(crate) mod secret_in_manifest;
pub(crate) mod secret_outside_external_store;
pub(crate) mod service_account_token_automount;

pub(crate) use palisade_core::credentials::{
    classify, credential_shape, describe_value, high_entropy,
};
