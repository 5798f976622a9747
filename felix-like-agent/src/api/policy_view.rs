//! [`PolicyView`] over the policy programmer ([`PolicyHandle`]): one local pod's policy as of
//! the last table the programmer applied.
//!
//! - A pod the IR does not place (another node's, hostNetwork, no address yet, unknown) is
//!   [`ViewError::NotFound`]; before the first successful apply every pod is
//!   [`ViewError::NotReady`].
//! - A direction is isolated when the pod has a group chain for it; the chain's rule lines
//!   become one "allow" rule each (peers and ports in words, [`policy::describe_line`]) and
//!   the chain's final drop one "deny" rule, named after every policy that isolates the pod.
//! - `nftables` is the text of the pod's group chains ([`policy::chains_text`]).

use std::collections::BTreeSet;

use policy::ir::{Direction, PodId, PolicyIr, RuleGroup};

use crate::network_policy::PolicyHandle;

use super::views::{PodPolicy, PolicyRule, PolicyView, ViewError};

#[tonic::async_trait]
impl PolicyView for PolicyHandle {
    async fn pod_policy(&self, namespace: &str, pod: &str) -> Result<PodPolicy, ViewError> {
        let ir = self.applied().ok_or_else(|| {
            ViewError::NotReady("network policy has not been applied on this node yet".into())
        })?;
        pod_policy(&ir, namespace, pod)
    }
}

/// The policy of local pod `namespace/pod` in `ir`.
pub fn pod_policy(ir: &PolicyIr, namespace: &str, pod: &str) -> Result<PodPolicy, ViewError> {
    let id = PodId {
        namespace: namespace.to_string(),
        name: pod.to_string(),
    };
    let local = ir.pods.get(&id).ok_or_else(|| {
        ViewError::NotFound(format!(
            "pod {id} is not a local pod of this node (unknown, on another node, hostNetwork \
             or without an address)"
        ))
    })?;
    let chains: Vec<(&str, &RuleGroup)> = [&local.ingress_chain, &local.egress_chain]
        .into_iter()
        .flatten()
        .filter_map(|name| Some((name.as_str(), ir.chains.get(name)?)))
        .collect();
    let policies: BTreeSet<String> = chains
        .iter()
        .flat_map(|(_, group)| &group.policies)
        .map(ToString::to_string)
        .collect();
    let isolated = |direction| chains.iter().any(|(_, g)| g.direction == direction);
    Ok(PodPolicy {
        addresses: local.addresses.clone(),
        policies: policies.into_iter().collect(),
        ingress_isolated: isolated(Direction::Ingress),
        egress_isolated: isolated(Direction::Egress),
        rules: chains
            .iter()
            .flat_map(|(_, g)| group_rules(ir, g))
            .collect(),
        nftables: policy::chains_text(ir, chains.iter().map(|(name, _)| *name)).unwrap_or_default(),
    })
}

/// The allow rules of one group chain, then its deny.
fn group_rules(ir: &PolicyIr, group: &RuleGroup) -> Vec<PolicyRule> {
    let direction = group.direction.word().to_string();
    let mut rules: Vec<PolicyRule> = group
        .lines
        .iter()
        .map(|line| PolicyRule {
            policy: line.origin.policy.to_string(),
            direction: direction.clone(),
            action: "allow".to_string(),
            description: policy::describe_line(ir, group.direction, line),
        })
        .collect();
    let policies: Vec<String> = group.policies.iter().map(ToString::to_string).collect();
    rules.push(PolicyRule {
        policy: policies.join(", "),
        direction,
        action: "deny".to_string(),
        description: "anything else: no rule allows it".to_string(),
    });
    rules
}
