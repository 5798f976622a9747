//! Problems found while compiling. None stops compilation: the offending piece matches nothing
//! (fail closed) and the rest of the policy still applies, isolation included.

use std::fmt;

use crate::address::CidrError;
use crate::ir::{PodId, PolicyId, RuleOrigin};
use crate::ports::PortError;
use crate::selector::SelectorError;

/// Why a peer (`from[i]` / `to[i]`) matches nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeerError {
    /// Neither `ipBlock` nor a selector is set.
    #[error("peer sets no field")]
    Empty,
    /// `ipBlock` combined with a selector.
    #[error("ipBlock combined with a selector")]
    IpBlockWithSelector,
    /// Bad `cidr` or `except`.
    #[error(transparent)]
    Cidr(#[from] CidrError),
    /// Bad selector.
    #[error(transparent)]
    Selector(#[from] SelectorError),
}

/// One problem found in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Diagnostic {
    /// A `status.podIPs` entry that is not an address; the entry is ignored.
    InvalidPodAddress {
        /// The pod.
        pod: PodId,
        /// The text.
        value: String,
    },
    /// `spec.podSelector` is invalid: the policy selects no pod.
    InvalidPodSelector {
        /// The policy.
        policy: PolicyId,
        /// Why.
        error: SelectorError,
    },
    /// A `policyTypes` entry other than Ingress/Egress; ignored.
    UnknownPolicyType {
        /// The policy.
        policy: PolicyId,
        /// The text.
        value: String,
    },
    /// A peer matches nothing.
    InvalidPeer {
        /// The rule.
        origin: RuleOrigin,
        /// Index in `from`/`to`.
        peer: usize,
        /// Why.
        error: PeerError,
    },
    /// A port entry matches nothing.
    InvalidPort {
        /// The rule.
        origin: RuleOrigin,
        /// Index in `ports`.
        port: usize,
        /// Why.
        error: PortError,
    },
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diagnostic::InvalidPodAddress { pod, value } => {
                write!(f, "pod {pod}: ignoring podIP {value:?}")
            }
            Diagnostic::InvalidPodSelector { policy, error } => {
                write!(f, "policy {policy}: podSelector selects nothing: {error}")
            }
            Diagnostic::UnknownPolicyType { policy, value } => {
                write!(f, "policy {policy}: ignoring policyType {value:?}")
            }
            Diagnostic::InvalidPeer {
                origin,
                peer,
                error,
            } => {
                write!(f, "{origin}: peer {peer} matches nothing: {error}")
            }
            Diagnostic::InvalidPort {
                origin,
                port,
                error,
            } => {
                write!(f, "{origin}: port {port} matches nothing: {error}")
            }
        }
    }
}
