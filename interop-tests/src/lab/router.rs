//! The lab's top-of-rack router: BIRD 2 with one session per node, installing what it learns
//! into its own kernel so it forwards between the outside client and the pods.
//!
//! Its policy is a common data-centre one: from each node it accepts only routes that node's
//! AS originated (`bgp_path.len = 1` on eBGP, `= 0` on the iBGP session with the reflector),
//! so a route a node merely passes on never competes with the route from its owner. It
//! exports nothing: nodes reach the rest of the world by their default route.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use crate::error::{Error, Result};
use crate::netns::Host;
use crate::peers::bird::parse;
use crate::peers::{PeerRoute, STARTUP_TIMEOUT, SessionState};
use crate::process::Process;
use crate::wait::wait_until;

use super::plan::{self, NodePlan};

/// The router's BGP session with one node.
#[derive(Debug, Clone)]
pub struct RouterSession {
    /// BIRD protocol name.
    pub protocol: String,
    /// The node.
    pub node: &'static NodePlan,
    /// The router's address on the session.
    pub local_address: IpAddr,
    /// The router's AS on the session.
    pub local_as: u32,
    /// MD5 password.
    pub password: Option<&'static str>,
    /// GTSM, one hop.
    pub ttl_security: bool,
}

/// The sessions the contract (plus the lab's `lab-rr-1-tor` peer) asks for.
pub fn sessions() -> Vec<RouterSession> {
    let [r1, r2] = plan::ROUTER_RACK_ADDRESSES;
    plan::NODES
        .iter()
        .map(|node| {
            let (local_address, local_as, password, ttl_security) = match node.name {
                // tor-r1: eBGP from AS 65000, MD5 and GTSM.
                "node-1" => (r1.ip(), 65000, Some(plan::TOR_R1_PASSWORD), true),
                // node-2-lab-router: eBGP from AS 65001 on rack r2's address.
                "node-2" => (r2.ip(), 65001, None, false),
                // lab-rr-1-tor: iBGP with the reflector, inside the cluster's AS.
                _ => (r1.ip(), node.asn, None, false),
            };
            RouterSession {
                protocol: node.name.replace('-', "_"),
                node,
                local_address: local_address.into(),
                local_as,
                password,
                ttl_security,
            }
        })
        .collect()
}

/// The whole `bird.conf` of the router.
pub fn render_config() -> String {
    let mut out = String::new();
    let router_id = plan::ROUTER_RACK_ADDRESSES[0].ip();
    let _ = writeln!(out, "# tern lab top-of-rack router (generated)");
    let _ = writeln!(out, "log stderr all;");
    let _ = writeln!(out, "router id {router_id};");
    let _ = writeln!(out, "protocol device {{ scan time 2; }}");
    let _ = writeln!(out, "protocol direct {{ ipv4; }}");
    let _ = writeln!(
        out,
        "protocol kernel {{ ipv4 {{ import none; export where source = RTS_BGP; }}; merge paths on; }}"
    );
    for session in sessions() {
        let internal = session.local_as == session.node.asn;
        let _ = writeln!(out, "protocol bgp {} {{", session.protocol);
        let _ = writeln!(
            out,
            "  local {} as {};",
            session.local_address, session.local_as
        );
        let _ = writeln!(
            out,
            "  neighbor {} as {};",
            session.node.address.ip(),
            session.node.asn
        );
        if let Some(password) = session.password {
            let _ = writeln!(out, "  password \"{password}\";");
        }
        if session.ttl_security {
            let _ = writeln!(out, "  ttl security on;");
        }
        let _ = writeln!(out, "  connect retry time 2;");
        let _ = writeln!(out, "  error wait time 1, 4;");
        let _ = writeln!(out, "  graceful restart on;");
        // iBGP is multihop to BIRD unless told otherwise; the reflector is on the segment.
        if internal {
            let _ = writeln!(out, "  direct;");
        }
        let path_length = if internal { 0 } else { 1 };
        let _ = writeln!(
            out,
            "  ipv4 {{ import where bgp_path.len = {path_length}; export none; }};"
        );
        let _ = writeln!(out, "}}");
    }
    out
}

