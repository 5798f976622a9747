//! NetworkPolicy semantics → normalized IR → nftables ruleset; atomic apply and incremental
//! update.
//!
//! The pipeline, each stage a pure function except the last:
//! 1. [`compile`]: a [`PolicyInput`] snapshot (Pods, Namespaces, NetworkPolicies, the node's
//!    name and addresses) → [`PolicyIr`], with every NetworkPolicy v1 rule resolved to address
//!    sets, port matches and per-pod verdict-map entries;
//! 2. [`render_full`]: IR → one `nft -f` script that replaces `table inet tern` atomically;
//! 3. [`render_update`]: previous IR × new IR → a script of element and chain changes only;
//! 4. [`PolicyProgrammer`]: runs those scripts through `nft -f -` (element-only changes, i.e.
//!    pod churn, as one nf_tables netlink batch: [`netlink`]), falling back to a full replace
//!    when an incremental update is refused.
//!
//! [`PolicyCompiler`] keeps the last compile and places one added, removed or relabelled pod
//! without compiling everything again (equal to a full compile by construction and by test).
//!
//! [`describe_line`] and [`chains_text`] show one pod's rules to an operator, in words and as
//! nft text.
//!
//! [`explain()`] / [`evaluate()`] run the IR for one packet exactly as the rendered table would:
//! how the semantics are unit-tested without root.
//!
//! Where packets are judged (routed pod networking, e.g. the ptp CNI, where every pod packet
//! passes the host's IP stack): `forward` for pod ↔ pod (same node or not) and pod ↔ outside,
//! with the source pod's egress and the destination pod's ingress; `input` for pod → this host
//! (the pod's egress); `output` for this host → pod (node addresses always pass, as Kubernetes
//! requires for kubelet probes). Service traffic is judged after kube-proxy's DNAT (see
//! [`render`]). A bridge CNI without `br_netfilter` would bypass these hooks for same-bridge
//! traffic. Egress is keyed by source address: pods must not be able to spoof it (the ptp CNI's
//! /32 routes plus strict `rp_filter` on the host veths prevent it).
//!
//! The caller owns I/O and threads: [`PolicyProgrammer`] blocks while `nft` runs (tens of ms
//! for an update, under a second for a 10,000-pod table), so async callers use a blocking task.

pub mod address;
mod compile;
pub mod describe;
mod diagnostics;
mod diff;
pub mod explain;
mod incremental;
pub mod ir;
mod model;
pub mod names;
pub mod netlink;
mod peers;
pub mod ports;
mod programmer;
pub mod render;
mod rules;
pub mod selector;

pub use compile::{Compiled, compile};
pub use describe::describe_line;
pub use diagnostics::{Diagnostic, PeerError};
pub use diff::{element_ops, render_update};
pub use explain::{Evaluation, Hook, Packet, Verdict, evaluate, explain};
pub use incremental::{PolicyCompiler, Update};
pub use ir::{Direction, PodId, PolicyId, PolicyIr};
pub use model::{NAMESPACE_NAME_LABEL, PolicyInput};
pub use programmer::{ApplyError, ApplyKind, NftCommand, NftRunner, PolicyProgrammer};
pub use render::{TABLE_NAME, chains_text, render_full};
