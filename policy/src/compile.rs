//! NetworkPolicy v1 semantics: objects in, [`PolicyIr`] out. Pure: no I/O, no clock.
//!
//! - A pod is isolated for a direction exactly when some policy selecting it has that policy
//!   type. Missing (or empty) `policyTypes` means Ingress, plus Egress when `spec.egress` has at
//!   least one rule.
//! - `ingress: []` (or Ingress in `policyTypes` without rules) allows nothing; a rule `{}` allows
//!   everything; a missing or empty `from`/`to`/`ports` means "all".
//! - Rules of all policies selecting a pod are a union: the group chain tries each line.
//! - Ingress named ports resolve on the selected (destination) pod; egress named ports on each
//!   peer pod, as `address . protocol . port` tuples. A name nothing serves matches nothing.
//! - Pods whose effective lines for a direction are identical share one chain.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};

use crate::diagnostics::Diagnostic;
use crate::ir::{
    Direction, LocalPod, MapEntry, PeerMatch, PolicyId, PolicyIr, RuleGroup, RuleLine, RuleMatch,
    RuleOrigin,
};
use crate::model::{ClusterView, PodView, PolicyInput};
use crate::names;
use crate::ports::{PortMatch, PortRange, PortSpec, resolve_named};
use crate::rules::{RuleCompiler, RuleSpec, SetSource};
use crate::selector::Selector;

/// The compiler's output: the IR and the problems found on the way.
#[derive(Clone, Debug, Default)]
pub struct Compiled {
    /// The compiled policy.
    pub ir: PolicyIr,
    /// Problems in the input; each affected piece matches nothing. Only policies that select a
    /// pod of this node are examined.
    pub diagnostics: Vec<Diagnostic>,
}

/// One rule's peers (`from`/`to`) and ports, as written.
type RawRule<'a> = (
    Option<&'a [NetworkPolicyPeer]>,
    Option<&'a [NetworkPolicyPort]>,
);

pub(crate) struct PolicySpec {
    pub id: PolicyId,
    /// The compiled `spec.podSelector`.
    pub selector: Selector,
    /// Indexes of local pods the policy selects.
    pub targets: Vec<usize>,
    /// `None` when the policy does not have the type.
    pub ingress: Option<Vec<RuleSpec>>,
    pub egress: Option<Vec<RuleSpec>>,
}

/// What a full compile knows that lets [`crate::PolicyCompiler`] place one pod without
/// compiling everything again.
#[derive(Default)]
pub(crate) struct CompileState {
    /// Pod-dependent set pairs and how their members are chosen.
    pub sources: Vec<(String, SetSource)>,
    /// Policies selecting at least one local pod (their rules are compiled), by id order.
    pub active: Vec<PolicySpec>,
    /// Valid policies that select no local pod: namespace and pod selector.
    pub inactive: Vec<(String, Selector)>,
    /// Rule group → chain name.
    pub names_by_group: HashMap<RuleGroup, String>,
}

/// Compile a snapshot into the IR for `input.node_name`.
pub fn compile(input: &PolicyInput) -> Compiled {
    compile_with_state(input).0
}

/// [`compile`], also returning what the incremental compiler needs.
pub(crate) fn compile_with_state(input: &PolicyInput) -> (Compiled, CompileState) {
    let mut diagnostics = Vec::new();
    let view = ClusterView::build(input, &mut diagnostics);
    let mut ir = PolicyIr {
        node_addresses: input.node_addresses.iter().copied().collect(),
        ..PolicyIr::default()
    };
    let mut policies: Vec<(PolicyId, &NetworkPolicy)> = input
        .policies
        .iter()
        .map(|policy| (policy_id(policy), policy))
        .collect();
    policies.sort_by(|a, b| a.0.cmp(&b.0));
    policies.dedup_by(|a, b| a.0 == b.0);

    let mut rules = RuleCompiler::new(&view);
    let mut state = CompileState::default();
    for (id, policy) in policies {
        let namespace = id.namespace.clone();
        match policy_spec(&view, &mut rules, id, policy, &mut ir, &mut diagnostics) {
            Some(spec) => state.active.push(spec),
            None => {
                let selector = policy.spec.as_ref().and_then(|s| s.pod_selector.as_ref());
                if let Ok(selector) = selector.map_or(Ok(Selector::everything()), Selector::compile)
                {
                    state.inactive.push((namespace, selector));
                }
            }
        }
    }
    state.sources = std::mem::take(&mut rules.sources);
    build_groups(&view, &state.active, &mut state.names_by_group, &mut ir);
    (Compiled { ir, diagnostics }, state)
}

