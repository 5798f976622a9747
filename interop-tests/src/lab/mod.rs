//! The tern lab: the contract's three nodes (`node-1`, `node-2`, `rr-1`), a top-of-rack BIRD
//! router and an outside client, each in its own network namespace; every node runs `ternd` on
//! one shared file datastore (the manifest directories copied into a temp dir), and pods are
//! wired by the real CNI plugins from the conflist ternd writes.
//!
//! ```text
//!   node-1 198.18.0.11 ─┐                      ┌─ router 198.18.0.254, 198.18.1.253 ── 192.0.2.1
//!   rr-1   198.18.0.21 ─┼── one L2 segment ────┘                                          │
//!   node-2 198.18.1.12 ─┘   (two subnets)                               client 192.0.2.10 ┘
//! ```
//!
//! Nodes route everything they have no better route for to the router (default route); the
//! router installs what it learns over BGP into its kernel. So pod↔pod across nodes and
//! client→pod work as soon as the router holds every pod CIDR, with or without kernel routes
//! programmed by ternd itself.
//!
//! [`Lab`] is the topology (used by the `tern-lab` binary and by end-to-end tests);
//! [`run`] is the whole lab command. Everything is removed when the [`Lab`] drops.

pub mod api;
pub mod interrupt;
pub mod matrix;
pub mod plan;
pub mod pods;
pub mod router;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnetwork::{IpNetwork, Ipv4Network};

use crate::error::{Error, Result};
use crate::link::{Switch, Veth};
use crate::netns::Host;
use crate::peers::SessionState;
use crate::process::Process;
use crate::{naming, wait_until};

pub use interrupt::{install_interrupt_handler, interrupted};
pub use plan::NodePlan;
pub use pods::Pod;
pub use router::Router;

/// How the lab is built.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The `ternd` binary.
    pub ternd: PathBuf,
    /// Directories whose `*.yaml`/`*.yml` files make up the datastore (copied, in order; a
    /// later directory's file of the same name replaces an earlier one's).
    pub manifest_dirs: Vec<PathBuf>,
    /// Where the CNI plugins live (`/usr/lib/cni` on Debian).
    pub cni_path: PathBuf,
    /// Create one pod per node.
    pub pods: bool,
    /// Extra `ternd` flags.
    pub ternd_args: Vec<String>,
    /// Let ternd program the routes it learns into each node's kernel (its kernel-side
    /// switch, `--dataplane` or, in older builds, `--program-routes`; found in `--help`).
    pub kernel_routes: bool,
    /// Print progress to stdout.
    pub verbose: bool,
}

impl LabOptions {
    /// Defaults: Debian's CNI path, pods on, quiet.
    pub fn new(ternd: impl Into<PathBuf>, manifest_dirs: Vec<PathBuf>) -> Self {
        LabOptions {
            ternd: ternd.into(),
            manifest_dirs,
            cni_path: PathBuf::from("/usr/lib/cni"),
            pods: true,
            ternd_args: Vec::new(),
            kernel_routes: true,
            verbose: false,
        }
    }
}

/// One node: its namespace, its ternd and where ternd serves and writes.
#[derive(Debug)]
pub struct LabNode {
    /// Addresses and names.
    pub plan: &'static NodePlan,
    /// ternd (declared before `host`: it stops first).
    pub ternd: Process,
    /// The node's namespace.
    pub host: Host,
    /// ternd's API socket.
    pub api_socket: PathBuf,
    /// Where ternd writes the CNI conflist.
    pub cni_conf_dir: PathBuf,
}

/// The running lab. Fields drop in order: pods, nodes (ternd first), router, client, switch,
/// then the datastore directory.
#[derive(Debug)]
pub struct Lab {
    /// One pod per node (when asked for).
    pub pods: Vec<Pod>,
    /// The nodes, in [`plan::NODES`] order.
    pub nodes: Vec<LabNode>,
    /// The top-of-rack router.
    pub router: Router,
    /// The outside client.
    pub client: Host,
    _client_link: Veth,
    _switch: Switch,
    datastore: tempfile::TempDir,
}

/// Longest wait for any one lab step.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(60);

