//! Ports of a NetworkPolicy rule: protocol defaulting, numeric ports and `endPort` ranges, and
//! named ports that are resolved later, on a concrete pod.
//!
//! Kubernetes rules (networking.k8s.io/v1 NetworkPolicyPort): the protocol defaults to TCP; a
//! missing port means every port of that protocol; `endPort` needs a numeric `port` and
//! `endPort >= port`; a named port is looked up on the pod that serves it (the destination), and
//! a name no container declares with that protocol matches nothing. Anything invalid matches
//! nothing (fail closed), so a malformed entry never widens what a policy allows.

use std::collections::BTreeSet;
use std::fmt;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::networking::v1::NetworkPolicyPort;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A transport protocol a NetworkPolicy port can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TCP, IP protocol 6 (the default).
    Tcp,
    /// UDP, IP protocol 17.
    Udp,
    /// SCTP, IP protocol 132.
    Sctp,
}

impl Protocol {
    /// Parse the Kubernetes spelling (`TCP`, `UDP`, `SCTP`); `None` defaults to TCP.
    pub fn from_kubernetes(text: Option<&str>) -> Option<Protocol> {
        match text {
            None | Some("TCP") => Some(Protocol::Tcp),
            Some("UDP") => Some(Protocol::Udp),
            Some("SCTP") => Some(Protocol::Sctp),
            Some(_) => None,
        }
    }

    /// The IP protocol number.
    pub fn number(self) -> u8 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }

    /// The nft keyword (`tcp`, `udp`, `sctp`).
    pub fn nft_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.nft_name())
    }
}

/// An inclusive destination port range of one protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    /// Protocol.
    pub protocol: Protocol,
    /// First port.
    pub first: u16,
    /// Last port (equal to `first` for one port).
    pub last: u16,
}

impl PortRange {
    /// Every port of `protocol`.
    pub fn all(protocol: Protocol) -> PortRange {
        PortRange {
            protocol,
            first: 0,
            last: u16::MAX,
        }
    }

    /// One port.
    pub fn single(protocol: Protocol, port: u16) -> PortRange {
        PortRange {
            protocol,
            first: port,
            last: port,
        }
    }

    /// Whether the range spans every port.
    pub fn is_all(&self) -> bool {
        self.first == 0 && self.last == u16::MAX
    }

    /// Whether a packet of `protocol` to `port` falls in the range.
    pub fn contains(&self, protocol: Protocol, port: u16) -> bool {
        self.protocol == protocol && (self.first..=self.last).contains(&port)
    }
}

/// `tcp 80`, `tcp 9000-9010` (every port: `tcp 0-65535`), as in port set comments.
impl PortRange {
    /// The ports alone, as nft writes them: `80` or `9000-9010`.
    pub fn ports(&self) -> String {
        if self.first == self.last {
            self.first.to_string()
        } else {
            format!("{}-{}", self.first, self.last)
        }
    }
}

/// `tcp 80`, `tcp 9000-9010`.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.protocol, self.ports())
    }
}

/// What a rule line matches on protocol and destination port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortMatch {
    /// `ports` missing or empty: every protocol (ICMP included) and port.
    Any,
    /// Only these ranges. Never empty in the IR: a line that can match nothing is not emitted.
    Ranges(BTreeSet<PortRange>),
}

impl PortMatch {
    /// Whether a packet with IP protocol `protocol` to `port` matches.
    pub fn matches(&self, protocol: Option<Protocol>, port: Option<u16>) -> bool {
        match self {
            PortMatch::Any => true,
            PortMatch::Ranges(ranges) => match (protocol, port) {
                (Some(protocol), Some(port)) => {
                    ranges.iter().any(|range| range.contains(protocol, port))
                }
                _ => false,
            },
        }
    }
}

/// One `ports` entry after validation, before named ports are resolved.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PortSpec {
    /// A numeric port or range (`port`, optional `endPort`), or every port (`port` missing).
    Numeric(PortRange),
    /// A named port, resolved on the serving pod.
    Named(Protocol, String),
    /// An entry that can match nothing (invalid protocol, port 0, `endPort` < `port`, ...).
    Invalid(PortError),
}

