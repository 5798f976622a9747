//! Resolving a rule's peer list (`from` / `to`) to addresses and pods.
//!
//! NetworkPolicy v1 peer semantics:
//! - peers are ORed; within one peer, `namespaceSelector` AND `podSelector`;
//! - `podSelector` alone: pods of the policy's namespace; `namespaceSelector` alone: every pod of
//!   the matching namespaces; a present-but-empty selector (`{}`) matches all, an absent one
//!   does not widen the other;
//! - `ipBlock`: `cidr` minus `except`, matched on addresses, so it also matches pod addresses;
//!   the `except` hole belongs to that peer only (another peer or policy may still allow the
//!   address);
//! - a peer with no field, or `ipBlock` mixed with a selector, matches nothing.

use std::collections::BTreeSet;

use k8s_openapi::api::networking::v1::NetworkPolicyPeer;

use crate::address::{AddressRange, carve};
use crate::diagnostics::{Diagnostic, PeerError};
use crate::ir::RuleOrigin;
use crate::model::ClusterView;
use crate::selector::Selector;

/// What a peer list resolves to.
#[derive(Debug, Default)]
pub(crate) struct ResolvedPeers {
    /// Address ranges from `ipBlock`s (except holes already carved).
    pub blocks: Vec<AddressRange>,
    /// Indexes into [`ClusterView::pods`] of pods selected by selectors.
    pub pods: BTreeSet<usize>,
}

impl ResolvedPeers {
    /// Every address the peers match: selected pods' addresses and block ranges.
    pub fn ranges(&self, view: &ClusterView) -> Vec<AddressRange> {
        let pod_addresses = self
            .pods
            .iter()
            .filter_map(|index| view.pods.get(*index))
            .flat_map(|pod| pod.addresses.iter().copied().map(AddressRange::single));
        self.blocks.iter().copied().chain(pod_addresses).collect()
    }

    /// Pods that are peers by address: selected pods and pods whose address lies in a block.
    /// Used to resolve egress named ports, which live on the peer pod.
    pub fn pods_by_address(&self, view: &ClusterView) -> BTreeSet<usize> {
        let mut pods = self.pods.clone();
        if !self.blocks.is_empty() {
            for (index, pod) in view.pods.iter().enumerate() {
                let inside = pod
                    .addresses
                    .iter()
                    .any(|address| self.blocks.iter().any(|block| block.contains(address)));
                if inside {
                    pods.insert(index);
                }
            }
        }
        pods
    }
}

fn block_ranges(peer: &NetworkPolicyPeer) -> Result<Option<Vec<AddressRange>>, PeerError> {
    let Some(block) = &peer.ip_block else {
        return Ok(None);
    };
    if peer.pod_selector.is_some() || peer.namespace_selector.is_some() {
        return Err(PeerError::IpBlockWithSelector);
    }
    let cidr = AddressRange::parse_cidr(&block.cidr)?;
    let excepts = block
        .except
        .iter()
        .flatten()
        .map(|text| AddressRange::parse_cidr(text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(carve(cidr, &excepts)))
}

fn selected_pods(
    view: &ClusterView,
    policy_namespace: &str,
    peer: &NetworkPolicyPeer,
    into: &mut BTreeSet<usize>,
) -> Result<(), PeerError> {
    let pod_selector = match &peer.pod_selector {
        Some(selector) => Selector::compile(selector)?,
        None => Selector::everything(),
    };
    let namespaces: Vec<&str> = match &peer.namespace_selector {
        None => vec![policy_namespace],
        Some(selector) => {
            let selector = Selector::compile(selector)?;
            view.namespaces
                .iter()
                .filter(|(_, labels)| selector.matches(labels))
                .map(|(name, _)| name.as_str())
                .collect()
        }
    };
    for namespace in namespaces {
        for index in view.pods_by_namespace.get(namespace).into_iter().flatten() {
            if view
                .pods
                .get(*index)
                .is_some_and(|pod| pod_selector.matches(&pod.labels))
            {
                into.insert(*index);
            }
        }
    }
    Ok(())
}

/// Resolve a non-empty peer list. Invalid peers are reported and match nothing.
pub(crate) fn resolve(
    view: &ClusterView,
    origin: &RuleOrigin,
    peers: &[NetworkPolicyPeer],
    diagnostics: &mut Vec<Diagnostic>,
) -> ResolvedPeers {
    let mut resolved = ResolvedPeers::default();
    for (position, peer) in peers.iter().enumerate() {
        let outcome = match block_ranges(peer) {
            Ok(Some(ranges)) => {
                resolved.blocks.extend(ranges);
                Ok(())
            }
            Ok(None) if peer.pod_selector.is_none() && peer.namespace_selector.is_none() => {
                Err(PeerError::Empty)
            }
            Ok(None) => selected_pods(view, &origin.policy.namespace, peer, &mut resolved.pods),
            Err(error) => Err(error),
        };
        if let Err(error) = outcome {
            diagnostics.push(Diagnostic::InvalidPeer {
                origin: origin.clone(),
                peer: position,
                error,
            });
        }
    }
    resolved
}