impl Lab {
    /// Builds the topology, starts the router and every ternd, and (when asked) creates the
    /// pods. Does not wait for BGP: see [`Lab::wait_converged`].
    pub fn start(options: &LabOptions) -> Result<Lab> {
        let say = |text: &str| {
            if options.verbose {
                println!("{text}");
            }
        };
        let datastore = tempfile::Builder::new()
            .prefix(&format!("{}.", naming::unique("lab-datastore")))
            .tempdir()
            .map_err(|e| Error::io("create the lab datastore dir", e))?;
        let copied = copy_manifests(&options.manifest_dirs, datastore.path())?;
        say(&format!(
            "datastore {}: {}",
            datastore.path().display(),
            copied.join(", ")
        ));

        let switch = Switch::new("lab-rack")?;
        let router_host = Host::new("lab-router")?;
        let client = Host::new("lab-client")?;
        let rack: Vec<IpNetwork> = plan::ROUTER_RACK_ADDRESSES
            .iter()
            .map(|a| IpNetwork::V4(*a))
            .collect();
        switch.connect_with_addresses(&router_host, &rack)?;
        let client_link = Veth::with_addresses(
            &router_host,
            &[IpNetwork::V4(plan::ROUTER_CLIENT_SIDE)],
            &client,
            &[IpNetwork::V4(plan::CLIENT)],
        )?;
        client.add_route(
            "0.0.0.0/0".parse().unwrap_or(IpNetwork::V4(plan::CLIENT)),
            IpAddr::V4(plan::ROUTER_CLIENT_SIDE.ip()),
        )?;
        let router = Router::start(&router_host)?;
        say(&format!(
            "router {} up: BIRD, sessions {}",
            router_host.name(),
            router::sessions()
                .iter()
                .map(|s| format!("{} (AS {}→{})", s.node.name, s.local_as, s.node.asn))
                .collect::<Vec<_>>()
                .join(", ")
        ));

        let mut options = options.clone();
        // Processes start in their host's temp dir: a relative path would not resolve.
        options.ternd = std::fs::canonicalize(&options.ternd)
            .map_err(|e| Error::io(format!("find {}", options.ternd.display()), e))?;
        if options.kernel_routes {
            match kernel_side_flag(&options.ternd)? {
                Some(flag) => options.ternd_args.push(flag.to_string()),
                None => say("this ternd has no kernel-side switch: nodes route via the router"),
            }
        }
        let mut nodes = Vec::new();
        for node in &plan::NODES {
            nodes.push(start_node(node, &switch, datastore.path(), &options)?);
            say(&format!(
                "{} up in {}: {} ternd --node-name {}",
                node.name,
                nodes[nodes.len() - 1].host.name(),
                node.address,
                node.name
            ));
        }
        let mut pods = Vec::new();
        if options.pods {
            for node in &nodes {
                let pod = pods::add_pod(
                    node.plan.name,
                    &node.host,
                    &node.cni_conf_dir,
                    &options.cni_path,
                    STEP_TIMEOUT,
                )?;
                say(&format!(
                    "{} on {}: {} (ptp + host-local from ternd's conflist)",
                    pod.name, pod.node, pod.address
                ));
                pods.push(pod);
            }
        }
        Ok(Lab {
            pods,
            nodes,
            router,
            client,
            _client_link: client_link,
            _switch: switch,
            datastore,
        })
    }

    /// The shared datastore directory (edit files here to change the cluster).
    pub fn datastore(&self) -> &Path {
        self.datastore.path()
    }

    /// The node with this name.
    pub fn node(&self, name: &str) -> Option<&LabNode> {
        self.nodes.iter().find(|node| node.plan.name == name)
    }

    /// Waits until the router's sessions and every ternd's peers are Established and the
    /// router holds every node's pod CIDR.
    pub fn wait_converged(&self, timeout: Duration) -> Result<()> {
        self.wait("every BGP session Established", timeout, || {
            for node in &self.nodes {
                node.ternd.check_running().map_err(|e| e.to_string())?;
            }
            let states = self.router.session_states().map_err(|e| e.to_string())?;
            if let Some((node, state)) = states.iter().find(|(_, s)| !s.is_established()) {
                return Err(format!("router session with {node} is {state}"));
            }
            for node in &self.nodes {
                let status = api::node_status(&node.api_socket).map_err(|e| e.to_string())?;
                if !api::all_established(&status) {
                    return Err(format!("{} peers: {:?}", node.plan.name, status.peers));
                }
            }
            Ok(Some(()))
        })?;
        let wanted: Vec<IpNetwork> = plan::NODES
            .iter()
            .map(|n| IpNetwork::V4(n.pod_cidr))
            .collect();
        self.wait("the router to learn every pod CIDR", timeout, || {
            let rib = self.router.rib().map_err(|e| e.to_string())?;
            match wanted
                .iter()
                .find(|p| !rib.iter().any(|r| r.prefix == **p && r.best))
            {
                Some(missing) => Err(format!("no route for {missing}")),
                None => Ok(Some(())),
            }
        })
    }

