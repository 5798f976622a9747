//! [`RouteProgrammer`]: the reconciler task. One loop owns desired state, the last known
//! kernel table and the socket; every pass materializes what changed, plans against the
//! table ([`super::diff::plan`]) and applies the plan in batches ([`RouteSocket::apply`]).
//!
//! Passes run (after [`ProgrammerConfig::settle`], which coalesces bursts) when the speaker's
//! selection changes, when the intent or the [`RouteVia`] decision changes
//! ([`ProgrammerHandle::refresh`]), when someone else adds, changes or deletes a main-table
//! route at a tern destination or with tern's protocol, when links change, and every
//! [`ProgrammerConfig::resync_interval`]. A pass after a kernel event or on the resync timer
//! dumps the table first; other passes trust the last dump plus what they applied.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bgp::Speaker;
use ipnetwork::IpNetwork;
use tokio::sync::{Notify, broadcast, watch};
use tokio::time::Instant;

use super::desired::{DesiredInputs, LocalRoutes, RouteVia, change_next_hops, loc_rib_next_hops};
use super::diff::{ActualTable, RouteOp, plan};
use super::events::{KernelEvent, KernelEvents};
use super::kernel::{self, KernelError, RouteSocket};
use super::route::{DesiredRoute, Device, KernelRoute, RouteKind};
use super::{RTPROT_TERN, codec};

/// Timing of the programmer.
#[derive(Clone, Debug)]
pub struct ProgrammerConfig {
    /// Full resync (dump, plan, apply) at least this often.
    pub resync_interval: Duration,
    /// Wait this long after the first change of a burst before a pass.
    pub settle: Duration,
    /// After a restart that found tern routes: the longest they are kept while the speaker
    /// relearns (the speaker's selection deferral plus a margin).
    pub restart_window: Duration,
}

impl Default for ProgrammerConfig {
    fn default() -> Self {
        ProgrammerConfig {
            resync_interval: Duration::from_secs(30),
            settle: Duration::from_millis(10),
            restart_window: bgp::speaker::config::DEFAULT_SELECTION_DEFERRAL
                + Duration::from_secs(5),
        }
    }
}

/// The routes tern has in the kernel, as of the last pass (for the API).
#[derive(Clone, Debug, Default)]
pub struct InstalledRoutes(Arc<Mutex<Arc<Vec<DesiredRoute>>>>);

impl InstalledRoutes {
    /// tern's routes in the main table, by destination (devices by name where known).
    pub fn installed_routes(&self) -> Arc<Vec<DesiredRoute>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Publishes `table`, naming devices where `links` knows them.
    fn publish(&self, table: &HashMap<IpNetwork, KernelRoute>, links: &HashMap<String, u32>) {
        let names: HashMap<u32, &String> =
            links.iter().map(|(name, index)| (*index, name)).collect();
        let mut routes: Vec<DesiredRoute> = table
            .values()
            .map(|kernel| {
                let mut route = kernel.route.clone();
                if let RouteKind::Unicast(hops) = &mut route.kind {
                    for hop in hops {
                        if let Some(Device::Index(index)) = hop.device
                            && let Some(name) = names.get(&index)
                        {
                            hop.device = Some(Device::Name((*name).clone()));
                        }
                    }
                }
                route
            })
            .collect();
        routes.sort_by_key(|route| route.destination);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Arc::new(routes);
    }
}

/// What other parts of the agent hold on to.
#[derive(Clone, Debug)]
pub struct ProgrammerHandle {
    installed: InstalledRoutes,
    refresh: Arc<Notify>,
}

impl ProgrammerHandle {
    /// tern's routes in the kernel as of the last pass.
    pub fn installed_routes(&self) -> Arc<Vec<DesiredRoute>> {
        self.installed.installed_routes()
    }

    /// Recompute every desired route (call after the [`RouteVia`] decision changed).
    pub fn refresh(&self) {
        self.refresh.notify_one();
    }
}

/// Where desired state comes from.
pub struct ProgrammerInputs {
    /// The running speaker (`None` while it restarts or after shutdown: routes stay).
    pub speaker: watch::Receiver<Option<Speaker>>,
    /// Whether the current speaker defers selection after a restart
    /// ([`crate::apply::SpeakerApplier::selection_deferred`]).
    pub selection_deferred: watch::Receiver<bool>,
    /// The intent's part.
    pub local: watch::Receiver<LocalRoutes>,
    /// Kernel next hops per BGP next hop.
    pub via: Arc<dyn RouteVia>,
}

