//! The snapshot format: a cluster's objects preserved in one gzip-compressed file.
//!
//! Inside the gzip stream: one header line (JSON, `"format": "palisade-snapshot/v1"`) then
//! one object per line (compact JSON). The header's `digest` is the SHA-256 of those object
//! lines, exactly as stored (each followed by `\n`); reading verifies it. Objects carry no
//! `managedFields`, and Secrets are metadata only (their values were never read).

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::InputLimits;

/// The `format` of the header.
pub const FORMAT: &str = "palisade-snapshot/v1";

/// A kind that could not be read when the snapshot was taken.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {
    /// The resource (`secrets`, `ingresses.networking.k8s.io`).
    pub resource: String,
    /// The kind (`Secret`); empty in snapshots that did not record it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// HTTP status, 0 when there was no answer.
    pub status: u16,
    /// Why.
    pub message: String,
}

/// The header of a snapshot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The kubeconfig context (or `in-cluster`).
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// The API server's `gitVersion`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created: String,
    /// The Palisade version that wrote it.
    pub palisade_version: String,
    /// Number of objects.
    pub objects: usize,
    /// `sha256:HEX` over the object lines.
    pub digest: String,
    /// Kinds that could not be read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unread>,
}

/// A snapshot read back.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The header.
    pub header: Header,
    /// The objects.
    pub objects: Vec<Value>,
}

/// Why a snapshot could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// I/O.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Not a snapshot, or a damaged one.
    #[error("{file}: not a Palisade snapshot: {reason}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// The content does not match the header's digest.
    #[error("{file}: snapshot digest mismatch: the header says {expected}, the content is {actual} (the file was modified or truncated)")]
    Digest {
        /// The file.
        file: String,
        /// The header's digest.
        expected: String,
        /// The content's digest.
        actual: String,
    },
}

/// True when the bytes start like a snapshot (the gzip magic number).
pub fn has_magic(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// True when a path names a snapshot: `.snapshot` (or `.snapshot.gz`) extension, or a file
/// starting with the gzip magic number.
pub fn is_snapshot_path(path: &Path) -> bool {
    let name = path.to_string_lossy();
    if name.ends_with(".snapshot") || name.ends_with(".snapshot.gz") {
        return true;
    }
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|_| has_magic(&head))
}

/// Fills `header.digest` and `header.objects` and writes the snapshot.
pub fn write(path: &Path, header: Header, objects: &[Value]) -> Result<Header, SnapshotError> {
    let lines: Vec<String> = objects.iter().map(Value::to_string).collect();
    write_lines(path, header, &lines)
}

/// [`write`] with objects already serialized as compact JSON, one per string (no newline).
pub fn write_lines(
    path: &Path,
    mut header: Header,
    objects: &[String],
) -> Result<Header, SnapshotError> {
    let io = |source| SnapshotError::Io {
        file: path.display().to_string(),
        source,
    };
    let mut hasher = Sha256::new();
    for o in objects {
        hasher.update(o.as_bytes());
        hasher.update(b"\n");
    }
    header.format = FORMAT.to_owned();
    header.objects = objects.len();
    header.digest = hex_digest(hasher);
    let file = crate::create_private(path).map_err(io)?;
    let mut gz = GzEncoder::new(
        std::io::BufWriter::new(file),
        flate2::Compression::default(),
    );
    serde_json::to_writer(&mut gz, &header).map_err(|e| io(e.into()))?;
    gz.write_all(b"\n").map_err(io)?;
    for o in objects {
        gz.write_all(o.as_bytes()).map_err(io)?;
        gz.write_all(b"\n").map_err(io)?;
    }
    gz.finish().map_err(io)?.flush().map_err(io)?;
    Ok(header)
}

fn hex_digest(h: Sha256) -> String {
    let out = h.finalize();
    let mut s = String::from("sha256:");
    for b in out {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn digest(payload: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(payload);
    hex_digest(h)
}

/// Reads a snapshot and verifies its digest, within the default [`InputLimits`].
pub fn read(path: &Path) -> Result<Snapshot, SnapshotError> {
    read_with(path, InputLimits::default())
}

/// [`read`] within `limits`.
pub fn read_with(path: &Path, limits: InputLimits) -> Result<Snapshot, SnapshotError> {
    let (header, lines) = read_lines_with(path, limits)?;
    let name = path.display().to_string();
    let mut objects = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let v: Value = serde_json::from_str(line).map_err(|e| SnapshotError::Format {
            file: name.clone(),
            reason: format!("object {}: {e}", i + 1),
        })?;
        objects.push(v);
    }
    Ok(Snapshot { header, objects })
}

/// Reads a snapshot's header and its objects as compact JSON lines, and verifies the digest,
/// within the default [`InputLimits`].
pub fn read_lines(path: &Path) -> Result<(Header, Vec<String>), SnapshotError> {
    read_lines_with(path, InputLimits::default())
}

/// [`read_lines`] within `limits`.
pub fn read_lines_with(
    path: &Path,
    limits: InputLimits,
) -> Result<(Header, Vec<String>), SnapshotError> {
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| SnapshotError::Io {
        file: name.clone(),
        source,
    })?;
    read_lines_from_with(&name, file, limits)
}

/// [`read_lines`] from a reader; `name` is used in errors.
pub fn read_lines_from(name: &str, r: impl Read) -> Result<(Header, Vec<String>), SnapshotError> {
    read_lines_from_with(name, r, InputLimits::default())
}

