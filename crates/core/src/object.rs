//! The view of one Kubernetes object and where it came from.

use serde::Serialize;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// The string that replaces every value of a Secret's `data` and `stringData` when an object
/// is built. Palisade keeps the keys of a Secret, never its values.
pub const REDACTED: &str = "<redacted>";

/// A position in a source file: file name, 1-based line, 1-based column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SourceLoc {
    /// The file, as the user named it (`-` or `<stdin>` for standard input).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl fmt::Display for SourceLoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// Maps JSON-pointer paths inside one document to the line and column where the field is
/// written. Built by the loader while it parses; positions only, never values.
///
/// Entries are keyed by a hash of the path's segments, so building the index costs one hash
/// step per node and a lookup walks the pointer once.
#[derive(Clone, Debug)]
pub struct SpanIndex {
    entries: Vec<(u64, u32, u32)>,
    root: u64,
}

impl Default for SpanIndex {
    fn default() -> Self {
        SpanIndex {
            entries: Vec::new(),
            root: ROOT_HASH,
        }
    }
}

/// The hash of the empty path (the document root).
pub const ROOT_HASH: u64 = 0xcbf2_9ce4_8422_2325;

/// Extends the hash of a parent path by one (unescaped) segment.
pub fn segment_hash(parent: u64, segment: &str) -> u64 {
    // FNV-1a over the bytes, with a separator so that "a/b" and "ab" differ.
    let mut h = parent ^ 0x2f;
    h = h.wrapping_mul(0x0100_0000_01b3);
    for b in segment.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Extends the hash of a parent path by a sequence index (hashed as its decimal form, as it
/// appears in a JSON pointer).
pub fn index_hash(parent: u64, index: usize) -> u64 {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = index;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut h = parent ^ 0x2f;
    h = h.wrapping_mul(0x0100_0000_01b3);
    for b in &buf[i..] {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl SpanIndex {
    /// Records that the node at the path with this hash starts at `line`:`column` (1-based).
    pub fn push(&mut self, hash: u64, line: u32, column: u32) {
        self.entries.push((hash, line, column));
    }

    /// The hash of the path this index treats as the document root.
    pub fn root(&self) -> u64 {
        self.root
    }

    /// Splits the positions of a `List` document among its items: `roots` are the path
    /// hashes of the items (`/items/0`, `/items/1`...), in document order. Each item gets the
    /// positions written between its own start and the next item's, rooted at the item, so
    /// the whole split costs one pass and each position is kept once (memory and time linear
    /// in the List's size). Positions written before the first item (the List's own fields)
    /// are dropped.
    pub fn split_items(self, roots: &[u64]) -> Vec<SpanIndex> {
        let wanted: std::collections::HashMap<u64, usize> =
            roots.iter().enumerate().map(|(i, h)| (*h, i)).collect();
        // Where each item's positions start in `entries` (the first entry of its root path).
        let mut starts: Vec<Option<usize>> = vec![None; roots.len()];
        for (at, (h, _, _)) in self.entries.iter().enumerate() {
            if let Some(&i) = wanted.get(h) {
                starts[i].get_or_insert(at);
            }
        }
        let mut out = Vec::with_capacity(roots.len());
        let mut entries = self.entries;
        // Cut from the back so every item's slice is moved, not copied twice.
        let mut cut = entries.len();
        let mut pieces: Vec<Vec<(u64, u32, u32)>> = vec![Vec::new(); roots.len()];
        for i in (0..roots.len()).rev() {
            if let Some(start) = starts[i].filter(|s| *s <= cut) {
                pieces[i] = entries.split_off(start);
                pieces[i].truncate(cut - start);
                cut = start;
            }
        }
        drop(entries);
        for (piece, root) in pieces.into_iter().zip(roots) {
            let mut piece = piece;
            piece.shrink_to_fit();
            out.push(SpanIndex {
                entries: piece,
                root: *root,
            });
        }
        out
    }

    /// The position of the root node itself, when recorded.
    pub fn resolve_root(&self) -> Option<(u32, u32)> {
        self.find(self.root)
    }

    /// Keeps only the positions of the nodes of `value` (the object's value, rooted where
    /// this index is rooted): the positions of fields an object no longer holds are dropped.
    pub fn retain_paths_of(&mut self, value: &Value) {
        fn walk(v: &Value, h: u64, out: &mut std::collections::HashSet<u64>) {
            out.insert(h);
            match v {
                Value::Object(m) => {
                    for (k, c) in m {
                        walk(c, segment_hash(h, k), out);
                    }
                }
                Value::Array(a) => {
                    for (i, c) in a.iter().enumerate() {
                        walk(c, index_hash(h, i), out);
                    }
                }
                _ => {}
            }
        }
        let mut paths = std::collections::HashSet::new();
        walk(value, self.root, &mut paths);
        self.entries.retain(|(h, _, _)| paths.contains(h));
        self.entries.shrink_to_fit();
    }

    /// Releases unused capacity (once the document is complete).
    pub fn shrink_to_fit(&mut self) {
        self.entries.shrink_to_fit();
    }

    /// Number of recorded positions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no position is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, hash: u64) -> Option<(u32, u32)> {
        // The last occurrence: a key written twice in a mapping takes its last value, so
        // its position is the last one recorded for the path.
        self.entries
            .iter()
            .rev()
            .find(|(h, _, _)| *h == hash)
            .map(|(_, l, c)| (*l, *c))
    }

    /// Resolves a JSON pointer (`/spec/containers/0/securityContext`) to the position of the
    /// deepest part of it that is written in the document: when the field itself is absent
    /// (a missing `securityContext`), the position of its parent (the container) is returned.
    pub fn resolve(&self, pointer: &str) -> Option<(u32, u32)> {
        let mut hash = self.root;
        let mut best = None;
        if pointer.is_empty() {
            return None;
        }
        for raw in pointer.trim_start_matches('/').split('/') {
            let seg = unescape_segment(raw);
            hash = segment_hash(hash, &seg);
            match self.find(hash) {
                Some(pos) => best = Some(pos),
                None => break,
            }
        }
        best
    }
}

/// Undoes JSON-pointer escaping of one segment (`~1` is `/`, `~0` is `~`).
pub fn unescape_segment(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains('~') {
        std::borrow::Cow::Owned(raw.replace("~1", "/").replace("~0", "~"))
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

/// Escapes one segment for use in a JSON pointer.
pub fn escape_segment(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.contains(['~', '/']) {
        std::borrow::Cow::Owned(raw.replace('~', "~0").replace('/', "~1"))
    } else {
        std::borrow::Cow::Borrowed(raw)
    }
}

/// Identifies an object: kind, API group, namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// `apiVersion` as written (`apps/v1`).
    pub api_version: String,
    /// `kind` (`Deployment`).
    pub kind: String,
    /// Namespace, absent for cluster-scoped objects and for namespaced objects that do not
    /// name one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name` (or `generateName` followed by `*`).
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// Why a parsed document is not a Kubernetes object.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NotAnObject {
    /// The document is not a mapping.
    #[error("document is not a mapping")]
    NotAMapping,
    /// `apiVersion` or `kind` is missing or not a string.
    #[error("document has no apiVersion or kind")]
    MissingTypeMeta,
}

/// An object's JSON value: a tree, or its compact JSON text ([`Object::pack`]) with the tree
/// parsed from it again when read. A scan keeps each object it has judged for the rules that
/// relate objects to each other; as text it holds a tenth of what it holds as a tree (each
/// mapping entry, key and string is an allocation of its own), and those rules read one part
/// of the objects at a time ([`Object::release`]).
#[derive(Clone, Debug, Default)]
struct Body {
    /// The tree (boxed: a packed object keeps this place empty); unset while the object is
    /// packed and not read.
    tree: std::sync::OnceLock<Box<Value>>,
    /// The compact JSON text of the tree, when the object is packed.
    packed: Option<Box<str>>,
}

impl Body {
    fn tree(value: Value) -> Body {
        Body {
            tree: std::sync::OnceLock::from(Box::new(value)),
            packed: None,
        }
    }

    /// The tree of the packed text. [`Object::pack`] writes only what it reads back.
    fn unpack(&self) -> Value {
        use serde::de::DeserializeSeed;
        self.packed
            .as_deref()
            .and_then(|t| {
                ExactValue
                    .deserialize(&mut serde_json::Deserializer::from_str(t))
                    .ok()
            })
            .unwrap_or(Value::Null)
    }
}

/// Reads a JSON value with each mapping and list sized to its entries (the reader's own
/// grows them by doubling: up to twice what they hold, the larger part of a tree read again).
struct ExactValue;

impl<'de> serde::de::DeserializeSeed<'de> for ExactValue {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ExactValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, mut v: String) -> Result<Value, E> {
        v.shrink_to_fit();
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(ExactValue)? {
            items.push(v);
        }
        items.shrink_to_fit();
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(ExactValue)?;
            entries.push((k, v));
        }
        let mut out = serde_json::Map::with_capacity(entries.len());
        out.extend(entries);
        Ok(Value::Object(out))
    }
}

/// Deeper than this a value is not packed: the JSON reader's nesting limit (128) is not
/// reached when the text is read back.
const MAX_PACKED_DEPTH: usize = 100;

/// Whether `v` nests no deeper than `limit` levels.
fn nests_within(v: &Value, limit: usize) -> bool {
    match v {
        Value::Object(m) => limit > 0 && m.values().all(|x| nests_within(x, limit - 1)),
        Value::Array(a) => limit > 0 && a.iter().all(|x| nests_within(x, limit - 1)),
        _ => true,
    }
}

/// One Kubernetes object: its JSON value, its identity and where it was read.
#[derive(Clone, Debug)]
pub struct Object {
    /// The whole object ([`Object::value`]). Secret values are already replaced with
    /// [`REDACTED`].
    body: Body,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `metadata.name` (or `generateName*`).
    pub name: String,
    /// `metadata.namespace`, if written, for a namespaced kind. Always `None` for the
    /// built-in cluster-scoped kinds ([`is_cluster_scoped`]): the API server ignores (clears)
    /// the namespace of a cluster-scoped object. The JSON value keeps what was written.
    pub namespace: Option<String>,
    /// Where the document starts; `None` for objects read from a cluster.
    pub source: Option<SourceLoc>,
    /// Field positions inside the document.
    pub spans: SpanIndex,
}

impl Object {
    /// Builds an object from a parsed value. Secret values (`data`, `stringData` and the
    /// `last-applied-configuration` annotation, which repeats them) are redacted here, before
    /// anything else can see them.
    pub fn from_value(
        mut value: Value,
        source: Option<SourceLoc>,
        spans: SpanIndex,
    ) -> Result<Object, NotAnObject> {
        let map = value.as_object().ok_or(NotAnObject::NotAMapping)?;
        let api_version = map
            .get("apiVersion")
            .and_then(Value::as_str)
            .ok_or(NotAnObject::MissingTypeMeta)?
            .to_owned();
        let kind = map
            .get("kind")
            .and_then(Value::as_str)
            .ok_or(NotAnObject::MissingTypeMeta)?
            .to_owned();
        if api_version.is_empty() || kind.is_empty() {
            return Err(NotAnObject::MissingTypeMeta);
        }
        let meta = map.get("metadata");
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                meta.and_then(|m| m.get("generateName"))
                    .and_then(Value::as_str)
                    .map(|g| format!("{g}*"))
            })
            .unwrap_or_default();
        // The API server clears the namespace of a cluster-scoped object
        // (`EnsureObjectNamespaceMatchesRequestNamespace` in k8s.io/apiserver
        // pkg/registry/rest/create.go: "cluster-scoped, clear namespace"), and kubectl sends
        // such an object to the cluster-scoped path whatever it says: a ClusterRoleBinding
        // written with `metadata.namespace` is the cluster-wide binding of that name.
        let namespace = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .filter(|_| !is_cluster_scoped(group_of(&api_version), &kind))
            .map(str::to_owned);
        if kind == "Secret" && api_version == "v1" {
            redact_secret(&mut value);
        }
        Ok(Object {
            body: Body::tree(value),
            api_version,
            kind,
            name,
            namespace,
            source,
            spans,
        })
    }

    /// The whole object (Secret values already replaced with [`REDACTED`]); a packed
    /// object's tree is parsed again from its text the first time it is read after
    /// [`Object::pack`] or [`Object::release`].
    pub fn value(&self) -> &Value {
        self.body.tree.get_or_init(|| Box::new(self.body.unpack()))
    }

    /// The value, to change it (a packed object is unpacked for good).
    pub fn value_mut(&mut self) -> &mut Value {
        if self.body.tree.get().is_none() {
            let tree = self.body.unpack();
            self.body.tree = std::sync::OnceLock::from(Box::new(tree));
        }
        self.body.packed = None;
        self.body
            .tree
            .get_mut()
            .expect("the tree was set just above")
    }

    /// Replaces the value (the identity fields are not read again).
    pub fn set_value(&mut self, value: Value) {
        self.body = Body::tree(value);
    }

    /// The value, taken out of the object.
    pub fn into_value(self) -> Value {
        let Object { mut body, .. } = self;
        match body.tree.take() {
            Some(tree) => *tree,
            None => body.unpack(),
        }
    }

    /// Calls `f` with the value without keeping the tree of a packed object that is not
    /// already unpacked: for a reader that visits every object once.
    pub fn with_value<R>(&self, f: impl FnOnce(&Value) -> R) -> R {
        match self.body.tree.get() {
            Some(tree) => f(tree),
            None => f(&self.body.unpack()),
        }
    }

    /// Calls `f` with the object, or, when it is packed and not already unpacked, with a copy
    /// whose tree (parsed when `f` reads it) is dropped when `f` returns: for a reader that
    /// judges every object once.
    pub fn with_unpacked<R>(&self, f: impl FnOnce(&Object) -> R) -> R {
        if self.body.tree.get().is_some() || self.body.packed.is_none() {
            return f(self);
        }
        let unpacked = Object {
            body: Body {
                tree: std::sync::OnceLock::new(),
                packed: self.body.packed.clone(),
            },
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            source: self.source.clone(),
            spans: self.spans.clone(),
        };
        f(&unpacked)
    }

    /// Keeps the value as its compact JSON text and drops the tree: [`Object::value`] parses
    /// it again when it is read. A value nested deeper than the JSON reader reads back stays a
    /// tree.
    pub fn pack(&mut self) {
        if self.body.packed.is_some() {
            self.body.tree.take();
            return;
        }
        let Some(tree) = self.body.tree.get() else {
            return;
        };
        if !nests_within(tree, MAX_PACKED_DEPTH) {
            return;
        }
        if let Ok(text) = serde_json::to_string(tree) {
            self.body.packed = Some(text.into_boxed_str());
            self.body.tree.take();
        }
    }

    /// Drops the tree of a packed object that was read since it was packed (the text stays):
    /// what a reader that is done with a set of objects gives back.
    pub fn release(&mut self) {
        if self.body.packed.is_some() {
            self.body.tree.take();
        }
    }

    /// The value as compact JSON text: a packed object's own text, without reading it.
    pub fn to_json(&self) -> String {
        match (&self.body.packed, self.body.tree.get()) {
            (Some(text), _) => text.to_string(),
            (None, Some(tree)) => tree.to_string(),
            (None, None) => Value::Null.to_string(),
        }
    }

    /// Whether the object is held as its text ([`Object::pack`]).
    pub fn is_packed(&self) -> bool {
        self.body.packed.is_some()
    }

    /// Whether the object holds its tree (always, unless it is packed and was not read since
    /// it was packed or released).
    pub fn holds_tree(&self) -> bool {
        self.body.tree.get().is_some()
    }

    /// Drops everything but the identity and the metadata (`apiVersion`, `kind`,
    /// `metadata`), and the positions of what is dropped: what the loader builds of an object
    /// whose body no rule reads.
    pub fn keep_metadata_only(&mut self) {
        let keep = |k: &str| matches!(k, "apiVersion" | "kind" | "metadata");
        if self
            .value()
            .as_object()
            .is_some_and(|map| map.keys().any(|k| !keep(k)))
        {
            if let Value::Object(map) = self.value_mut() {
                map.retain(|k, _| keep(k));
            }
            self.retain_spans();
        }
    }

    /// Drops the positions of the fields no longer in the value (once it was cut down).
    pub fn retain_spans(&mut self) {
        let Object { body, spans, .. } = self;
        match body.tree.get() {
            Some(tree) => spans.retain_paths_of(tree),
            None => spans.retain_paths_of(&body.unpack()),
        }
    }

    /// The API group (`apps` for `apps/v1`, empty for the core group).
    pub fn group(&self) -> &str {
        group_of(&self.api_version)
    }

    /// The object's identity.
    pub fn reference(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }

    /// The value at a JSON pointer.
    pub fn pointer(&self, pointer: &str) -> Option<&Value> {
        self.value().pointer(pointer)
    }

    /// Labels (`metadata.labels`), empty when absent.
    pub fn labels(&self) -> impl Iterator<Item = (&str, &str)> {
        string_map(self.value().pointer("/metadata/labels"))
    }

    /// One annotation's value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value()
            .get("metadata")?
            .get("annotations")?
            .get(key)?
            .as_str()
    }

    /// One annotation's value, read without keeping the tree of a packed object that is not
    /// already unpacked ([`Object::with_value`]): for a reader that visits every object.
    pub fn read_annotation(&self, key: &str) -> Option<String> {
        if let (None, Some(text)) = (self.body.tree.get(), &self.body.packed) {
            // The text writes the key as a JSON string, the same characters unless it has one
            // JSON escapes: an object whose text does not hold it has no such annotation.
            let escaped = key.chars().any(|c| c == '"' || c == '\\' || c.is_control());
            if !escaped && !text.contains(key) {
                return None;
            }
        }
        self.with_value(|v| {
            v.get("metadata")?
                .get("annotations")?
                .get(key)?
                .as_str()
                .map(str::to_owned)
        })
    }

    /// The source position of the field at `pointer` (or of its nearest written ancestor, or
    /// of the document itself).
    pub fn locate(&self, pointer: Option<&str>) -> Option<SourceLoc> {
        let src = self.source.as_ref()?;
        let (line, column) = pointer
            .and_then(|p| self.spans.resolve(p))
            .unwrap_or((src.line, src.column));
        Some(SourceLoc {
            file: src.file.clone(),
            line,
            column,
        })
    }
}