fn policy_id(policy: &NetworkPolicy) -> PolicyId {
    PolicyId {
        namespace: policy
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: policy.metadata.name.clone().unwrap_or_default(),
    }
}

/// Which of Ingress/Egress the policy has, with Kubernetes' defaulting.
fn policy_types(
    policy: &NetworkPolicy,
    id: &PolicyId,
    diagnostics: &mut Vec<Diagnostic>,
) -> (bool, bool) {
    let spec = policy.spec.as_ref();
    let types = spec
        .and_then(|spec| spec.policy_types.as_ref())
        .filter(|types| !types.is_empty());
    match types {
        None => {
            let has_egress_rules = spec
                .and_then(|s| s.egress.as_ref())
                .is_some_and(|e| !e.is_empty());
            (true, has_egress_rules)
        }
        Some(types) => {
            let (mut ingress, mut egress) = (false, false);
            for value in types {
                match value.as_str() {
                    "Ingress" => ingress = true,
                    "Egress" => egress = true,
                    _ => diagnostics.push(Diagnostic::UnknownPolicyType {
                        policy: id.clone(),
                        value: value.clone(),
                    }),
                }
            }
            (ingress, egress)
        }
    }
}

fn policy_spec(
    view: &ClusterView,
    compiler: &mut RuleCompiler,
    id: PolicyId,
    policy: &NetworkPolicy,
    ir: &mut PolicyIr,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<PolicySpec> {
    let spec = policy.spec.as_ref();
    let selector = match spec
        .and_then(|spec| spec.pod_selector.as_ref())
        .map(Selector::compile)
    {
        None => Selector::everything(),
        Some(Ok(selector)) => selector,
        Some(Err(error)) => {
            diagnostics.push(Diagnostic::InvalidPodSelector { policy: id, error });
            return None;
        }
    };
    let targets: Vec<usize> = view
        .pods_by_namespace
        .get(id.namespace.as_str())
        .into_iter()
        .flatten()
        .copied()
        .filter(|index| {
            view.pods
                .get(*index)
                .is_some_and(|pod| pod.local && selector.matches(pod.labels))
        })
        .collect();
    if targets.is_empty() {
        return None;
    }
    let (has_ingress, has_egress) = policy_types(policy, &id, diagnostics);
    let mut rules = |direction: Direction, list: Vec<RawRule>| {
        list.into_iter()
            .enumerate()
            .map(|(index, (peers, ports))| {
                let origin = RuleOrigin {
                    policy: id.clone(),
                    direction,
                    index,
                };
                let (peers, ports) = (peers.unwrap_or_default(), ports.unwrap_or_default());
                compiler.rule(origin, peers, ports, ir, diagnostics)
            })
            .collect::<Vec<_>>()
    };
    let ingress_rules = spec
        .and_then(|spec| spec.ingress.as_ref())
        .into_iter()
        .flatten();
    let egress_rules = spec
        .and_then(|spec| spec.egress.as_ref())
        .into_iter()
        .flatten();
    let ingress = has_ingress.then(|| {
        let list = ingress_rules.map(|rule| (rule.from.as_deref(), rule.ports.as_deref()));
        rules(Direction::Ingress, list.collect())
    });
    let egress = has_egress.then(|| {
        let list = egress_rules.map(|rule| (rule.to.as_deref(), rule.ports.as_deref()));
        rules(Direction::Egress, list.collect())
    });
    Some(PolicySpec {
        id,
        selector,
        targets,
        ingress,
        egress,
    })
}

/// The lines one rule contributes for the local pod `pod`.
fn lines_for(rule: &RuleSpec, pod: &PodView, lines: &mut Vec<RuleLine>) {
    if matches!(
        rule.peers,
        PeerMatch::Sets {
            pods: None,
            blocks: None
        }
    ) {
        return; // every peer invalid: matches nothing
    }
    let line = |matcher| RuleLine {
        origin: rule.origin.clone(),
        matcher,
    };
    let Some(ports) = &rule.ports else {
        lines.push(line(RuleMatch::PeersAndPorts {
            peers: rule.peers.clone(),
            ports: PortMatch::Any,
        }));
        return;
    };
    let mut ranges = BTreeSet::new();
    for spec in ports {
        match spec {
            PortSpec::Numeric(range) => {
                ranges.insert(*range);
            }
            PortSpec::Named(protocol, name) if rule.origin.direction == Direction::Ingress => {
                ranges.extend(
                    resolve_named(pod.spec, *protocol, name)
                        .map(|port| PortRange::single(*protocol, port)),
                );
            }
            PortSpec::Named(..) | PortSpec::Invalid(_) => {}
        }
    }
    if !ranges.is_empty() {
        lines.push(line(RuleMatch::PeersAndPorts {
            peers: rule.peers.clone(),
            ports: PortMatch::Ranges(ranges),
        }));
    }
    if let Some(base) = &rule.named_set {
        lines.push(line(RuleMatch::PeerPortTuples(base.clone())));
    }
}

fn build_groups(
    view: &ClusterView,
    specs: &[PolicySpec],
    names_by_group: &mut HashMap<RuleGroup, String>,
    ir: &mut PolicyIr,
) {
    // Local pod index → policies selecting it, in policy order.
    let mut selecting: BTreeMap<usize, Vec<&PolicySpec>> = BTreeMap::new();
    for spec in specs {
        for target in &spec.targets {
            selecting.entry(*target).or_default().push(spec);
        }
    }
    for (index, pod) in view.pods.iter().enumerate().filter(|(_, pod)| pod.local) {
        let policies = selecting.get(&index).map(Vec::as_slice).unwrap_or_default();
        place_pod(pod, policies, names_by_group, ir);
    }
}

/// Give one local pod its group chains (new ones when no other pod has the same rules) and its
/// verdict-map entries. `policies`: those selecting it, in policy order.
pub(crate) fn place_pod(
    pod: &PodView,
    policies: &[&PolicySpec],
    names_by_group: &mut HashMap<RuleGroup, String>,
    ir: &mut PolicyIr,
) {
    let mut local = LocalPod {
        id: pod.id(),
        addresses: pod.addresses.clone(),
        ingress_chain: None,
        egress_chain: None,
    };
    for direction in [Direction::Ingress, Direction::Egress] {
        let mut group = RuleGroup {
            direction,
            policies: Vec::new(),
            lines: Vec::new(),
        };
        for policy in policies {
            let rules = match direction {
                Direction::Ingress => &policy.ingress,
                Direction::Egress => &policy.egress,
            };
            let Some(rules) = rules else { continue };
            group.policies.push(policy.id.clone());
            for rule in rules {
                lines_for(rule, pod, &mut group.lines);
            }
        }
        if group.policies.is_empty() {
            continue;
        }
        let name = match names_by_group.get(&group) {
            Some(name) => name.clone(),
            None => {
                let mut name = names::chain_name(&group);
                while ir.chains.contains_key(&name) {
                    name.push_str("/x");
                }
                names_by_group.insert(group.clone(), name.clone());
                ir.chains.insert(name.clone(), group);
                name
            }
        };
        let map = match direction {
            Direction::Ingress => &mut ir.ingress_map,
            Direction::Egress => &mut ir.egress_map,
        };
        for address in &pod.addresses {
            map.entry(*address).or_insert_with(|| MapEntry {
                chain: name.clone(),
                pod: pod.id(),
            });
        }
        match direction {
            Direction::Ingress => local.ingress_chain = Some(name),
            Direction::Egress => local.egress_chain = Some(name),
        }
    }
    ir.pods.insert(local.id.clone(), local);
}
