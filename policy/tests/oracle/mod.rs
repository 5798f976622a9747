//! An independent NetworkPolicy oracle: the v1 rules applied directly to the objects, one
//! packet at a time, sharing no code with the compiler (its own selector matching, CIDR
//! containment and port logic). The conformance suite's truth table comes from here.
//!
//! Dual stack: a pod is the pod at any of its `status.podIPs`; an `ipBlock` CIDR (and each of
//! its `except` entries) is of one family and only ever contains addresses of that family, so
//! an IPv4 block never admits a pod's IPv6 traffic and vice versa.
//!
//! Only valid objects are modelled (invalid ones are the compiler's fail-closed business).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The cluster as the oracle sees it.
pub struct Oracle<'a> {
    pub pods: &'a [Pod],
    pub namespaces: &'a [Namespace],
    pub policies: &'a [NetworkPolicy],
}

/// `protocol` is "TCP", "UDP" or "SCTP".
#[derive(Clone, Copy, Debug)]
pub struct Flow<'a> {
    pub source: IpAddr,
    pub destination: IpAddr,
    pub protocol: &'a str,
    pub port: u16,
}

fn empty() -> BTreeMap<String, String> {
    BTreeMap::new()
}

fn selector_matches(selector: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(key, value)| labels.get(key) == Some(value));
    let expressions_ok = selector
        .match_expressions
        .iter()
        .flatten()
        .all(|expression| {
            let values = expression.values.clone().unwrap_or_default();
            let value = labels.get(&expression.key);
            match expression.operator.as_str() {
                "In" => value.is_some_and(|v| values.contains(v)),
                "NotIn" => value.is_none_or(|v| !values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
    labels_ok && expressions_ok
}

fn namespace_of(pod: &Pod) -> &str {
    pod.metadata.namespace.as_deref().unwrap_or("default")
}

impl<'a> Oracle<'a> {
    /// The running, pod-network pod holding `address`, if any.
    pub fn pod_at(&self, address: IpAddr) -> Option<&'a Pod> {
        self.pods.iter().find(|pod| {
            let spec = pod.spec.as_ref();
            let status = pod.status.as_ref();
            spec.is_some_and(|s| s.host_network != Some(true))
                && status.is_some_and(|s| {
                    s.pod_ips
                        .iter()
                        .flatten()
                        .any(|ip| ip.ip.parse() == Ok(address))
                })
        })
    }

    fn namespace_labels(&self, name: &str) -> BTreeMap<String, String> {
        let mut labels = self
            .namespaces
            .iter()
            .find(|n| n.metadata.name.as_deref() == Some(name))
            .and_then(|n| n.metadata.labels.clone())
            .unwrap_or_default();
        labels.insert("kubernetes.io/metadata.name".into(), name.into());
        labels
    }

    fn policy_types(policy: &NetworkPolicy) -> (bool, bool) {
        let spec = policy.spec.clone().unwrap_or_default();
        match spec.policy_types.filter(|t| !t.is_empty()) {
            Some(types) => (
                types.iter().any(|t| t == "Ingress"),
                types.iter().any(|t| t == "Egress"),
            ),
            None => (true, spec.egress.is_some_and(|e| !e.is_empty())),
        }
    }

    fn selects(policy: &NetworkPolicy, pod: &Pod) -> bool {
        let spec = policy.spec.clone().unwrap_or_default();
        policy.metadata.namespace.as_deref().unwrap_or("default") == namespace_of(pod)
            && selector_matches(
                &spec.pod_selector.unwrap_or_default(),
                &pod.metadata.labels.clone().unwrap_or_default(),
            )
    }

    fn peer_matches(
        &self,
        policy_namespace: &str,
        peer: &NetworkPolicyPeer,
        address: IpAddr,
    ) -> bool {
        if let Some(block) = &peer.ip_block {
            let inside = |cidr: &str| {
                cidr.parse::<IpNetwork>().is_ok_and(|n| {
                    let same_family = n.is_ipv4() == address.is_ipv4();
                    let network = IpNetwork::new(n.network(), n.prefix()).unwrap();
                    same_family && network.contains(address)
                })
            };
            return inside(&block.cidr) && !block.except.iter().flatten().any(|e| inside(e));
        }
        let Some(pod) = self.pod_at(address) else {
            return false;
        };
        let namespace_ok = match &peer.namespace_selector {
            None => namespace_of(pod) == policy_namespace,
            Some(selector) => selector_matches(selector, &self.namespace_labels(namespace_of(pod))),
        };
        let pod_ok = peer.pod_selector.as_ref().is_none_or(|selector| {
            selector_matches(selector, &pod.metadata.labels.clone().unwrap_or_default())
        });
        namespace_ok && pod_ok
    }

    /// Whether `port` (a rule's entry) admits the flow; named ports resolve on `server`.
    fn port_matches(port: &NetworkPolicyPort, flow: &Flow, server: Option<&Pod>) -> bool {
        if port.protocol.as_deref().unwrap_or("TCP") != flow.protocol {
            return false;
        }
        match &port.port {
            None => true,
            Some(IntOrString::Int(first)) => {
                let last = port.end_port.unwrap_or(*first);
                (*first..=last).contains(&i32::from(flow.port))
            }
            Some(IntOrString::String(name)) => server.is_some_and(|pod| {
                let spec = pod.spec.clone().unwrap_or_default();
                spec.containers
                    .iter()
                    .flat_map(|c| c.ports.clone().unwrap_or_default())
                    .any(|p| {
                        p.name.as_deref() == Some(name.as_str())
                            && p.protocol.as_deref().unwrap_or("TCP") == flow.protocol
                            && p.container_port == i32::from(flow.port)
                    })
            }),
        }
    }

    fn rule_matches(
        &self,
        namespace: &str,
        peers: Option<&Vec<NetworkPolicyPeer>>,
        ports: Option<&Vec<NetworkPolicyPort>>,
        peer_address: IpAddr,
        flow: &Flow,
        server: Option<&Pod>,
    ) -> bool {
        let peers_ok = match peers.filter(|p| !p.is_empty()) {
            None => true,
            Some(peers) => peers
                .iter()
                .any(|peer| self.peer_matches(namespace, peer, peer_address)),
        };
        let ports_ok = match ports.filter(|p| !p.is_empty()) {
            None => true,
            Some(ports) => ports
                .iter()
                .any(|port| Self::port_matches(port, flow, server)),
        };
        peers_ok && ports_ok
    }

    /// Whether the destination pod admits the flow (true when it is not a pod or not isolated).
    pub fn ingress_allows(&self, flow: &Flow) -> bool {
        let Some(pod) = self.pod_at(flow.destination) else {
            return true;
        };
        let policies: Vec<&NetworkPolicy> = self
            .policies
            .iter()
            .filter(|p| Self::policy_types(p).0 && Self::selects(p, pod))
            .collect();
        policies.is_empty()
            || policies.iter().any(|policy| {
                let namespace = policy.metadata.namespace.as_deref().unwrap_or("default");
                let spec = policy.spec.clone().unwrap_or_default();
                spec.ingress.iter().flatten().any(|rule| {
                    self.rule_matches(
                        namespace,
                        rule.from.as_ref(),
                        rule.ports.as_ref(),
                        flow.source,
                        flow,
                        Some(pod),
                    )
                })
            })
    }

    /// Whether the source pod lets the flow out (true when it is not a pod or not isolated).
    pub fn egress_allows(&self, flow: &Flow) -> bool {
        let Some(pod) = self.pod_at(flow.source) else {
            return true;
        };
        let server = self.pod_at(flow.destination);
        let policies: Vec<&NetworkPolicy> = self
            .policies
            .iter()
            .filter(|p| Self::policy_types(p).1 && Self::selects(p, pod))
            .collect();
        policies.is_empty()
            || policies.iter().any(|policy| {
                let namespace = policy.metadata.namespace.as_deref().unwrap_or("default");
                let spec = policy.spec.clone().unwrap_or_default();
                spec.egress.iter().flatten().any(|rule| {
                    self.rule_matches(
                        namespace,
                        rule.to.as_ref(),
                        rule.ports.as_ref(),
                        flow.destination,
                        flow,
                        server,
                    )
                })
            })
    }
}
