//! The device under test: tern's speaker, BIRD 2, FRR `bgpd` or GoBGP, each configured the
//! same way from one [`Plan`], and its peak memory read from `/proc`.
//!
//! Equivalence: every DUT listens passively for the injector and the clients (our ends
//! connect), has exactly one neighbor per end, no import or export policy beyond "all", does
//! not program a kernel table (FRR runs `bgpd -Z` without zebra, BIRD has no `kernel`
//! protocol, GoBGP and tern never do), and handles next hops the protocol default way:
//! eBGP mode rewrites the next hop to itself and prepends its AS; RR mode (iBGP, clients are
//! route-reflector clients, RFC 4456) keeps both.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::str::FromStr;

use anyhow::bail;
use interop_tests::Host;
use interop_tests::cleanup::namespace_pids;
use interop_tests::peers::{self, BgpPeer, Frr, Neighbor, PeerConfig, PeerKind};
use interop_tests::tern::{PeerSpec, SpeakerSpec, TernSpeaker};

/// Which router is under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DutKind {
    /// No router: the injector writes straight to the clients (the harness's own floor).
    None,
    Tern,
    Bird,
    Frr,
    GoBgp,
}

impl FromStr for DutKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "none" => Ok(DutKind::None),
            "tern" => Ok(DutKind::Tern),
            "bird" => Ok(DutKind::Bird),
            "frr" => Ok(DutKind::Frr),
            "gobgp" => Ok(DutKind::GoBgp),
            other => Err(format!(
                "unknown DUT {other} (none, tern, bird, frr, gobgp)"
            )),
        }
    }
}

impl fmt::Display for DutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DutKind::None => "none",
            DutKind::Tern => "tern",
            DutKind::Bird => "bird",
            DutKind::Frr => "frr",
            DutKind::GoBgp => "gobgp",
        })
    }
}

/// How the DUT relates to its neighbors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every neighbor in its own AS (route-server-like transit): next hop self, AS prepended.
    Ebgp,
    /// One AS; the clients are route-reflector clients of the DUT (RFC 4456).
    Rr,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "ebgp" => Ok(Mode::Ebgp),
            "rr" => Ok(Mode::Rr),
            other => Err(format!("unknown mode {other} (ebgp, rr)")),
        }
    }
}

/// The DUT's address and AS, and every neighbor (address, AS).
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: Mode,
    pub address: Ipv4Addr,
    pub asn: u32,
    pub neighbors: Vec<(Ipv4Addr, u32)>,
}

/// A running DUT (dropping it stops the daemon).
pub enum Running {
    None,
    Tern(Box<TernSpeaker>),
    Peer(Box<dyn BgpPeer>),
}

impl Running {
    /// Tails of the daemon's logs (for a run that did not complete).
    pub fn logs(&self) -> String {
        match self {
            Running::None => String::new(),
            Running::Tern(tern) => tern.logs(),
            Running::Peer(peer) => peer.logs(),
        }
    }
}

/// Starts `kind` in `host` following `plan`.
pub fn start(
    kind: DutKind,
    host: &Host,
    plan: &Plan,
    tern_binary: &Path,
) -> anyhow::Result<Running> {
    let rr = plan.mode == Mode::Rr;
    if kind == DutKind::Tern {
        let mut spec = SpeakerSpec::new(plan.asn, plan.address);
        if rr {
            spec = spec.cluster_id(plan.address);
        }
        for (address, asn) in &plan.neighbors {
            let mut peer = PeerSpec::new(IpAddr::V4(*address), *asn)
                .passive()
                .families(true, false)
                .hold_time(crate::wire::HOLD_TIME);
            if rr {
                peer = peer.route_reflector_client();
            }
            spec = spec.peer(peer);
        }
        return Ok(Running::Tern(Box::new(TernSpeaker::start(
            host,
            tern_binary,
            spec,
        )?)));
    }
    let mut config = PeerConfig::new(plan.address, plan.asn);
    if rr {
        config = config.cluster_id(plan.address);
    }
    for (address, asn) in &plan.neighbors {
        let mut neighbor = Neighbor::new(IpAddr::V4(*address), *asn)
            .passive()
            .families(true, false);
        if rr {
            neighbor = neighbor.route_reflector_client();
        }
        config = config.neighbor(neighbor);
    }
    Ok(match kind {
        DutKind::None => Running::None,
        DutKind::Tern => bail!("handled above"),
        DutKind::Bird => Running::Peer(peers::start(PeerKind::Bird, host, config)?),
        DutKind::Frr => Running::Peer(Box::new(Frr::start_without_zebra(host, config)?)),
        DutKind::GoBgp => Running::Peer(peers::start(PeerKind::GoBgp, host, config)?),
    })
}

/// One process's memory.
#[derive(Debug, Clone)]
pub struct Memory {
    pub command: String,
    /// Peak resident set size (VmHWM), KiB.
    pub peak_kib: u64,
    /// Current resident set size (VmRSS), KiB.
    pub current_kib: u64,
    /// CPU time used so far (user + system), seconds.
    pub cpu_seconds: f64,
}

/// User + system CPU seconds of `pid` (fields 14 and 15 of `/proc/PID/stat`, in clock ticks).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; fields after its closing parenthesis.
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (ticks > 0).then(|| (user + system) / ticks as f64)
}

/// Memory of every process in `host` (the DUT's daemons; the bench itself runs outside).
pub fn memory(host: &Host) -> Vec<Memory> {
    let mut all: Vec<Memory> = namespace_pids(host.name())
        .into_iter()
        .filter_map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|kib| kib.parse::<u64>().ok())
            };
            let command = status
                .lines()
                .find_map(|line| line.strip_prefix("Name:"))
                .map(|name| name.trim().to_string())
                .unwrap_or_default();
            Some(Memory {
                command,
                peak_kib: field("VmHWM:")?,
                current_kib: field("VmRSS:").unwrap_or(0),
                cpu_seconds: cpu_seconds(pid).unwrap_or(0.0),
            })
        })
        .collect();
    all.sort_by_key(|m| std::cmp::Reverse(m.peak_kib));
    all
}

/// The name of the DUT's main process in `/proc/PID/status` (15 chars at most).
pub fn main_process(kind: DutKind) -> &'static str {
    match kind {
        DutKind::None => "",
        DutKind::Tern => "tern-speaker",
        DutKind::Bird => "bird",
        DutKind::Frr => "bgpd",
        DutKind::GoBgp => "gobgpd",
    }
}
