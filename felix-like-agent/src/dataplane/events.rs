//! Route and link notifications (`ip monitor route link`): the rtnetlink multicast groups
//! `RTNLGRP_IPV4_ROUTE`, `RTNLGRP_IPV6_ROUTE` and `RTNLGRP_LINK`, over the `rtnetlink`
//! crate's connection.

use std::io;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use rtnetlink::MulticastGroup;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::packet_route::RouteNetlinkMessage;
use rtnetlink::sys::SocketAddr;
use tokio::task::JoinHandle;

use super::codec;
use super::route::KernelRoute;

/// Something changed in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelEvent {
    /// A main-table route was added, replaced or deleted.
    Route {
        /// The route as notified.
        route: KernelRoute,
        /// `RTM_DELROUTE` (else `RTM_NEWROUTE`).
        deleted: bool,
        /// The netlink port of the socket whose request caused it (0: the kernel itself).
        port: u32,
    },
    /// A link appeared, changed or went away.
    Link,
    /// Notifications were lost (the socket's buffer overflowed): resynchronize.
    Overrun,
}

/// A subscription to route and link notifications, in the current network namespace.
#[derive(Debug)]
pub struct KernelEvents {
    messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
    connection: JoinHandle<()>,
}

impl KernelEvents {
    /// Subscribes. Must run inside a tokio runtime.
    pub fn subscribe() -> io::Result<Self> {
        let (connection, _handle, messages) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Ipv4Route,
            MulticastGroup::Ipv6Route,
            MulticastGroup::Link,
        ])?;
        Ok(KernelEvents {
            messages,
            connection: tokio::spawn(connection),
        })
    }

    /// The next event; `None` when the subscription ended.
    pub async fn next(&mut self) -> Option<KernelEvent> {
        loop {
            let (message, _) = self.messages.next().await?;
            if let Some(event) = classify(&message) {
                return Some(event);
            }
        }
    }
}

impl Drop for KernelEvents {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// The event a notification stands for, if it matters.
pub fn classify(message: &NetlinkMessage<RouteNetlinkMessage>) -> Option<KernelEvent> {
    match &message.payload {
        NetlinkPayload::Overrun(_) => Some(KernelEvent::Overrun),
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewRoute(route)) => {
            Some(KernelEvent::Route {
                route: codec::parse_route(route)?,
                deleted: false,
                port: message.header.port_number,
            })
        }
        NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelRoute(route)) => {
            Some(KernelEvent::Route {
                route: codec::parse_route(route)?,
                deleted: true,
                port: message.header.port_number,
            })
        }
        NetlinkPayload::InnerMessage(
            RouteNetlinkMessage::NewLink(_) | RouteNetlinkMessage::DelLink(_),
        ) => Some(KernelEvent::Link),
        _ => None,
    }
}
