//! Test hosts in network namespaces and drivers for real BGP peers.
//!
//! - [`Host`]: a namespace with its temp dir, deleted on drop (also on panic).
//! - [`Veth`], [`Switch`]: links between hosts.
//! - [`Process`] / [`spawn_in`]: a program inside a host, logs captured, killed on drop.
//! - [`wait_until`]: bounded polling, the only way tests wait.
//! - [`peers`]: BIRD, FRR, GoBGP and ExaBGP drivers with one normalized view of their RIBs.
//! - [`vm`]: the kernel-IPIP qemu VM (Debian kernel with `ipip.ko`).
//!
//! Every test needs root. Only the agreed ranges are used (198.18.0.0/15, 192.0.2.0/24,
//! 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and nothing in the root namespace changes
//! except the neighbour table limits ([`raise_neighbor_table_limits`]).

pub mod cleanup;
pub mod command;
pub mod error;
pub mod link;
pub mod logs;
pub mod naming;
pub mod netns;
pub mod peers;
pub mod process;
pub mod sysctl;
pub mod tern;
pub mod vm;
pub mod wait;

pub use error::{Error, Result};
pub use link::{Switch, SwitchPort, Veth};
pub use netns::Host;
pub use process::{Process, spawn_in};
pub use sysctl::raise_neighbor_table_limits;
pub use wait::wait_until;
