//! Which prefixes this node originates, following Calico's rules:
//!
//! - the node's `spec.podCIDRs` (or `spec.podCIDR`), unless inside an IPPool with
//!   `disableBGPExport`;
//! - unless the node is labelled `node.kubernetes.io/exclude-from-external-load-balancers=true`:
//!   every `serviceClusterIPs`, `serviceExternalIPs` and `serviceLoadBalancerIPs` range (from
//!   every node: this covers `externalTrafficPolicy: Cluster`), and for each Service with
//!   `externalTrafficPolicy: Local` that has a ready endpoint on this node, a /32 (/128) for
//!   its cluster IPs (when `serviceClusterIPs` is set), its external IPs inside
//!   `serviceExternalIPs` and its LoadBalancer ingress IPs inside `serviceLoadBalancerIPs`;
//! - communities from `prefixAdvertisements` whose CIDR contains the prefix, by name (from
//!   `communities`) or literal value.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use k8s_openapi::api::core::v1::Service;

use crate::model::{BgpConfigurationSpec, ServiceIpBlock};

use super::Context;
use super::community::Community;
use super::intent::{Advertisement, AdvertisementOrigin};

/// Label that keeps a node from advertising Service addresses.
pub const EXCLUDE_FROM_LOAD_BALANCERS_LABEL: &str =
    "node.kubernetes.io/exclude-from-external-load-balancers";

/// EndpointSlice label naming the Service the slice belongs to.
const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// Computes this node's advertisements, sorted by prefix.
pub(super) fn advertisements(context: &Context, problems: &mut Vec<String>) -> Vec<Advertisement> {
    let mut prefixes: BTreeMap<IpNetwork, BTreeSet<AdvertisementOrigin>> = BTreeMap::new();
    let mut add = |prefix: IpNetwork, origin: AdvertisementOrigin| {
        prefixes
            .entry(normalize(prefix))
            .or_default()
            .insert(origin);
    };

    for cidr in pod_cidrs(context, problems) {
        add(cidr, AdvertisementOrigin::PodCidr);
    }

    let global = &context.global;
    let excluded = context
        .local
        .labels
        .get(EXCLUDE_FROM_LOAD_BALANCERS_LABEL)
        .is_some_and(|value| value == "true");
    if !excluded {
        let ranges = [
            (
                &global.service_cluster_ips,
                AdvertisementOrigin::ServiceClusterIpRange,
            ),
            (
                &global.service_external_ips,
                AdvertisementOrigin::ServiceExternalIpRange,
            ),
            (
                &global.service_load_balancer_ips,
                AdvertisementOrigin::ServiceLoadBalancerIpRange,
            ),
        ];
        for (blocks, origin) in ranges {
            for block in blocks {
                add(block.cidr, origin.clone());
            }
        }
        for (key, service) in &context.snapshot.services {
            for address in local_service_addresses(context, service, problems) {
                add(
                    IpNetwork::from(address),
                    AdvertisementOrigin::LocalService(key.to_string()),
                );
            }
        }
    }

    let rules = community_rules(global, problems);
    prefixes
        .into_iter()
        .map(|(prefix, origins)| Advertisement {
            prefix,
            communities: rules
                .iter()
                .filter(|(cidr, _)| contains(*cidr, prefix))
                .flat_map(|(_, communities)| communities.iter().copied())
                .collect(),
            origins,
        })
        .collect()
}

fn pod_cidrs(context: &Context, problems: &mut Vec<String>) -> Vec<IpNetwork> {
    let Some(spec) = context
        .snapshot
        .node(&context.local.name)
        .and_then(|node| node.spec.as_ref())
    else {
        return Vec::new();
    };
    let texts: Vec<&String> = match &spec.pod_cidrs {
        Some(cidrs) if !cidrs.is_empty() => cidrs.iter().collect(),
        _ => spec.pod_cidr.iter().collect(),
    };
    let mut cidrs = Vec::new();
    for text in texts {
        match text.parse::<IpNetwork>() {
            Ok(cidr) => {
                let unexported = context.snapshot.ip_pools.values().find(|pool| {
                    pool.spec.disable_bgp_export && contains(pool.spec.cidr, normalize(cidr))
                });
                if unexported.is_none() {
                    cidrs.push(cidr);
                }
            }
            Err(_) => problems.push(format!(
                "node {}: podCIDR {text:?} is not a CIDR; not advertised",
                context.local.name
            )),
        }
    }
    cidrs
}

