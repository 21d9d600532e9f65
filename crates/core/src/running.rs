//! What Pods read from a cluster run: the image digest of each container (its status's
//! `imageID`), and the digests of the Pods a cluster scan folds into the workload that
//! controls them ([`RunningDigests`]), kept so that the image verification can judge the
//! digests a Deployment's Pods actually run once the Pods themselves are gone.

use serde::Deserialize;
use std::collections::BTreeMap;

/// How evidence names a workload: `Kind/namespace/name` (`Kind//name` when it has no
/// namespace).
pub fn object_key(kind: &str, namespace: Option<&str>, name: &str) -> String {
    format!("{kind}/{}/{name}", namespace.unwrap_or(""))
}

/// The manifest digest of a container status's `imageID`: `docker-pullable://repo@sha256:...`
/// (Docker) or `repo@sha256:...` (containerd, CRI-O). An ID without a repository
/// (`sha256:...`, `docker://sha256:...`) names the local image configuration, not what the
/// registry serves, and gives none.
pub fn digest_of_image_id(image_id: &str) -> Option<String> {
    let (_, digest) = image_id.trim().rsplit_once('@')?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// The containers of a Pod's spec and their statuses, and nothing else of it: read from a
/// Pod's JSON (a line as listed, or a parsed value) without building the rest. A field of
/// the wrong type fails the whole read (callers then take the Pod as running nothing known).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PodImages {
    /// `spec`: the containers' names and images as written.
    #[serde(default)]
    pub spec: PodSpecImages,
    /// `status`: the containers' statuses.
    #[serde(default)]
    pub status: PodStatusImages,
}

/// The containers of a Pod's spec ([`PodImages`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpecImages {
    /// `containers`.
    #[serde(default)]
    pub containers: Vec<ContainerImage>,
    /// `initContainers`.
    #[serde(default)]
    pub init_containers: Vec<ContainerImage>,
    /// `ephemeralContainers`.
    #[serde(default)]
    pub ephemeral_containers: Vec<ContainerImage>,
}

/// The container statuses of a Pod ([`PodImages`]).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatusImages {
    /// `containerStatuses`.
    #[serde(default)]
    pub container_statuses: Vec<ContainerStatusImage>,
    /// `initContainerStatuses`.
    #[serde(default)]
    pub init_container_statuses: Vec<ContainerStatusImage>,
    /// `ephemeralContainerStatuses`.
    #[serde(default)]
    pub ephemeral_container_statuses: Vec<ContainerStatusImage>,
}

/// A container's name and image as its Pod's spec writes them.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContainerImage {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `image`.
    #[serde(default)]
    pub image: String,
}

/// A container status's name and image ID.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatusImage {
    /// `name`.
    #[serde(default)]
    pub name: String,
    /// `imageID`.
    #[serde(default, rename = "imageID")]
    pub image_id: String,
}

impl PodImages {
    /// The containers of a Pod given as a parsed value (none for a value that is not shaped
    /// like a Pod).
    pub fn of(pod: &serde_json::Value) -> PodImages {
        PodImages::deserialize(pod).unwrap_or_default()
    }

    /// Each container whose status names the digest it runs: `(name, image as written,
    /// digest)`, in spec order (containers, init containers, ephemeral containers). A
    /// container not started yet, or whose image ID names no registry digest, is left out.
    pub fn running(&self) -> impl Iterator<Item = (&str, &str, String)> + '_ {
        let s = &self.spec;
        s.containers
            .iter()
            .chain(&s.init_containers)
            .chain(&s.ephemeral_containers)
            .filter_map(move |c| {
                let st = &self.status;
                let id = st
                    .container_statuses
                    .iter()
                    .chain(&st.init_container_statuses)
                    .chain(&st.ephemeral_container_statuses)
                    .find(|x| x.name == c.name)?;
                let digest = digest_of_image_id(&id.image_id)?;
                Some((c.name.as_str(), c.image.trim(), digest))
            })
    }
}

/// The digests the Pods folded into each workload run, by workload ([`object_key`]),
/// container and image (as the Pods write it), with how many Pods run each: what a cluster
/// scan keeps of the Pods it reports through their owner, for the image verification.
/// Strings and counts only, never the Pods: a Deployment of 1,000 replicas running one
/// digest is one entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunningDigests {
    by_workload: BTreeMap<String, Containers>,
}

/// A workload's containers, by (container, image): how many Pods run each digest.
type Containers = BTreeMap<(String, String), BTreeMap<String, usize>>;

impl RunningDigests {
    /// Counts one Pod of `workload` running `image` at `digest` in `container`.
    pub fn add(&mut self, workload: &str, container: &str, image: &str, digest: &str) {
        self.add_pods(workload, container, image, digest, 1);
    }

    fn add_pods(&mut self, workload: &str, container: &str, image: &str, digest: &str, n: usize) {
        if !self.by_workload.contains_key(workload) {
            self.by_workload
                .insert(workload.to_owned(), BTreeMap::default());
        }
        let Some(containers) = self.by_workload.get_mut(workload) else {
            return;
        };
        let digests = containers
            .entry((container.to_owned(), image.to_owned()))
            .or_default();
        match digests.get_mut(digest) {
            Some(count) => *count += n,
            None => {
                digests.insert(digest.to_owned(), n);
            }
        }
    }

