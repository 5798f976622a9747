//! tern's own BGP speaker as a test peer: the `tern-speaker` daemon (this package's binary,
//! `bgp::Speaker` behind a JSON control socket) started inside a [`Host`], and a typed client.
//!
//! Queries answer in the harness's normalized types ([`PeerRoute`], [`SessionState`]) so a
//! test asserts on tern exactly as it does on BIRD, FRR, GoBGP or ExaBGP:
//!
//! ```no_run
//! # use interop_tests::{Host, tern::{TernSpeaker, SpeakerSpec, PeerSpec}};
//! # fn example(host: &Host) -> interop_tests::Result<()> {
//! // In an integration test of this package: env!("CARGO_BIN_EXE_tern-speaker").
//! let binary = std::path::Path::new("target/debug/tern-speaker");
//! let spec = SpeakerSpec::new(65001, "198.18.1.1".parse().unwrap())
//!     .peer(PeerSpec::new("198.18.1.2".parse().unwrap(), 65002));
//! let tern = TernSpeaker::start(host, binary, spec)?;
//! tern.wait_established("198.18.1.2".parse().unwrap(), std::time::Duration::from_secs(30))?;
//! # Ok(()) }
//! ```
//!
//! The control socket lives in the host's temp dir (unix sockets are not bound to a network
//! namespace), so the test talks to it directly.

pub mod filter;
pub mod protocol;

use std::io::{BufRead, BufReader, Write};
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnetwork::IpNetwork;

pub use filter::{FilterSpec, MatchOperatorSpec, OperationSpec, PeerTypeSpec, RuleSpec};
pub use protocol::{
    MaxPrefixSpec, PeerEntry, PeerSpec, Reply, Request, RibEntry, RouteSpec, SpeakerSpec,
};

use crate::error::{Error, Result};
use crate::netns::Host;
use crate::peers::{PeerRoute, STARTUP_TIMEOUT, SessionState};
use crate::process::{Process, spawn_in};
use crate::wait::wait_until;

/// How long one control request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the daemon gets to exit after SIGTERM.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running `tern-speaker` inside a host.
#[derive(Debug)]
pub struct TernSpeaker {
    host: Host,
    spec: SpeakerSpec,
    process: Process,
    control: PathBuf,
}

impl TernSpeaker {
    /// Writes `spec` to `<host dir>/tern.json`, starts `binary --config … --control …` in
    /// `host` (logs in `tern.stderr`, `RUST_LOG=info,bgp=debug` unless set) and waits until the
    /// control socket answers.
    pub fn start(host: &Host, binary: &Path, spec: SpeakerSpec) -> Result<TernSpeaker> {
        let dir = host.dir();
        let config_path = dir.join("tern.json");
        let control = dir.join("tern.sock");
        let text = serde_json::to_string_pretty(&spec)
            .map_err(|e| Error::Unsupported(format!("encode tern config: {e}")))?;
        std::fs::write(&config_path, text)
            .map_err(|e| Error::io(format!("write {}", config_path.display()), e))?;
        let _ = std::fs::remove_file(&control);
        let log_filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info,bgp=debug".into());
        let binary = binary.to_string_lossy().into_owned();
        let process = spawn_in(
            host,
            "tern",
            &binary,
            &[
                "--config",
                &config_path.to_string_lossy(),
                "--control",
                &control.to_string_lossy(),
            ],
            &[("RUST_LOG", log_filter.as_str())],
        )?;
        let tern = TernSpeaker {
            host: host.clone(),
            spec,
            process,
            control,
        };
        wait_until("tern-speaker's control socket", STARTUP_TIMEOUT, || {
            tern.process.check_running()?;
            tern.peers().map(Some)
        })?;
        Ok(tern)
    }

    /// The host it runs in.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The configuration it was started with.
    pub fn spec(&self) -> &SpeakerSpec {
        &self.spec
    }

    /// The daemon process (for `freeze`, `signal`, logs).
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// Sends one request and reads its reply; a `{"reply":"error"}` becomes an error.
    pub fn request(&self, request: &Request) -> Result<Reply> {
        let what = format!("tern control {}", self.control.display());
        let mut stream =
            UnixStream::connect(&self.control).map_err(|e| Error::io(what.clone(), e))?;
        stream
            .set_read_timeout(Some(REQUEST_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(REQUEST_TIMEOUT)))
            .map_err(|e| Error::io(what.clone(), e))?;
        let mut line = serde_json::to_string(request)
            .map_err(|e| Error::Unsupported(format!("encode {request:?}: {e}")))?;
        line.push('\n');
        stream
            .write_all(line.as_bytes())
            .map_err(|e| Error::io(what.clone(), e))?;
        let mut answer = String::new();
        BufReader::new(stream)
            .read_line(&mut answer)
            .map_err(|e| Error::io(what.clone(), e))?;
        let reply: Reply = serde_json::from_str(&answer)
            .map_err(|e| Error::parse("tern control reply", e.to_string(), &answer))?;
        match reply {
            Reply::Error { message } => Err(Error::Unsupported(format!(
                "tern refused {request:?}: {message}"
            ))),
            reply => Ok(reply),
        }
    }

    fn expect_ok(&self, request: Request) -> Result<()> {
        match self.request(&request)? {
            Reply::Ok => Ok(()),
            other => Err(unexpected(&request, &other)),
        }
    }