/// The API group of an `apiVersion` (`apps` for `apps/v1`, empty for the core group).
pub fn group_of(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((g, _)) => g,
        None => "",
    }
}

/// The cluster-scoped kinds of the built-in API, by group: the resources a v1.32 API server
/// lists with `namespaced: false` in discovery (`/api/v1`, `/apis/GROUP/VERSION`), plus the
/// cluster-scoped kinds of beta and alpha APIs an administrator can enable. Custom resources
/// are not known here (their scope is in their CustomResourceDefinition).
const CLUSTER_SCOPED: &[(&str, &[&str])] = &[
    (
        "",
        &["Namespace", "Node", "PersistentVolume", "ComponentStatus"],
    ),
    (
        "rbac.authorization.k8s.io",
        &["ClusterRole", "ClusterRoleBinding"],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            "ValidatingWebhookConfiguration",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
        ],
    ),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io", &["APIService"]),
    (
        "authentication.k8s.io",
        &["TokenReview", "SelfSubjectReview"],
    ),
    (
        "authorization.k8s.io",
        &[
            "SubjectAccessReview",
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
        ],
    ),
    (
        "certificates.k8s.io",
        &["CertificateSigningRequest", "ClusterTrustBundle"],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    (
        "networking.k8s.io",
        &["IngressClass", "IPAddress", "ServiceCIDR"],
    ),
    ("node.k8s.io", &["RuntimeClass"]),
    ("scheduling.k8s.io", &["PriorityClass"]),
    (
        "storage.k8s.io",
        &[
            "StorageClass",
            "CSIDriver",
            "CSINode",
            "VolumeAttachment",
            "VolumeAttributesClass",
        ],
    ),
    ("resource.k8s.io", &["DeviceClass", "ResourceSlice"]),
    ("storagemigration.k8s.io", &["StorageVersionMigration"]),
    ("internal.apiserver.k8s.io", &["StorageVersion"]),
    ("policy", &["PodSecurityPolicy"]),
];

