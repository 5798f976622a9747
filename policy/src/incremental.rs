//! Incremental compilation for pod churn: [`PolicyCompiler`] keeps the input and the IR of the
//! last full [`crate::compile`], and places one added, removed or changed pod without compiling
//! everything again: the pod's addresses go into (or out of) the peer sets whose selectors pick
//! it, its named ports into the egress tuple sets, and, for a pod of this node, its group chains
//! and verdict-map entries. The result is always equal to a full compile of the same input
//! (tests check this on random churn); whenever that cannot be guaranteed cheaply — a policy
//! starts or stops selecting any local pod, two pods share an address, a pod has an invalid
//! address, chain names collide — it compiles everything instead.
//!
//! Namespace and policy changes always compile everything ([`PolicyCompiler::replace`]).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use k8s_openapi::api::core::v1::Pod;

use crate::compile::{CompileState, Compiled, PolicySpec, compile_with_state, place_pod};
use crate::ir::{Family, PodId, PolicyId, PolicyIr, SetElement, SetKind, set_name};
use crate::model::{NAMESPACE_NAME_LABEL, PodView, PolicyInput, pod_view};
use crate::peers::{PeerSelectors, picks};
use crate::ports::{Protocol, resolve_named};
use crate::rules::SetSource;
use crate::selector::Labels;

/// How [`PolicyCompiler`] handled a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Update {
    /// The object did not change.
    Unchanged,
    /// Only the pod's part of the IR was recomputed.
    Incremental,
    /// Everything was compiled again.
    Full,
}

/// Why a change cannot be applied incrementally.
struct NeedsFull;

/// A compiler that remembers its last result; see the module docs.
pub struct PolicyCompiler {
    input: PolicyInput,
    compiled: Compiled,
    state: CompileState,
    /// Labels of the input's namespaces, `kubernetes.io/metadata.name` included.
    namespace_labels: HashMap<String, Labels>,
    /// Pod id → index in `input.pods`; `None` when the input holds duplicate ids.
    pod_index: Option<HashMap<PodId, usize>>,
    /// Participating pod address → how many participating pods hold it.
    owners: HashMap<IpAddr, usize>,
    /// Active policy → how many local pods it selects.
    targets: HashMap<PolicyId, usize>,
}

fn pod_id(pod: &Pod) -> PodId {
    PodId {
        namespace: pod
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: pod.metadata.name.clone().unwrap_or_default(),
    }
}

impl PolicyCompiler {
    /// Compile `input` fully.
    pub fn new(input: PolicyInput) -> PolicyCompiler {
        let mut compiler = PolicyCompiler {
            input,
            compiled: Compiled::default(),
            state: CompileState::default(),
            namespace_labels: HashMap::new(),
            pod_index: None,
            owners: HashMap::new(),
            targets: HashMap::new(),
        };
        compiler.compile_all();
        compiler
    }

    /// The current input.
    pub fn input(&self) -> &PolicyInput {
        &self.input
    }

    /// The current result.
    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The current IR.
    pub fn ir(&self) -> &PolicyIr {
        &self.compiled.ir
    }

    /// Replace the whole input (namespaces, policies, node identity changed): full compile.
    pub fn replace(&mut self, input: PolicyInput) -> Update {
        self.input = input;
        self.compile_all();
        Update::Full
    }

    /// Add or replace one pod (by namespace and name).
    pub fn upsert_pod(&mut self, pod: Pod) -> Update {
        let id = pod_id(&pod);
        let existing = self
            .pod_index
            .as_ref()
            .and_then(|index| index.get(&id).copied());
        let result = match existing {
            Some(position) if self.input.pods.get(position) == Some(&pod) => {
                return Update::Unchanged;
            }
            Some(position) => {
                let old = std::mem::replace(&mut self.input.pods[position], pod);
                self.withdraw(&old).and_then(|()| {
                    let new = self.input.pods[position].clone();
                    self.place(&new)
                })
            }
            None => {
                self.input.pods.push(pod);
                if let Some(index) = &mut self.pod_index {
                    index.insert(id, self.input.pods.len() - 1);
                }
                let new = self.input.pods[self.input.pods.len() - 1].clone();
                self.place(&new)
            }
        };
        self.finish(result)
    }

