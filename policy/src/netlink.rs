//! Element changes of `table inet tern` straight over nf_tables netlink, without running `nft`.
//!
//! `nft -f` reads the whole table into its cache before it applies anything, which costs tens of
//! milliseconds on a 10,000-pod table even for a one-element change. Pod churn only adds and
//! deletes elements of hash sets and verdict maps, so [`apply_batch`] sends those as one
//! nfnetlink batch (`NFNL_MSG_BATCH_BEGIN`, `NFT_MSG_NEWSETELEM` / `NFT_MSG_DELSETELEM` …,
//! `NFNL_MSG_BATCH_END`): one kernel transaction, all or nothing, as with `nft -f`.
//!
//! Encoding (linux/netfilter/nf_tables.h, libnftnl): a key is `NFTA_DATA_VALUE` bytes; each
//! field of a concatenation is padded to 4 bytes (`ipv4 . inet_proto . inet_service` is 12
//! bytes, the port in network order); a map's data is `NFTA_DATA_VERDICT` with `NFT_JUMP` and
//! the chain name; a comment is libnftnl user data (type 0 `NFTNL_UDATA_SET_ELEM_COMMENT`, length,
//! the text with its NUL), so `nft list` shows it as `nft -f` would have written it.
//! Interval sets are never changed here (their elements are ranges with end flags).

use std::fs::File;
use std::net::IpAddr;
use std::os::fd::AsRawFd;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_NETFILTER};

use crate::ir::SetElement;

const NFNL_SUBSYS_NFTABLES: u16 = 10;
const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
const NFNL_MSG_BATCH_END: u16 = 0x11;
const NFT_MSG_NEWSETELEM: u16 = 12;
const NFT_MSG_DELSETELEM: u16 = 14;
const NFPROTO_INET: u8 = 1;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_CREATE: u16 = 0x400;
const NLMSG_ERROR: u16 = 2;
const NLA_F_NESTED: u16 = 0x8000;

const NFTA_SET_ELEM_LIST_TABLE: u16 = 1;
const NFTA_SET_ELEM_LIST_SET: u16 = 2;
const NFTA_SET_ELEM_LIST_ELEMENTS: u16 = 3;
const NFTA_LIST_ELEM: u16 = 1;
const NFTA_SET_ELEM_KEY: u16 = 1;
const NFTA_SET_ELEM_DATA: u16 = 2;
const NFTA_SET_ELEM_USERDATA: u16 = 6;
const NFTA_DATA_VALUE: u16 = 1;
const NFTA_DATA_VERDICT: u16 = 2;
const NFTA_VERDICT_CODE: u16 = 1;
const NFTA_VERDICT_CHAIN: u16 = 2;
const NFT_JUMP: i32 = -3;
const NFTNL_UDATA_SET_ELEM_COMMENT: u8 = 0;

/// One element to add or delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Element {
    /// The key as nf_tables stores it.
    pub key: Vec<u8>,
    /// For verdict maps: the chain to jump to (only when adding).
    pub jump: Option<String>,
    /// The element's comment (only when adding).
    pub comment: Option<String>,
}

/// Adding or deleting elements of one set or map of `table inet tern`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElementOp {
    /// Delete (else add).
    pub delete: bool,
    /// The set or map name.
    pub set: String,
    /// The elements.
    pub elements: Vec<Element>,
}

