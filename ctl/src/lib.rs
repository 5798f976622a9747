//! `ternctl`, the tern CLI: reads and changes a node through ternd's gRPC API, on its unix
//! socket (default) or its TCP port with mutual TLS (`--server`, `--ca`, `--cert`, `--key`).
//!
//! Modeled on calicoctl (`node status`, `get`, `apply -f`, `delete -f`), gobgp (routes, peer
//! reset) and birdc. Output: `-o table` (default), `wide`, `json`, `yaml`. Exit code 0 on
//! success, 1 on any error (with a sentence on stderr), 2 on a usage error.
//!
//! The binary is [`main_with_args`] over the process arguments; tests that need the real
//! command in a process of their own (e.g. next to a `ternd` in a network namespace) call it
//! from a re-executed test binary.

mod client;
mod commands;
mod kinds;
mod manifest;
mod output;
mod resources;
mod routes;
mod status;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::output::Format;

#[derive(Debug, Parser)]
#[command(name = "ternctl", version, about = "Inspect and configure a tern node", long_about = None)]
struct Cli {
    /// ternd's API socket.
    #[arg(long, global = true, env = "TERN_API_SOCKET", default_value = tern_proto::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// ternd's TCP API (`https://HOST:PORT`) instead of the socket; needs --ca, --cert, --key.
    #[arg(long, global = true, env = "TERN_API_SERVER")]
    server: Option<String>,
    /// CA certificate (PEM) that signed ternd's TCP API certificate.
    #[arg(long, global = true, env = "TERN_API_CA")]
    ca: Option<PathBuf>,
    /// Client certificate (PEM) for the TCP API.
    #[arg(long, global = true, env = "TERN_API_CERT")]
    cert: Option<PathBuf>,
    /// Client key (PEM) for the TCP API.
    #[arg(long, global = true, env = "TERN_API_KEY")]
    key: Option<PathBuf>,
    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value = "table"
    )]
    output: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// This node's BGP status (like `calicoctl node status`).
    Node {
        #[command(subcommand)]
        command: NodeCommand,
    },
    /// List objects: routes, peers, bgpconfig, bgppeers, bgpfilters, ippools, nodes,
    /// networkpolicies.
    Get {
        /// What to list.
        kind: String,
        /// One object by name (for routes: a prefix or address, longest match).
        name: Option<String>,
        /// Namespace (namespaced kinds).
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        /// Routes: a prefix or address (longest match unless --exact or --longer).
        #[arg(long)]
        prefix: Option<String>,
        /// Routes: only exactly --prefix.
        #[arg(long, conflicts_with = "longer")]
        exact: bool,
        /// Routes: --prefix and all more specific prefixes.
        #[arg(long)]
        longer: bool,
        /// Routes: only this family.
        #[arg(long, value_enum)]
        family: Option<FamilyArgument>,
        /// Routes: a peer's Adj-RIB-In instead of the Loc-RIB.
        #[arg(long, value_name = "PEER")]
        received_from: Option<String>,
        /// Routes: what is advertised to a peer (Adj-RIB-Out).
        #[arg(long, value_name = "PEER", conflicts_with = "received_from")]
        advertised_to: Option<String>,
    },
    /// Create or update objects from a manifest (`-` reads stdin).
    Apply {
        #[arg(short = 'f', long = "filename")]
        file: String,
    },
    /// Delete the objects a manifest names (`-` reads stdin).
    Delete {
        #[arg(short = 'f', long = "filename")]
        file: String,
    },
    /// Policy applied to a pod.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Kernel state tern programs.
    Dataplane {
        #[command(subcommand)]
        command: DataplaneCommand,
    },
    /// Operations on a BGP session.
    Peer {
        #[command(subcommand)]
        command: PeerCommand,
    },
    /// Print peer state and best-route changes as they happen (Ctrl-C stops).
    Watch {
        /// Only peer changes.
        #[arg(long, conflicts_with = "routes")]
        peers: bool,
        /// Only best-route changes.
        #[arg(long)]
        routes: bool,
    },
    /// Print a shell completion script (e.g. `ternctl completion bash > /etc/bash_completion.d/ternctl`).
    Completion { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
enum NodeCommand {
    /// Node, AS, router ID and one row per BGP peer.
    Status,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Policies selecting POD and what they allow.
    Show {
        pod: String,
        #[arg(short = 'n', long, default_value = "default")]
        namespace: String,
    },
}

#[derive(Debug, Subcommand)]
enum DataplaneCommand {
    /// Kernel routes tern installed.
    Routes,
}

#[derive(Debug, Subcommand)]
enum PeerCommand {
    /// Hard reset: close the session and start it again.
    Reset { address: String },
    /// Soft reset: ask for the routes again and/or re-send ours; the session stays up.
    /// `--in` sends ROUTE-REFRESH (RFC 2918; the peer must support it), `--out` sends our
    /// routes again; neither or both: both.
    Refresh {
        address: String,
        /// Ask the peer to send its routes again.
        #[arg(long = "in", conflicts_with = "direction")]
        inbound: bool,
        /// Send the peer our routes again.
        #[arg(long = "out", conflicts_with = "direction")]
        outbound: bool,
        #[arg(long, value_enum)]
        direction: Option<DirectionArgument>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum FamilyArgument {
    Ipv4,
    Ipv6,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum DirectionArgument {
    In,
    Out,
    Both,
}

/// Run `ternctl` with `args` (the first is the program name) and exit the process: 0 on
/// success, 1 on an error (a sentence on stderr), 2 on a usage error.
pub fn main_with_args<I, T>(args: I) -> !
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => fail(anyhow::anyhow!("cannot start: {error}")),
    };
    if let Err(error) = runtime.block_on(run(cli)) {
        fail(error);
    }
    let _ = std::io::Write::flush(&mut std::io::stdout());
    std::process::exit(0)
}

fn fail(error: anyhow::Error) -> ! {
    let _ = std::io::Write::flush(&mut std::io::stdout());
    eprintln!("ternctl: {error:#}");
    std::process::exit(1);
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let format = cli.output;
    let connection = client::Connection {
        socket: cli.socket,
        server: cli.server,
        ca: cli.ca,
        certificate: cli.cert,
        key: cli.key,
    };
    let connection = &connection;
    match cli.command {
        Command::Completion { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "ternctl",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Node {
            command: NodeCommand::Status,
        } => commands::node_status(connection, format).await,
        Command::Get {
            kind,
            name,
            namespace,
            prefix,
            exact,
            longer,
            family,
            received_from,
            advertised_to,
        } => {
            let query = commands::RouteQuery {
                prefix: prefix.or_else(|| name.clone()),
                exact,
                longer,
                ipv6: family.map(|f| matches!(f, FamilyArgument::Ipv6)),
                received_from,
                advertised_to,
            };
            commands::get(connection, format, &kind, name, namespace, query).await
        }
        Command::Apply { file } => commands::apply(connection, &file, false).await,
        Command::Delete { file } => commands::apply(connection, &file, true).await,
        Command::Policy {
            command: PolicyCommand::Show { pod, namespace },
        } => commands::policy_show(connection, format, pod, namespace).await,
        Command::Dataplane {
            command: DataplaneCommand::Routes,
        } => commands::dataplane_routes(connection, format).await,
        Command::Peer { command } => match command {
            PeerCommand::Reset { address } => commands::peer_reset(connection, address).await,
            PeerCommand::Refresh {
                address,
                inbound,
                outbound,
                direction,
            } => {
                let direction = match (inbound, outbound) {
                    (true, false) => DirectionArgument::In,
                    (false, true) => DirectionArgument::Out,
                    _ => direction.unwrap_or(DirectionArgument::Both),
                };
                let direction = match direction {
                    DirectionArgument::In => tern_proto::pb::RefreshDirection::In,
                    DirectionArgument::Out => tern_proto::pb::RefreshDirection::Out,
                    DirectionArgument::Both => tern_proto::pb::RefreshDirection::Both,
                };
                commands::peer_refresh(connection, address, direction).await
            }
        },
        Command::Watch { peers, routes } => {
            let (peers, routes) = if peers || routes {
                (peers, routes)
            } else {
                (true, true)
            };
            commands::watch(connection, format, peers, routes).await
        }
    }
}
