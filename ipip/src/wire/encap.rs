//! IP-in-IP encapsulation (RFC 2003 §3) with the Linux `ipip` module's header rules.
//!
//! ```text
//!                                  +---------------------------+
//!                                  |      Outer IP Header      |
//!                                  +---------------------------+
//!  +---------------------------+   |                           |
//!  |         IP Header         |   |         IP Header         |
//!  +---------------------------+   +---------------------------+
//!  |                           |   |                           |
//!  |         IP Payload        |   |         IP Payload        |
//!  |                           |   |                           |
//!  +---------------------------+   +---------------------------+
//! ```
//!
//! The outer header is the one `ip_tunnel_xmit()` (net/ipv4/ip_tunnel.c) builds for an NBMA
//! (`remote any`) ipip device, field by field:
//!
//! | field | kernel rule | default device |
//! |---|---|---|
//! | version/IHL | `0x45`, no options | |
//! | TOS | `tos` param, or the inner TOS when its low bit is set (`tos inherit`); then ECN from the inner header (`INET_ECN_encapsulate`: inner ECN copied, CE becomes ECT(0)) | `tos 0`: DSCP 0, inner ECN |
//! | total length | inner length + 20 | |
//! | identification | `__ip_select_ident()`: a hashed per-destination counter, not reproducible | tern: a per-tunnel counter from a random start |
//! | flags | DF = `pmtudisc` param OR the inner DF; MF 0, offset 0 | tern: `pmtudisc` on, so DF is always set |
//! | TTL | `ttl` param, 0 (`ttl inherit`) copies the inner TTL | `ttl inherit` |
//! | protocol | 4 | |
//! | source | the route's preferred source toward the remote (or `local`) | tern: the node's underlay address |
//! | destination | the route's next hop (`rt_nexthop`) for an NBMA device | the remote node |
//!
//! Decapsulation follows `ip_tunnel_rcv()`: ECN by RFC 6040 (`INET_ECN_decapsulate`).

use std::net::Ipv4Addr;

use super::WireError;
use super::ipv4::{self, HEADER_LEN, Ipv4Packet, Ipv4Repr, PROTOCOL_IPIP};

const ECN_MASK: u8 = 0x03;
const ECN_NOT_ECT: u8 = 0x00;
const ECN_ECT_0: u8 = 0x02;
const ECN_CE: u8 = 0x03;

/// Outer header parameters of an ipip device, as in `ip link add NAME type ipip ttl T tos S
/// [no]pmtudisc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelParams {
    /// Outer TTL; 0 means `ttl inherit` (copy the inner TTL).
    pub ttl: u8,
    /// Outer TOS; a set low bit means `tos inherit` (copy the inner TOS).
    pub tos: u8,
    /// Path MTU discovery: the outer DF bit is always set.
    pub pmtudisc: bool,
}

impl TunnelParams {
    /// tern's tunnel: `ttl inherit`, `tos 0`, `pmtudisc`.
    pub const TERN: TunnelParams = TunnelParams {
        ttl: 0,
        tos: 0,
        pmtudisc: true,
    };

    /// The kernel's fallback `tunl0`, as `ip_tunnel_init_net()` creates it on module load from
    /// zeroed parameters: `ttl inherit`, `tos 0`, `nopmtudisc`. (A device made with `ip link
    /// add NAME type ipip` instead gets `pmtudisc`: `ip_tunnel_netlink_parms()` sets DF unless
    /// `IFLA_IPTUN_PMTUDISC` is 0.)
    pub const KERNEL_FALLBACK: TunnelParams = TunnelParams {
        ttl: 0,
        tos: 0,
        pmtudisc: false,
    };

    /// Outer TOS for an inner TOS: DSCP from the parameter (or inherited), ECN from the inner
    /// header (RFC 6040 §4.1 normal mode, `ip_tunnel_ecn_encap`).
    pub fn outer_tos(&self, inner_tos: u8) -> u8 {
        let tos = if self.tos & 0x01 != 0 {
            inner_tos
        } else {
            self.tos
        };
        ecn_encapsulate(tos, inner_tos)
    }

