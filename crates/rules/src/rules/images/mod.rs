//! `IMG`: image provenance (registries, digests, tags).

pub(crate) mod mutable_image_tag;