/// Keeps the main table in line with desired state.
#[derive(Debug)]
pub struct RouteProgrammer {
    config: ProgrammerConfig,
    socket: Arc<Mutex<RouteSocket>>,
    port: u32,
    actual: ActualTable,
    preserved: usize,
    installed: InstalledRoutes,
    refresh: Arc<Notify>,
}

/// Runs a blocking socket call off the async threads.
async fn with_socket<T: Send + 'static>(
    socket: &Arc<Mutex<RouteSocket>>,
    call: impl FnOnce(&mut RouteSocket) -> Result<T, KernelError> + Send + 'static,
) -> Result<T, KernelError> {
    let socket = socket.clone();
    tokio::task::spawn_blocking(move || call(&mut socket.lock().unwrap_or_else(|p| p.into_inner())))
        .await
        .unwrap_or_else(|join| Err(KernelError::Io(std::io::Error::other(join.to_string()))))
}

impl RouteProgrammer {
    /// Opens the socket in the current network namespace and reads the main table.
    pub async fn open(config: ProgrammerConfig) -> Result<Self, KernelError> {
        let socket = Arc::new(Mutex::new(RouteSocket::open()?));
        let port = socket.lock().unwrap_or_else(|p| p.into_inner()).port();
        let actual = with_socket(&socket, RouteSocket::dump_main).await?;
        let installed = InstalledRoutes::default();
        installed.publish(&actual.tern, &HashMap::new());
        Ok(RouteProgrammer {
            config,
            socket,
            port,
            preserved: actual.tern.len(),
            actual,
            installed,
            refresh: Arc::default(),
        })
    }

    /// How many tern routes were in the kernel at start-up (kept from before a restart).
    pub fn preserved(&self) -> usize {
        self.preserved
    }

    /// The handle for the API and the encapsulation.
    pub fn handle(&self) -> ProgrammerHandle {
        ProgrammerHandle {
            installed: self.installed.clone(),
            refresh: self.refresh.clone(),
        }
    }

    /// Runs until `shutdown` completes. Never flushes routes.
    pub async fn run(self, inputs: ProgrammerInputs, shutdown: impl Future<Output = ()>) {
        let mut events = match KernelEvents::subscribe() {
            Ok(events) => Some(events),
            Err(error) => {
                tracing::error!(
                    "cannot subscribe to route events ({error}); relying on the periodic resync"
                );
                None
            }
        };
        let keeping = self.preserved > 0;
        if keeping {
            tracing::info!(
                routes = self.preserved,
                "found tern routes from before a restart: keeping them until the speaker has relearned (at most {}s)",
                self.config.restart_window.as_secs()
            );
        }
        let mut state = Loop {
            desired: HashMap::new(),
            inputs: DesiredInputs::default(),
            links: HashMap::new(),
            pruning: !keeping,
            keep_until: keeping.then(|| Instant::now() + self.config.restart_window),
            end_keep_on_publication: false,
            dirty: Dirty::All,
            dump: false,
            fetch_links: true,
            pending_since: Some(Instant::now()),
            failing: HashSet::new(),
            programmer: self,
        };
        state.run(inputs, &mut events, shutdown).await;
    }
}

/// Which desired routes must be recomputed.
#[derive(Debug, Default)]
enum Dirty {
    #[default]
    Nothing,
    Some(HashSet<IpNetwork>),
    All,
}

impl Dirty {
    fn add(&mut self, prefix: IpNetwork) {
        match self {
            Dirty::Nothing => *self = Dirty::Some(HashSet::from([prefix])),
            Dirty::Some(set) => {
                set.insert(prefix);
            }
            Dirty::All => {}
        }
    }
}

struct Loop {
    programmer: RouteProgrammer,
    inputs: DesiredInputs,
    /// Desired routes with devices resolved to indexes.
    desired: HashMap<IpNetwork, DesiredRoute>,
    links: HashMap<String, u32>,
    pruning: bool,
    keep_until: Option<Instant>,
    end_keep_on_publication: bool,
    dirty: Dirty,
    dump: bool,
    fetch_links: bool,
    /// When the oldest unapplied change arrived.
    pending_since: Option<Instant>,
    /// Destinations the kernel refused last time (logged once).
    failing: HashSet<IpNetwork>,
}

