//! BIRD 2 driver: `bird -f -c CONF -s SOCKET -P PIDFILE` inside a host, queried with
//! `birdc -s SOCKET`. Announce/withdraw rewrite the configuration and run `birdc configure`
//! (BIRD reloads only the changed static protocol; BGP sessions stay up).

pub mod config;
pub mod parse;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;

use ipnetwork::IpNetwork;

use crate::error::{Error, Result};
use crate::netns::Host;
use crate::peers::daemon::Daemon;
use crate::peers::{
    BgpPeer, PeerConfig, PeerKind, PeerRoute, Route, STARTUP_TIMEOUT, SessionState,
};
use crate::process::spawn_in;
use crate::wait::wait_until;

/// A BIRD 2 daemon in a host.
#[derive(Debug)]
pub struct Bird {
    host: Host,
    config: PeerConfig,
    daemon: Daemon,
    config_path: PathBuf,
    socket_path: PathBuf,
    pid_path: PathBuf,
}

impl Bird {
    /// Writes the configuration, checks it with `bird -p`, starts BIRD and waits until
    /// `birdc show status` answers.
    pub fn start(host: &Host, config: PeerConfig) -> Result<Bird> {
        let dir = host.dir();
        let mut bird = Bird {
            host: host.clone(),
            config,
            daemon: Daemon::default(),
            config_path: dir.join("bird.conf"),
            socket_path: dir.join("bird.ctl"),
            pid_path: dir.join("bird.pid"),
        };
        bird.launch(false)?;
        Ok(bird)
    }

    /// First half of a graceful restart (RFC 4724): `birdc graceful restart` makes BIRD
    /// close its sessions without NOTIFICATION and exit, so neighbors with graceful restart
    /// keep its routes as stale. Needs `graceful restart on` (neighbor `graceful_restart`).
    pub fn graceful_shutdown(&mut self) -> Result<()> {
        let output = self.birdc(&["graceful", "restart"])?;
        if !output.contains("Graceful restart") {
            return Err(Error::parse(
                "birdc graceful restart",
                "not started",
                &output,
            ));
        }
        self.daemon.wait_exit(
            "BIRD (graceful restart)",
            std::time::Duration::from_secs(10),
        )
    }

    /// Second half: `change` edits the configuration, then BIRD starts with `-R` (recovery:
    /// the F bit in its capability; it waits for its neighbors' End-of-RIBs, then sends its
    /// routes and its own End-of-RIB).
    pub fn recover(&mut self, change: impl FnOnce(&mut PeerConfig)) -> Result<()> {
        change(&mut self.config);
        self.launch(true)
    }

    /// Path of the control socket (for `birdc -s`).
    pub fn socket_path(&self) -> &std::path::Path {
        &self.socket_path
    }

    /// Runs `birdc -s SOCKET ARGS` and returns its output.
    pub fn birdc(&self, args: &[&str]) -> Result<String> {
        let mut full = vec!["-s", self.socket_path.to_str().unwrap_or_default()];
        full.extend_from_slice(args);
        Ok(self.host.exec("birdc", &full)?.stdout)
    }

    fn write_config(&self) -> Result<()> {
        let text = config::render(&self.config);
        std::fs::write(&self.config_path, &text)
            .map_err(|e| Error::io(format!("write {}", self.config_path.display()), e))?;
        let path = self.config_path.to_str().unwrap_or_default();
        self.host.exec("bird", &["-p", "-c", path])?;
        Ok(())
    }

    /// Starts BIRD; `recovering`: with `-R` (graceful-restart recovery).
    fn launch(&mut self, recovering: bool) -> Result<()> {
        self.write_config()?;
        let _ = std::fs::remove_file(&self.socket_path);
        let mut args = vec![
            "-f",
            "-c",
            self.config_path.to_str().unwrap_or_default(),
            "-s",
            self.socket_path.to_str().unwrap_or_default(),
            "-P",
            self.pid_path.to_str().unwrap_or_default(),
        ];
        if recovering {
            args.push("-R");
        }
        let process = spawn_in(&self.host, "bird", "bird", &args, &[])?;
        self.daemon.set(process);
        wait_until("birdc to answer", STARTUP_TIMEOUT, || {
            self.daemon.check_running()?;
            self.birdc(&["show", "status"]).map(Some)
        })?;
        Ok(())
    }

    fn reconfigure(&self) -> Result<()> {
        self.write_config()?;
        let output = self.birdc(&["configure"])?;
        if !output.contains("Reconfigur") {
            return Err(Error::parse("birdc configure", "not reconfigured", &output));
        }
        Ok(())
    }

    fn protocol_of(&self, neighbor: IpAddr) -> Result<String> {
        self.config
            .neighbors
            .iter()
            .position(|n| n.address == neighbor)
            .map(config::protocol_name)
            .ok_or_else(|| Error::Unsupported(format!("BIRD has no neighbor {neighbor}")))
    }
}

impl BgpPeer for Bird {
    fn kind(&self) -> PeerKind {
        PeerKind::Bird
    }

    fn host(&self) -> &Host {
        &self.host
    }

    fn config(&self) -> &PeerConfig {
        &self.config
    }

    fn rib(&self) -> Result<Vec<PeerRoute>> {
        let output = self.birdc(&["show", "route", "all"])?;
        let neighbors: HashMap<String, IpAddr> = self
            .config
            .neighbors
            .iter()
            .enumerate()
            .map(|(index, n)| (config::protocol_name(index), n.address))
            .collect();
        let mut routes = parse::routes(&output, &neighbors)?;
        if self.config.neighbors.iter().any(|n| n.graceful_restart) {
            let restarting =
                parse::graceful_restart_active(&self.birdc(&["show", "protocols", "all"])?);
            let stale: HashSet<IpAddr> = restarting
                .iter()
                .filter_map(|protocol| neighbors.get(protocol).copied())
                .collect();
            for route in &mut routes {
                if route.from.is_some_and(|from| stale.contains(&from)) {
                    route.stale = true;
                }
            }
        }
        Ok(routes)
    }

    fn session_state(&self, neighbor: IpAddr) -> Result<SessionState> {
        let protocol = self.protocol_of(neighbor)?;
        let output = self.birdc(&["show", "protocols", "all", &protocol])?;
        Ok(parse::session_state(&output))
    }

    fn announce(&mut self, route: Route) -> Result<()> {
        self.config.upsert_route(route);
        self.reconfigure()
    }

    fn withdraw(&mut self, prefix: IpNetwork) -> Result<()> {
        self.config.remove_route(prefix);
        self.reconfigure()
    }

    fn stop(&mut self) -> Result<()> {
        self.daemon.stop()
    }

    fn kill(&mut self) -> Result<()> {
        self.daemon.kill();
        Ok(())
    }

    fn restart(&mut self) -> Result<()> {
        self.stop()?;
        self.launch(false)
    }

    fn freeze(&self) -> Result<()> {
        self.daemon.running("BIRD")?.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.daemon.running("BIRD")?.thaw()
    }
}