    /// The whole Loc-RIB, our own routes included.
    pub fn loc_rib(&self) -> Result<Vec<RibEntry>> {
        match self.request(&Request::Rib)? {
            Reply::Rib { routes } => Ok(routes),
            other => Err(unexpected(&Request::Rib, &other)),
        }
    }

    /// Paths learned from peers (not our own), best and non-best, like the peer drivers'
    /// `rib()`.
    pub fn rib(&self) -> Result<Vec<PeerRoute>> {
        Ok(self
            .loc_rib()?
            .iter()
            .filter_map(RibEntry::to_peer_route)
            .collect())
    }

    /// Learned paths for `prefix`.
    pub fn routes_for(&self, prefix: IpNetwork) -> Result<Vec<PeerRoute>> {
        Ok(self
            .rib()?
            .into_iter()
            .filter(|route| route.prefix == prefix)
            .collect())
    }

    /// Every peer's status.
    pub fn peers(&self) -> Result<Vec<PeerEntry>> {
        match self.request(&Request::Peers)? {
            Reply::Peers { peers } => Ok(peers),
            other => Err(unexpected(&Request::Peers, &other)),
        }
    }

    /// One peer's status.
    pub fn peer(&self, address: IpAddr) -> Result<PeerEntry> {
        self.peers()?
            .into_iter()
            .find(|peer| peer.address == address)
            .ok_or_else(|| Error::Unsupported(format!("tern has no peer {address}")))
    }

    /// The session state with `address`.
    pub fn peer_state(&self, address: IpAddr) -> Result<SessionState> {
        Ok(SessionState::from_word(&self.peer(address)?.state))
    }

    /// Originates (or replaces) a route.
    pub fn originate(&self, route: RouteSpec) -> Result<()> {
        self.expect_ok(Request::Originate { route })
    }

    /// Stops originating `prefix`.
    pub fn withdraw(&self, prefix: IpNetwork) -> Result<()> {
        self.expect_ok(Request::Withdraw { prefix })
    }

    /// Configures a peer at run time.
    pub fn add_peer(&self, peer: PeerSpec) -> Result<()> {
        self.expect_ok(Request::AddPeer { peer })
    }

    /// Changes a peer at run time (a change of only its filters keeps the session up).
    pub fn update_peer(&self, peer: PeerSpec) -> Result<()> {
        self.expect_ok(Request::UpdatePeer { peer })
    }

    /// Removes a peer at run time.
    pub fn remove_peer(&self, address: IpAddr) -> Result<()> {
        self.expect_ok(Request::RemovePeer { address })
    }

    /// Asks the daemon to stop every session and exit, and waits for it to exit.
    pub fn shutdown(&self) -> Result<()> {
        self.expect_ok(Request::Shutdown)?;
        wait_until("tern-speaker to exit", STOP_GRACE, || {
            Ok::<_, Error>((!self.process.is_running()).then_some(()))
        })
    }

    /// Asks the daemon to close every session without NOTIFICATION (RFC 4724 graceful
    /// restart) and exit, and waits for it to exit.
    pub fn shutdown_for_restart(&self) -> Result<()> {
        self.expect_ok(Request::ShutdownForRestart)?;
        wait_until("tern-speaker to exit", STOP_GRACE, || {
            Ok::<_, Error>((!self.process.is_running()).then_some(()))
        })
    }

    /// SIGTERM (clean shutdown), then SIGKILL after a grace period.
    pub fn stop(&self) -> Result<()> {
        self.process.terminate(STOP_GRACE)
    }

    /// Waits until the session with `address` is Established.
    pub fn wait_established(&self, address: IpAddr, timeout: Duration) -> Result<()> {
        wait_until(
            &format!("tern's session with {address} Established"),
            timeout,
            || {
                self.process.check_running()?;
                let peer = self.peer(address)?;
                match SessionState::from_word(&peer.state) {
                    SessionState::Established => Ok(Some(())),
                    state => Err(Error::Unsupported(format!(
                        "state is {state}, last error {:?}",
                        peer.last_error
                    ))),
                }
            },
        )
    }

    /// Waits until a best learned path for `prefix` exists and returns it.
    pub fn wait_route(&self, prefix: IpNetwork, timeout: Duration) -> Result<PeerRoute> {
        wait_until(&format!("tern to learn {prefix}"), timeout, || {
            let routes = self.routes_for(prefix)?;
            Ok::<_, Error>(routes.into_iter().find(|route| route.best))
        })
    }

    /// Waits until no learned path for `prefix` is left.
    pub fn wait_no_route(&self, prefix: IpNetwork, timeout: Duration) -> Result<()> {
        wait_until(&format!("tern to lose {prefix}"), timeout, || {
            let routes = self.routes_for(prefix)?;
            match routes.is_empty() {
                true => Ok(Some(())),
                false => Err(Error::Unsupported(format!("still has {routes:?}"))),
            }
        })
    }

    /// Tails of the daemon's logs.
    pub fn logs(&self) -> String {
        self.process.log_tail(60)
    }
}

fn unexpected(request: &Request, reply: &Reply) -> Error {
    Error::Unsupported(format!("tern answered {request:?} with {reply:?}"))
}
