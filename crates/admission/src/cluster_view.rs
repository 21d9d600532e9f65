//! The rest of the cluster, as the webhook sees it: the rules whose verdict on an object
//! depends on other objects ([`palisade_core::AdmissionNeeds::Cluster`] and
//! [`palisade_core::AdmissionNeeds::ClusterAbsence`]) read a [`ClusterView`], with the object
//! under review in place of its stored version. The view is a watch cache kept by the
//! front-end (`palisade admission serve --cluster-cache`, from `palisade-cluster`); this crate
//! only reads it, so it holds no Kubernetes client.

use palisade_core::Object;
use palisade_load::packed::PackedLine;
use std::collections::HashSet;

/// A kind the view cannot answer for (yet), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotReady {
    /// The kind (`ClusterRole`).
    pub kind: String,
    /// Why: still listing, or the last error of its watch (a 403, a timeout).
    pub reason: String,
}

/// The cluster's objects, as a watch cache holds them.
pub trait ClusterView: Send + Sync + std::fmt::Debug {
    /// Copies of the objects of these kinds, or the kinds among them that the cache cannot
    /// answer for (not synced yet, or their watch fails).
    fn objects(&self, kinds: &HashSet<&'static str>) -> Result<Vec<Object>, Vec<NotReady>>;

    /// [`ClusterView::objects`] restricted to one namespace: its namespaced objects and the
    /// Namespace itself (in the cache's order). Objects without a namespace count as
    /// `default`'s, as the rules read them. The default filters [`ClusterView::objects`]; a
    /// cache overrides it to copy only what it returns.
    fn objects_in(
        &self,
        kinds: &HashSet<&'static str>,
        namespace: &str,
    ) -> Result<Vec<Object>, Vec<NotReady>> {
        let mut all = self.objects(kinds)?;
        all.retain(|o| in_namespace(o, namespace));
        Ok(all)
    }

    /// The objects of these kinds as packed compact JSON lines, each with the hash of its
    /// content (what the background audit reads: it unpacks and parses only the lines whose
    /// hash it has not seen in the cycle before). The default serializes
    /// [`ClusterView::objects`]; a cache that keeps packed lines shares them.
    fn lines(&self, kinds: &HashSet<&'static str>) -> Result<Vec<PackedLine>, Vec<NotReady>> {
        Ok(self
            .objects(kinds)?
            .iter()
            .map(|o| PackedLine::new(&o.value().to_string()))
            .collect())
    }
}

/// Whether an object belongs to `namespace` for a namespace-scoped rule: its namespaced
/// objects (no namespace: `default`), and the Namespace object itself.
pub fn in_namespace(o: &Object, namespace: &str) -> bool {
    if o.kind == "Namespace" && o.group().is_empty() {
        return o.name == namespace;
    }
    o.namespace.as_deref().unwrap_or("default") == namespace
}

/// A fixed set of objects (tests, previews, and the equality test between scan and
/// admission), every kind synced.
#[derive(Debug, Default)]
pub struct StaticView {
    objects: Vec<Object>,
    not_ready: Vec<NotReady>,
}

impl StaticView {
    /// A view holding these objects.
    pub fn new(objects: Vec<Object>) -> StaticView {
        StaticView {
            objects,
            not_ready: Vec::new(),
        }
    }

    /// A view that is not synced for these kinds.
    pub fn not_ready(kinds: &[(&str, &str)]) -> StaticView {
        StaticView {
            objects: Vec::new(),
            not_ready: kinds
                .iter()
                .map(|(k, r)| NotReady {
                    kind: (*k).to_owned(),
                    reason: (*r).to_owned(),
                })
                .collect(),
        }
    }
}

impl StaticView {
    fn collect(
        &self,
        kinds: &HashSet<&'static str>,
        keep: impl Fn(&Object) -> bool,
    ) -> Result<Vec<Object>, Vec<NotReady>> {
        let missing: Vec<NotReady> = self
            .not_ready
            .iter()
            .filter(|n| kinds.contains(n.kind.as_str()))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(missing);
        }
        Ok(self
            .objects
            .iter()
            .filter(|o| kinds.contains(o.kind.as_str()) && keep(o))
            .cloned()
            .collect())
    }
}

impl ClusterView for StaticView {
    fn objects(&self, kinds: &HashSet<&'static str>) -> Result<Vec<Object>, Vec<NotReady>> {
        self.collect(kinds, |_| true)
    }

    fn objects_in(
        &self,
        kinds: &HashSet<&'static str>,
        namespace: &str,
    ) -> Result<Vec<Object>, Vec<NotReady>> {
        self.collect(kinds, |o| in_namespace(o, namespace))
    }
}