/// [`read_lines_from`] within `limits`. The bounds apply to the *decompressed* content, so a
/// small file that inflates without end (a gzip bomb) is refused once it passes
/// `max_file_bytes`, and a line (the header, or one object) longer than `max_line_bytes` is
/// refused without being held whole.
pub fn read_lines_from_with(
    name: &str,
    r: impl Read,
    limits: InputLimits,
) -> Result<(Header, Vec<String>), SnapshotError> {
    let format_err = |reason: String| SnapshotError::Format {
        file: name.to_owned(),
        reason,
    };
    let max_total = limits.max_file_bytes;
    let max_line = limits.max_line_bytes as u64;
    let too_large = || {
        format_err(format!(
            "its decompressed content is larger than {max_total} bytes (--max-file-bytes)"
        ))
    };
    let too_long = |what: &str| {
        format_err(format!(
            "{what} is longer than {max_line} bytes (--max-line-bytes)"
        ))
    };
    let mut r = BufReader::new(GzDecoder::new(r).take(max_total.saturating_add(1)));
    let mut first = Vec::new();
    (&mut r)
        .take(max_line.saturating_add(1))
        .read_until(b'\n', &mut first)
        .map_err(|e| format_err(format!("cannot decompress: {e}")))?;
    if first.len() as u64 > max_line {
        return Err(too_long("the header line"));
    }
    let first = String::from_utf8(first).map_err(|_| format_err("bad header: not UTF-8".into()))?;
    let header: Header = serde_json::from_str(first.trim_end())
        .map_err(|e| format_err(format!("bad header: {e}")))?;
    if header.format != FORMAT {
        return Err(format_err(format!(
            "unknown format `{}` (expected {FORMAT})",
            header.format
        )));
    }
    let mut payload = String::new();
    r.read_to_string(&mut payload)
        .map_err(|e| format_err(format!("cannot decompress: {e}")))?;
    if (first.len() + payload.len()) as u64 > max_total {
        return Err(too_large());
    }
    let actual = digest(payload.as_bytes());
    if actual != header.digest {
        return Err(SnapshotError::Digest {
            file: name.to_owned(),
            expected: header.digest.clone(),
            actual,
        });
    }
    let mut lines = Vec::new();
    for (i, l) in payload.lines().filter(|l| !l.is_empty()).enumerate() {
        if l.len() as u64 > max_line {
            return Err(too_long(&format!("object {}", i + 1)));
        }
        lines.push(redact_line(l));
    }
    Ok((header, lines))
}

/// A snapshot line as it may be used: a Secret's values, should a file written by another
/// tool or an older version hold them, are redacted before anything reads the line.
fn redact_line(line: &str) -> String {
    if !(line.contains("\"Secret\"") || line.contains("\"Secret\\\"")) {
        return line.to_owned();
    }
    match serde_json::from_str::<Value>(line) {
        Ok(mut v)
            if v.get("kind").and_then(Value::as_str) == Some("Secret")
                && v.get("apiVersion").and_then(Value::as_str) == Some("v1") =>
        {
            palisade_core::redact_secret(&mut v);
            v.to_string()
        }
        _ => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            format: String::new(),
            context: "c".into(),
            server: "https://x".into(),
            server_version: Some("v1.32.13".into()),
            created: "2026-11-23T00:00:00Z".into(),
            palisade_version: "0.1.0".into(),
            objects: 0,
            digest: String::new(),
            unreadable: vec![],
        }
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.snapshot");
        let objs =
            vec![serde_json::json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}})];
        let h = write(&p, header(), &objs).unwrap();
        assert!(h.digest.starts_with("sha256:"));
        assert!(is_snapshot_path(&p));
        let s = read(&p).unwrap();
        assert_eq!(s.objects, objs);
        assert_eq!(s.header.objects, 1);

        // Rewrite with a changed object but the old header.
        let mut bad = Vec::new();
        {
            let mut gz = GzEncoder::new(&mut bad, flate2::Compression::fast());
            serde_json::to_writer(&mut gz, &h).unwrap();
            gz.write_all(
                b"\n{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}\n",
            )
            .unwrap();
            gz.finish().unwrap();
        }
        std::fs::write(&p, bad).unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("a.snapshot") && e.contains("digest mismatch"),
            "{e}"
        );
    }

    #[test]
    fn decompressed_size_and_line_length_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.snapshot");
        let objs: Vec<Value> = (0..50)
            .map(|i| serde_json::json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":format!("n{i}")}}))
            .collect();
        write(&p, header(), &objs).unwrap();
        let compressed = std::fs::metadata(&p).unwrap().len();
        let small = InputLimits {
            max_file_bytes: 1000,
            max_line_bytes: 1 << 20,
        };
        assert!(compressed < 1000, "{compressed}");
        let e = read_with(&p, small).unwrap_err().to_string();
        assert!(
            e.contains("a.snapshot") && e.contains("larger than 1000 bytes (--max-file-bytes)"),
            "{e}"
        );
        let short = InputLimits {
            max_file_bytes: 1 << 20,
            max_line_bytes: 60,
        };
        let e = read_with(&p, short).unwrap_err().to_string();
        assert!(e.contains("header line is longer than 60 bytes"), "{e}");
        assert_eq!(read_with(&p, InputLimits::default()).unwrap().objects, objs);

        // A gzip bomb: a few KiB that inflate to 64 MiB of one line without a newline is
        // refused at the bound, not held.
        let mut bomb = Vec::new();
        {
            let mut gz = GzEncoder::new(&mut bomb, flate2::Compression::best());
            let zeros = vec![b'0'; 1 << 20];
            for _ in 0..64 {
                gz.write_all(&zeros).unwrap();
            }
            gz.finish().unwrap();
        }
        assert!(bomb.len() < 256 << 10, "{}", bomb.len());
        let e = read_lines_from_with("bomb.snapshot", &bomb[..], InputLimits::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bomb.snapshot") && e.contains("header line is longer"),
            "{e}"
        );
    }
}