    /// Remove one pod.
    pub fn remove_pod(&mut self, namespace: &str, name: &str) -> Update {
        let id = PodId {
            namespace: namespace.into(),
            name: name.into(),
        };
        let Some(index) = &mut self.pod_index else {
            let before = self.input.pods.len();
            self.input.pods.retain(|pod| pod_id(pod) != id);
            if self.input.pods.len() == before {
                return Update::Unchanged;
            }
            self.compile_all();
            return Update::Full;
        };
        let Some(position) = index.remove(&id) else {
            return Update::Unchanged;
        };
        let old = self.input.pods.swap_remove(position);
        if let Some(moved) = self.input.pods.get(position) {
            index.insert(pod_id(moved), position);
        }
        let result = self.withdraw(&old);
        self.finish(result)
    }

    fn finish(&mut self, result: Result<(), NeedsFull>) -> Update {
        match result {
            Ok(()) => Update::Incremental,
            Err(NeedsFull) => {
                self.compile_all();
                Update::Full
            }
        }
    }

    fn compile_all(&mut self) {
        let (compiled, state) = compile_with_state(&self.input);
        self.compiled = compiled;
        self.state = state;
        self.namespace_labels = self
            .input
            .namespaces
            .iter()
            .filter_map(|namespace| {
                let name = namespace.metadata.name.clone()?;
                let mut labels = namespace.metadata.labels.clone().unwrap_or_default();
                labels.insert(NAMESPACE_NAME_LABEL.into(), name.clone());
                Some((name, labels))
            })
            .collect();
        let mut index = HashMap::new();
        let mut unique = true;
        for (position, pod) in self.input.pods.iter().enumerate() {
            unique &= index.insert(pod_id(pod), position).is_none();
        }
        self.pod_index = unique.then_some(index);
        self.owners.clear();
        let mut ignored = Vec::new();
        for pod in &self.input.pods {
            if let Some(view) = pod_view(pod, &self.input.node_name, &mut ignored) {
                for address in view.addresses {
                    *self.owners.entry(address).or_default() += 1;
                }
            }
        }
        self.targets = self
            .state
            .active
            .iter()
            .map(|spec| (spec.id.clone(), spec.targets.len()))
            .collect();
    }

    fn labels_of_namespace(&self, namespace: &str) -> Labels {
        self.namespace_labels
            .get(namespace)
            .cloned()
            .unwrap_or_else(|| Labels::from([(NAMESPACE_NAME_LABEL.into(), namespace.into())]))
    }