/// The single addresses of a `Local` Service to advertise from this node.
fn local_service_addresses(
    context: &Context,
    service: &Service,
    problems: &mut Vec<String>,
) -> Vec<IpAddr> {
    let (Some(spec), Some(name)) = (&service.spec, &service.metadata.name) else {
        return Vec::new();
    };
    let namespace = service.metadata.namespace.as_deref().unwrap_or("default");
    let type_ = spec.type_.as_deref().unwrap_or("ClusterIP");
    if !matches!(type_, "ClusterIP" | "NodePort" | "LoadBalancer")
        || spec.external_traffic_policy.as_deref() != Some("Local")
    {
        return Vec::new();
    }
    let cluster_ips: Vec<&String> = match &spec.cluster_ips {
        Some(ips) if !ips.is_empty() => ips.iter().collect(),
        _ => spec.cluster_ip.iter().collect(),
    };
    if cluster_ips
        .iter()
        .all(|ip| ip.is_empty() || ip.as_str() == "None")
    {
        return Vec::new(); // headless
    }
    let families = local_ready_families(context, namespace, name);
    if families.is_empty() {
        return Vec::new();
    }
    let global = &context.global;
    let mut candidates: Vec<(&String, Option<&Vec<ServiceIpBlock>>)> = Vec::new();
    if !global.service_cluster_ips.is_empty() {
        candidates.extend(cluster_ips.iter().map(|ip| (*ip, None)));
    }
    for ip in spec.external_ips.iter().flatten() {
        candidates.push((ip, Some(&global.service_external_ips)));
    }
    let ingress = service
        .status
        .as_ref()
        .and_then(|status| status.load_balancer.as_ref())
        .and_then(|load_balancer| load_balancer.ingress.as_ref());
    for entry in ingress.into_iter().flatten() {
        if let Some(ip) = &entry.ip {
            candidates.push((ip, Some(&global.service_load_balancer_ips)));
        }
    }
    let mut addresses = Vec::new();
    for (text, allowed) in candidates {
        let Ok(address) = text.parse::<IpAddr>() else {
            problems.push(format!(
                "Service {namespace}/{name}: {text:?} is not an IP address"
            ));
            continue;
        };
        let in_range = allowed.is_none_or(|blocks| blocks.iter().any(|b| b.cidr.contains(address)));
        if in_range && families.contains(&address.is_ipv4()) {
            addresses.push(address);
        }
    }
    addresses
}

/// Address families (`true` = IPv4) of the Service's ready endpoints on this node.
fn local_ready_families(context: &Context, namespace: &str, service: &str) -> BTreeSet<bool> {
    let mut families = BTreeSet::new();
    for slice in context.snapshot.endpoint_slices.values() {
        let belongs = slice.metadata.namespace.as_deref().unwrap_or("default") == namespace
            && slice
                .metadata
                .labels
                .as_ref()
                .and_then(|labels| labels.get(SERVICE_NAME_LABEL))
                .is_some_and(|label| label == service);
        let family = match slice.address_type.as_str() {
            "IPv4" => true,
            "IPv6" => false,
            _ => continue,
        };
        if !belongs {
            continue;
        }
        let local_ready = slice.endpoints.iter().flatten().any(|endpoint| {
            endpoint.node_name.as_deref() == Some(context.local.name.as_str())
                // Kubernetes: an unset `ready` is to be read as ready.
                && endpoint
                    .conditions
                    .as_ref()
                    .and_then(|conditions| conditions.ready)
                    .unwrap_or(true)
        });
        if local_ready {
            families.insert(family);
        }
    }
    families
}

/// `prefixAdvertisements` with community names resolved.
fn community_rules(
    global: &BgpConfigurationSpec,
    problems: &mut Vec<String>,
) -> Vec<(IpNetwork, BTreeSet<Community>)> {
    let mut rules = Vec::new();
    for advertisement in &global.prefix_advertisements {
        let mut communities = BTreeSet::new();
        for item in &advertisement.communities {
            let value = match item.parse::<Community>() {
                Ok(community) => Ok(community),
                Err(_) => match global.communities.iter().find(|c| &c.name == item) {
                    Some(definition) => definition.value.parse::<Community>().map_err(|e| {
                        format!("BGPConfiguration community {}: {e}", definition.name)
                    }),
                    None => Err(format!(
                        "prefixAdvertisements {}: community {item:?} is neither a value nor a defined name",
                        advertisement.cidr
                    )),
                },
            };
            match value {
                Ok(community) => {
                    communities.insert(community);
                }
                Err(problem) => problems.push(problem),
            }
        }
        rules.push((normalize(advertisement.cidr), communities));
    }
    rules
}

/// The network with host bits cleared.
fn normalize(network: IpNetwork) -> IpNetwork {
    IpNetwork::new(network.network(), network.prefix()).unwrap_or(network)
}

/// Whether `inner` lies within `outer` (or equals it).
fn contains(outer: IpNetwork, inner: IpNetwork) -> bool {
    outer.is_ipv4() == inner.is_ipv4()
        && outer.prefix() <= inner.prefix()
        && outer.contains(inner.network())
}
