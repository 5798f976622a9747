//! The minimal BGP the bench's own ends speak, built on tern's codec: an OPEN/KEEPALIVE
//! handshake over a tokio TCP stream, and a fast path that counts the IPv4 prefixes an UPDATE
//! announces and withdraws without decoding its attributes (RFC 4271 §4.3 layout).
//!
//! Nothing here panics on input: every read of a received byte goes through `get`.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{Context, bail};
use bgp::packet::{
    AS_TRANS, Afi, Capability, CodecContext, HEADER_LEN, Message, Open, Safi, frame_len,
};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Hold time the bench's ends propose (seconds); the session uses the smaller of both.
pub const HOLD_TIME: u16 = 180;

/// Message type code of UPDATE (RFC 4271 §4.1).
const TYPE_UPDATE: u8 = 2;
/// Message type code of NOTIFICATION.
const TYPE_NOTIFICATION: u8 = 3;

/// An Established session: the stream, bytes read past the handshake, and the keepalive
/// interval (a third of the negotiated hold time; `None` when it is 0).
#[derive(Debug)]
pub struct Session {
    pub stream: TcpStream,
    pub buffer: BytesMut,
    pub keepalive: Option<Duration>,
}

/// Our OPEN: IPv4 unicast and 4-octet AS (RFC 4760 §8, RFC 6793).
fn open(asn: u32, router_id: Ipv4Addr) -> Message {
    Message::Open(Open {
        version: 4,
        my_as: u16::try_from(asn).unwrap_or(AS_TRANS),
        hold_time: HOLD_TIME,
        bgp_identifier: router_id,
        capabilities: vec![
            Capability::MultiProtocol {
                afi: Afi::Ipv4,
                safi: Safi::Unicast,
            },
            Capability::FourOctetAs(asn),
        ],
    })
}

/// The encoded KEEPALIVE.
pub fn keepalive() -> bytes::Bytes {
    Message::Keepalive
        .to_bytes(&CodecContext::default())
        .unwrap_or_default()
}

/// Sends our OPEN, waits for the peer's OPEN, sends KEEPALIVE and waits for the peer's
/// KEEPALIVE (RFC 4271 §8.2.2). Works for either side of the connection.
pub async fn handshake(
    mut stream: TcpStream,
    asn: u32,
    router_id: Ipv4Addr,
    timeout: Duration,
) -> anyhow::Result<Session> {
    let context = CodecContext::default();
    stream.set_nodelay(true).ok();
    let hello = open(asn, router_id).to_bytes(&context)?;
    stream.write_all(&hello).await?;
    let mut buffer = BytesMut::with_capacity(1 << 16);
    let mut period = None;
    let mut seen_open = false;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        while let Some(len) = frame_len(&buffer).map_err(|e| anyhow::anyhow!("{e}"))? {
            if buffer.len() < len {
                break;
            }
            let frame = buffer.split_to(len);
            match Message::decode(&frame, &context).map_err(|e| anyhow::anyhow!("{e}"))? {
                Message::Open(remote) => {
                    let hold = remote.hold_time.min(HOLD_TIME);
                    period = (hold > 0).then(|| Duration::from_secs(u64::from(hold / 3)));
                    seen_open = true;
                    stream.write_all(&keepalive()).await?;
                }
                Message::Keepalive if seen_open => {
                    return Ok(Session {
                        stream,
                        buffer,
                        keepalive: period,
                    });
                }
                Message::Notification(notification) => {
                    bail!("peer sent NOTIFICATION {notification:?} during the handshake")
                }
                other => bail!("unexpected message during the handshake: {other:?}"),
            }
        }
        let read = tokio::time::timeout_at(deadline, stream.read_buf(&mut buffer))
            .await
            .context("handshake timed out")??;
        if read == 0 {
            bail!("peer closed the connection during the handshake");
        }
    }
}

/// A cheap hasher for prefix keys (already well spread after one multiply).
#[derive(Debug, Default, Clone, Copy)]
pub struct PrefixHasher(u64);

impl Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        let mixed = value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = mixed ^ (mixed >> 29);
    }
}

/// IPv4 prefixes as `length << 32 | address`.
pub type PrefixSet = HashSet<u64, BuildHasherDefault<PrefixHasher>>;

/// The key of an IPv4 prefix in a [`PrefixSet`].
pub fn prefix_key(address: Ipv4Addr, length: u8) -> u64 {
    (u64::from(length) << 32) | u64::from(u32::from(address))
}

/// Calls `each` for every IPv4 prefix in `field` (length byte + ceil(len/8) octets each).
/// Returns `None` when the field is malformed.
fn for_each_prefix(field: &[u8], mut each: impl FnMut(u64)) -> Option<()> {
    let mut rest = field;
    while let Some((&length, tail)) = rest.split_first() {
        if length > 32 {
            return None;
        }
        let octets = usize::from(length).div_ceil(8);
        let bytes = tail.get(..octets)?;
        let mut address = [0u8; 4];
        for (slot, byte) in address.iter_mut().zip(bytes) {
            *slot = *byte;
        }
        let mask = u32::MAX.checked_shl(32 - u32::from(length)).unwrap_or(0);
        let address = Ipv4Addr::from(u32::from_be_bytes(address) & mask);
        each(prefix_key(address, length));
        rest = tail.get(octets..)?;
    }
    Some(())
}

