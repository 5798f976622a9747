//! IPIP encapsulation (RFC 2003) for tern's dataplane.
//!
//! - [`wire`]: the outer IPv4 header view and repr, encapsulation with the Linux `ipip`
//!   module's TTL/TOS/DF rules, ICMP "fragmentation needed".
//! - [`kernel`]: the `tunl0` device over rtnetlink (MTU = underlay − 20, `pmtudisc`, tunnel
//!   address).
//! - [`userspace`]: TUN device + raw `IPPROTO_IPIP` socket, for kernels without `ipip.ko`.
//! - [`Tunnel::open`]: picks the kernel device when available, else the userspace tunnel
//!   (logged loudly).
//! - [`routing`]: Calico `ipipMode` (`Always`, `CrossSubnet`, `Never`) → next hop.
//! - [`peers`]: inner prefix → remote node table for the userspace mode.

pub mod error;
pub mod kernel;
pub mod netlink;
pub mod peers;
pub mod routing;
pub mod tunnel;
pub mod userspace;
pub mod wire;

pub use error::{Error, Result};
pub use peers::{Peer, PeerTable};
pub use routing::{IpipMode, NextHop, next_hop};
pub use tunnel::{DEFAULT_DEVICE, Mode, Tunnel, TunnelConfig};
pub use userspace::{StatsSnapshot, UserspaceConfig, UserspaceTunnel};
pub use wire::TunnelParams;