    /// Outer TTL for an inner TTL.
    pub fn outer_ttl(&self, inner_ttl: u8) -> u8 {
        if self.ttl == 0 { inner_ttl } else { self.ttl }
    }

    /// Outer DF for an inner DF.
    pub fn outer_dont_fragment(&self, inner_dont_fragment: bool) -> bool {
        self.pmtudisc || inner_dont_fragment
    }

    /// The outer header for `inner` sent from `local` to `remote` with identification `ident`.
    pub fn outer_repr<T: AsRef<[u8]>>(
        &self,
        inner: &Ipv4Packet<T>,
        local: Ipv4Addr,
        remote: Ipv4Addr,
        ident: u16,
    ) -> Result<Ipv4Repr, WireError> {
        inner.check_len()?;
        let payload_len = usize::from(inner.total_len());
        if HEADER_LEN + payload_len > ipv4::MAX_PACKET_LEN {
            return Err(WireError::TooLong {
                length: HEADER_LEN + payload_len,
            });
        }
        Ok(Ipv4Repr {
            src_addr: local,
            dst_addr: remote,
            protocol: PROTOCOL_IPIP,
            tos: self.outer_tos(inner.tos()),
            ident,
            dont_fragment: self.outer_dont_fragment(inner.dont_fragment()),
            ttl: self.outer_ttl(inner.ttl()),
            payload_len,
        })
    }

    /// What to do with `inner` given the MTU of the underlay route, as `tnl_update_pmtu()`
    /// decides: with DF on the outer header the inner packet may use `underlay_mtu - 20`; an
    /// inner packet with DF that is larger gets "fragmentation needed" with that MTU.
    pub fn mtu_verdict<T: AsRef<[u8]>>(
        &self,
        inner: &Ipv4Packet<T>,
        underlay_mtu: usize,
    ) -> MtuVerdict {
        let inner_len = usize::from(inner.total_len());
        let tunnel_mtu = underlay_mtu.saturating_sub(HEADER_LEN);
        if inner_len <= tunnel_mtu {
            return MtuVerdict::Fits;
        }
        match inner.dont_fragment() {
            true => MtuVerdict::FragmentationNeeded {
                mtu: u16::try_from(tunnel_mtu).unwrap_or(u16::MAX),
            },
            false => MtuVerdict::TooBig,
        }
    }
}

/// Outcome of the MTU check before encapsulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtuVerdict {
    /// The encapsulated packet fits the underlay.
    Fits,
    /// The inner packet has DF and is too big: answer ICMP type 3 code 4 with this MTU
    /// (RFC 1191 §4) and drop it.
    FragmentationNeeded {
        /// The next-hop MTU to report: underlay MTU − 20.
        mtu: u16,
    },
    /// Too big without DF: dropped (the kernel fragments before the tunnel device, whose MTU
    /// is underlay − 20, so this only happens when the underlay MTU shrank).
    TooBig,
}

/// `INET_ECN_encapsulate(outer, inner)`: the outer ECN copies the inner one, except that CE
/// becomes ECT(0) (RFC 6040 §4.1).
pub fn ecn_encapsulate(outer_tos: u8, inner_tos: u8) -> u8 {
    let inner_ecn = inner_tos & ECN_MASK;
    let ecn = if inner_ecn == ECN_CE {
        ECN_ECT_0
    } else {
        inner_ecn
    };
    (outer_tos & !ECN_MASK) | ecn
}

/// What decapsulation does to the inner ECN field (RFC 6040 §4.2, `INET_ECN_decapsulate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcnAction {
    /// Forward the inner packet unchanged.
    Keep,
    /// The outer header says CE: set CE on the inner header.
    SetCe,
    /// Outer CE on a not-ECT inner packet: drop.
    Drop,
}