/// Whether `kind` of API group `group` is a cluster-scoped kind of the built-in API (see
/// [`Object::namespace`], which is `None` for these whatever the manifest says).
pub fn is_cluster_scoped(group: &str, kind: &str) -> bool {
    CLUSTER_SCOPED
        .iter()
        .any(|(g, kinds)| *g == group && kinds.contains(&kind))
}

/// `metadata.<key>` of a JSON object, when it is a non-empty string.
pub fn meta_str<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.get("metadata")?
        .get(key)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// A JSON object named for a message: `Kind namespace/name`, or `Kind name` without a
/// namespace or for the kinds in `cluster_scoped` (whose namespace the API server ignores);
/// `?` stands for a missing kind or name.
pub fn describe_json(obj: &Value, cluster_scoped: &[&str]) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("?");
    let ns = meta_str(obj, "namespace").filter(|_| !cluster_scoped.contains(&kind));
    let name = meta_str(obj, "name").unwrap_or("?");
    match ns {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// A copy of a JSON value without spare capacity: each mapping sized to its entries (a clone
/// keeps the capacity a mapping grew to while it was parsed), each sequence and string to its
/// items.
pub fn rebuilt(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::with_capacity(m.len());
            for (k, x) in m {
                out.insert(k.as_str().into(), rebuilt(x));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(rebuilt).collect()),
        other => other.clone(),
    }
}

