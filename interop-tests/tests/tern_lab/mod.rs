//! Shared pieces of the routing-engine tests (route reflection, graceful restart, filters,
//! max-prefix): one switch with hosts on a /24, tern and real routers on them, failure
//! messages carrying every host's log tails, and polling helpers. Builds on `tern_common`
//! (each test crate declares both modules).

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use interop_tests::peers::{self, BgpPeer, PeerConfig, PeerKind, PeerRoute};
use interop_tests::tern::{SpeakerSpec, TernSpeaker};
use interop_tests::{Host, Switch, logs};
use ipnetwork::IpNetwork;

pub use crate::tern_common::{CONVERGE, net, tern_binary};

/// How often the polling helpers look.
pub const POLL: Duration = Duration::from_millis(50);

/// Hosts on one switch, all in `SUBNET.0/24` and `2001:db8:0:C::/64` (C: the subnet's third
/// octet).
pub struct Lab {
    pub switch: Switch,
    subnet: [u8; 3],
    hosts: Vec<Host>,
}

impl Lab {
    /// A switch for hosts `a.b.c.N/24`.
    pub fn new(label: &str, subnet: [u8; 3]) -> Lab {
        Lab {
            switch: Switch::new(&format!("{label}-sw")).expect("switch"),
            subnet,
            hosts: Vec::new(),
        }
    }

    /// The address of host `octet`.
    pub fn address(&self, octet: u8) -> Ipv4Addr {
        let [a, b, c] = self.subnet;
        Ipv4Addr::new(a, b, c, octet)
    }

    /// The IPv6 address of host `octet`.
    pub fn address6(&self, octet: u8) -> Ipv6Addr {
        Ipv6Addr::new(
            0x2001,
            0xdb8,
            0,
            self.subnet[2].into(),
            0,
            0,
            0,
            octet.into(),
        )
    }

    /// A host plugged into the switch with addresses `.octet` and `::octet`.
    pub fn host(&mut self, label: &str, octet: u8) -> Host {
        let host = Host::new(label).expect("host");
        let v4 = IpNetwork::new(IpAddr::V4(self.address(octet)), 24).expect("address");
        let v6 = IpNetwork::new(IpAddr::V6(self.address6(octet)), 64).expect("address");
        self.switch
            .connect_with_addresses(&host, &[v4, v6])
            .expect("connect");
        self.hosts.push(host.clone());
        host
    }

    /// Starts a router of `kind`, failing with every log on error.
    pub fn router(&self, kind: PeerKind, host: &Host, config: PeerConfig) -> Box<dyn BgpPeer> {
        peers::start(kind, host, config)
            .unwrap_or_else(|e| self.fail(format!("start {kind:?}: {e}")))
    }

    /// Starts tern in `host`.
    pub fn tern(&self, host: &Host, spec: SpeakerSpec) -> TernSpeaker {
        TernSpeaker::start(host, tern_binary(), spec)
            .unwrap_or_else(|e| self.fail(format!("start tern: {e}")))
    }

    /// Panics with `error` and every host's log tails.
    pub fn fail(&self, error: impl std::fmt::Display) -> ! {
        let hosts: Vec<&Host> = self.hosts.iter().collect();
        panic!("{error}\n{}", logs::dump(&hosts))
    }

    /// Unwraps or fails with logs.
    pub fn check<T, E: std::fmt::Display>(&self, result: Result<T, E>) -> T {
        result.unwrap_or_else(|e| self.fail(e))
    }

    /// Waits until `peer` has its session with `neighbor` Established.
    pub fn established(&self, peer: &dyn BgpPeer, neighbor: Ipv4Addr) {
        self.check(peer.wait_established(IpAddr::V4(neighbor), CONVERGE));
    }

    /// Polls `probe` every [`POLL`] until it yields a value or `timeout` passes; the error
    /// names `what` and the probe's last complaint.
    pub fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut() -> Result<Option<T>, String>,
    ) -> T {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("never probed");
        loop {
            match probe() {
                Ok(Some(value)) => return value,
                Ok(None) => {}
                Err(e) => last = e,
            }
            if Instant::now() >= deadline {
                self.fail(format!(
                    "timed out after {timeout:?} waiting for {what}: {last}"
                ));
            }
            std::thread::sleep(POLL);
        }
    }
}

/// The path for `prefix` a router received from `from` (any, when `None`).
pub fn path_from(
    peer: &dyn BgpPeer,
    prefix: IpNetwork,
    from: Option<IpAddr>,
) -> Result<Option<PeerRoute>, String> {
    let routes = peer.routes_for(prefix).map_err(|e| e.to_string())?;
    Ok(routes
        .into_iter()
        .find(|route| from.is_none() || route.from == from))
}

/// Milliseconds, for printed figures.
pub fn ms(duration: Duration) -> u128 {
    duration.as_millis()
}