/// Why a `ports` entry matches nothing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, thiserror::Error)]
pub enum PortError {
    /// `protocol` is not TCP, UDP or SCTP.
    #[error("unknown protocol {0:?}")]
    UnknownProtocol(String),
    /// `port` outside 1..=65535.
    #[error("port {0} out of range")]
    PortOutOfRange(i32),
    /// `endPort` given without a numeric port, out of range, or below `port`.
    #[error("invalid endPort {0}")]
    InvalidEndPort(i32),
    /// Empty port name.
    #[error("empty port name")]
    EmptyName,
}

fn port_number(value: i32) -> Result<u16, PortError> {
    u16::try_from(value)
        .ok()
        .filter(|port| *port != 0)
        .ok_or(PortError::PortOutOfRange(value))
}

/// Validate one NetworkPolicyPort.
pub fn port_spec(port: &NetworkPolicyPort) -> PortSpec {
    let protocol = match Protocol::from_kubernetes(port.protocol.as_deref()) {
        Some(protocol) => protocol,
        None => {
            let text = port.protocol.clone().unwrap_or_default();
            return PortSpec::Invalid(PortError::UnknownProtocol(text));
        }
    };
    let spec = match (&port.port, port.end_port) {
        (None, None) => Ok(PortSpec::Numeric(PortRange::all(protocol))),
        (None, Some(end)) | (Some(IntOrString::String(_)), Some(end)) => {
            Err(PortError::InvalidEndPort(end))
        }
        (Some(IntOrString::String(name)), None) if name.is_empty() => Err(PortError::EmptyName),
        (Some(IntOrString::String(name)), None) => Ok(PortSpec::Named(protocol, name.clone())),
        (Some(IntOrString::Int(first)), end) => port_number(*first).and_then(|first| {
            let last = match end {
                None => first,
                Some(end) => port_number(end)
                    .ok()
                    .filter(|last| *last >= first)
                    .ok_or(PortError::InvalidEndPort(end))?,
            };
            Ok(PortSpec::Numeric(PortRange {
                protocol,
                first,
                last,
            }))
        }),
    };
    spec.unwrap_or_else(PortSpec::Invalid)
}

/// The port numbers a pod's containers (init containers included, for sidecars) declare under
/// `name` for `protocol` (`spec.containers[].ports[]`, protocol defaulting to TCP).
pub fn resolve_named<'a>(
    spec: &'a PodSpec,
    protocol: Protocol,
    name: &'a str,
) -> impl Iterator<Item = u16> + 'a {
    let init = spec.init_containers.as_deref().unwrap_or_default();
    spec.containers
        .iter()
        .chain(init)
        .flat_map(|container| container.ports.iter().flatten())
        .filter(move |port| {
            port.name.as_deref() == Some(name)
                && Protocol::from_kubernetes(port.protocol.as_deref()) == Some(protocol)
        })
        .filter_map(|port| u16::try_from(port.container_port).ok().filter(|p| *p != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(protocol: Option<&str>, port: Option<IntOrString>, end: Option<i32>) -> PortSpec {
        port_spec(&NetworkPolicyPort {
            protocol: protocol.map(str::to_string),
            port,
            end_port: end,
        })
    }

    #[test]
    fn protocol_defaults_to_tcp_and_missing_port_is_all_ports() {
        assert_eq!(
            spec(None, None, None),
            PortSpec::Numeric(PortRange::all(Protocol::Tcp))
        );
        assert_eq!(
            spec(Some("UDP"), Some(IntOrString::Int(53)), None),
            PortSpec::Numeric(PortRange::single(Protocol::Udp, 53))
        );
    }

    #[test]
    fn end_port_makes_a_range_and_is_validated() {
        assert_eq!(
            spec(None, Some(IntOrString::Int(9000)), Some(9010)),
            PortSpec::Numeric(PortRange {
                protocol: Protocol::Tcp,
                first: 9000,
                last: 9010
            })
        );
        assert!(matches!(
            spec(None, Some(IntOrString::Int(9000)), Some(80)),
            PortSpec::Invalid(PortError::InvalidEndPort(80))
        ));
        assert!(matches!(
            spec(None, Some(IntOrString::String("http".into())), Some(90)),
            PortSpec::Invalid(_)
        ));
    }

    #[test]
    fn invalid_entries_match_nothing() {
        assert!(matches!(
            spec(Some("ICMP"), None, None),
            PortSpec::Invalid(_)
        ));
        assert!(matches!(
            spec(None, Some(IntOrString::Int(0)), None),
            PortSpec::Invalid(_)
        ));
        assert!(matches!(
            spec(None, Some(IntOrString::Int(70000)), None),
            PortSpec::Invalid(_)
        ));
    }
}