    /// The BGP next hops of every path the router holds for `prefix`, sorted.
    pub fn router_next_hops(&self, prefix: Ipv4Network) -> Result<Vec<IpAddr>> {
        let mut hops: Vec<IpAddr> = self
            .router
            .routes_for(IpNetwork::V4(prefix))?
            .into_iter()
            .map(|route| route.next_hop)
            .collect();
        hops.sort();
        hops.dedup();
        Ok(hops)
    }

    /// The router's sessions, for reports.
    pub fn router_sessions(&self) -> Result<Vec<(&'static str, SessionState)>> {
        self.router.session_states()
    }

    /// Like [`wait_until`], but gives up at once when the lab is interrupted (Ctrl-C).
    pub fn wait<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut() -> std::result::Result<Option<T>, String>,
    ) -> Result<T> {
        wait_until(what, timeout, || {
            if interrupted() {
                return Ok(None);
            }
            probe()
        })
        .and_then(|value| match interrupted() {
            true => Err(Error::Unsupported("interrupted".into())),
            false => Ok(value),
        })
    }
}

/// ternd's flag that turns on kernel route programming, if this build has one.
fn kernel_side_flag(ternd: &Path) -> Result<Option<&'static str>> {
    let output = std::process::Command::new(ternd)
        .arg("--help")
        .output()
        .map_err(|e| Error::io(format!("run {} --help", ternd.display()), e))?;
    let help = String::from_utf8_lossy(&output.stdout);
    Ok(["--dataplane", "--program-routes"]
        .into_iter()
        .find(|flag| help.contains(flag)))
}

/// Copies every `*.yaml`/`*.yml` of `dirs` into `target`; returns the file names.
fn copy_manifests(dirs: &[PathBuf], target: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for dir in dirs {
        let entries =
            std::fs::read_dir(dir).map_err(|e| Error::io(format!("read {}", dir.display()), e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                )
            })
            .collect();
        files.sort();
        for file in files {
            let Some(name) = file.file_name() else {
                continue;
            };
            std::fs::copy(&file, target.join(name))
                .map_err(|e| Error::io(format!("copy {}", file.display()), e))?;
            names.push(name.to_string_lossy().to_string());
        }
    }
    if names.is_empty() {
        return Err(Error::Unsupported(format!(
            "no manifests in {dirs:?}: the lab needs deploy/examples"
        )));
    }
    Ok(names)
}

/// Creates a node's namespace on the rack segment and starts its ternd.
fn start_node(
    node: &'static NodePlan,
    switch: &Switch,
    datastore: &Path,
    options: &LabOptions,
) -> Result<LabNode> {
    let host = Host::new(node.name)?;
    let port = switch.connect_with_addresses(&host, &[IpNetwork::V4(node.address)])?;
    // The other rack's subnet is on the same segment: reach it directly (one hop, so eBGP
    // between node-2 and rr-1 needs no multihop).
    for other in plan::ROUTER_RACK_ADDRESSES {
        let subnet = Ipv4Network::new(other.network(), other.prefix())
            .map_err(|e| Error::Unsupported(e.to_string()))?;
        if !subnet.contains(node.address.ip()) {
            host.add_device_route(IpNetwork::V4(subnet), &port.host_interface)?;
        }
    }
    host.add_route(
        "0.0.0.0/0".parse().unwrap_or(IpNetwork::V4(node.address)),
        IpAddr::V4(node.gateway),
    )?;
    host.enable_forwarding()?;
    let api_socket = host.dir().join("ternd.sock");
    let cni_conf_dir = host.dir().join("net.d");
    let mut args: Vec<String> = vec![
        "--node-name".into(),
        node.name.into(),
        "--datastore".into(),
        datastore.to_string_lossy().into(),
        "--api-socket".into(),
        api_socket.to_string_lossy().into(),
        "--cni-conf-dir".into(),
        cni_conf_dir.to_string_lossy().into(),
    ];
    args.extend(options.ternd_args.iter().cloned());
    let ternd = crate::process::spawn_in(
        &host,
        "ternd",
        &options.ternd.to_string_lossy(),
        &args,
        &[("RUST_LOG", "info")],
    )?;
    Ok(LabNode {
        plan: node,
        ternd,
        host,
        api_socket,
        cni_conf_dir,
    })
}

