//! FRR driver: `zebra` + `bgpd` (or `bgpd -Z` alone), each with
//! `-f CONF -i PIDFILE --vty_socket DIR -A 127.0.0.1 -P 0` and `-z DIR/zserv.api`, queried with
//! `vtysh --vty_socket DIR -c '...'`.
//!
//! Zebra is on by default: without it `bgpd` knows no interfaces and treats an IPv6 UPDATE
//! whose next hop includes a link-local address (BIRD sends one on direct sessions) as an
//! error ("sent a v6 LL next-hop and there's no peer interface information. Hence,
//! withdrawing"). With zebra, FRR also installs its best routes into the host's kernel table
//! (harmless inside the namespace, and it makes FRR a forwarding router) and validates next
//! hops against it. [`Frr::start_without_zebra`] gives the `bgpd -Z` mode; there every next
//! hop counts as reachable. `bgpd` drops to user `frr`, so its directory and files
//! are chowned to `frr` (the host dir is 0755). Announce/withdraw are `network` statements
//! (with a route-map per prefix for attributes) given through vtysh.

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

/// The `bgpd` binary.
pub const BGPD: &str = "/usr/lib/frr/bgpd";

/// The `zebra` binary.
pub const ZEBRA: &str = "/usr/lib/frr/zebra";

/// An FRR `bgpd` in a host.
#[derive(Debug)]
pub struct Frr {
    host: Host,
    config: PeerConfig,
    daemon: Daemon,
    zebra: Daemon,
    with_zebra: bool,
    dir: PathBuf,
}

impl Frr {
    /// Writes `bgpd.conf` (owned by `frr`), checks it with `bgpd -C`, starts `zebra` and
    /// `bgpd` and waits until vtysh answers. Fails for options FRR lacks (disabling the 4-octet AS capability).
    pub fn start(host: &Host, config: PeerConfig) -> Result<Frr> {
        Self::start_with(host, config, true)
    }

    /// Like [`Frr::start`] but `bgpd -Z` alone (no zebra; see the module docs).
    pub fn start_without_zebra(host: &Host, config: PeerConfig) -> Result<Frr> {
        Self::start_with(host, config, false)
    }

    fn start_with(host: &Host, config: PeerConfig, with_zebra: bool) -> Result<Frr> {
        if config.neighbors.iter().any(|n| n.disable_four_octet_as) {
            return Err(Error::Unsupported(
                "FRR cannot disable the 4-octet AS capability".into(),
            ));
        }
        let dir = host.dir().join("frr");
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        let mut frr = Frr {
            host: host.clone(),
            config,
            daemon: Daemon::default(),
            zebra: Daemon::default(),
            with_zebra,
            dir,
        };
        frr.launch()?;
        Ok(frr)
    }

    /// The vty socket directory (for `vtysh --vty_socket`).
    pub fn vty_dir(&self) -> &std::path::Path {
        &self.dir
    }

