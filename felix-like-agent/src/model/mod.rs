//! tern's object model: the Kubernetes kinds tern reads (from k8s-openapi) and tern's own
//! kinds (`tern.dev/v1alpha1` BGPConfiguration, BGPPeer, IPPool, BGPFilter) as Rust types with
//! Calico's field names. The same types serve the file datastore, the Kubernetes datastore and
//! CRD generation.

mod as_number;
mod bgp_configuration;
mod bgp_filter;
mod bgp_peer;
mod duration;
mod ip_pool;
mod object;
mod password;

pub use as_number::{AsNumber, AsNumberError};
pub use bgp_configuration::{
    BgpConfiguration, BgpConfigurationSpec, CommunityDefinition, DEFAULT_AS_NUMBER,
    GLOBAL_BGP_CONFIGURATION, PrefixAdvertisement, ServiceIpBlock,
};
pub use bgp_filter::{
    BgpFilter, BgpFilterRule, BgpFilterSpec, FilterAction, MatchOperator, PrefixLength, RouteSource,
};
pub use bgp_peer::{BgpPeer, BgpPeerSpec, SourceAddress};
pub use duration::{DurationError, GoDuration};
pub use ip_pool::{EncapsulationMode, IpPool, IpPoolSpec};
pub use object::{Kind, Object, ObjectKey};
pub use password::{SecretKeyRef, SecretPassword};