/// The lab command: builds the lab, prints each node's peer table, the router's routes and
/// the reachability matrix; with `once` returns whether every check passed, otherwise stays up
/// until interrupted. `ternctl` (when given) prints the peer tables instead of the built-in
/// table. Everything is removed before returning.
pub fn run(options: &LabOptions, ternctl: Option<&Path>, once: bool) -> Result<bool> {
    let lab = Lab::start(options)?;
    println!("\nwaiting for BGP (sessions Established, pod CIDRs at the router)...");
    let converged = lab.wait_converged(STEP_TIMEOUT);
    if interrupted() {
        return Ok(false);
    }
    let mut passed = converged.is_ok();
    if let Err(error) = &converged {
        println!("FAIL: {error}");
    }
    print_peer_tables(&lab, ternctl);
    println!("\n== router: birdc show route ==");
    match lab.router.show_route() {
        Ok(text) => print!("{text}"),
        Err(error) => println!("FAIL: {error}"),
    }
    for node in &lab.nodes {
        println!(
            "\n== {}: kernel routes ternd installed (ip route show proto 201) ==",
            node.plan.name
        );
        match node.host.ip(&["route", "show", "proto", "201"]) {
            Ok(output) if output.stdout.trim().is_empty() => println!("(none)"),
            Ok(output) => print!("{}", output.stdout),
            Err(error) => println!("FAIL: {error}"),
        }
    }
    let matrix = matrix::Matrix::measure(&lab);
    println!("\n== reachability (ping) ==\n{}", matrix.render());
    passed &= matrix.all_passed();
    println!(
        "{}",
        match passed {
            true => "lab: every check passed",
            false => "lab: SOME CHECKS FAILED",
        }
    );
    if !passed {
        println!("\n== logs (tails) ==");
        for node in &lab.nodes {
            println!("-- {} --\n{}", node.plan.name, node.ternd.log_tail(30));
        }
        println!("-- router --\n{}", lab.router.host().logs_tail(30));
    }
    if !once && !interrupted() {
        print_usage(&lab);
        while !interrupted() {
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("\ninterrupted: removing the lab");
    }
    for node in &lab.nodes {
        let _ = node.ternd.terminate(Duration::from_secs(5));
    }
    drop(lab);
    Ok(passed)
}

fn print_peer_tables(lab: &Lab, ternctl: Option<&Path>) {
    let ternctl = ternctl.map(|path| std::fs::canonicalize(path).unwrap_or(path.to_path_buf()));
    for node in &lab.nodes {
        println!("\n== {}: ternctl node status ==", node.plan.name);
        if let Some(ternctl) = &ternctl {
            let socket = node.api_socket.to_string_lossy().to_string();
            match node.host.exec(
                &ternctl.to_string_lossy(),
                &["--socket", &socket, "node", "status"],
            ) {
                Ok(output) => {
                    print!("{}", output.stdout);
                    continue;
                }
                Err(error) => println!("(ternctl failed: {error}; asking the API directly)"),
            }
        }
        match api::node_status(&node.api_socket) {
            Ok(status) => print!("{}", api::peer_table(&status)),
            Err(error) => println!("FAIL: {error}"),
        }
    }
}

fn print_usage(lab: &Lab) {
    println!("\nThe lab is up. Ctrl-C removes it. Try:");
    for node in &lab.nodes {
        println!(
            "  ip netns exec {} ip route        # {} (API socket {})",
            node.host.name(),
            node.plan.name,
            node.api_socket.display()
        );
    }
    for pod in &lab.pods {
        println!(
            "  ip netns exec {} ping {}   # a pod on {}",
            pod.host.name(),
            pod.address,
            pod.node
        );
    }
    println!(
        "  birdc -s {} show route all   # the router",
        lab.router.socket().display()
    );
    println!(
        "  ip netns exec {} ping <pod>   # the outside client",
        lab.client.name()
    );
    println!(
        "  edit {}/*.yaml    # every ternd follows",
        lab.datastore().display()
    );
}
