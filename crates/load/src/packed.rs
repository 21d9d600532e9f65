//! Objects kept for a long time as compressed compact JSON lines (the background audit's
//! watch cache), each known by a 128-bit hash of its content: a reader tells an unchanged
//! object from the hash alone, without decompressing or parsing it.

use std::hash::Hasher as _;
use std::sync::Arc;

/// A compact JSON line, LZ4-compressed, with a hash of the uncompressed text. Clones share
/// the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct PackedLine {
    hash: u128,
    bytes: Arc<[u8]>,
}

impl std::fmt::Debug for PackedLine {
    // The bytes may be a redacted Secret's metadata or a ConfigMap: only their size is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackedLine")
            .field("hash", &format_args!("{:032x}", self.hash))
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// The 128-bit content hash [`PackedLine`] keeps (SipHash-1-3 with fixed keys: the same
/// text has the same hash in every process).
pub fn content_hash(text: &str) -> u128 {
    let mut h = siphasher::sip128::SipHasher13::new();
    h.write(text.as_bytes());
    siphasher::sip128::Hasher128::finish128(&h).as_u128()
}

/// A packed line could not be unpacked (its bytes were not written by [`PackedLine::new`]).
#[derive(Debug, thiserror::Error)]
#[error("a packed object cannot be read back: {0}")]
pub struct UnpackError(String);

impl PackedLine {
    /// Packs a line.
    pub fn new(text: &str) -> PackedLine {
        PackedLine {
            hash: content_hash(text),
            bytes: lz4_flex::compress_prepend_size(text.as_bytes()).into(),
        }
    }

    /// The hash of the line's text ([`content_hash`]).
    pub fn hash(&self) -> u128 {
        self.hash
    }

    /// The compressed size, in bytes.
    pub fn packed_len(&self) -> usize {
        self.bytes.len()
    }

    /// The line's text.
    pub fn text(&self) -> Result<String, UnpackError> {
        let raw = lz4_flex::decompress_size_prepended(&self.bytes)
            .map_err(|e| UnpackError(e.to_string()))?;
        String::from_utf8(raw).map_err(|e| UnpackError(e.to_string()))
    }

    /// The line parsed.
    pub fn value(&self) -> Result<serde_json::Value, UnpackError> {
        serde_json::from_str(&self.text()?).map_err(|e| UnpackError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_round_trips_and_its_hash_is_its_contents() {
        let text = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}, {"name": "d", "image": "nginx"}]}})
        .to_string();
        let a = PackedLine::new(&text);
        assert_eq!(a.text().unwrap(), text);
        assert_eq!(a.value().unwrap()["metadata"]["name"], "web");
        assert_eq!(a.hash(), content_hash(&text));
        assert_eq!(a, PackedLine::new(&text));
        let b = PackedLine::new(&text.replace("\"web\"}", "\"web2\"}"));
        assert_ne!(a.hash(), b.hash());
        assert!(!format!("{a:?}").contains("nginx"));
    }

    #[test]
    fn repetitive_objects_pack_small() {
        let env: Vec<_> = (0..40)
            .map(|i| serde_json::json!({"name": format!("VAR_{i}"), "value": "some value"}))
            .collect();
        let text = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "env": env}]}})
        .to_string();
        let p = PackedLine::new(&text);
        assert!(
            p.packed_len() * 3 < text.len(),
            "{} of {}",
            p.packed_len(),
            text.len()
        );
    }
}
