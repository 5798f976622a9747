//! The kernel side over one rtnetlink socket (blocking; call it from a blocking task):
//! dump the main table, list links, and apply [`RouteOp`]s in batches.
//!
//! Batching: many `RTM_NEWROUTE`/`RTM_DELROUTE` messages go into one `sendmsg` (up to
//! [`BATCH_BYTES`]); the kernel processes them in order inside that call and queues an
//! error for each one that fails. Only the last message of a batch asks for an ACK, so the
//! reply is one ACK plus the errors. `ip -batch` by contrast sends one request and waits for
//! its ACK per route. The `rtnetlink` crate's request API also awaits one ACK per request,
//! so the batch path uses its socket (`netlink-sys`) and packet types directly.

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;

use ipnetwork::IpNetwork;
use rtnetlink::packet_core::{
    NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REPLACE, NLM_F_REQUEST,
    NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use rtnetlink::packet_route::link::{LinkAttribute, LinkMessage};
use rtnetlink::packet_route::route::{RouteHeader, RouteMessage};
use rtnetlink::packet_route::{AddressFamily, RouteNetlinkMessage};
use rtnetlink::sys::{Socket, SocketAddr, protocols::NETLINK_ROUTE};

use super::codec::{self, default_metric};
use super::diff::{ActualTable, RouteOp};

/// Most bytes of route messages sent in one `sendmsg` (below the default socket send
/// buffer, which bounds one datagram).
pub const BATCH_BYTES: usize = 64 * 1024;

/// Receive buffer asked for (`SO_RCVBUFFORCE`, falling back to `SO_RCVBUF`): room for the
/// errors of a whole batch and for large dump chunks.
const RECEIVE_BUFFER: usize = 8 * 1024 * 1024;

/// How long to wait for the kernel's answer before giving up on a batch or dump.
const RECEIVE_TIMEOUT_SECONDS: libc::time_t = 5;

/// Why a kernel request failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The socket could not be opened or used.
    #[error("rtnetlink socket: {0}")]
    Io(#[from] io::Error),
    /// The kernel answered a dump with an error.
    #[error("{request}: {source}")]
    Request {
        /// The `ip` command the request equals.
        request: &'static str,
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// The kernel's answer did not decode.
    #[error("undecodable rtnetlink message: {0}")]
    Decode(String),
}

/// What applying a list of operations did.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// Operations that took effect (a delete of a route already gone counts).
    pub applied: usize,
    /// Operations the kernel refused, with the errno.
    pub failed: Vec<(RouteOp, i32)>,
}

/// One rtnetlink socket for tern's route requests.
#[derive(Debug)]
pub struct RouteSocket {
    socket: Socket,
    port: u32,
    sequence: u32,
    send: Vec<u8>,
    receive: Vec<u8>,
}

impl RouteSocket {
    /// Opens a socket in the current network namespace.
    pub fn open() -> Result<Self, KernelError> {
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        let address = socket.bind_auto()?;
        socket.set_cap_ack(true)?;
        socket.set_netlink_get_strict_chk(true)?;
        set_receive_buffer(&socket, RECEIVE_BUFFER);
        set_receive_timeout(&socket, RECEIVE_TIMEOUT_SECONDS)?;
        socket.connect(&SocketAddr::new(0, 0))?;
        Ok(RouteSocket {
            socket,
            port: address.port_number(),
            sequence: 0,
            send: Vec::with_capacity(BATCH_BYTES + 4096),
            receive: vec![0; 1024 * 1024],
        })
    }

    /// The socket's netlink port: route notifications caused by this socket carry it.
    pub fn port(&self) -> u32 {
        self.port
    }

    fn push(&mut self, message: RouteNetlinkMessage, flags: u16) -> u32 {
        self.sequence = self.sequence.wrapping_add(1);
        let mut header = NetlinkHeader::default();
        header.flags = flags;
        header.sequence_number = self.sequence;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(message));
        packet.finalize();
        let start = self.send.len();
        let length = packet.buffer_len();
        self.send.resize(start + length.next_multiple_of(4), 0);
        packet.serialize(&mut self.send[start..start + length]);
        self.sequence
    }

    fn flush(&mut self) -> Result<(), KernelError> {
        let result = self.socket.send(&self.send, 0);
        self.send.clear();
        result?;
        Ok(())
    }

    /// Receives one datagram; returns its length.
    fn receive(&mut self) -> Result<usize, KernelError> {
        // SAFETY: the buffer is valid for writes of its whole length.
        let length = unsafe {
            libc::recv(
                self.socket.as_raw_fd(),
                self.receive.as_mut_ptr().cast(),
                self.receive.len(),
                0,
            )
        };
        usize::try_from(length).map_err(|_| KernelError::Io(io::Error::last_os_error()))
    }

    /// Runs a dump request and hands every answer to `each`. Returns false when the kernel
    /// flagged the dump as interrupted (the table changed meanwhile; dump again).
    fn dump(
        &mut self,
        request: RouteNetlinkMessage,
        name: &'static str,
        mut each: impl FnMut(RouteNetlinkMessage),
    ) -> Result<bool, KernelError> {
        let sequence = self.push(request, NLM_F_REQUEST | NLM_F_DUMP);
        self.flush()?;
        let mut consistent = true;
        loop {
            for message in self.receive_messages()? {
                if message.header.sequence_number != sequence {
                    continue;
                }
                if message.header.flags & NLM_F_DUMP_INTR != 0 {
                    consistent = false;
                }
                match message.payload {
                    NetlinkPayload::Done(_) => return Ok(consistent),
                    NetlinkPayload::Error(error) if error.code.is_some() => {
                        return Err(KernelError::Request {
                            request: name,
                            source: error.to_io(),
                        });
                    }
                    NetlinkPayload::InnerMessage(inner) => each(inner),
                    _ => {}
                }
            }
        }
    }

    /// The main table, both families (`ip route show table main; ip -6 route show table
    /// main`): tern's routes and, at the default metric, which protocol holds each other
    /// destination.
    pub fn dump_main(&mut self) -> Result<ActualTable, KernelError> {
        for _attempt in 0..4 {
            let mut table = ActualTable::default();
            let mut consistent = true;
            for family in [AddressFamily::Inet, AddressFamily::Inet6] {
                let mut request = RouteMessage::default();
                request.header.address_family = family;
                request.header.table = RouteHeader::RT_TABLE_MAIN;
                consistent &= self.dump(
                    RouteNetlinkMessage::GetRoute(request),
                    "ip route show table main",
                    |message| {
                        if let RouteNetlinkMessage::NewRoute(route) = message
                            && let Some(route) = codec::parse_route(&route)
                        {
                            let destination = route.route.destination;
                            if route.is_tern() {
                                table.tern.entry(destination).or_insert(route);
                            } else if route.metric == default_metric(&destination) {
                                table.foreign.insert(destination, route.protocol);
                            }
                        }
                    },
                )?;
            }
            if consistent {
                return Ok(table);
            }
        }
        Err(KernelError::Request {
            request: "ip route show table main",
            source: io::Error::other("the dump kept being interrupted by changes"),
        })
    }

    /// Interface names to indexes (`ip link show`).
    pub fn links(&mut self) -> Result<HashMap<String, u32>, KernelError> {
        let mut links = HashMap::new();
        self.dump(
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            "ip link show",
            |message| {
                if let RouteNetlinkMessage::NewLink(link) = message {
                    for attribute in &link.attributes {
                        if let LinkAttribute::IfName(name) = attribute {
                            links.insert(name.clone(), link.header.index);
                        }
                    }
                }
            },
        )?;
        Ok(links)
    }

    /// Applies `operations` in order, in batches. Routes must have their devices resolved.
    pub fn apply(&mut self, operations: &[RouteOp]) -> Result<ApplyReport, KernelError> {
        let mut report = ApplyReport::default();
        let mut start = 0;
        while start < operations.len() {
            let first_sequence = self.sequence.wrapping_add(1);
            let mut end = start;
            let mut encoded: Vec<usize> = Vec::new(); // operation index per sequence number
            while end < operations.len() && self.send.len() < BATCH_BYTES {
                let operation = &operations[end];
                let message = match operation {
                    RouteOp::Replace(route) => match codec::new_route(route) {
                        Ok(message) => Some((
                            RouteNetlinkMessage::NewRoute(message),
                            NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE,
                        )),
                        Err(_) => None,
                    },
                    RouteOp::Delete(destination) => Some((
                        RouteNetlinkMessage::DelRoute(codec::delete_route(destination)),
                        NLM_F_REQUEST,
                    )),
                };
                match message {
                    Some((message, flags)) => {
                        // The last message of the batch gets NLM_F_ACK (added below).
                        self.push(message, flags);
                        encoded.push(end);
                    }
                    None => report.failed.push((operation.clone(), libc::ENODEV)),
                }
                end += 1;
            }
            start = end;
            if encoded.is_empty() {
                continue;
            }
            let last_sequence = self.sequence;
            self.request_ack_on_last();
            self.flush()?;
            let mut failed_here = Vec::new();
            self.await_ack(last_sequence, |sequence, errno| {
                let index = sequence.wrapping_sub(first_sequence) as usize;
                if let Some(&operation) = encoded.get(index) {
                    failed_here.push((operation, errno));
                }
            })?;
            let mut failed_count = 0;
            for (index, errno) in failed_here {
                let operation = &operations[index];
                if matches!(operation, RouteOp::Delete(_)) && errno == libc::ESRCH {
                    continue; // already gone: the outcome wanted
                }
                failed_count += 1;
                report.failed.push((operation.clone(), errno));
            }
            report.applied += encoded.len() - failed_count;
        }
        Ok(report)
    }

    /// Sets `NLM_F_ACK` on the last message in the send buffer.
    fn request_ack_on_last(&mut self) {
        let mut offset = 0;
        let mut last = 0;
        while offset + 16 <= self.send.len() {
            last = offset;
            let length = u32::from_ne_bytes([
                self.send[offset],
                self.send[offset + 1],
                self.send[offset + 2],
                self.send[offset + 3],
            ]) as usize;
            offset += length.next_multiple_of(4).max(16);
        }
        let flags = u16::from_ne_bytes([self.send[last + 6], self.send[last + 7]]) | NLM_F_ACK;
        self.send[last + 6..last + 8].copy_from_slice(&flags.to_ne_bytes());
    }

    /// One read from the socket, cut into the netlink messages it holds.
    fn receive_messages(
        &mut self,
    ) -> Result<Vec<NetlinkMessage<RouteNetlinkMessage>>, KernelError> {
        let length = self.receive()?;
        let mut messages = Vec::new();
        let mut offset = 0;
        while offset + 16 <= length {
            let message =
                NetlinkMessage::<RouteNetlinkMessage>::deserialize(&self.receive[offset..length])
                    .map_err(|e| KernelError::Decode(e.to_string()))?;
            offset += (message.header.length as usize).next_multiple_of(4).max(16);
            messages.push(message);
        }
        Ok(messages)
    }

    /// Reads answers until the ACK of `last_sequence`, reporting each error.
    fn await_ack(
        &mut self,
        last_sequence: u32,
        mut on_error: impl FnMut(u32, i32),
    ) -> Result<(), KernelError> {
        loop {
            for message in self.receive_messages()? {
                let sequence = message.header.sequence_number;
                if let NetlinkPayload::Error(error) = message.payload {
                    if let Some(code) = error.code {
                        on_error(sequence, -code.get());
                    }
                    if sequence == last_sequence {
                        return Ok(());
                    }
                }
            }
        }
    }
}

