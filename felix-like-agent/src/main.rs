//! `ternd`, the tern node agent: reads cluster objects, works out what this node peers with
//! and advertises, and keeps that true as objects change. Runs in the foreground and logs to
//! stderr; exits non-zero with a clear message on a bad flag or an unusable datastore; stops
//! cleanly on SIGTERM (kernel routes stay for the graceful-restart window). With
//! `--dataplane` it also installs the selected routes into the kernel, encapsulated as the
//! IPPools say, and masquerades natOutgoing traffic.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use tern_agent::api::AgentApi;
use tern_agent::apply::SpeakerApplier;
use tern_agent::calc::CalcOptions;
use tern_agent::daemon::DaemonOptions;
use tern_agent::dataplane::programmer::ProgrammerInputs;
use tern_agent::dataplane::{LocalRoutes, ProgrammerConfig, RouteProgrammer, WithLocalRoutes};
use tern_agent::datastore::watch::log_scan_report;
use tern_agent::datastore::{
    FileDatastore, KubeOptions, WatchOptions, watch_directory, watch_kubernetes,
};
use tern_agent::encap::EncapRouteVia;
use tern_agent::encap::dataplane::DataplaneOptions;
use tern_agent::network_policy::{PolicyHandle, PolicyTask};
use tern_agent::snapshot::Snapshot;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The tern node agent.
#[derive(Debug, Parser)]
#[command(name = "ternd", version, about)]
struct Args {
    /// This node's name (default: the hostname).
    #[arg(long, env = "TERN_NODE_NAME", global = true)]
    node_name: Option<String>,
    /// A directory of YAML manifests, or `kubernetes`.
    #[arg(
        long,
        env = "TERN_DATASTORE",
        default_value = "/etc/tern/manifests",
        global = true
    )]
    datastore: String,
    /// Where the API socket for ternctl is served.
    #[arg(long, env = "TERN_API_SOCKET", default_value = "/run/tern/ternd.sock")]
    api_socket: PathBuf,
    /// Serve Prometheus metrics (`GET /metrics`) on this address, e.g. `0.0.0.0:9091`.
    /// Off when unset.
    #[arg(long, env = "TERN_METRICS_ADDRESS")]
    metrics_address: Option<std::net::SocketAddr>,
    /// Write the CNI conflist (ptp + host-local over the node's pod CIDRs) into this
    /// directory, e.g. /etc/cni/net.d. Not written when unset.
    #[arg(long, env = "TERN_CNI_CONF_DIR")]
    cni_conf_dir: Option<PathBuf>,
    /// MTU of pod interfaces in the CNI conflist.
    #[arg(long, env = "TERN_CNI_MTU")]
    cni_mtu: Option<u32>,
    /// Program the kernel: install the routes BGP selected into the main table (protocol
    /// `tern`) with a blackhole per local pod CIDR and keep them true, set up IPIP/VXLAN
    /// devices and next hops and the natOutgoing table as the IPPools say, and enforce
    /// NetworkPolicy for this node's pods in nftables (`table inet tern`). Off by default.
    /// Needs CAP_NET_ADMIN and `nft`.
    #[arg(long, env = "TERN_DATAPLANE")]
    dataplane: bool,
    /// IPIP implementation: `auto` (kernel when ipip.ko is there, else userspace, logged
    /// loudly), `kernel` or `userspace`.
    #[arg(long, env = "TERN_IPIP_MODE", default_value = "auto")]
    ipip_mode: String,
    /// tern's namespace: where the Secrets that BGP passwords reference live.
    #[arg(
        long,
        env = "TERN_NAMESPACE",
        default_value = "kube-system",
        global = true
    )]
    namespace: String,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions of tern's kinds as YAML, or write one file per
    /// CRD into a directory.
    Crds {
        /// Write `<plural>.tern.dev.yaml` files here instead of printing.
        #[arg(long)]
        output_dir: Option<PathBuf>,
    },
    /// Read the datastore once, print this node's BGP intent (peers, advertisements,
    /// problems) and exit; non-zero when it cannot be computed.
    Intent {
        /// Output format.
        #[arg(long, short = 'o', value_enum, default_value = "yaml")]
        output: OutputFormat,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum OutputFormat {
    Json,
    Yaml,
}

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if let Err(error) = run(args) {
        eprintln!("ternd: error: {error}");
        if let Some(cause) = error.chain().nth(1) {
            eprintln!("  caused by: {cause}");
        }
        std::process::exit(1);
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    if let Some(Command::Crds { output_dir }) = args.command {
        match output_dir {
            Some(directory) => {
                for path in tern_agent::crds::write_crds(&directory)? {
                    eprintln!("wrote {}", path.display());
                }
            }
            None => print!("{}", tern_agent::crds::all_crds_yaml()?),
        }
        return Ok(());
    }
    let node_name = match args.node_name.clone() {
        Some(name) if !name.trim().is_empty() => name.trim().to_string(),
        Some(_) => bail!("--node-name must not be empty"),
        None => hostname().context("cannot determine the node name; pass --node-name")?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let Some(Command::Intent { output }) = args.command {
        return runtime.block_on(print_intent(&args, &node_name, output));
    }
    let options = DaemonOptions {
        node_name,
        calc: CalcOptions {
            secret_namespace: args.namespace.clone(),
        },
        cni_conf_dir: args.cni_conf_dir,
        cni_mtu: args.cni_mtu,
    };
    runtime.block_on(async {
        // Before anything slow, so a SIGTERM during start-up also stops cleanly.
        let signals = ShutdownSignals::register().context("cannot install signal handlers")?;
        let (snapshots, _watcher) = if args.datastore == KUBERNETES {
            open_kubernetes(&args.namespace).await?
        } else {
            open_directory(&PathBuf::from(&args.datastore))?
        };
        tracing::info!(
            node = %options.node_name,
            datastore = %args.datastore,
            api_socket = %args.api_socket.display(),
            "ternd starting: {}",
            snapshots.borrow().summary()
        );
        let dataplane = match args.dataplane {
            true => Some(DataplaneOptions {
                ipip_mode: tern_agent::encap::ipip::parse_mode(&args.ipip_mode)
                    .map_err(anyhow::Error::msg)
                    .context("bad --ipip-mode")?,
            }),
            false => None,
        };
        let policy = args
            .dataplane
            .then(|| PolicyTask::spawn(options.node_name.clone(), snapshots.clone()));
        let api = ApiOptions {
            socket: &args.api_socket,
            datastore: &args.datastore,
            metrics: args.metrics_address,
            policy: policy.as_ref().map(PolicyTask::view),
        };
        let served = serve(options, snapshots, signals, api, dataplane).await;
        if let Some(policy) = policy {
            policy.stop().await;
        }
        served
    })
}

/// The `--datastore` value that selects the Kubernetes API.
const KUBERNETES: &str = "kubernetes";

/// How long the first list of every kind may take before the datastore counts as unusable.
const KUBERNETES_SYNC_TIMEOUT: Duration = Duration::from_secs(60);

type Snapshots = watch::Receiver<Arc<Snapshot>>;

fn open_directory(directory: &Path) -> anyhow::Result<(Snapshots, JoinHandle<()>)> {
    let (datastore, report) = FileDatastore::open(directory)
        .with_context(|| format!("unusable datastore {}", directory.display()))?;
    log_scan_report(&report);
    watch_directory(datastore, WatchOptions::default())
        .with_context(|| format!("unusable datastore {}", directory.display()))
}

async fn open_kubernetes(namespace: &str) -> anyhow::Result<(Snapshots, JoinHandle<()>)> {
    let client = kube::Client::try_default().await.context(
        "unusable datastore kubernetes: no in-cluster configuration and no usable KUBECONFIG",
    )?;
    let (snapshots, mut ready, task) = watch_kubernetes(
        client,
        KubeOptions {
            secret_namespace: namespace.to_string(),
        },
    );
    match tokio::time::timeout(KUBERNETES_SYNC_TIMEOUT, ready.wait_for(|ready| *ready)).await {
        Ok(Ok(_)) => Ok((snapshots, task)),
        _ => bail!(
            "unusable datastore kubernetes: could not list every kind within {}s (see the warnings above)",
            KUBERNETES_SYNC_TIMEOUT.as_secs()
        ),
    }
}

/// `ternd intent`: one calculation, printed.
async fn print_intent(args: &Args, node_name: &str, output: OutputFormat) -> anyhow::Result<()> {
    let (snapshots, _watcher) = if args.datastore == KUBERNETES {
        open_kubernetes(&args.namespace).await?
    } else {
        open_directory(&PathBuf::from(&args.datastore))?
    };
    let options = CalcOptions {
        secret_namespace: args.namespace.clone(),
    };
    let snapshot = snapshots.borrow().clone();
    let intent = tern_agent::calc::calculate_with(&snapshot, node_name, &options)?;
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&intent)?),
        OutputFormat::Yaml => print!("{}", serde_yaml_ng::to_string(&intent)?),
    }
    Ok(())
}