/// What one frame did to a receiver's prefix set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEffect {
    /// An UPDATE (possibly changing the set) or a message without routes.
    Applied,
    /// The peer sent a NOTIFICATION: the session is over.
    Notification,
    /// An UPDATE whose withdrawn or NLRI fields do not parse.
    Malformed,
}

/// Applies one whole message to `prefixes`: withdrawn routes removed, NLRI inserted (classic
/// IPv4 fields only; the bench negotiates IPv4 unicast alone). `ignore` is never inserted
/// (a client's own prefix).
pub fn apply_frame(frame: &[u8], prefixes: &mut PrefixSet, ignore: Option<u64>) -> FrameEffect {
    match frame.get(18) {
        Some(&TYPE_UPDATE) => {}
        Some(&TYPE_NOTIFICATION) => return FrameEffect::Notification,
        _ => return FrameEffect::Applied,
    }
    let applied = (|| {
        let body = frame.get(HEADER_LEN..)?;
        let withdrawn_len = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
        let withdrawn = body.get(2..2 + withdrawn_len)?;
        let attributes_at = 2 + withdrawn_len;
        let attributes_len = usize::from(u16::from_be_bytes([
            *body.get(attributes_at)?,
            *body.get(attributes_at + 1)?,
        ]));
        let nlri = body.get(attributes_at + 2 + attributes_len..)?;
        for_each_prefix(withdrawn, |key| {
            prefixes.remove(&key);
        })?;
        for_each_prefix(nlri, |key| {
            if Some(key) != ignore {
                prefixes.insert(key);
            }
        })
    })();
    match applied {
        Some(()) => FrameEffect::Applied,
        None => FrameEffect::Malformed,
    }
}

/// Cuts whole messages off the front of `buffer`, calling `each` on every one. A framing
/// error ends the session.
pub fn drain_frames(
    buffer: &mut BytesMut,
    mut each: impl FnMut(&[u8]) -> FrameEffect,
) -> anyhow::Result<()> {
    let mut consumed = 0;
    loop {
        let rest = buffer.get(consumed..).unwrap_or_default();
        let Some(len) = frame_len(rest).map_err(|e| anyhow::anyhow!("framing: {e}"))? else {
            break;
        };
        let Some(frame) = rest.get(..len) else {
            break;
        };
        match each(frame) {
            FrameEffect::Applied => {}
            FrameEffect::Notification => bail!("peer sent a NOTIFICATION"),
            FrameEffect::Malformed => bail!("malformed UPDATE"),
        }
        consumed += len;
    }
    let _ = buffer.split_to(consumed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp::packet::{PathAttributes, Update};
    use ipnetwork::Ipv4Network;

    fn update(withdrawn: &[&str], nlri: &[&str]) -> bytes::Bytes {
        let parse = |list: &[&str]| -> Vec<Ipv4Network> {
            list.iter().filter_map(|p| p.parse().ok()).collect()
        };
        Message::Update(Update {
            withdrawn: parse(withdrawn),
            attributes: PathAttributes {
                next_hop: Some(Ipv4Addr::new(198, 18, 0, 2)),
                ..PathAttributes::default()
            },
            nlri: parse(nlri),
            ..Update::default()
        })
        .to_bytes(&CodecContext::default())
        .unwrap_or_default()
    }

    #[test]
    fn counts_announcements_and_withdrawals() {
        let mut prefixes = PrefixSet::default();
        let mut stream = BytesMut::new();
        stream.extend_from_slice(&update(
            &[],
            &["198.18.0.0/15", "198.19.0.64/26", "0.0.0.0/0"],
        ));
        stream.extend_from_slice(&update(&["198.18.0.0/15"], &["198.19.0.64/26"]));
        stream.extend_from_slice(&keepalive());
        let partial = update(&[], &["203.0.113.0/24"]);
        stream.extend_from_slice(partial.get(..30).unwrap_or_default());
        drain_frames(&mut stream, |frame| apply_frame(frame, &mut prefixes, None))
            .expect("well-formed stream");
        assert_eq!(prefixes.len(), 2);
        assert!(prefixes.contains(&prefix_key(Ipv4Addr::new(198, 19, 0, 64), 26)));
        assert_eq!(stream.len(), 30, "the partial message stays buffered");
    }

    #[test]
    fn ignores_own_prefix_and_flags_garbage() {
        let mut prefixes = PrefixSet::default();
        let own = prefix_key(Ipv4Addr::new(198, 19, 0, 0), 26);
        let frame = update(&[], &["198.19.0.0/26", "198.19.0.64/26"]);
        assert_eq!(
            apply_frame(&frame, &mut prefixes, Some(own)),
            FrameEffect::Applied
        );
        assert_eq!(prefixes.len(), 1);
        let mut broken = frame.to_vec();
        if let Some(last) = broken.last_mut() {
            *last = 0;
        }
        broken.push(40);
        assert_eq!(
            apply_frame(&broken, &mut prefixes, None),
            FrameEffect::Malformed
        );
    }
}