    /// Counts one Pod of `workload` ([`object_key`]) for each container it runs at a known
    /// digest.
    pub fn add_pod(&mut self, workload: &str, pod: &PodImages) {
        for (container, image, digest) in pod.running() {
            self.add(workload, container, image, &digest);
        }
    }

    /// The digests the Pods folded into `workload` run `image` at in `container`, with how
    /// many Pods run each (sorted by digest); `None` when no such Pod said.
    pub fn get(
        &self,
        workload: &str,
        container: &str,
        image: &str,
    ) -> Option<&BTreeMap<String, usize>> {
        self.by_workload
            .get(workload)?
            .get(&(container.to_owned(), image.to_owned()))
    }

    /// Every workload's containers: `(workload, container, image, digests)`, sorted.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &str, &BTreeMap<String, usize>)> {
        self.by_workload.iter().flat_map(|(w, cs)| {
            cs.iter()
                .map(move |((c, i), d)| (w.as_str(), c.as_str(), i.as_str(), d))
        })
    }

    /// True when no folded Pod said what it runs.
    pub fn is_empty(&self) -> bool {
        self.by_workload.is_empty()
    }

    /// How many workloads have folded Pods that said what they run.
    pub fn workloads(&self) -> usize {
        self.by_workload.len()
    }

    /// Adds another read's counts (a scan of several inputs).
    pub fn extend(&mut self, other: RunningDigests) {
        for (w, cs) in other.by_workload {
            for ((c, i), ds) in cs {
                for (d, n) in ds {
                    self.add_pods(&w, &c, &i, &d, n);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn digests_of_image_ids() {
        let upper = format!("r.io/a@{}", D1.replace('1', "A"));
        assert_eq!(
            digest_of_image_id(&upper).as_deref(),
            Some(D1.replace('1', "a").as_str())
        );
        assert_eq!(digest_of_image_id(D1), None);
        assert_eq!(digest_of_image_id("r.io/a@sha512:00"), None);
    }

    #[test]
    fn running_images_of_a_pod() {
        let pod = json!({"kind": "Pod", "spec": {
            "initContainers": [{"name": "init", "image": "r.io/i:1"}],
            "containers": [{"name": "api", "image": " r.io/a:1 "}, {"name": "web", "image": "r.io/w:1"},
                           {"name": "new", "image": "r.io/n:1"}]},
            "status": {
            "initContainerStatuses": [{"name": "init", "imageID": format!("r.io/i@{D1}")}],
            "containerStatuses": [{"name": "api", "imageID": format!("docker-pullable://r.io/a@{D1}")},
                                  {"name": "web", "imageID": "sha256:abc"}]}});
        let p = PodImages::of(&pod);
        let got: Vec<_> = p.running().collect();
        assert_eq!(
            got,
            [
                ("api", "r.io/a:1", D1.to_owned()),
                ("init", "r.io/i:1", D1.to_owned())
            ]
        );
        // The same from the line a cluster list gives.
        let from_line: PodImages = serde_json::from_str(&pod.to_string()).unwrap();
        assert_eq!(from_line.running().count(), 2);
        // A Pod of the wrong shape runs nothing known.
        assert_eq!(
            PodImages::of(&json!({"spec": {"containers": 3}}))
                .running()
                .count(),
            0
        );
        assert_eq!(PodImages::of(&json!("not a pod")).running().count(), 0);
    }

    #[test]
    fn running_digests_count_pods_per_digest() {
        let d2 = D1.replace('1', "2");
        let mut r = RunningDigests::default();
        r.add("Deployment/shop/web", "web", "r.io/w:1", D1);
        r.add("Deployment/shop/web", "web", "r.io/w:1", &d2);
        r.add("Deployment/shop/web", "web", "r.io/w:1", D1);
        r.add("Deployment/shop/web", "web", "r.io/w:0", D1);
        let mut other = RunningDigests::default();
        other.add("Deployment/shop/web", "web", "r.io/w:1", &d2);
        other.add(
            "DaemonSet/kube-system/node-exporter",
            "exporter",
            "r.io/e:1",
            D1,
        );
        r.extend(other);
        let web = r.get("Deployment/shop/web", "web", "r.io/w:1").unwrap();
        assert_eq!(
            web.iter()
                .map(|(d, n)| (d.as_str(), *n))
                .collect::<Vec<_>>(),
            [(D1, 2), (d2.as_str(), 2)]
        );
        assert_eq!(r.get("Deployment/shop/web", "web", "r.io/w:2"), None);
        assert_eq!(r.get("Deployment/shop/api", "web", "r.io/w:1"), None);
        assert_eq!(r.workloads(), 2);
        assert_eq!(r.iter().count(), 3);
        assert_eq!(
            r.iter().next().unwrap().0,
            "DaemonSet/kube-system/node-exporter"
        );
    }
}