fn set_receive_buffer(socket: &Socket, size: usize) {
    let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
        // SAFETY: a plain setsockopt with an int value on an owned socket.
        let result = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                option,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if result == 0 {
            return;
        }
    }
}

fn set_receive_timeout(socket: &Socket, seconds: libc::time_t) -> io::Result<()> {
    let timeout = libc::timeval {
        tv_sec: seconds,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a timeval on an owned socket.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Resolves named devices of `route` to indexes; `None` when a device does not exist.
pub fn resolve_devices(
    route: &super::route::DesiredRoute,
    links: &HashMap<String, u32>,
) -> Option<super::route::DesiredRoute> {
    use super::route::{Device, RouteKind};
    let RouteKind::Unicast(hops) = &route.kind else {
        return Some(route.clone());
    };
    let mut resolved = Vec::with_capacity(hops.len());
    for hop in hops {
        let mut hop = hop.clone();
        if let Some(Device::Name(name)) = &hop.device {
            hop.device = Some(Device::Index(*links.get(name)?));
        }
        resolved.push(hop);
    }
    super::route::DesiredRoute::unicast(route.destination, resolved)
}

/// Whether any next hop of `route` names its device.
pub fn has_named_device(route: &super::route::DesiredRoute) -> bool {
    route
        .next_hops()
        .iter()
        .any(|hop| matches!(hop.device, Some(super::route::Device::Name(_))))
}

/// A destination, for logs.
pub fn describe(operation: &RouteOp) -> String {
    match operation {
        RouteOp::Replace(route) => format!("ip route replace {route} proto tern"),
        RouteOp::Delete(destination) => format!("ip route del {destination} proto tern"),
    }
}

/// Every destination in `operations`.
pub fn destinations(operations: &[RouteOp]) -> Vec<IpNetwork> {
    operations.iter().map(RouteOp::destination).collect()
}
