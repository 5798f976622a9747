//! One rule of one policy → its peer sets and port specs, independent of the selected pod.
//!
//! Sets are shared: rules whose peers are written the same way (and, for `podSelector`-only
//! peers, live in the same namespace) resolve to the same addresses, so they use one set,
//! named after the first such rule. This keeps the table small when many policies name the
//! same peers (a monitoring namespace, DNS) and makes pod churn touch each set once.

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::networking::v1::{NetworkPolicyPeer, NetworkPolicyPort};

use crate::address::{AddressRange, merge};
use crate::diagnostics::Diagnostic;
use crate::ir::{
    Direction, Family, NamedSet, PeerMatch, PolicyIr, RuleOrigin, SetElement, SetKind, set_name,
};
use crate::model::ClusterView;
use crate::names;
use crate::peers::{self, PeerKind, PeerSelectors};
use crate::ports::{PortSpec, Protocol, port_spec, resolve_named};

/// A rule with its peers resolved; ports still to be resolved per selected pod.
pub(crate) struct RuleSpec {
    pub origin: RuleOrigin,
    pub peers: PeerMatch,
    /// `None`: every protocol and port.
    pub ports: Option<Vec<PortSpec>>,
    /// Egress rules with named ports: the tuple set base name.
    pub named_set: Option<String>,
}

/// Which pods a pod-dependent set pair holds: what the incremental compiler re-evaluates for a
/// single pod that comes, goes or changes.
pub(crate) enum SetSource {
    /// Addresses of the pods the selector peers of a rule in `namespace` pick.
    Pods {
        namespace: String,
        peers: Vec<PeerSelectors>,
    },
    /// Egress named ports: `address . protocol . port` of peer pods declaring the names. `peers`
    /// is `None` when the rule has no `to` (every pod); else the policy's namespace, its
    /// selector peers (all addresses of picked pods) and its ipBlock ranges (covered addresses).
    Named {
        named: Vec<(Protocol, String)>,
        peers: Option<(String, Vec<PeerSelectors>, Vec<AddressRange>)>,
    },
}

/// Builds rule specs, sharing sets between rules with identical peers.
pub(crate) struct RuleCompiler<'a> {
    view: &'a ClusterView<'a>,
    /// Set key (what determines the content) → set base name.
    shared: HashMap<String, String>,
    /// Every pod-dependent set pair created, by base name.
    pub sources: Vec<(String, SetSource)>,
}

fn new_set_pair(ir: &mut PolicyIr, base: &str, kind: fn(Family) -> SetKind, comment: String) {
    for family in Family::BOTH {
        let set = NamedSet {
            kind: kind(family),
            comment: comment.clone(),
            elements: BTreeSet::new(),
        };
        ir.sets.insert(set_name(base, family), set);
    }
}

fn insert(ir: &mut PolicyIr, base: &str, family: Family, element: SetElement) {
    if let Some(set) = ir.sets.get_mut(&set_name(base, family)) {
        set.elements.insert(element);
    }
}

