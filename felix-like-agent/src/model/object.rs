//! The kinds tern reads and one enum holding any of them. A kind is identified by its
//! `apiVersion` and `kind`, exactly as written in manifests.

use std::fmt;

use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{BgpConfiguration, BgpFilter, BgpPeer, IpPool};

/// Every kind tern understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `v1` Node.
    Node,
    /// `v1` Service.
    Service,
    /// `v1` Namespace.
    Namespace,
    /// `v1` Pod.
    Pod,
    /// `v1` Secret.
    Secret,
    /// `discovery.k8s.io/v1` EndpointSlice.
    EndpointSlice,
    /// `networking.k8s.io/v1` NetworkPolicy.
    NetworkPolicy,
    /// `tern.dev/v1alpha1` BGPConfiguration.
    BgpConfiguration,
    /// `tern.dev/v1alpha1` BGPPeer.
    BgpPeer,
    /// `tern.dev/v1alpha1` IPPool.
    IpPool,
    /// `tern.dev/v1alpha1` BGPFilter.
    BgpFilter,
}

impl Kind {
    /// All kinds, in a fixed order.
    pub const ALL: [Kind; 11] = [
        Kind::Node,
        Kind::Service,
        Kind::Namespace,
        Kind::Pod,
        Kind::Secret,
        Kind::EndpointSlice,
        Kind::NetworkPolicy,
        Kind::BgpConfiguration,
        Kind::BgpPeer,
        Kind::IpPool,
        Kind::BgpFilter,
    ];

    /// The manifest `apiVersion`.
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::Node | Kind::Service | Kind::Namespace | Kind::Pod | Kind::Secret => "v1",
            Kind::EndpointSlice => "discovery.k8s.io/v1",
            Kind::NetworkPolicy => "networking.k8s.io/v1",
            Kind::BgpConfiguration | Kind::BgpPeer | Kind::IpPool | Kind::BgpFilter => {
                "tern.dev/v1alpha1"
            }
        }
    }

    /// The manifest `kind`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Node => "Node",
            Kind::Service => "Service",
            Kind::Namespace => "Namespace",
            Kind::Pod => "Pod",
            Kind::Secret => "Secret",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::NetworkPolicy => "NetworkPolicy",
            Kind::BgpConfiguration => "BGPConfiguration",
            Kind::BgpPeer => "BGPPeer",
            Kind::IpPool => "IPPool",
            Kind::BgpFilter => "BGPFilter",
        }
    }

    /// Whether objects of this kind live in a namespace.
    pub fn namespaced(self) -> bool {
        matches!(
            self,
            Kind::Service | Kind::Pod | Kind::Secret | Kind::EndpointSlice | Kind::NetworkPolicy
        )
    }

    /// The kind with this `apiVersion` and `kind`, if tern knows it.
    pub fn from_type(api_version: &str, kind: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.api_version() == api_version && k.name() == kind)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.api_version(), self.name())
    }
}

/// Namespace (empty for cluster-scoped kinds) and name of an object.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKey {
    /// Namespace; empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// The key of a cluster-scoped object.
    pub fn cluster(name: &str) -> Self {
        ObjectKey {
            namespace: String::new(),
            name: name.to_string(),
        }
    }

    /// The key of a namespaced object.
    pub fn namespaced(namespace: &str, name: &str) -> Self {
        ObjectKey {
            namespace: namespace.to_string(),
            name: name.to_string(),
        }
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// One object of any kind tern reads.
#[derive(Clone, Debug, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum Object {
    /// A Node.
    Node(Node),
    /// A Service.
    Service(Service),
    /// A Namespace.
    Namespace(Namespace),
    /// A Pod.
    Pod(Pod),
    /// A Secret.
    Secret(Secret),
    /// An EndpointSlice.
    EndpointSlice(EndpointSlice),
    /// A NetworkPolicy.
    NetworkPolicy(NetworkPolicy),
    /// A BGPConfiguration.
    BgpConfiguration(BgpConfiguration),
    /// A BGPPeer.
    BgpPeer(BgpPeer),
    /// An IPPool.
    IpPool(IpPool),
    /// A BGPFilter.
    BgpFilter(BgpFilter),
}