/// The type of a JSON value in words, for messages (`a string`, `a mapping`...).
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The string entries of a JSON list (other entries skipped; empty when `v` is not a list).
pub fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Iterates the string entries of a JSON object (non-string values are skipped).
pub fn string_map(v: Option<&Value>) -> impl Iterator<Item = (&str, &str)> {
    v.and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.iter())
        .filter_map(|(k, v)| v.as_str().map(|s| (k.as_str(), s)))
}

/// The annotation `kubectl apply` writes: the whole applied object, as JSON.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Removes a Secret's values from its JSON object, wherever the object carries them: `data`
/// and `stringData` (every non-empty value becomes [`REDACTED`], keys stay), the
/// `last-applied-configuration` annotation, and any other annotation whose value embeds an
/// object with `data` or `stringData` (tools that record the applied object under their own
/// key). Used on every path a Secret enters by: files, cluster reads, snapshots, admission
/// requests, audit events.
pub fn redact_secret(value: &mut Value) {
    for field in ["data", "stringData"] {
        if let Some(Value::Object(map)) = value.get_mut(field) {
            // Empty values stay empty (emptiness reveals nothing and tells a template with
            // blank values from a committed secret); every other value is replaced.
            for v in map.values_mut() {
                if !matches!(v, Value::String(s) if s.is_empty()) && !v.is_null() {
                    *v = Value::String(REDACTED.to_owned());
                }
            }
        } else if let Some(v) = value.get_mut(field) {
            if !v.is_null() {
                *v = Value::String(REDACTED.to_owned());
            }
        }
    }
    if let Some(Value::Object(ann)) = value.pointer_mut("/metadata/annotations") {
        for (k, v) in ann.iter_mut() {
            if k == LAST_APPLIED || v.as_str().is_some_and(embeds_secret_values) {
                *v = Value::String(REDACTED.to_owned());
            }
        }
    }
}

