//! Per-pool encapsulation choice (Calico's `ipipMode`): how the route to a remote node's pod
//! block is programmed.
//!
//! | `ipipMode` | route for the remote block |
//! |---|---|
//! | `Always` | `ip route replace BLOCK via NODE dev tunl0 onlink` |
//! | `CrossSubnet` | as `Always` when NODE is outside this node's underlay subnet, else `via NODE` |
//! | `Never` | `ip route replace BLOCK via NODE` (plain next hop) |

use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

/// `IPPool.spec.ipipMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum IpipMode {
    /// Encapsulate to every node.
    Always,
    /// Encapsulate only to nodes in another subnet.
    CrossSubnet,
    /// Never encapsulate.
    #[default]
    Never,
}

impl std::str::FromStr for IpipMode {
    type Err = String;

    /// Parses Calico's spelling: `Always`, `CrossSubnet`, `Never`.
    fn from_str(text: &str) -> Result<IpipMode, String> {
        match text {
            "Always" => Ok(IpipMode::Always),
            "CrossSubnet" => Ok(IpipMode::CrossSubnet),
            "Never" => Ok(IpipMode::Never),
            other => Err(format!(
                "unknown ipipMode {other:?} (Always, CrossSubnet, Never)"
            )),
        }
    }
}

/// How to reach a remote node's block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextHop {
    /// Through the IPIP device: `via gateway dev device onlink`.
    Tunnel {
        /// The remote node's underlay address (the outer destination).
        gateway: Ipv4Addr,
        /// The IPIP device (`tunl0`).
        device: String,
    },
    /// Plain routing: `via gateway`.
    Direct {
        /// The remote node's underlay address.
        gateway: Ipv4Addr,
    },
}

/// The next hop for a block behind `remote_node`, from this node's underlay subnet.
pub fn next_hop(
    mode: IpipMode,
    local_subnet: Ipv4Network,
    remote_node: Ipv4Addr,
    device: &str,
) -> NextHop {
    let tunnel = match mode {
        IpipMode::Always => true,
        IpipMode::CrossSubnet => !local_subnet.contains(remote_node),
        IpipMode::Never => false,
    };
    match tunnel {
        true => NextHop::Tunnel {
            gateway: remote_node,
            device: device.to_string(),
        },
        false => NextHop::Direct {
            gateway: remote_node,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SUBNET: &str = "198.18.0.0/24";
    const SAME: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
    const OTHER: Ipv4Addr = Ipv4Addr::new(198, 18, 1, 2);

    fn hop(mode: IpipMode, node: Ipv4Addr) -> NextHop {
        next_hop(mode, SUBNET.parse().expect("subnet"), node, "tunl0")
    }

    fn tunnel(gateway: Ipv4Addr) -> NextHop {
        NextHop::Tunnel {
            gateway,
            device: "tunl0".into(),
        }
    }

    #[test]
    fn always_tunnels_to_every_node() {
        assert_eq!(hop(IpipMode::Always, SAME), tunnel(SAME));
        assert_eq!(hop(IpipMode::Always, OTHER), tunnel(OTHER));
    }

    #[test]
    fn cross_subnet_tunnels_only_outside_the_subnet() {
        assert_eq!(
            hop(IpipMode::CrossSubnet, SAME),
            NextHop::Direct { gateway: SAME }
        );
        assert_eq!(hop(IpipMode::CrossSubnet, OTHER), tunnel(OTHER));
    }

    #[test]
    fn never_uses_the_plain_next_hop() {
        assert_eq!(
            hop(IpipMode::Never, OTHER),
            NextHop::Direct { gateway: OTHER }
        );
    }

    #[test]
    fn parses_calico_spelling() {
        assert_eq!("CrossSubnet".parse(), Ok(IpipMode::CrossSubnet));
        assert!("crosssubnet".parse::<IpipMode>().is_err());
    }
}