impl Object {
    /// The object's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Object::Node(_) => Kind::Node,
            Object::Service(_) => Kind::Service,
            Object::Namespace(_) => Kind::Namespace,
            Object::Pod(_) => Kind::Pod,
            Object::Secret(_) => Kind::Secret,
            Object::EndpointSlice(_) => Kind::EndpointSlice,
            Object::NetworkPolicy(_) => Kind::NetworkPolicy,
            Object::BgpConfiguration(_) => Kind::BgpConfiguration,
            Object::BgpPeer(_) => Kind::BgpPeer,
            Object::IpPool(_) => Kind::IpPool,
            Object::BgpFilter(_) => Kind::BgpFilter,
        }
    }

    /// The object's metadata.
    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            Object::Node(o) => &o.metadata,
            Object::Service(o) => &o.metadata,
            Object::Namespace(o) => &o.metadata,
            Object::Pod(o) => &o.metadata,
            Object::Secret(o) => &o.metadata,
            Object::EndpointSlice(o) => &o.metadata,
            Object::NetworkPolicy(o) => &o.metadata,
            Object::BgpConfiguration(o) => &o.metadata,
            Object::BgpPeer(o) => &o.metadata,
            Object::IpPool(o) => &o.metadata,
            Object::BgpFilter(o) => &o.metadata,
        }
    }

    /// The object's metadata, mutable.
    pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
        match self {
            Object::Node(o) => &mut o.metadata,
            Object::Service(o) => &mut o.metadata,
            Object::Namespace(o) => &mut o.metadata,
            Object::Pod(o) => &mut o.metadata,
            Object::Secret(o) => &mut o.metadata,
            Object::EndpointSlice(o) => &mut o.metadata,
            Object::NetworkPolicy(o) => &mut o.metadata,
            Object::BgpConfiguration(o) => &mut o.metadata,
            Object::BgpPeer(o) => &mut o.metadata,
            Object::IpPool(o) => &mut o.metadata,
            Object::BgpFilter(o) => &mut o.metadata,
        }
    }

    /// The object as tern keeps it, whichever datastore it came from: without the
    /// bookkeeping the API server adds (`uid`, `resourceVersion`, `generation`,
    /// `creationTimestamp`, `managedFields`, `selfLink`), and with a Secret's write-only
    /// `stringData` merged into `data` the way the API server stores it (a `stringData` key
    /// wins over the same `data` key).
    pub fn normalized(mut self) -> Self {
        let metadata = self.metadata_mut();
        metadata.uid = None;
        metadata.resource_version = None;
        metadata.generation = None;
        metadata.creation_timestamp = None;
        metadata.managed_fields = None;
        metadata.self_link = None;
        if let Object::Secret(secret) = &mut self
            && let Some(string_data) = secret.string_data.take()
        {
            let data = secret.data.get_or_insert_with(Default::default);
            for (key, value) in string_data {
                data.insert(key, k8s_openapi::ByteString(value.into_bytes()));
            }
        }
        self
    }

    /// The object's key. Namespaced objects without a namespace are in `default`, as
    /// `kubectl apply` would place them; cluster-scoped objects ignore any namespace.
    pub fn key(&self) -> ObjectKey {
        let metadata = self.metadata();
        let name = metadata.name.clone().unwrap_or_default();
        if self.kind().namespaced() {
            let namespace = metadata.namespace.as_deref().unwrap_or("default");
            ObjectKey::namespaced(namespace, &name)
        } else {
            ObjectKey::cluster(&name)
        }
    }
}

macro_rules! object_from {
    ($($variant:ident($type:ty)),* $(,)?) => {
        $(
            impl From<$type> for Object {
                fn from(object: $type) -> Self {
                    Object::$variant(object)
                }
            }
        )*
    };
}

object_from!(
    Node(Node),
    Service(Service),
    Namespace(Namespace),
    Pod(Pod),
    Secret(Secret),
    EndpointSlice(EndpointSlice),
    NetworkPolicy(NetworkPolicy),
    BgpConfiguration(BgpConfiguration),
    BgpPeer(BgpPeer),
    IpPool(IpPool),
    BgpFilter(BgpFilter),
);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;

    #[test]
    fn normalized_drops_server_bookkeeping_and_folds_string_data() {
        let mut secret = Secret::default();
        secret.metadata.name = Some("bgp-secrets".into());
        secret.metadata.uid = Some("uid-1".into());
        secret.metadata.resource_version = Some("42".into());
        secret.metadata.generation = Some(3);
        secret.metadata.creation_timestamp = Some(Time(Default::default()));
        secret.data = Some(BTreeMap::from([
            ("a".to_string(), ByteString(b"old".to_vec())),
            ("b".to_string(), ByteString(b"kept".to_vec())),
        ]));
        secret.string_data = Some(BTreeMap::from([("a".to_string(), "new".to_string())]));
        let Object::Secret(secret) = Object::from(secret).normalized() else {
            panic!("kind changed");
        };
        assert_eq!(secret.metadata.name.as_deref(), Some("bgp-secrets"));
        assert_eq!(secret.metadata.uid, None);
        assert_eq!(secret.metadata.resource_version, None);
        assert_eq!(secret.metadata.generation, None);
        assert_eq!(secret.metadata.creation_timestamp, None);
        assert_eq!(secret.string_data, None);
        let data = secret.data.unwrap();
        assert_eq!(data["a"].0, b"new");
        assert_eq!(data["b"].0, b"kept");
    }
}
