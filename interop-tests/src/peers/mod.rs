//! Drivers for real BGP routers running inside a [`Host`]: BIRD 2, FRR `bgpd`, GoBGP and
//! ExaBGP. Each renders the same [`PeerConfig`], starts the daemon with its logs in the host's
//! temp dir, and answers queries in the same normalized types ([`PeerRoute`],
//! [`SessionState`]), so tests are written once for all four.
//!
//! `rib()` returns the paths the router *received* from its neighbors (not the ones it
//! originates), best and non-best.

pub mod bird;
pub mod config;
pub mod daemon;
pub mod exabgp;
pub mod frr;
pub mod gobgp;
pub mod route;

use std::net::IpAddr;
use std::time::Duration;

use ipnetwork::IpNetwork;

pub use bird::Bird;
pub use config::{Community, Neighbor, PeerConfig, Route, Ttl};
pub use exabgp::ExaBgp;
pub use frr::Frr;
pub use gobgp::GoBgp;
pub use route::{PeerRoute, SessionState};

use crate::error::{Error, Result};
use crate::netns::Host;
use crate::wait::wait_until;

/// Which router implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    /// BIRD 2.
    Bird,
    /// FRR `bgpd` (without zebra).
    Frr,
    /// GoBGP.
    GoBgp,
    /// ExaBGP.
    ExaBgp,
}

impl PeerKind {
    /// All four.
    pub const ALL: [PeerKind; 4] = [
        PeerKind::Bird,
        PeerKind::Frr,
        PeerKind::GoBgp,
        PeerKind::ExaBgp,
    ];
}

/// The operations every peer driver offers.
pub trait BgpPeer: Send {
    /// Which implementation this is.
    fn kind(&self) -> PeerKind;

    /// The host it runs in.
    fn host(&self) -> &Host;

    /// The current configuration (originated routes follow `announce`/`withdraw`).
    fn config(&self) -> &PeerConfig;

    /// Paths received from neighbors (see the module docs).
    fn rib(&self) -> Result<Vec<PeerRoute>>;

    /// State of the session with `neighbor`.
    fn session_state(&self, neighbor: IpAddr) -> Result<SessionState>;

    /// Starts originating `route` (replacing an earlier one for the same prefix).
    fn announce(&mut self, route: Route) -> Result<()>;

    /// Stops originating `prefix`.
    fn withdraw(&mut self, prefix: IpNetwork) -> Result<()>;

    /// Stops the daemon with SIGTERM (it may send NOTIFICATIONs on the way out).
    fn stop(&mut self) -> Result<()>;

    /// Stops the daemon with SIGKILL (no NOTIFICATION; graceful-restart helpers see a crash).
    fn kill(&mut self) -> Result<()>;

    /// Starts the daemon again with the current configuration (after stop, kill or while
    /// running: then it is stopped first).
    fn restart(&mut self) -> Result<()>;

    /// SIGSTOP: the daemon keeps its sockets but stops sending keepalives.
    fn freeze(&self) -> Result<()>;

    /// SIGCONT.
    fn thaw(&self) -> Result<()>;

    /// Tails of the daemon's logs, for failure messages.
    fn logs(&self) -> String {
        self.host().logs_tail(60)
    }

    /// Whether the session with `neighbor` is Established.
    fn is_established(&self, neighbor: IpAddr) -> Result<bool> {
        Ok(self.session_state(neighbor)?.is_established())
    }

    /// Received paths for `prefix`.
    fn routes_for(&self, prefix: IpNetwork) -> Result<Vec<PeerRoute>> {
        Ok(self
            .rib()?
            .into_iter()
            .filter(|route| route.prefix == prefix)
            .collect())
    }

    /// Waits until the session with `neighbor` is Established.
    fn wait_established(&self, neighbor: IpAddr, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("{:?} session with {neighbor} Established", self.kind()),
            timeout,
            || match self.session_state(neighbor) {
                Ok(SessionState::Established) => Ok(Some(())),
                Ok(state) => Err(Error::Unsupported(format!("state is {state}"))),
                Err(e) => Err(e),
            },
        )
    }

    /// Waits until the best path for `prefix` exists and returns it.
    fn wait_route(&self, prefix: IpNetwork, timeout: Duration) -> Result<PeerRoute> {
        wait_until(
            &format!("{:?} to receive {prefix}", self.kind()),
            timeout,
            || {
                let routes = self.routes_for(prefix)?;
                Ok::<_, Error>(routes.into_iter().find(|route| route.best))
            },
        )
    }

    /// Waits until no path for `prefix` is left.
    fn wait_no_route(&self, prefix: IpNetwork, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("{:?} to lose {prefix}", self.kind()),
            timeout,
            || {
                let routes = self.routes_for(prefix)?;
                match routes.is_empty() {
                    true => Ok(Some(())),
                    false => Err(Error::Unsupported(format!("still has {routes:?}"))),
                }
            },
        )
    }
}

/// Starts a router of `kind` in `host` with `config`.
pub fn start(kind: PeerKind, host: &Host, config: PeerConfig) -> Result<Box<dyn BgpPeer>> {
    Ok(match kind {
        PeerKind::Bird => Box::new(Bird::start(host, config)?),
        PeerKind::Frr => Box::new(Frr::start(host, config)?),
        PeerKind::GoBgp => Box::new(GoBgp::start(host, config)?),
        PeerKind::ExaBgp => Box::new(ExaBgp::start(host, config)?),
    })
}

/// How long a daemon may take to answer its CLI after start.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);

/// The source address the kernel would use from `host` towards `neighbor`
/// (`ip route get NEIGHBOR`), for routers that need an explicit local address.
pub fn source_address(host: &Host, neighbor: IpAddr) -> Result<IpAddr> {
    let output = host.ip(&["route", "get", &neighbor.to_string()])?.stdout;
    let mut words = output.split_whitespace();
    while let Some(word) = words.next() {
        if word == "src"
            && let Some(address) = words.next().and_then(|a| a.parse().ok())
        {
            return Ok(address);
        }
    }
    Err(Error::parse(
        "ip route get",
        format!("no src for {neighbor}"),
        &output,
    ))
}
