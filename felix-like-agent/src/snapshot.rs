//! A complete, consistent view of every object tern reads, keyed by kind, namespace and name.
//! Every datastore produces this one type; calc reads nothing else.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;

use crate::model::{
    BgpConfiguration, BgpFilter, BgpPeer, GLOBAL_BGP_CONFIGURATION, IpPool, Kind, Object, ObjectKey,
};

/// Objects of one kind by key, in key order.
pub type Objects<T> = BTreeMap<ObjectKey, T>;

/// Every object of every kind tern reads.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Nodes by name.
    pub nodes: Objects<Node>,
    /// Services by namespace/name.
    pub services: Objects<Service>,
    /// Namespaces by name.
    pub namespaces: Objects<Namespace>,
    /// Pods by namespace/name.
    pub pods: Objects<Pod>,
    /// Secrets by namespace/name.
    pub secrets: Objects<Secret>,
    /// EndpointSlices by namespace/name.
    pub endpoint_slices: Objects<EndpointSlice>,
    /// NetworkPolicies by namespace/name.
    pub network_policies: Objects<NetworkPolicy>,
    /// BGPConfigurations by name (`default` is global).
    pub bgp_configurations: Objects<BgpConfiguration>,
    /// BGPPeers by name.
    pub bgp_peers: Objects<BgpPeer>,
    /// IPPools by name.
    pub ip_pools: Objects<IpPool>,
    /// BGPFilters by name.
    pub bgp_filters: Objects<BgpFilter>,
}

impl Snapshot {
    /// Builds a snapshot from objects; a later object with the same kind and key replaces an
    /// earlier one.
    pub fn from_objects(objects: impl IntoIterator<Item = Object>) -> Self {
        let mut snapshot = Snapshot::default();
        for object in objects {
            snapshot.insert(object);
        }
        snapshot
    }

    /// Adds or replaces an object ([`Object::normalized`] first, so every datastore gives
    /// the same snapshot for the same objects); returns whether an object with that kind and
    /// key was already present.
    pub fn insert(&mut self, object: Object) -> bool {
        let object = object.normalized();
        let key = object.key();
        match object {
            Object::Node(o) => self.nodes.insert(key, o).is_some(),
            Object::Service(o) => self.services.insert(key, o).is_some(),
            Object::Namespace(o) => self.namespaces.insert(key, o).is_some(),
            Object::Pod(o) => self.pods.insert(key, o).is_some(),
            Object::Secret(o) => self.secrets.insert(key, o).is_some(),
            Object::EndpointSlice(o) => self.endpoint_slices.insert(key, o).is_some(),
            Object::NetworkPolicy(o) => self.network_policies.insert(key, o).is_some(),
            Object::BgpConfiguration(o) => self.bgp_configurations.insert(key, o).is_some(),
            Object::BgpPeer(o) => self.bgp_peers.insert(key, o).is_some(),
            Object::IpPool(o) => self.ip_pools.insert(key, o).is_some(),
            Object::BgpFilter(o) => self.bgp_filters.insert(key, o).is_some(),
        }
    }

    /// Removes the object with this kind and key; returns whether it was present.
    pub fn remove(&mut self, kind: Kind, key: &ObjectKey) -> bool {
        match kind {
            Kind::Node => self.nodes.remove(key).is_some(),
            Kind::Service => self.services.remove(key).is_some(),
            Kind::Namespace => self.namespaces.remove(key).is_some(),
            Kind::Pod => self.pods.remove(key).is_some(),
            Kind::Secret => self.secrets.remove(key).is_some(),
            Kind::EndpointSlice => self.endpoint_slices.remove(key).is_some(),
            Kind::NetworkPolicy => self.network_policies.remove(key).is_some(),
            Kind::BgpConfiguration => self.bgp_configurations.remove(key).is_some(),
            Kind::BgpPeer => self.bgp_peers.remove(key).is_some(),
            Kind::IpPool => self.ip_pools.remove(key).is_some(),
            Kind::BgpFilter => self.bgp_filters.remove(key).is_some(),
        }
    }

    /// How many objects of this kind the snapshot holds.
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Node => self.nodes.len(),
            Kind::Service => self.services.len(),
            Kind::Namespace => self.namespaces.len(),
            Kind::Pod => self.pods.len(),
            Kind::Secret => self.secrets.len(),
            Kind::EndpointSlice => self.endpoint_slices.len(),
            Kind::NetworkPolicy => self.network_policies.len(),
            Kind::BgpConfiguration => self.bgp_configurations.len(),
            Kind::BgpPeer => self.bgp_peers.len(),
            Kind::IpPool => self.ip_pools.len(),
            Kind::BgpFilter => self.bgp_filters.len(),
        }
    }

    /// Total number of objects.
    pub fn len(&self) -> usize {
        Kind::ALL.into_iter().map(|kind| self.count(kind)).sum()
    }

    /// Whether the snapshot holds no objects.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The node with this name.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.get(&ObjectKey::cluster(name))
    }

    /// The global BGPConfiguration (`default`), if any.
    pub fn global_bgp_configuration(&self) -> Option<&BgpConfiguration> {
        self.bgp_configurations
            .get(&ObjectKey::cluster(GLOBAL_BGP_CONFIGURATION))
    }

    /// The Secret with this namespace and name.
    pub fn secret(&self, namespace: &str, name: &str) -> Option<&Secret> {
        self.secrets.get(&ObjectKey::namespaced(namespace, name))
    }

    /// The BGPFilter with this name.
    pub fn bgp_filter(&self, name: &str) -> Option<&BgpFilter> {
        self.bgp_filters.get(&ObjectKey::cluster(name))
    }

    /// A one-line summary: the count of each kind present.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Kind::ALL
            .into_iter()
            .filter(|kind| self.count(*kind) > 0)
            .map(|kind| format!("{} {}", self.count(kind), kind.name()))
            .collect();
        if parts.is_empty() {
            "no objects".to_string()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn secret(namespace: Option<&str>, name: &str) -> Object {
        Object::Secret(Secret {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: namespace.map(Into::into),
                ..Default::default()
            },
            ..Default::default()
        })
    }

    #[test]
    fn keys_objects_by_kind_namespace_and_name() {
        let mut snapshot = Snapshot::default();
        assert!(!snapshot.insert(secret(Some("kube-system"), "a")));
        assert!(!snapshot.insert(secret(None, "a")));
        assert!(snapshot.insert(secret(Some("kube-system"), "a")));
        assert_eq!(snapshot.count(Kind::Secret), 2);
        assert!(snapshot.secret("default", "a").is_some());
        assert!(snapshot.remove(Kind::Secret, &ObjectKey::namespaced("kube-system", "a")));
        assert!(!snapshot.remove(Kind::Secret, &ObjectKey::namespaced("kube-system", "a")));
        assert_eq!(snapshot.summary(), "1 Secret");
    }
}