/// Updates the last known table with a change someone else made, so the next pass repairs
/// it without a dump. What one notification cannot tell (an IPv6 route merged into a
/// multipath one, an appended duplicate) the periodic resync's dump corrects.
fn note_foreign_change(actual: &mut ActualTable, route: KernelRoute, deleted: bool) {
    let destination = route.route.destination;
    let at_our_metric = route.metric == codec::default_metric(&destination);
    match (route.is_tern(), deleted) {
        (true, true) => {
            actual.tern.remove(&destination);
        }
        (true, false) => {
            actual.tern.insert(destination, route);
        }
        (false, true) if at_our_metric => {
            actual.foreign.remove(&destination);
        }
        (false, false) if at_our_metric => {
            // Same destination and metric: it replaced ours.
            actual.foreign.insert(destination, route.protocol);
            actual.tern.remove(&destination);
        }
        (false, _) => {}
    }
}

async fn next_change(
    routes: &mut Option<broadcast::Receiver<bgp::RouteChange>>,
) -> Result<bgp::RouteChange, broadcast::error::RecvError> {
    match routes {
        Some(routes) => routes.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_event(events: &mut Option<KernelEvents>) -> Option<KernelEvent> {
    match events {
        Some(events) => events.next().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

impl Loop {
    fn touch(&mut self) {
        self.pending_since.get_or_insert_with(Instant::now);
    }

    async fn run(
        &mut self,
        mut inputs: ProgrammerInputs,
        events: &mut Option<KernelEvents>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut routes: Option<broadcast::Receiver<bgp::RouteChange>> = None;
        let mut speaker: Option<Speaker> = None;
        inputs.speaker.mark_changed();
        inputs.local.mark_changed();
        let interval = self.programmer.config.resync_interval;
        let mut resync_at = Instant::now() + interval;
        loop {
            let pass_at = self
                .pending_since
                .map(|t| t + self.programmer.config.settle);
            tokio::select! {
                _ = &mut shutdown => {
                    tracing::info!("route programmer stopping; kernel routes stay in place");
                    return;
                }
                changed = inputs.speaker.changed() => {
                    if changed.is_err() {
                        // The applier is gone: keep programming what we have.
                        inputs.speaker = watch::channel(None).1;
                        continue;
                    }
                    speaker = inputs.speaker.borrow_and_update().clone();
                    routes = speaker.as_ref().map(Speaker::subscribe);
                    if let Some(current) = &speaker {
                        self.end_keep_on_publication =
                            self.keep_until.is_some() && *inputs.selection_deferred.borrow();
                        self.reload(current).await;
                    }
                }
                change = next_change(&mut routes) => match change {
                    Ok(change) => {
                        if self.end_keep_on_publication {
                            tracing::info!("speaker's selection deferral is over: removing routes no longer desired");
                            self.end_keep();
                            if let Some(current) = &speaker {
                                self.reload(current).await;
                            }
                        }
                        self.inputs.set_learned(change.prefix, change_next_hops(&change));
                        self.dirty.add(change.prefix);
                        self.touch();
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "route changes missed: rereading the Loc-RIB");
                        if let Some(current) = &speaker {
                            self.reload(current).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => routes = None,
                },
                changed = inputs.local.changed() => {
                    if changed.is_err() {
                        inputs.local = watch::channel(self.inputs.local().clone()).1;
                        continue;
                    }
                    let local = inputs.local.borrow_and_update().clone();
                    self.inputs.set_local(local);
                    self.dirty = Dirty::All;
                    self.touch();
                }
                _ = self.programmer.refresh.notified() => {
                    self.dirty = Dirty::All;
                    self.touch();
                }
                event = next_event(events) => self.on_event(event, events),
                _ = tokio::time::sleep_until(resync_at) => {
                    resync_at = Instant::now() + interval;
                    self.dump = true;
                    self.touch();
                }
                _ = sleep_until(self.keep_until) => {
                    tracing::info!("restart window over: removing tern routes no longer desired");
                    self.end_keep();
                }
                _ = sleep_until(pass_at) => {
                    self.pending_since = None;
                    if let Err(error) = self.pass(&inputs.via).await {
                        tracing::error!("route programming pass failed: {error}; retrying");
                        self.dump = true;
                        resync_at = Instant::now() + Duration::from_secs(1);
                    }
                }
            }
        }
    }

    fn end_keep(&mut self) {
        self.keep_until = None;
        self.end_keep_on_publication = false;
        self.pruning = true;
        self.touch();
    }

    async fn reload(&mut self, speaker: &Speaker) {
        match speaker.loc_rib().await {
            Ok(rib) => self.inputs.replace_learned(loc_rib_next_hops(&rib)),
            Err(error) => tracing::warn!("cannot read the Loc-RIB: {error}"),
        }
        self.dirty = Dirty::All;
        self.touch();
    }

    fn on_event(&mut self, event: Option<KernelEvent>, events: &mut Option<KernelEvents>) {
        match event {
            None => {
                tracing::warn!("route event subscription ended; resubscribing");
                *events = KernelEvents::subscribe().ok();
                self.dump = true;
            }
            Some(KernelEvent::Route { port, .. }) if port == self.programmer.port => return,
            Some(KernelEvent::Route { route, deleted, .. }) => {
                let destination = route.route.destination;
                if !route.is_tern() && !self.desired.contains_key(&destination) {
                    return;
                }
                tracing::debug!(%destination, protocol = route.protocol, deleted, "route changed by someone else");
                note_foreign_change(&mut self.programmer.actual, route, deleted);
            }
            Some(KernelEvent::Link) => {
                self.fetch_links = true;
                self.dirty = Dirty::All;
                self.dump = true;
            }
            Some(KernelEvent::Overrun) => self.dump = true,
        }
        self.touch();
    }

    /// Brings `desired` up to date with the inputs.
    fn materialize(&mut self, via: &Arc<dyn RouteVia>) {
        let resolve = |route: DesiredRoute, links: &HashMap<String, u32>| {
            if kernel::has_named_device(&route) {
                let resolved = kernel::resolve_devices(&route, links);
                if resolved.is_none() {
                    tracing::warn!(%route, "device not found; route not installed yet");
                }
                resolved
            } else {
                Some(route)
            }
        };
        match std::mem::take(&mut self.dirty) {
            Dirty::Nothing => {}
            Dirty::All => {
                self.desired = self
                    .inputs
                    .all(via.as_ref())
                    .into_iter()
                    .filter_map(|(prefix, route)| Some((prefix, resolve(route, &self.links)?)))
                    .collect();
            }
            Dirty::Some(prefixes) => {
                for prefix in prefixes {
                    match self
                        .inputs
                        .route_for(prefix, via.as_ref())
                        .and_then(|route| resolve(route, &self.links))
                    {
                        Some(route) => self.desired.insert(prefix, route),
                        None => self.desired.remove(&prefix),
                    };
                }
            }
        }
    }

    async fn pass(&mut self, via: &Arc<dyn RouteVia>) -> Result<(), KernelError> {
        let socket = &self.programmer.socket.clone();
        if std::mem::take(&mut self.fetch_links) {
            self.links = with_socket(socket, RouteSocket::links).await?;
        }
        self.materialize(via);
        if std::mem::take(&mut self.dump) {
            self.programmer.actual = with_socket(socket, RouteSocket::dump_main).await?;
            self.programmer
                .installed
                .publish(&self.programmer.actual.tern, &self.links);
        }
        let plan = plan(&self.desired, &self.programmer.actual, self.pruning);
        for destination in &plan.conflicts {
            if self.failing.insert(*destination) {
                tracing::warn!(%destination, "a connected (proto kernel) route holds this destination; not installing tern's");
            }
        }
        if plan.operations.is_empty() {
            return Ok(());
        }
        let count = plan.operations.len();
        let operations = plan.operations;
        let (report, operations) = with_socket(socket, move |socket| {
            let report = socket.apply(&operations)?;
            Ok((report, operations))
        })
        .await?;
        let failed: HashSet<IpNetwork> = report
            .failed
            .iter()
            .map(|(operation, _)| operation.destination())
            .collect();
        for (operation, errno) in &report.failed {
            if self.failing.insert(operation.destination()) {
                tracing::warn!(
                    "{} failed: {}",
                    kernel::describe(operation),
                    std::io::Error::from_raw_os_error(*errno)
                );
            }
        }
        for operation in operations {
            let destination = operation.destination();
            if failed.contains(&destination) {
                continue;
            }
            self.failing.remove(&destination);
            match operation {
                RouteOp::Replace(route) => {
                    self.programmer.actual.tern.insert(
                        destination,
                        KernelRoute {
                            metric: codec::default_metric(&destination),
                            route,
                            protocol: RTPROT_TERN,
                        },
                    );
                }
                RouteOp::Delete(_) => {
                    self.programmer.actual.tern.remove(&destination);
                }
            }
        }
        tracing::debug!(
            operations = count,
            failed = report.failed.len(),
            kept = plan.kept,
            "route pass applied"
        );
        self.programmer
            .installed
            .publish(&self.programmer.actual.tern, &self.links);
        Ok(())
    }
}

#[cfg(test)]
#[path = "programmer_tests.rs"]
mod tests;