    /// The participating view of a pod, or `Err` when it has an invalid address.
    fn view<'a>(&self, pod: &'a Pod) -> Result<Option<PodView<'a>>, NeedsFull> {
        let mut problems = Vec::new();
        let view = pod_view(pod, &self.input.node_name, &mut problems);
        if problems.is_empty() {
            Ok(view)
        } else {
            Err(NeedsFull)
        }
    }

    /// Active policies selecting a local pod, in id order; `Err` when an inactive one would.
    fn selecting(&self, pod: &PodView) -> Result<Vec<usize>, NeedsFull> {
        let selects = |namespace: &str, selector: &crate::selector::Selector| {
            namespace == pod.namespace && selector.matches(pod.labels)
        };
        if self
            .state
            .inactive
            .iter()
            .any(|(namespace, selector)| selects(namespace, selector))
        {
            return Err(NeedsFull);
        }
        Ok(self
            .state
            .active
            .iter()
            .enumerate()
            .filter(|(_, spec)| selects(&spec.id.namespace, &spec.selector))
            .map(|(position, _)| position)
            .collect())
    }

    /// Put a pod that was not there into the IR.
    fn place(&mut self, pod: &Pod) -> Result<(), NeedsFull> {
        let Some(view) = self.view(pod)? else {
            return Ok(());
        };
        if view.addresses.iter().any(|a| self.owners.contains_key(a)) {
            return Err(NeedsFull);
        }
        let namespace_labels = self.labels_of_namespace(view.namespace);
        let positions = if view.local {
            self.selecting(&view)?
        } else {
            Vec::new()
        };
        let picked = |peers: &[PeerSelectors], namespace: &str| {
            picks(
                peers,
                namespace,
                view.namespace,
                &namespace_labels,
                view.labels,
            )
        };
        let ir = &mut self.compiled.ir;
        for (base, source) in &self.state.sources {
            match source {
                SetSource::Pods { namespace, peers } => {
                    if picked(peers, namespace) {
                        for address in &view.addresses {
                            insert(ir, base, *address, SetElement::Address(*address));
                        }
                    }
                }
                SetSource::Named { named, peers } => {
                    let selected = peers
                        .as_ref()
                        .is_none_or(|(namespace, peers, _)| picked(peers, namespace));
                    for address in &view.addresses {
                        let in_block = peers.as_ref().is_some_and(|(_, _, blocks)| {
                            blocks.iter().any(|block| block.contains(address))
                        });
                        if selected || in_block {
                            add_tuples(ir, base, &view, *address, named);
                        }
                    }
                }
            }
        }
        if view.local {
            let policies: Vec<&PolicySpec> = positions
                .iter()
                .filter_map(|position| self.state.active.get(*position))
                .collect();
            for policy in &policies {
                *self.targets.entry(policy.id.clone()).or_default() += 1;
            }
            let chains_before = ir.chains.len();
            place_pod(&view, &policies, &mut self.state.names_by_group, ir);
            let collided = ir.chains.len() > chains_before
                && ir.pods.get(&view.id()).is_some_and(|local| {
                    [&local.ingress_chain, &local.egress_chain]
                        .into_iter()
                        .flatten()
                        .any(|name| name.ends_with("/x"))
                });
            if collided {
                return Err(NeedsFull);
            }
        }
        for address in &view.addresses {
            *self.owners.entry(*address).or_default() += 1;
        }
        Ok(())
    }

    /// Take a pod that was there out of the IR.
    fn withdraw(&mut self, pod: &Pod) -> Result<(), NeedsFull> {
        let Some(view) = self.view(pod)? else {
            return Ok(());
        };
        if view
            .addresses
            .iter()
            .any(|a| self.owners.get(a) != Some(&1))
        {
            return Err(NeedsFull);
        }
        if view.local {
            for position in self.selecting(&view)? {
                let Some(spec) = self.state.active.get(position) else {
                    continue;
                };
                let count = self.targets.entry(spec.id.clone()).or_default();
                *count = count.saturating_sub(1);
                if *count == 0 {
                    return Err(NeedsFull); // the policy stops being compiled at all
                }
            }
            self.remove_local(&view.id());
        }
        let ir = &mut self.compiled.ir;
        for set in ir.sets.values_mut() {
            for address in &view.addresses {
                match set.kind {
                    SetKind::Addresses(_) => {
                        set.elements.remove(&SetElement::Address(*address));
                    }
                    SetKind::AddressPortTuples(_) => {
                        let first = SetElement::Tuple(*address, Protocol::Tcp, 0);
                        let last = SetElement::Tuple(*address, Protocol::Sctp, u16::MAX);
                        let doomed: Vec<SetElement> =
                            set.elements.range(first..=last).cloned().collect();
                        for element in doomed {
                            set.elements.remove(&element);
                        }
                    }
                    SetKind::Ranges(_) => {}
                }
            }
        }
        for address in &view.addresses {
            self.owners.remove(address);
        }
        Ok(())
    }

    /// Drop a local pod's map entries, and its chains when no other pod uses them.
    fn remove_local(&mut self, id: &PodId) {
        let ir = &mut self.compiled.ir;
        let Some(local) = ir.pods.remove(id) else {
            return;
        };
        for address in &local.addresses {
            ir.ingress_map.remove(address);
            ir.egress_map.remove(address);
        }
        let in_use: HashSet<&String> = ir
            .pods
            .values()
            .flat_map(|pod| [&pod.ingress_chain, &pod.egress_chain])
            .flatten()
            .collect();
        let unused: Vec<String> = [local.ingress_chain, local.egress_chain]
            .into_iter()
            .flatten()
            .filter(|name| !in_use.contains(name))
            .collect();
        for name in unused {
            if let Some(group) = ir.chains.remove(&name) {
                self.state.names_by_group.remove(&group);
            }
        }
    }
}

fn insert(ir: &mut PolicyIr, base: &str, address: IpAddr, element: SetElement) {
    if let Some(set) = ir.sets.get_mut(&set_name(base, Family::of(&address))) {
        set.elements.insert(element);
    }
}

fn add_tuples(
    ir: &mut PolicyIr,
    base: &str,
    pod: &PodView,
    address: IpAddr,
    named: &[(Protocol, String)],
) {
    for (protocol, name) in named {
        for port in resolve_named(pod.spec, *protocol, name) {
            insert(
                ir,
                base,
                address,
                SetElement::Tuple(address, *protocol, port),
            );
        }
    }
}
