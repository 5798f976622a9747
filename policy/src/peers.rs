//! Resolving a rule's peer list (`from` / `to`) to pods and address ranges.
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

/// The kind of a peer entry.
pub(crate) enum PeerKind {
    /// Picks pods by selectors.
    Selector,
    /// An `ipBlock`.
    Block,
    /// Matches nothing.
    Invalid(PeerError),
}

fn block_ranges(peer: &NetworkPolicyPeer) -> Result<Vec<AddressRange>, PeerError> {
    let Some(block) = &peer.ip_block else {
        return Ok(Vec::new());
    };
    let cidr = AddressRange::parse_cidr(&block.cidr)?;
    let excepts = block
        .except
        .iter()
        .flatten()
        .map(|text| AddressRange::parse_cidr(text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(carve(cidr, &excepts))
}

fn selectors(peer: &NetworkPolicyPeer) -> Result<(Selector, Option<Selector>), PeerError> {
    let pods = match &peer.pod_selector {
        Some(selector) => Selector::compile(selector)?,
        None => Selector::everything(),
    };
    let namespaces = peer
        .namespace_selector
        .as_ref()
        .map(Selector::compile)
        .transpose()?;
    Ok((pods, namespaces))
}

/// Classify and validate one peer.
pub(crate) fn kind(peer: &NetworkPolicyPeer) -> PeerKind {
    let has_selector = peer.pod_selector.is_some() || peer.namespace_selector.is_some();
    match (&peer.ip_block, has_selector) {
        (None, false) => PeerKind::Invalid(PeerError::Empty),
        (Some(_), true) => PeerKind::Invalid(PeerError::IpBlockWithSelector),
        (Some(_), false) => match block_ranges(peer) {
            Ok(_) => PeerKind::Block,
            Err(error) => PeerKind::Invalid(error),
        },
        (None, true) => match selectors(peer) {
            Ok(_) => PeerKind::Selector,
            Err(error) => PeerKind::Invalid(error),
        },
    }
}

/// Report every invalid peer of a rule.
pub(crate) fn validate(
    origin: &RuleOrigin,
    peers: &[NetworkPolicyPeer],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (position, peer) in peers.iter().enumerate() {
        if let PeerKind::Invalid(error) = kind(peer) {
            diagnostics.push(Diagnostic::InvalidPeer {
                origin: origin.clone(),
                peer: position,
                error,
            });
        }
    }
}

/// Indexes into [`ClusterView::pods`] of the pods valid selector peers pick.
pub(crate) fn selected_pods(
    view: &ClusterView,
    policy_namespace: &str,
    peers: &[&NetworkPolicyPeer],
) -> BTreeSet<usize> {
    let mut picked = BTreeSet::new();
    for peer in peers {
        let Ok((pod_selector, namespace_selector)) = selectors(peer) else {
            continue;
        };
        let namespaces: Vec<&str> = match &namespace_selector {
            None => vec![policy_namespace],
            Some(selector) => view
                .namespaces
                .iter()
                .filter(|(_, labels)| selector.matches(labels))
                .map(|(name, _)| *name)
                .collect(),
        };
        for namespace in namespaces {
            for index in view.pods_by_namespace.get(namespace).into_iter().flatten() {
                if view
                    .pods
                    .get(*index)
                    .is_some_and(|pod| pod_selector.matches(pod.labels))
                {
                    picked.insert(*index);
                }
            }
        }
    }
    picked
}

/// A valid selector peer's compiled selectors: pods, and namespaces when present.
pub(crate) type PeerSelectors = (Selector, Option<Selector>);

/// The compiled selectors of the valid selector peers.
pub(crate) fn peer_selectors(peers: &[&NetworkPolicyPeer]) -> Vec<PeerSelectors> {
    peers
        .iter()
        .filter_map(|peer| selectors(peer).ok())
        .collect()
}

/// Whether any of the peers picks one pod: the single-pod form of [`selected_pods`].
pub(crate) fn picks(
    peers: &[PeerSelectors],
    policy_namespace: &str,
    pod_namespace: &str,
    namespace_labels: &crate::selector::Labels,
    pod_labels: &crate::selector::Labels,
) -> bool {
    peers.iter().any(|(pods, namespaces)| {
        let namespace_ok = match namespaces {
            None => pod_namespace == policy_namespace,
            Some(selector) => selector.matches(namespace_labels),
        };
        namespace_ok && pods.matches(pod_labels)
    })
}

/// The address ranges valid `ipBlock` peers match.
pub(crate) fn block_ranges_of(peers: &[&NetworkPolicyPeer]) -> Vec<AddressRange> {
    peers
        .iter()
        .filter_map(|peer| block_ranges(peer).ok())
        .flatten()
        .collect()
}