impl<'a> RuleCompiler<'a> {
    pub fn new(view: &'a ClusterView<'a>) -> RuleCompiler<'a> {
        RuleCompiler {
            view,
            shared: HashMap::new(),
            sources: Vec::new(),
        }
    }

    /// The set base for `key`, creating and filling it with `fill` the first time.
    fn shared_set(
        &mut self,
        ir: &mut PolicyIr,
        key: String,
        base: String,
        source: impl FnOnce() -> Option<SetSource>,
        fill: impl FnOnce(&mut PolicyIr, &str),
    ) -> String {
        if let Some(existing) = self.shared.get(&key) {
            return existing.clone();
        }
        fill(ir, &base);
        if let Some(source) = source() {
            self.sources.push((base.clone(), source));
        }
        self.shared.insert(key, base.clone());
        base
    }

    pub fn rule(
        &mut self,
        origin: RuleOrigin,
        peer_list: &[NetworkPolicyPeer],
        port_list: &[NetworkPolicyPort],
        ir: &mut PolicyIr,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> RuleSpec {
        let view = self.view;
        peers::validate(&origin, peer_list, diagnostics);
        let mut selector_peers = Vec::new();
        let mut block_peers = Vec::new();
        for peer in peer_list {
            match peers::kind(peer) {
                PeerKind::Selector => selector_peers.push(peer),
                PeerKind::Block => block_peers.push(peer),
                PeerKind::Invalid(_) => {}
            }
        }
        // podSelector-only peers depend on the policy's namespace.
        let namespace = &origin.policy.namespace;
        let pods_key = selector_peers
            .iter()
            .any(|peer| peer.namespace_selector.is_none())
            .then_some(namespace.as_str())
            .map_or_else(
                || format!("pods {selector_peers:?}"),
                |ns| format!("pods {ns} {selector_peers:?}"),
            );
        let blocks_key = format!("blocks {block_peers:?}");

        let peers = if peer_list.is_empty() {
            PeerMatch::Any
        } else {
            let pods = (!selector_peers.is_empty()).then(|| {
                let base = names::rule_set_base(&origin, "pods");
                let source = || {
                    Some(SetSource::Pods {
                        namespace: namespace.clone(),
                        peers: peers::peer_selectors(&selector_peers),
                    })
                };
                self.shared_set(ir, pods_key.clone(), base, source, |ir, base| {
                    new_set_pair(ir, base, SetKind::Addresses, format!("pods of {origin}"));
                    for index in peers::selected_pods(view, namespace, &selector_peers) {
                        for address in view.pods.get(index).into_iter().flat_map(|p| &p.addresses) {
                            insert(ir, base, Family::of(address), SetElement::Address(*address));
                        }
                    }
                })
            });
            let blocks = (!block_peers.is_empty()).then(|| {
                let base = names::rule_set_base(&origin, "blocks");
                self.shared_set(
                    ir,
                    blocks_key.clone(),
                    base,
                    || None,
                    |ir, base| {
                        new_set_pair(ir, base, SetKind::Ranges, format!("ipBlocks of {origin}"));
                        for range in merge(peers::block_ranges_of(&block_peers)) {
                            insert(ir, base, range.family(), SetElement::Range(range));
                        }
                    },
                )
            });
            PeerMatch::Sets { pods, blocks }
        };

        let ports: Option<Vec<PortSpec>> = (!port_list.is_empty()).then(|| {
            port_list
                .iter()
                .enumerate()
                .map(|(position, port)| {
                    let spec = port_spec(port);
                    if let PortSpec::Invalid(error) = &spec {
                        diagnostics.push(Diagnostic::InvalidPort {
                            origin: origin.clone(),
                            port: position,
                            error: error.clone(),
                        });
                    }
                    spec
                })
                .collect()
        });
        let named: Vec<(Protocol, String)> = ports
            .iter()
            .flatten()
            .filter_map(|spec| match spec {
                PortSpec::Named(protocol, name) => Some((*protocol, name.clone())),
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let named_set = (origin.direction == Direction::Egress && !named.is_empty()).then(|| {
            let key = format!(
                "named {named:?} {} {pods_key} {blocks_key}",
                peer_list.is_empty()
            );
            let base = names::rule_set_base(&origin, "named");
            let source = || {
                Some(SetSource::Named {
                    named: named.clone(),
                    peers: (!peer_list.is_empty()).then(|| {
                        (
                            namespace.clone(),
                            peers::peer_selectors(&selector_peers),
                            peers::block_ranges_of(&block_peers),
                        )
                    }),
                })
            };
            self.shared_set(ir, key, base, source, |ir, base| {
                new_set_pair(
                    ir,
                    base,
                    SetKind::AddressPortTuples,
                    format!("named ports of peers of {origin}"),
                );
                fill_named(
                    view,
                    ir,
                    base,
                    &named,
                    (!peer_list.is_empty()).then_some((
                        namespace.as_str(),
                        &selector_peers,
                        &block_peers,
                    )),
                );
            })
        });
        RuleSpec {
            origin,
            peers,
            ports,
            named_set,
        }
    }
}

/// Egress named ports live on the peer pod: one `address . protocol . port` per peer pod that
/// declares the name. `peers` is `None` when the rule has no `to` (every pod is a peer).
fn fill_named(
    view: &ClusterView,
    ir: &mut PolicyIr,
    base: &str,
    named: &[(Protocol, String)],
    peers: Option<(&str, &[&NetworkPolicyPeer], &[&NetworkPolicyPeer])>,
) {
    let (selected, blocks) = match peers {
        None => ((0..view.pods.len()).collect(), Vec::new()),
        Some((namespace, selector_peers, block_peers)) => (
            peers::selected_pods(view, namespace, selector_peers),
            peers::block_ranges_of(block_peers),
        ),
    };
    for (index, pod) in view.pods.iter().enumerate() {
        let is_selected = selected.contains(&index);
        for address in &pod.addresses {
            // A selected pod counts with all its addresses; a pod inside an ipBlock only with
            // the addresses the block covers.
            if !is_selected && !blocks.iter().any(|block| block.contains(address)) {
                continue;
            }
            for (protocol, name) in named {
                for port in resolve_named(pod.spec, *protocol, name) {
                    insert(
                        ir,
                        base,
                        Family::of(address),
                        SetElement::Tuple(*address, *protocol, port),
                    );
                }
            }
        }
    }
}