    fn dir_str(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    /// Runs `vtysh --vty_socket DIR -c C1 -c C2 ...`; output lines starting with `%` (vtysh's
    /// error marker) make it an error.
    pub fn vtysh(&self, commands: &[&str]) -> Result<String> {
        let dir = self.dir_str();
        let mut args = vec!["--vty_socket", dir.as_str()];
        for command in commands {
            args.push("-c");
            args.push(command);
        }
        let output = self.host.exec("vtysh", &args)?.stdout;
        if output
            .lines()
            .any(|line| line.trim_start().starts_with('%'))
        {
            return Err(Error::Command {
                command: format!("vtysh {}", commands.join(" / ")),
                netns: self.host.name().to_string(),
                status: "error output".into(),
                stderr: output,
            });
        }
        Ok(output)
    }

    fn launch(&mut self) -> Result<()> {
        let config_path = self.dir.join("bgpd.conf");
        let text = config::render(&self.config, self.host.label());
        std::fs::write(&config_path, text)
            .map_err(|e| Error::io(format!("write {}", config_path.display()), e))?;
        let zebra_config = self.dir.join("zebra.conf");
        std::fs::write(
            &zebra_config,
            format!("hostname {}\nlog stdout informational\n", self.host.label()),
        )
        .map_err(|e| Error::io(format!("write {}", zebra_config.display()), e))?;
        let dir = self.dir_str();
        self.host.exec("chown", &["-R", "frr:frr", dir.as_str()])?;
        let config_arg = config_path.to_string_lossy().into_owned();
        self.host
            .exec(BGPD, &["-C", "-Z", "-f", config_arg.as_str(), "-P", "0"])?;
        let zserv = self.dir.join("zserv.api").to_string_lossy().into_owned();
        let mut bgpd_args = vec!["-f".to_string(), config_arg];
        if self.with_zebra {
            let zebra_args = [
                "-f".to_string(),
                zebra_config.to_string_lossy().into_owned(),
                "-i".to_string(),
                self.dir.join("zebra.pid").to_string_lossy().into_owned(),
                "-z".to_string(),
                zserv.clone(),
                "--vty_socket".to_string(),
                dir.clone(),
                "-A".to_string(),
                "127.0.0.1".to_string(),
                "-P".to_string(),
                "0".to_string(),
            ];
            let process = spawn_in(&self.host, "zebra", ZEBRA, &zebra_args, &[])?;
            self.zebra.set(process);
            let socket = self.dir.join("zserv.api");
            wait_until("zebra's zserv.api socket", STARTUP_TIMEOUT, || {
                self.zebra.check_running()?;
                Ok::<_, Error>(socket.exists().then_some(()))
            })?;
            bgpd_args.extend(["-z".to_string(), zserv]);
        } else {
            bgpd_args.push("-Z".to_string());
        }
        bgpd_args.extend([
            "-i".to_string(),
            self.dir.join("bgpd.pid").to_string_lossy().into_owned(),
            "--vty_socket".to_string(),
            dir,
            "-A".to_string(),
            "127.0.0.1".to_string(),
            "-P".to_string(),
            "0".to_string(),
        ]);
        let process = spawn_in(&self.host, "bgpd", BGPD, &bgpd_args, &[])?;
        self.daemon.set(process);
        wait_until("vtysh to answer", STARTUP_TIMEOUT, || {
            self.daemon.check_running()?;
            self.vtysh(&["show bgp summary json"]).map(Some)
        })?;
        Ok(())
    }

    fn stop_all(&mut self) -> Result<()> {
        let result = self.daemon.stop();
        self.zebra.stop()?;
        result
    }
}

impl BgpPeer for Frr {
    fn kind(&self) -> PeerKind {
        PeerKind::Frr
    }

    fn host(&self) -> &Host {
        &self.host
    }

    fn config(&self) -> &PeerConfig {
        &self.config
    }

    fn rib(&self) -> Result<Vec<PeerRoute>> {
        let mut routes = parse::routes(&self.vtysh(&["show bgp ipv4 unicast json detail"])?)?;
        routes.extend(parse::routes(
            &self.vtysh(&["show bgp ipv6 unicast json detail"])?,
        )?);
        Ok(routes)
    }

    fn session_state(&self, neighbor: IpAddr) -> Result<SessionState> {
        parse::session_state(&self.vtysh(&["show bgp neighbors json"])?, neighbor)
    }

    fn announce(&mut self, route: Route) -> Result<()> {
        let map = config::route_map_name(route.prefix);
        // Drop an earlier map for this prefix so old `set`s do not linger; for a new prefix
        // this prints a `%` line, which is fine.
        let _ = self.vtysh(&["configure terminal", &format!("no route-map {map}")]);
        let mut commands = vec![
            "configure terminal".to_string(),
            format!("route-map {map} permit 10"),
        ];
        commands.extend(config::route_map_sets(&route));
        commands.push("exit".into());
        commands.push(format!("router bgp {}", self.config.local_as));
        commands.push(format!(
            "address-family {}",
            config::family_of(route.prefix)
        ));
        commands.push(format!("network {} route-map {map}", route.prefix));
        let commands: Vec<&str> = commands.iter().map(String::as_str).collect();
        self.vtysh(&commands)?;
        self.config.upsert_route(route);
        Ok(())
    }

    fn withdraw(&mut self, prefix: IpNetwork) -> Result<()> {
        let map = config::route_map_name(prefix);
        let router = format!("router bgp {}", self.config.local_as);
        let family = format!("address-family {}", config::family_of(prefix));
        let network = format!("no network {prefix} route-map {map}");
        self.vtysh(&["configure terminal", &router, &family, &network])?;
        let _ = self.vtysh(&["configure terminal", &format!("no route-map {map}")]);
        self.config.remove_route(prefix);
        Ok(())
    }

    fn stop(&mut self) -> Result<()> {
        self.stop_all()
    }

    fn kill(&mut self) -> Result<()> {
        self.daemon.kill();
        self.zebra.kill();
        Ok(())
    }

    fn restart(&mut self) -> Result<()> {
        self.stop_all()?;
        self.launch()
    }

    fn freeze(&self) -> Result<()> {
        self.daemon.running("bgpd")?.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.daemon.running("bgpd")?.thaw()
    }
}