/// The key bytes of an address.
pub fn address_key(address: &IpAddr) -> Vec<u8> {
    match address {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// The key bytes of a hash-set element; `None` for ranges (interval sets are not handled here).
pub fn element_key(element: &SetElement) -> Option<Vec<u8>> {
    match element {
        SetElement::Address(address) => Some(address_key(address)),
        SetElement::Range(_) => None,
        SetElement::Tuple(address, protocol, port) => {
            let mut key = address_key(address);
            key.extend_from_slice(&[protocol.number(), 0, 0, 0]);
            key.extend_from_slice(&port.to_be_bytes());
            key.extend_from_slice(&[0, 0]);
            Some(key)
        }
    }
}

fn align(length: usize) -> usize {
    (length + 3) & !3
}

/// Appends one attribute; returns its start for [`finish_nested`].
fn attribute(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    let length = 4 + payload.len();
    out.extend_from_slice(&(length as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(align(out.len()), 0);
}

fn nested(out: &mut Vec<u8>, kind: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
    fill(out);
    let length = (out.len() - start) as u16;
    out[start..start + 2].copy_from_slice(&length.to_ne_bytes());
}

fn text(value: &str) -> Vec<u8> {
    let mut bytes = value.as_bytes().to_vec();
    bytes.push(0);
    bytes
}

/// One netlink message: header, nfgenmsg, attributes.
fn message(
    out: &mut Vec<u8>,
    kind: u16,
    flags: u16,
    sequence: u32,
    family: u8,
    resource: u16,
    body: &[u8],
) {
    let length = 16 + 4 + body.len();
    out.extend_from_slice(&(length as u32).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&sequence.to_ne_bytes());
    out.extend_from_slice(&0u32.to_ne_bytes());
    out.extend_from_slice(&[family, 0]);
    out.extend_from_slice(&resource.to_be_bytes());
    out.extend_from_slice(body);
}

fn element_body(table: &str, op: &ElementOp) -> Vec<u8> {
    let mut body = Vec::new();
    attribute(&mut body, NFTA_SET_ELEM_LIST_TABLE, &text(table));
    attribute(&mut body, NFTA_SET_ELEM_LIST_SET, &text(&op.set));
    nested(&mut body, NFTA_SET_ELEM_LIST_ELEMENTS, |list| {
        for element in &op.elements {
            nested(list, NFTA_LIST_ELEM, |item| {
                nested(item, NFTA_SET_ELEM_KEY, |key| {
                    attribute(key, NFTA_DATA_VALUE, &element.key)
                });
                if op.delete {
                    return;
                }
                if let Some(chain) = &element.jump {
                    nested(item, NFTA_SET_ELEM_DATA, |data| {
                        nested(data, NFTA_DATA_VERDICT, |verdict| {
                            attribute(verdict, NFTA_VERDICT_CODE, &NFT_JUMP.to_be_bytes());
                            attribute(verdict, NFTA_VERDICT_CHAIN, &text(chain));
                        });
                    });
                }
                if let Some(comment) = &element.comment {
                    let value = text(comment);
                    let mut data = vec![NFTNL_UDATA_SET_ELEM_COMMENT, value.len() as u8];
                    data.extend_from_slice(&value);
                    attribute(item, NFTA_SET_ELEM_USERDATA, &data);
                }
            });
        }
    });
    body
}

/// The batch as bytes, and how many acknowledgements it asks for.
pub fn encode_batch(table: &str, ops: &[ElementOp]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut sequence = 1;
    let subsystem = NFNL_SUBSYS_NFTABLES;
    message(
        &mut out,
        NFNL_MSG_BATCH_BEGIN,
        NLM_F_REQUEST,
        sequence,
        0,
        subsystem,
        &[],
    );
    for op in ops.iter().filter(|op| !op.elements.is_empty()) {
        sequence += 1;
        let (kind, flags) = if op.delete {
            (NFT_MSG_DELSETELEM, NLM_F_REQUEST | NLM_F_ACK)
        } else {
            (NFT_MSG_NEWSETELEM, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE)
        };
        let body = element_body(table, op);
        message(
            &mut out,
            (subsystem << 8) | kind,
            flags,
            sequence,
            NFPROTO_INET,
            0,
            &body,
        );
    }
    let acknowledgements = sequence as usize - 1;
    sequence += 1;
    message(
        &mut out,
        NFNL_MSG_BATCH_END,
        NLM_F_REQUEST,
        sequence,
        0,
        subsystem,
        &[],
    );
    (out, acknowledgements)
}

/// Opens a netfilter netlink socket, inside `/run/netns/<netns>` when given.
fn open(netns: Option<&str>) -> std::io::Result<Socket> {
    let Some(name) = netns else {
        return Socket::new(NETLINK_NETFILTER);
    };
    let path = format!("/run/netns/{name}");
    let namespace = File::open(path)?;
    // A socket belongs to the namespace it was created in: make it on a thread that entered
    // the namespace, then use it from here.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                if unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Socket::new(NETLINK_NETFILTER)
            })
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("netns thread panicked")))
    })
}

/// Sends the ops as one transaction and waits for the kernel's answer.
pub fn apply_batch(netns: Option<&str>, table: &str, ops: &[ElementOp]) -> std::io::Result<()> {
    let (bytes, expected) = encode_batch(table, ops);
    if expected == 0 {
        return Ok(());
    }
    let mut socket = open(netns)?;
    socket.bind_auto()?;
    socket.connect(&SocketAddr::new(0, 0))?;
    let timeout = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    let status = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const timeout).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if status != 0 {
        return Err(std::io::Error::last_os_error());
    }
    socket.send(&bytes, 0)?;
    let mut acknowledged = 0;
    let mut buffer = vec![0u8; 64 * 1024];
    while acknowledged < expected {
        let length = socket.recv(&mut &mut buffer[..], 0)?;
        let mut rest = buffer.get(..length).unwrap_or_default();
        while rest.len() >= 16 {
            let size = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let kind = u16::from_ne_bytes([rest[4], rest[5]]);
            if size < 16 || size > rest.len() {
                break;
            }
            if kind == NLMSG_ERROR && size >= 20 {
                let code = i32::from_ne_bytes([rest[16], rest[17], rest[18], rest[19]]);
                if code != 0 {
                    return Err(std::io::Error::from_raw_os_error(-code));
                }
                acknowledged += 1;
            }
            rest = rest.get(align(size)..).unwrap_or_default();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::Protocol;

    #[test]
    fn tuple_keys_pad_every_field_to_four_bytes() {
        let key = element_key(&SetElement::Tuple(
            "198.19.0.1".parse().unwrap(),
            Protocol::Udp,
            53,
        ))
        .unwrap();
        assert_eq!(key, [198, 19, 0, 1, 17, 0, 0, 0, 0, 53, 0, 0]);
        assert_eq!(
            element_key(&SetElement::Address("::1".parse().unwrap()))
                .unwrap()
                .len(),
            16
        );
    }

    #[test]
    fn a_batch_is_framed_by_begin_and_end_and_acks_each_op() {
        let op = ElementOp {
            delete: false,
            set: "ingress/v4".into(),
            elements: vec![Element {
                key: vec![198, 19, 0, 1],
                jump: Some("chain".into()),
                comment: Some("x/a".into()),
            }],
        };
        let empty = ElementOp {
            elements: Vec::new(),
            ..op.clone()
        };
        let (bytes, acks) = encode_batch("tern", &[op, empty]);
        assert_eq!(acks, 1);
        let first = u32::from_ne_bytes(bytes[0..4].try_into().unwrap()) as usize;
        assert_eq!(first, 20);
        assert_eq!(
            u16::from_ne_bytes([bytes[4], bytes[5]]),
            NFNL_MSG_BATCH_BEGIN
        );
        let second = u32::from_ne_bytes(bytes[20..24].try_into().unwrap()) as usize;
        assert_eq!(second % 4, 0);
        assert_eq!(bytes.len(), 20 + second + 20);
        let tail = &bytes[20 + second..];
        assert_eq!(u16::from_ne_bytes([tail[4], tail[5]]), NFNL_MSG_BATCH_END);
    }
}