/// Decides the inner ECN treatment from the outer and inner TOS bytes.
pub fn ecn_decapsulate(outer_tos: u8, inner_tos: u8) -> EcnAction {
    let outer_ecn = outer_tos & ECN_MASK;
    let inner_ecn = inner_tos & ECN_MASK;
    match (outer_ecn, inner_ecn) {
        (ECN_CE, ECN_NOT_ECT) => EcnAction::Drop,
        (ECN_CE, ECN_CE) => EcnAction::Keep,
        (ECN_CE, _) => EcnAction::SetCe,
        _ => EcnAction::Keep,
    }
}

/// Sets CE on an IPv4 header and updates its checksum incrementally (RFC 1624 eqn. 3), as the
/// kernel's `IP_ECN_set_ce` does, so a wrong checksum stays wrong.
pub fn set_ce(packet: &mut [u8]) {
    let (Some(&ver_ihl), Some(&tos), Some(&[check_high, check_low])) = (
        packet.first(),
        packet.get(ipv4::field::DSCP_ECN),
        packet.get(ipv4::field::CHECKSUM),
    ) else {
        return;
    };
    let old_word = u16::from_be_bytes([ver_ihl, tos]);
    let new_word = u16::from_be_bytes([ver_ihl, tos | ECN_CE]);
    let old_check = u16::from_be_bytes([check_high, check_low]);
    let mut sum = u32::from(!old_check) + u32::from(!old_word) + u32::from(new_word);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let new_check = !(sum as u16);
    if let Some(byte) = packet.get_mut(ipv4::field::DSCP_ECN) {
        *byte = tos | ECN_CE;
    }
    if let Some(bytes) = packet.get_mut(ipv4::field::CHECKSUM) {
        bytes.copy_from_slice(&new_check.to_be_bytes());
    }
}

/// Encapsulates `inner` into `out` (cleared first): the outer header from
/// [`TunnelParams::outer_repr`], then the inner packet up to its total length. Returns the
/// outer header.
pub fn encapsulate(
    params: &TunnelParams,
    inner: &[u8],
    local: Ipv4Addr,
    remote: Ipv4Addr,
    ident: u16,
    out: &mut Vec<u8>,
) -> Result<Ipv4Repr, WireError> {
    let inner = Ipv4Packet::new_checked(inner)?;
    let repr = params.outer_repr(&inner, local, remote, ident)?;
    out.clear();
    out.resize(HEADER_LEN, 0);
    repr.emit(&mut Ipv4Packet::new_unchecked(&mut out[..]))?;
    out.extend_from_slice(inner.packet());
    Ok(repr)
}

/// A received IPIP packet, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decapsulated<'a> {
    /// The outer header.
    pub outer: Ipv4Repr,
    /// The inner packet, up to its own total length.
    pub inner: &'a [u8],
    /// What to do with the inner ECN field.
    pub ecn: EcnAction,
}

/// Parses an outer packet (as a raw socket hands it over, header included), checks that it
/// carries protocol 4 and a whole inner IPv4 packet, and decides the ECN treatment.
pub fn decapsulate(outer: &[u8]) -> Result<Decapsulated<'_>, WireError> {
    let packet = Ipv4Packet::new_checked(outer)?;
    let repr = Ipv4Repr::parse(&packet)?;
    if repr.protocol != PROTOCOL_IPIP {
        return Err(WireError::NotIpip {
            protocol: repr.protocol,
        });
    }
    let payload = outer
        .get(packet.header_len()..usize::from(packet.total_len()))
        .unwrap_or(&[]);
    let inner = Ipv4Packet::new_checked(payload)?;
    let ecn = ecn_decapsulate(repr.tos, inner.tos());
    let inner_len = usize::from(inner.total_len());
    Ok(Decapsulated {
        outer: repr,
        inner: payload.get(..inner_len).unwrap_or(payload),
        ecn,
    })
}

#[cfg(test)]
#[path = "encap_tests.rs"]
mod tests;
