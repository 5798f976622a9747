//! GoBGP driver: `gobgpd -f CONF -t toml --api-hosts 127.0.0.1:50051` inside a host (the API
//! port is per namespace), queried with `gobgp -u 127.0.0.1 -p 50051 ... -j`. Originated routes
//! are added with `gobgp global rib add` after start (and again after a restart).

pub mod config;
pub mod parse;

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

/// The gRPC API port inside the host's namespace.
pub const API_PORT: &str = "50051";

/// A GoBGP daemon in a host.
#[derive(Debug)]
pub struct GoBgp {
    host: Host,
    config: PeerConfig,
    daemon: Daemon,
    config_path: PathBuf,
}

impl GoBgp {
    /// Writes the TOML, checks it with `gobgpd --dry-run`, starts `gobgpd`, waits for the API
    /// and adds the originated routes. Fails for options GoBGP lacks (disabling the 4-octet AS
    /// capability).
    pub fn start(host: &Host, config: PeerConfig) -> Result<GoBgp> {
        if config.neighbors.iter().any(|n| n.disable_four_octet_as) {
            return Err(Error::Unsupported(
                "GoBGP cannot disable the 4-octet AS capability".into(),
            ));
        }
        let mut gobgp = GoBgp {
            host: host.clone(),
            config,
            daemon: Daemon::default(),
            config_path: host.dir().join("gobgpd.toml"),
        };
        gobgp.launch()?;
        Ok(gobgp)
    }

    /// Runs `gobgp -u 127.0.0.1 -p 50051 ARGS` in the host.
    pub fn gobgp(&self, args: &[&str]) -> Result<String> {
        let mut full = vec!["-u", "127.0.0.1", "-p", API_PORT];
        full.extend_from_slice(args);
        Ok(self.host.exec("gobgp", &full)?.stdout)
    }

    fn launch(&mut self) -> Result<()> {
        std::fs::write(&self.config_path, config::render(&self.config))
            .map_err(|e| Error::io(format!("write {}", self.config_path.display()), e))?;
        let path = self.config_path.to_string_lossy().into_owned();
        self.host
            .exec("gobgpd", &["-f", path.as_str(), "-t", "toml", "--dry-run"])?;
        let api = format!("127.0.0.1:{API_PORT}");
        let process = spawn_in(
            &self.host,
            "gobgpd",
            "gobgpd",
            &[
                "-f",
                path.as_str(),
                "-t",
                "toml",
                "--api-hosts",
                api.as_str(),
                "--pprof-disable",
                "--log-plain",
                "-l",
                "info",
            ],
            &[],
        )?;
        self.daemon.set(process);
        wait_until("gobgp API to answer", STARTUP_TIMEOUT, || {
            self.daemon.check_running()?;
            self.gobgp(&["global"]).map(Some)
        })?;
        for route in self.config.routes.clone() {
            self.add_route(&route)?;
        }
        Ok(())
    }

    fn add_route(&self, route: &Route) -> Result<()> {
        let prefix = route.prefix.to_string();
        let family = family_of(route.prefix);
        let mut args: Vec<String> = ["global", "rib", "-a", family, "add", prefix.as_str()]
            .map(String::from)
            .to_vec();
        if let Some(next_hop) = route.next_hop {
            args.push("nexthop".into());
            args.push(next_hop.to_string());
        }
        if !route.communities.is_empty() {
            let communities: Vec<String> = route
                .communities
                .iter()
                .map(|(high, low)| format!("{high}:{low}"))
                .collect();
            args.push("community".into());
            args.push(communities.join(","));
        }
        if let Some(med) = route.med {
            args.push("med".into());
            args.push(med.to_string());
        }
        if !route.as_path.is_empty() {
            let path: Vec<String> = route.as_path.iter().map(u32::to_string).collect();
            args.push("aspath".into());
            args.push(path.join(","));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.gobgp(&args)?;
        Ok(())
    }
}

fn family_of(prefix: IpNetwork) -> &'static str {
    match prefix {
        IpNetwork::V4(_) => "ipv4",
        IpNetwork::V6(_) => "ipv6",
    }
}

impl BgpPeer for GoBgp {
    fn kind(&self) -> PeerKind {
        PeerKind::GoBgp
    }

    fn host(&self) -> &Host {
        &self.host
    }

    fn config(&self) -> &PeerConfig {
        &self.config
    }

    fn rib(&self) -> Result<Vec<PeerRoute>> {
        let mut routes = parse::routes(&self.gobgp(&["global", "rib", "-a", "ipv4", "-j"])?)?;
        routes.extend(parse::routes(
            &self.gobgp(&["global", "rib", "-a", "ipv6", "-j"])?,
        )?);
        Ok(routes)
    }

    fn session_state(&self, neighbor: IpAddr) -> Result<SessionState> {
        parse::session_state(&self.gobgp(&["neighbor", "-j"])?, neighbor)
    }

    fn announce(&mut self, route: Route) -> Result<()> {
        self.add_route(&route)?;
        self.config.upsert_route(route);
        Ok(())
    }

    fn withdraw(&mut self, prefix: IpNetwork) -> Result<()> {
        let text = prefix.to_string();
        self.gobgp(&[
            "global",
            "rib",
            "-a",
            family_of(prefix),
            "del",
            text.as_str(),
        ])?;
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
        self.daemon.running("gobgpd")?.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.daemon.running("gobgpd")?.thaw()
    }
}