/// The running router.
#[derive(Debug)]
pub struct Router {
    host: Host,
    socket: PathBuf,
    _process: Process,
}

impl Router {
    /// Writes the configuration, checks it (`bird -p`), starts BIRD with forwarding on and
    /// ICMP redirects off, and waits for `birdc` to answer.
    pub fn start(host: &Host) -> Result<Router> {
        host.enable_forwarding()?;
        host.set_sysctl("net.ipv4.conf.all.send_redirects", "0")?;
        host.set_sysctl("net.ipv4.conf.default.send_redirects", "0")?;
        let config = host.dir().join("bird.conf");
        let socket = host.dir().join("bird.ctl");
        std::fs::write(&config, render_config())
            .map_err(|e| Error::io(format!("write {}", config.display()), e))?;
        let config_text = config.to_string_lossy().to_string();
        host.exec("bird", &["-p", "-c", &config_text])?;
        let process = host.spawn(
            "bird",
            "bird",
            &[
                "-f",
                "-c",
                &config_text,
                "-s",
                &socket.to_string_lossy(),
                "-P",
                &host.dir().join("bird.pid").to_string_lossy(),
            ],
        )?;
        let router = Router {
            host: host.clone(),
            socket,
            _process: process,
        };
        wait_until("the router's birdc to answer", STARTUP_TIMEOUT, || {
            router._process.check_running()?;
            router.birdc(&["show", "status"]).map(Some)
        })?;
        Ok(router)
    }

    /// The router's host.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Path of BIRD's control socket.
    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    /// `birdc -s SOCKET ARGS`. A unix socket needs no namespace, so this runs `birdc`
    /// directly (a few milliseconds: fast enough to time route changes).
    pub fn birdc(&self, args: &[&str]) -> Result<String> {
        let output = Command::new("birdc")
            .arg("-s")
            .arg(&self.socket)
            .args(args)
            .output()
            .map_err(|e| Error::io("run birdc", e))?;
        let stdout = String::from_utf8_lossy(&output.stdout).to_string();
        if !output.status.success() {
            return Err(Error::parse(
                "birdc",
                format!("exit {}", output.status),
                &stdout,
            ));
        }
        Ok(stdout)
    }

    /// Every path the router received (best and not), from `show route all`.
    pub fn rib(&self) -> Result<Vec<PeerRoute>> {
        self.parse_routes(&self.birdc(&["show", "route", "all"])?)
    }

    /// The paths for one prefix.
    pub fn routes_for(&self, prefix: ipnetwork::IpNetwork) -> Result<Vec<PeerRoute>> {
        let output = self.birdc(&["show", "route", "for", &prefix.to_string(), "all"])?;
        Ok(self
            .parse_routes(&output)?
            .into_iter()
            .filter(|route| route.prefix == prefix)
            .collect())
    }

    fn parse_routes(&self, output: &str) -> Result<Vec<PeerRoute>> {
        let neighbors: HashMap<String, IpAddr> = sessions()
            .into_iter()
            .map(|s| (s.protocol, s.node.address.ip().into()))
            .collect();
        parse::routes(output, &neighbors)
    }

    /// State of the session with each node, in plan order.
    pub fn session_states(&self) -> Result<Vec<(&'static str, SessionState)>> {
        sessions()
            .into_iter()
            .map(|session| {
                let output = self.birdc(&["show", "protocols", "all", &session.protocol])?;
                Ok((session.node.name, parse::session_state(&output)))
            })
            .collect()
    }

    /// `birdc show route` as BIRD prints it.
    pub fn show_route(&self) -> Result<String> {
        self.birdc(&["show", "route"])
    }

    /// `birdc show protocols`.
    pub fn show_protocols(&self) -> Result<String> {
        self.birdc(&["show", "protocols"])
    }

    /// The router's kernel routing table (`ip route`).
    pub fn kernel_routes(&self) -> Result<String> {
        Ok(self.host.ip(&["route"])?.stdout)
    }
}