async fn serve(
    options: DaemonOptions,
    snapshots: Snapshots,
    mut signals: ShutdownSignals,
    api_options: ApiOptions<'_>,
    dataplane: Option<DataplaneOptions>,
) -> anyhow::Result<()> {
    let ApiOptions {
        socket: api_socket,
        datastore,
        metrics,
        policy,
    } = api_options;
    // Before the speaker: whether the kernel kept our routes decides whether the speaker
    // starts as a restarting one.
    let programmer = if dataplane.is_some() {
        let programmer = RouteProgrammer::open(ProgrammerConfig::default())
            .await
            .context("cannot program kernel routes (rtnetlink needs CAP_NET_ADMIN)")?;
        Some(programmer)
    } else {
        None
    };
    let applier = SpeakerApplier::new()
        .with_forwarding_preserved(programmer.as_ref().is_some_and(|p| p.preserved() > 0));
    let (local_routes, local_routes_receiver) = watch::channel(LocalRoutes::default());
    let route_via = EncapRouteVia::new();
    let (stop_encap, encap_stopped) = watch::channel(false);
    let encap_task = dataplane.map(|dataplane| {
        tokio::spawn(tern_agent::encap::dataplane::run(
            options.node_name.clone(),
            dataplane,
            snapshots.clone(),
            route_via.clone(),
            programmer.as_ref().map(RouteProgrammer::handle),
            encap_stopped,
        ))
    });
    let (stop_programmer, programmer_stopped) = tokio::sync::oneshot::channel::<()>();
    let dataplane = programmer.as_ref().map(RouteProgrammer::handle);
    let programmer_task = programmer.map(|programmer| {
        let inputs = ProgrammerInputs {
            speaker: applier.subscribe(),
            selection_deferred: applier.selection_deferred(),
            local: local_routes_receiver,
            via: Arc::new(route_via.clone()),
        };
        tokio::spawn(programmer.run(inputs, async move {
            let _ = programmer_stopped.await;
        }))
    });
    let mut applier = WithLocalRoutes {
        inner: applier,
        local: local_routes,
    };
    let api = AgentApi::new(
        options.node_name.clone(),
        applier.inner.subscribe(),
        applier.inner.peer_configs(),
    );
    let api = match dataplane {
        Some(handle) => api.with_dataplane(Arc::new(handle)),
        None => api,
    };
    let api = match policy {
        Some(handle) => api.with_policy(Arc::new(handle)),
        None => api,
    };
    let api = Arc::new(if datastore == KUBERNETES {
        api.with_kubernetes_datastore()
    } else {
        api.with_file_datastore(datastore)
    });
    let server = tern_proto::UnixServer::bind(api_socket)
        .with_context(|| format!("cannot serve the API on {}", api_socket.display()))?;
    let (stop_api, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
    if let Some(address) = metrics {
        let listener = tern_proto::metrics::bind_metrics(address)
            .await
            .with_context(|| format!("cannot serve metrics on {address}"))?;
        tracing::info!(%address, "serving Prometheus metrics at /metrics");
        tokio::spawn(tern_proto::metrics::serve_metrics(
            listener,
            api.clone(),
            async move {
                let _ = metrics_stopped.await;
            },
        ));
    }
    let api_task = tokio::spawn(server.serve(api, async move {
        let _ = api_stopped.await;
    }));
    let shutdown = async move {
        let name = signals.recv().await;
        tracing::info!("{name} received; stopping (kernel routes stay in place)");
    };
    tern_agent::daemon::run(&options, snapshots, &mut applier, shutdown).await;
    applier.inner.shutdown().await;
    let _ = stop_programmer.send(());
    if let Some(task) = programmer_task {
        let _ = task.await;
    }
    let _ = stop_encap.send(true);
    if let Some(task) = encap_task {
        let _ = task.await;
    }
    let _ = stop_api.send(());
    let _ = stop_metrics.send(());
    match api_task.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!("API server: {error}"),
        Err(error) => tracing::warn!("API server task: {error}"),
    }
    let _ = std::fs::remove_file(api_socket);
    tracing::info!("ternd stopped");
    Ok(())
}

/// Where the API is served and what it serves resources from.
struct ApiOptions<'a> {
    socket: &'a Path,
    /// `--datastore`: a directory or `kubernetes`.
    datastore: &'a str,
    /// `--metrics-address`.
    metrics: Option<std::net::SocketAddr>,
    /// The policy programmer's view (with `--dataplane`).
    policy: Option<PolicyHandle>,
}

/// SIGTERM and SIGINT handlers, installed once at start-up.
struct ShutdownSignals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    fn register() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(ShutdownSignals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for either signal; returns its name.
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// The kernel's host name.
fn hostname() -> anyhow::Result<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .context("reading /proc/sys/kernel/hostname")?;
    let name = name.trim();
    if name.is_empty() {
        bail!("the hostname is empty");
    }
    Ok(name.to_string())
}
