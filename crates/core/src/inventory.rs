//! The set of objects a scan looks at, with indexes.

use crate::object::{Object, ObjectRef};
use std::collections::HashMap;

/// Index of an object in an [`Inventory`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub usize);

/// The derived views, by type: each a `OnceLock<Arc<T>>`, so that the first rule to ask
/// builds the view and the others wait for it instead of building it again.
type Derived =
    std::sync::Mutex<HashMap<std::any::TypeId, std::sync::Arc<dyn std::any::Any + Send + Sync>>>;

/// All objects of a scan, indexed by kind and by identity.
#[derive(Default)]
pub struct Inventory {
    objects: Vec<Object>,
    by_kind: HashMap<String, Vec<ObjectId>>,
    by_ref: HashMap<(String, Option<String>, String), ObjectId>,
    derived: Derived,
    request: Option<ReviewRequest>,
}

/// The admission request an inventory of one object is reviewed in: what a rule that reads
/// more than the object (a Gatekeeper template's `input.review`) sees. A scan has none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReviewRequest {
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// The request's `userInfo`.
    pub user_info: serde_json::Value,
    /// The previous object (UPDATE), Secret values already redacted.
    pub old_object: Option<serde_json::Value>,
    /// Whether the request is a dry run.
    pub dry_run: bool,
    /// The request's namespace.
    pub namespace: Option<String>,
}

impl std::fmt::Debug for Inventory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inventory")
            .field("objects", &self.objects.len())
            .finish()
    }
}

impl Inventory {
    /// Builds the inventory and its indexes.
    pub fn new(objects: Vec<Object>) -> Inventory {
        let mut by_kind: HashMap<String, Vec<ObjectId>> = HashMap::new();
        let mut by_ref = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            by_kind.entry(o.kind.clone()).or_default().push(ObjectId(i));
            by_ref
                .entry((o.kind.clone(), o.namespace.clone(), o.name.clone()))
                .or_insert(ObjectId(i));
        }
        Inventory {
            objects,
            by_kind,
            by_ref,
            derived: Derived::default(),
            request: None,
        }
    }

    /// Attaches the admission request the objects are reviewed in.
    pub fn with_request(mut self, request: ReviewRequest) -> Inventory {
        self.request = Some(request);
        self
    }

    /// The admission request, at admission.
    pub fn request(&self) -> Option<&ReviewRequest> {
        self.request.as_ref()
    }

    /// A view derived from the whole inventory (an RBAC graph, a NetworkPolicy model...),
    /// built once on first use and shared by every rule that asks for the same type. Rules
    /// running in parallel that ask for a view being built wait for it (`build` must not
    /// ask for the view it builds).
    pub fn derived<T: std::any::Any + Send + Sync>(
        &self,
        build: impl FnOnce(&Inventory) -> T,
    ) -> std::sync::Arc<T> {
        use std::sync::{Arc, OnceLock};
        let cell = self
            .derived
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(OnceLock::<Arc<T>>::new()))
            .clone();
        // The lock is released: building one view does not hold up the others.
        match cell.downcast::<OnceLock<Arc<T>>>() {
            Ok(cell) => cell.get_or_init(|| Arc::new(build(self))).clone(),
            Err(_) => Arc::new(build(self)),
        }
    }

    /// The JSON values of every object (for engines that read raw objects).
    pub fn values(&self) -> impl Iterator<Item = &serde_json::Value> {
        self.objects.iter().map(|o| o.value())
    }

    /// Every object, in input order.
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// Drops the trees of the packed objects read since they were packed
    /// ([`Object::release`]): what a scan does once a set of rules is done with them.
    pub fn release_values(&mut self) {
        self.objects.iter_mut().for_each(Object::release);
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// True when there is no object.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The object with this id.
    pub fn get(&self, id: ObjectId) -> &Object {
        &self.objects[id.0]
    }

    /// Objects of one kind (any API group), in input order.
    pub fn of_kind<'a>(&'a self, kind: &str) -> impl Iterator<Item = (ObjectId, &'a Object)> + 'a {
        self.by_kind
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |id| (*id, &self.objects[id.0]))
    }

    /// Looks an object up by kind, namespace and name.
    pub fn find(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Object> {
        self.by_ref
            .get(&(
                kind.to_owned(),
                namespace.map(str::to_owned),
                name.to_owned(),
            ))
            .map(|id| &self.objects[id.0])
    }

    /// Looks an object up by reference (the API version is not compared).
    pub fn find_ref(&self, r: &ObjectRef) -> Option<&Object> {
        self.find(&r.kind, r.namespace.as_deref(), &r.name)
    }

    /// Gives the objects back.
    pub fn into_objects(self) -> Vec<Object> {
        self.objects
    }

    /// The object of this kind, namespace and name, with its id.
    pub fn find_id(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<ObjectId> {
        self.by_ref
            .get(&(
                kind.to_owned(),
                namespace.map(str::to_owned),
                name.to_owned(),
            ))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rules asking for the same view at once: it is built once, and both get it.
    #[test]
    fn a_derived_view_is_built_once_under_concurrent_use() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        struct View(usize);
        let inv = Inventory::new(Vec::new());
        let builds = AtomicUsize::new(0);
        let views: Vec<std::sync::Arc<View>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        inv.derived(|_| {
                            std::thread::sleep(std::time::Duration::from_millis(50));
                            View(builds.fetch_add(1, Ordering::SeqCst))
                        })
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        assert_eq!(builds.load(Ordering::SeqCst), 1);
        assert_eq!(views.len(), 4);
        assert!(views
            .iter()
            .all(|v| v.0 == 0 && std::sync::Arc::ptr_eq(v, &views[0])));
        // another type is another view
        assert_eq!(*inv.derived(|_| 7u8), 7);
    }
    use crate::object::SpanIndex;
    use serde_json::json;

    #[test]
    fn cluster_scoped_objects_are_found_without_namespace() {
        let obj = |v| Object::from_value(v, None, SpanIndex::default()).unwrap();
        let inv = Inventory::new(vec![
            obj(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": "admins", "namespace": "shop"}}),
            ),
            obj(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "readers", "namespace": "shop"}}),
            ),
        ]);
        assert!(inv.find("ClusterRoleBinding", None, "admins").is_some());
        assert!(inv
            .find("ClusterRoleBinding", Some("shop"), "admins")
            .is_none());
        assert!(inv.find("RoleBinding", Some("shop"), "readers").is_some());
    }
}