/// True when an annotation value is (or holds) a serialized object with `data` or
/// `stringData`: JSON, or a YAML document written by a tool.
fn embeds_secret_values(text: &str) -> bool {
    let t = text.trim_start();
    if t.starts_with('{') {
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(t) {
            return m.contains_key("data") || m.contains_key("stringData");
        }
    }
    // Anything else that names the fields as keys (YAML, or JSON that does not parse) is
    // treated as carrying them: a false positive only hides an annotation of a Secret.
    ["\"data\"", "\"stringData\"", "data:", "stringData:"]
        .iter()
        .any(|k| text.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Object {
        Object::from_value(v, None, SpanIndex::default()).unwrap()
    }

    #[test]
    fn a_packed_object_reads_back_the_same_value() {
        let v = json!({"apiVersion":"apps/v1","kind":"Deployment",
            "metadata":{"name":"web","labels":{"z":"1","a":"2"},
                "annotations":{"palisade.dev/ignore":"POD001"}},
            "spec":{"replicas":3,"ratio":0.1,"third":0.30000000000000004,"big":18446744073709551615u64,
                "neg":-9223372036854775808i64,"list":[null,true,"é\u{1F600}\"q\"",[],{}],
                "text":"line\nbreak\ttab\u{7}"}});
        let mut o = object(v.clone());
        o.pack();
        assert!(o.is_packed());
        assert!(!o.holds_tree());
        assert_eq!(o.to_json(), v.to_string());
        assert_eq!(
            o.read_annotation("palisade.dev/ignore").as_deref(),
            Some("POD001")
        );
        assert_eq!(o.read_annotation("palisade.dev/other"), None);
        assert!(!o.holds_tree(), "reading an annotation keeps no tree");
        assert!(o.with_value(|t| t == &v));
        assert!(!o.holds_tree());
        o.with_unpacked(|u| assert_eq!(u.value(), &v));
        assert!(!o.holds_tree(), "the copy's tree went with it");
        assert_eq!(o.value(), &v);
        // Key order is kept (the report and the fixes follow it).
        let keys: Vec<&String> = o.value()["metadata"]["labels"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(keys, ["z", "a"]);
        assert!(o.holds_tree());
        o.release();
        assert!(!o.holds_tree());
        assert_eq!(o.clone().into_value(), v);
        // A change unpacks for good: the text no longer stands for the value.
        o.value_mut()["spec"]["replicas"] = json!(5);
        assert!(!o.is_packed());
        o.release();
        assert_eq!(o.value()["spec"]["replicas"], json!(5));
    }

    /// Any JSON value: strings of any characters, integers over the whole i64/u64 range, any
    /// finite float, nested lists and mappings.
    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Packing is invisible: the tree read back, its text and the annotations read
        /// without unpacking are those of the value packed, key order and float bits included.
        #[test]
        fn packing_keeps_any_value(data in any_json(), key in "\\PC{0,12}", note in "\\PC{0,12}") {
            let v = json!({"apiVersion":"v1","kind":"ConfigMap",
                "metadata":{"name":"c","annotations":{ key.clone(): note.clone() }},"data":data});
            let mut o = object(v.clone());
            o.pack();
            proptest::prop_assert!(o.is_packed());
            proptest::prop_assert_eq!(o.to_json(), v.to_string());
            proptest::prop_assert_eq!(o.read_annotation(&key), Some(note));
            proptest::prop_assert!(!o.holds_tree());
            proptest::prop_assert_eq!(o.value(), &v);
            let keys = |v: &Value| v["data"].as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
            proptest::prop_assert_eq!(keys(o.value()), keys(&v));
        }
    }

    #[test]
    fn a_value_nested_deeper_than_the_reader_reads_back_stays_a_tree() {
        let mut deep = json!("leaf");
        for _ in 0..150 {
            deep = json!({ "x": deep });
        }
        let mut o = object(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":deep}),
        );
        let before = o.value().clone();
        o.pack();
        assert!(!o.is_packed());
        assert_eq!(o.value(), &before);
        // Within the limit it is packed and reads back whole.
        let mut ok = json!("leaf");
        for _ in 0..90 {
            ok = json!([ok]);
        }
        let mut o =
            object(json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":ok}));
        let before = o.value().clone();
        o.pack();
        assert!(o.is_packed());
        assert_eq!(o.value(), &before);
    }

    #[test]
    fn an_annotation_key_written_with_escapes_is_still_found_in_a_packed_object() {
        let mut o = object(json!({"apiVersion":"v1","kind":"ConfigMap",
            "metadata":{"name":"c","annotations":{"a\"b":"x","c/d":"y"}}}));
        o.pack();
        assert_eq!(o.read_annotation("a\"b").as_deref(), Some("x"));
        assert_eq!(o.read_annotation("c/d").as_deref(), Some("y"));
        assert_eq!(o.read_annotation("c/e"), None);
    }

    #[test]
    fn secret_values_are_redacted_keys_kept() {
        let obj = Object::from_value(
            json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s",
                "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"data\":{\"p\":\"aHVudGVyMg==\"}}"}},
                "data":{"p":"aHVudGVyMg=="},"stringData":{"q":"hunter2"}}),
            None,
            SpanIndex::default(),
        )
        .unwrap();
        let text = obj.value().to_string();
        assert!(!text.contains("aHVudGVyMg"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(obj.value()["data"]["p"], REDACTED);
        assert_eq!(obj.value()["stringData"]["q"], REDACTED);
    }

    #[test]
    fn annotations_embedding_the_secret_are_redacted_others_kept() {
        let mut v = json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s",
            "annotations":{
                "example.com/applied":"{\"apiVersion\":\"v1\",\"stringData\":{\"p\":\"hunter2\"}}",
                "example.com/yaml":"apiVersion: v1\ndata:\n  p: aHVudGVyMg==\n",
                "owner":"team-a",
                "checksum/config":"4f2a"}},
            "data":"aHVudGVyMg=="});
        redact_secret(&mut v);
        let text = v.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("aHVudGVyMg"),
            "{text}"
        );
        assert_eq!(v["metadata"]["annotations"]["owner"], "team-a");
        assert_eq!(v["metadata"]["annotations"]["checksum/config"], "4f2a");
        assert_eq!(v["data"], REDACTED);
    }

    #[test]
    fn empty_secret_values_stay_empty() {
        let obj = Object::from_value(
            json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},
                "data":{"e":"","n":null,"x":123},"stringData":{"q":""}}),
            None,
            SpanIndex::default(),
        )
        .unwrap();
        assert_eq!(obj.value()["data"]["e"], "");
        assert!(obj.value()["data"]["n"].is_null());
        assert_eq!(obj.value()["data"]["x"], REDACTED);
        assert_eq!(obj.value()["stringData"]["q"], "");
    }

    #[test]
    fn cluster_scoped_objects_have_no_namespace() {
        let obj = |v| Object::from_value(v, None, SpanIndex::default()).unwrap();
        let crb = obj(json!({"apiVersion":"rbac.authorization.k8s.io/v1",
            "kind":"ClusterRoleBinding","metadata":{"name":"b","namespace":"shop"}}));
        assert_eq!(crb.namespace, None);
        assert_eq!(crb.reference().to_string(), "ClusterRoleBinding b");
        // The value keeps what was written.
        assert_eq!(crb.value()["metadata"]["namespace"], "shop");
        let cr = obj(json!({"apiVersion":"rbac.authorization.k8s.io/v1beta1",
            "kind":"ClusterRole","metadata":{"name":"r","namespace":"shop"}}));
        assert_eq!(cr.namespace, None);
        let ns = obj(json!({"apiVersion":"v1","kind":"Namespace",
            "metadata":{"name":"shop","namespace":"default"}}));
        assert_eq!(ns.namespace, None);
        // Namespaced kinds keep theirs; a kind of the same name in another group is not
        // the built-in one.
        let rb = obj(json!({"apiVersion":"rbac.authorization.k8s.io/v1",
            "kind":"RoleBinding","metadata":{"name":"b","namespace":"shop"}}));
        assert_eq!(rb.namespace.as_deref(), Some("shop"));
        let other = obj(json!({"apiVersion":"example.com/v1",
            "kind":"ClusterRole","metadata":{"name":"r","namespace":"shop"}}));
        assert_eq!(other.namespace.as_deref(), Some("shop"));
    }

    #[test]
    fn not_objects() {
        assert_eq!(
            Object::from_value(json!([1]), None, SpanIndex::default()).unwrap_err(),
            NotAnObject::NotAMapping
        );
        assert_eq!(
            Object::from_value(json!({"kind":"Pod"}), None, SpanIndex::default()).unwrap_err(),
            NotAnObject::MissingTypeMeta
        );
    }

    #[test]
    fn span_resolution_falls_back_to_ancestor() {
        let mut s = SpanIndex::default();
        let spec = segment_hash(ROOT_HASH, "spec");
        s.push(spec, 5, 1);
        let containers = segment_hash(spec, "containers");
        s.push(containers, 6, 3);
        let c0 = index_hash(containers, 0);
        s.push(c0, 7, 5);
        assert_eq!(s.resolve("/spec/containers/0"), Some((7, 5)));
        assert_eq!(
            s.resolve("/spec/containers/0/securityContext/x"),
            Some((7, 5))
        );
        assert_eq!(s.resolve("/spec/containers/1"), Some((6, 3)));
        assert_eq!(s.resolve("/metadata"), None);
    }

    #[test]
    fn pointer_escaping_round_trips() {
        let mut s = SpanIndex::default();
        let a = segment_hash(ROOT_HASH, "metadata");
        s.push(a, 2, 1);
        let b = segment_hash(a, "annotations");
        s.push(b, 3, 3);
        let c = segment_hash(b, "container.apparmor.security.beta.kubernetes.io/app");
        s.push(c, 4, 5);
        let p = format!(
            "/metadata/annotations/{}",
            escape_segment("container.apparmor.security.beta.kubernetes.io/app")
        );
        assert_eq!(s.resolve(&p), Some((4, 5)));
    }
}
