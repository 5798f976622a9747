//! Links between hosts: a veth pair straight between two hosts, or a [`Switch`] (a bridge in its
//! own namespace) that puts many hosts on one L2 segment.
//!
//! Veth ends are created directly inside their namespaces (`ip link add A netns X type veth peer
//! name B netns Y`), so nothing ever appears in the root namespace. Interface names come from
//! the host's counter (`eth0`, `eth1`, …), unique per host and at most 15 chars.

use std::sync::atomic::{AtomicU32, Ordering};

use ipnetwork::IpNetwork;

use crate::command;
use crate::error::Result;
use crate::netns::Host;

/// One veth pair: `a_interface` lives in `a_netns`, `b_interface` in `b_netns`.
#[derive(Debug, Clone)]
pub struct Veth {
    /// Namespace of the first end.
    pub a_netns: String,
    /// Interface name of the first end.
    pub a_interface: String,
    /// Namespace of the second end.
    pub b_netns: String,
    /// Interface name of the second end.
    pub b_interface: String,
}

impl Veth {
    /// Creates a veth pair between `a` and `b` and brings both ends up.
    pub fn new(a: &Host, b: &Host) -> Result<Veth> {
        let a_interface = a.next_interface_name("eth");
        let b_interface = b.next_interface_name("eth");
        command::ip(&[
            "link",
            "add",
            &a_interface,
            "netns",
            a.name(),
            "type",
            "veth",
            "peer",
            "name",
            &b_interface,
            "netns",
            b.name(),
        ])?;
        a.set_link_up(&a_interface)?;
        b.set_link_up(&b_interface)?;
        Ok(Veth {
            a_netns: a.name().to_string(),
            a_interface,
            b_netns: b.name().to_string(),
            b_interface,
        })
    }

    /// Creates a veth pair and assigns the given addresses (v4 and/or v6) to each end.
    pub fn with_addresses(
        a: &Host,
        a_addresses: &[IpNetwork],
        b: &Host,
        b_addresses: &[IpNetwork],
    ) -> Result<Veth> {
        let veth = Veth::new(a, b)?;
        for address in a_addresses {
            a.add_address(&veth.a_interface, *address)?;
        }
        for address in b_addresses {
            b.add_address(&veth.b_interface, *address)?;
        }
        Ok(veth)
    }

    /// Sets both ends up or down (a cable pulled, as both sides see it).
    pub fn set_up(&self, up: bool) -> Result<()> {
        let state = if up { "up" } else { "down" };
        command::ip(&["-n", &self.a_netns, "link", "set", &self.a_interface, state])?;
        command::ip(&["-n", &self.b_netns, "link", "set", &self.b_interface, state])?;
        Ok(())
    }
}

/// An L2 segment: a Linux bridge `br0` inside its own namespace. A bridge takes at most 1024
/// ports.
#[derive(Debug)]
pub struct Switch {
    host: Host,
    port_counter: AtomicU32,
}

/// A host's attachment to a switch.
#[derive(Debug, Clone)]
pub struct SwitchPort {
    /// Interface name inside the attached host.
    pub host_interface: String,
    /// Port name inside the switch namespace.
    pub switch_interface: String,
}

impl Switch {
    /// The bridge's name inside the switch namespace.
    pub const BRIDGE: &'static str = "br0";

    /// Creates the switch namespace and its bridge (no STP, no forwarding delay, no multicast
    /// snooping, so IPv6 neighbour discovery works at once).
    pub fn new(label: &str) -> Result<Switch> {
        let host = Host::new(label)?;
        host.ip(&[
            "link",
            "add",
            Self::BRIDGE,
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ])?;
        host.set_sysctl("net.ipv6.conf.br0.disable_ipv6", "1")?;
        host.set_link_up(Self::BRIDGE)?;
        Ok(Switch {
            host,
            port_counter: AtomicU32::new(0),
        })
    }

    /// The namespace holding the bridge.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Plugs `host` into the switch; returns the port (the host's interface is up).
    pub fn connect(&self, host: &Host) -> Result<SwitchPort> {
        let n = self.port_counter.fetch_add(1, Ordering::Relaxed);
        let switch_interface = format!("p{n}");
        let host_interface = host.next_interface_name("eth");
        command::ip(&[
            "link",
            "add",
            &switch_interface,
            "netns",
            self.host.name(),
            "type",
            "veth",
            "peer",
            "name",
            &host_interface,
            "netns",
            host.name(),
        ])?;
        self.host
            .ip(&["link", "set", &switch_interface, "master", Self::BRIDGE])?;
        self.host.set_link_up(&switch_interface)?;
        host.set_link_up(&host_interface)?;
        Ok(SwitchPort {
            host_interface,
            switch_interface,
        })
    }

    /// Plugs `host` in and gives its interface the addresses.
    pub fn connect_with_addresses(
        &self,
        host: &Host,
        addresses: &[IpNetwork],
    ) -> Result<SwitchPort> {
        let port = self.connect(host)?;
        for address in addresses {
            host.add_address(&port.host_interface, *address)?;
        }
        Ok(port)
    }

    /// Sets the switch side of a port up or down (the host sees carrier loss).
    pub fn set_port_up(&self, port: &SwitchPort, up: bool) -> Result<()> {
        match up {
            true => self.host.set_link_up(&port.switch_interface),
            false => self.host.set_link_down(&port.switch_interface),
        }
    }
}
