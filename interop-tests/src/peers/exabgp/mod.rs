//! ExaBGP driver: `exabgp CONF` with `exabgp.daemon.daemonize=false exabgp.api.cli=false`
//! (plus `exabgp.daemon.drop=false`, else it drops to user `exabgp` and its API helper cannot
//! write into the host dir, and `exabgp.tcp.bind=ADDRS` for passive neighbors: ExaBGP listens
//! only when told where).
//!
//! ExaBGP has no queryable RIB: a Python API helper (`api.py`, written into the host dir)
//! records every JSON message ExaBGP emits (received UPDATEs, neighbor state changes) and
//! forwards lines the driver appends to a commands file (`announce route ...`). `rib()` and
//! `session_state()` replay that log.

pub mod config;
pub mod parse;

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnetwork::IpNetwork;

use crate::error::{Error, Result};
use crate::netns::Host;
use crate::peers::daemon::Daemon;
use crate::peers::{
    BgpPeer, PeerConfig, PeerKind, PeerRoute, Route, STARTUP_TIMEOUT, SessionState, source_address,
};
use crate::process::spawn_in;
use crate::wait::wait_until;

/// The API helper's source.
pub const API_SCRIPT: &str = include_str!("api.py");

/// An ExaBGP speaker in a host.
#[derive(Debug)]
pub struct ExaBgp {
    host: Host,
    config: PeerConfig,
    daemon: Daemon,
    launches: u32,
    received_log: PathBuf,
    commands_file: PathBuf,
}

impl ExaBgp {
    /// Writes the API helper and the configuration (local addresses looked up with
    /// `ip route get` when not given), and starts ExaBGP (`exabgp --test` is no use as a check: its
    /// round-trip self-test fails on `next-hop self`).
    /// Fails for route-reflector clients (ExaBGP does not reflect).
    pub fn start(host: &Host, config: PeerConfig) -> Result<ExaBgp> {
        if config.neighbors.iter().any(|n| n.route_reflector_client) {
            return Err(Error::Unsupported("ExaBGP is not a route reflector".into()));
        }
        if let Some(route) = config.routes.iter().find(|r| !r.as_path.is_empty()) {
            return Err(no_as_path(route));
        }
        let mut exabgp = ExaBgp {
            host: host.clone(),
            config,
            daemon: Daemon::default(),
            launches: 0,
            received_log: PathBuf::new(),
            commands_file: PathBuf::new(),
        };
        exabgp.launch()?;
        Ok(exabgp)
    }

    /// Sends one API command (e.g. `announce route 198.51.100.0/24 next-hop self`).
    pub fn command(&self, line: &str) -> Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.commands_file)
            .map_err(|e| Error::io(format!("open {}", self.commands_file.display()), e))?;
        writeln!(file, "{line}")
            .map_err(|e| Error::io(format!("write {}", self.commands_file.display()), e))
    }

    fn launch(&mut self) -> Result<()> {
        let dir = self.host.dir().to_path_buf();
        self.launches += 1;
        self.received_log = dir.join(format!("exabgp-received.{}.log", self.launches));
        self.commands_file = dir.join(format!("exabgp-commands.{}", self.launches));
        let script = dir.join("exabgp-api.py");
        std::fs::write(&script, API_SCRIPT)
            .map_err(|e| Error::io(format!("write {}", script.display()), e))?;
        std::fs::write(&self.commands_file, "")
            .map_err(|e| Error::io(format!("write {}", self.commands_file.display()), e))?;
        self.host.register_log(self.received_log.clone());
        let mut local_addresses = Vec::new();
        for neighbor in &self.config.neighbors {
            local_addresses.push(match neighbor.local_address {
                Some(local) => local,
                None => source_address(&self.host, neighbor.address)?,
            });
        }
        let api_command = format!(
            "/usr/bin/python3 {} {} {}",
            script.display(),
            self.received_log.display(),
            self.commands_file.display()
        );
        let config_path = dir.join("exabgp.conf");
        std::fs::write(
            &config_path,
            config::render(&self.config, &local_addresses, &api_command),
        )
        .map_err(|e| Error::io(format!("write {}", config_path.display()), e))?;
        let mut bind: Vec<String> = self
            .config
            .neighbors
            .iter()
            .zip(&local_addresses)
            .filter(|(neighbor, _)| neighbor.passive)
            .map(|(_, local)| local.to_string())
            .collect();
        bind.dedup();
        let bind = bind.join(" ");
        let env = [
            ("exabgp.daemon.daemonize", "false"),
            ("exabgp.daemon.drop", "false"),
            ("exabgp.api.cli", "false"),
            ("exabgp.log.destination", "stdout"),
            ("exabgp.tcp.bind", bind.as_str()),
        ];
        let config_arg = config_path.to_string_lossy().into_owned();
        let process = spawn_in(&self.host, "exabgp", "exabgp", &[config_arg.as_str()], &env)?;
        self.daemon.set(process);
        // ExaBGP has no query to wait on; the API helper creates its log when it starts.
        wait_until("ExaBGP's API helper to start", STARTUP_TIMEOUT, || {
            self.daemon.check_running()?;
            Ok::<_, Error>(self.received_log.exists().then_some(()))
        })?;
        Ok(())
    }

    fn replayed(&self) -> Result<parse::Replayed> {
        let log = match std::fs::read_to_string(&self.received_log) {
            Ok(log) => log,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => {
                return Err(Error::io(
                    format!("read {}", self.received_log.display()),
                    e,
                ));
            }
        };
        Ok(parse::replay(&log))
    }
}

impl BgpPeer for ExaBgp {
    fn kind(&self) -> PeerKind {
        PeerKind::ExaBgp
    }

    fn host(&self) -> &Host {
        &self.host
    }

    fn config(&self) -> &PeerConfig {
        &self.config
    }

    fn rib(&self) -> Result<Vec<PeerRoute>> {
        Ok(self.replayed()?.routes.into_values().collect())
    }

    fn session_state(&self, neighbor: IpAddr) -> Result<SessionState> {
        self.daemon.check_running()?;
        Ok(self
            .replayed()?
            .states
            .remove(&neighbor)
            .unwrap_or(SessionState::Idle))
    }

    fn announce(&mut self, route: Route) -> Result<()> {
        if !route.as_path.is_empty() {
            return Err(no_as_path(&route));
        }
        self.command(&format!("announce route {}", config::route_spec(&route)))?;
        self.config.upsert_route(route);
        Ok(())
    }

    fn withdraw(&mut self, prefix: IpNetwork) -> Result<()> {
        let route = self
            .config
            .routes
            .iter()
            .find(|route| route.prefix == prefix)
            .cloned()
            .unwrap_or_else(|| Route::new(prefix));
        self.command(&format!("withdraw route {}", config::route_spec(&route)))?;
        self.config.remove_route(prefix);
        Ok(())
    }

    fn stop(&mut self) -> Result<()> {
        self.daemon.stop()
    }

    fn kill(&mut self) -> Result<()> {
        self.daemon.kill();
        Ok(())
    }

    fn restart(&mut self) -> Result<()> {
        self.daemon.stop()?;
        self.launch()
    }

    fn freeze(&self) -> Result<()> {
        self.daemon.running("exabgp")?.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.daemon.running("exabgp")?.thaw()
    }
}

fn no_as_path(route: &Route) -> Error {
    Error::Unsupported(format!(
        "the ExaBGP driver does not set AS paths ({})",
        route.prefix
    ))
}
