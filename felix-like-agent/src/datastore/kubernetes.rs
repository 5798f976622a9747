//! The Kubernetes datastore: one kube watcher (list, then watch; a relist after `410 Gone`)
//! per kind, feeding one store that publishes whole [`Snapshot`]s — the same type the file
//! datastore produces. Secrets are not watched wholesale: only those that BGPPeers (and the
//! mesh password) reference, each by name, in tern's namespace. Nothing is published until
//! every watch has completed its first list, so the agent never acts on a partial view.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::model::{BgpConfiguration, BgpFilter, BgpPeer, IpPool, Kind, Object, ObjectKey};
use crate::snapshot::Snapshot;

/// One watch feeding the store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    /// Every object of a kind (all namespaces).
    Kind(Kind),
    /// One Secret, by name, in tern's namespace.
    Secret(String),
}

/// What a watch reports.
#[derive(Debug)]
enum Update {
    /// A (re)list starts: the source's objects will be replaced at `InitDone`.
    Init(Source),
    /// An object of the (re)list.
    InitApply(Source, Object),
    /// The (re)list is complete.
    InitDone(Source),
    /// An object was added or changed.
    Apply(Source, Object),
    /// An object was deleted.
    Delete(Source, Kind, ObjectKey),
}

/// Settings of the Kubernetes datastore.
#[derive(Clone, Debug)]
pub struct KubeOptions {
    /// Namespace of the Secrets BGPPeers reference (tern's own).
    pub secret_namespace: String,
}

impl Default for KubeOptions {
    fn default() -> Self {
        KubeOptions {
            secret_namespace: crate::calc::DEFAULT_SECRET_NAMESPACE.to_string(),
        }
    }
}

/// Starts watching the cluster. The receiver's first value is an empty snapshot; `ready`
/// turns true (and the snapshot is complete) once every watch has listed. The task ends when
/// every receiver is dropped.
pub fn watch_kubernetes(
    client: Client,
    options: KubeOptions,
) -> (
    watch::Receiver<Arc<Snapshot>>,
    watch::Receiver<bool>,
    JoinHandle<()>,
) {
    let (updates_tx, updates) = mpsc::unbounded_channel();
    let mut watches = vec![
        watch_all::<Node>(&client, Kind::Node, &updates_tx),
        watch_all::<Service>(&client, Kind::Service, &updates_tx),
        watch_all::<Namespace>(&client, Kind::Namespace, &updates_tx),
        watch_all::<Pod>(&client, Kind::Pod, &updates_tx),
        watch_all::<EndpointSlice>(&client, Kind::EndpointSlice, &updates_tx),
        watch_all::<NetworkPolicy>(&client, Kind::NetworkPolicy, &updates_tx),
        watch_all::<BgpConfiguration>(&client, Kind::BgpConfiguration, &updates_tx),
        watch_all::<BgpPeer>(&client, Kind::BgpPeer, &updates_tx),
        watch_all::<IpPool>(&client, Kind::IpPool, &updates_tx),
        watch_all::<BgpFilter>(&client, Kind::BgpFilter, &updates_tx),
    ];
    let (publisher, receiver) = watch::channel(Arc::new(Snapshot::default()));
    let (ready_tx, ready) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut store = Store::new(options, client, updates_tx);
        let mut updates = updates;
        loop {
            tokio::select! {
                update = updates.recv() => {
                    let Some(update) = update else { break };
                    store.apply(update);
                    // Take everything already queued before publishing once.
                    while let Ok(update) = updates.try_recv() {
                        store.apply(update);
                    }
                    store.follow_secret_references();
                    if store.ready() {
                        let snapshot = store.snapshot();
                        if **publisher.borrow() != snapshot || !*ready_tx.borrow() {
                            tracing::info!("kubernetes datastore: {}", snapshot.summary());
                            publisher.send_replace(Arc::new(snapshot));
                        }
                        ready_tx.send_replace(true);
                    }
                }
                _ = publisher.closed() => break,
            }
        }
        for handle in watches.drain(..).chain(store.secret_watches.into_values()) {
            handle.abort();
        }
    });
    (receiver, ready, task)
}

/// Watches every object of one kind, in all namespaces.
fn watch_all<K>(
    client: &Client,
    kind: Kind,
    updates: &mpsc::UnboundedSender<Update>,
) -> JoinHandle<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    Object: From<K>,
{
    let api = Api::<K>::all(client.clone());
    spawn_watch(api, watcher::Config::default(), Source::Kind(kind), updates)
}

/// Runs a kube watcher for one source and forwards its events.
fn spawn_watch<K>(
    api: Api<K>,
    config: watcher::Config,
    source: Source,
    updates: &mpsc::UnboundedSender<Update>,
) -> JoinHandle<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + 'static,
    Object: From<K>,
{
    let updates = updates.clone();
    tokio::spawn(async move {
        let mut stream = watcher::watcher(api, config).default_backoff().boxed();
        while let Some(event) = stream.next().await {
            let update = match event {
                Ok(Event::Init) => Update::Init(source.clone()),
                Ok(Event::InitApply(object)) => Update::InitApply(source.clone(), object.into()),
                Ok(Event::InitDone) => Update::InitDone(source.clone()),
                Ok(Event::Apply(object)) => Update::Apply(source.clone(), object.into()),
                Ok(Event::Delete(object)) => {
                    let object = Object::from(object);
                    Update::Delete(source.clone(), object.kind(), object.key())
                }
                Err(error) => {
                    tracing::warn!("kubernetes watch {source:?}: {error}; retrying");
                    continue;
                }
            };
            if updates.send(update).is_err() {
                return; // the store is gone
            }
        }
    })
}

type Objects = BTreeMap<(Kind, ObjectKey), Object>;

/// The objects of every source, and which sources have listed.
struct Store {
    options: KubeOptions,
    client: Client,
    updates: mpsc::UnboundedSender<Update>,
    objects: BTreeMap<Source, Objects>,
    relisting: BTreeMap<Source, Objects>,
    listed: BTreeSet<Source>,
    secret_watches: BTreeMap<String, JoinHandle<()>>,
}

impl Store {
    fn new(options: KubeOptions, client: Client, updates: mpsc::UnboundedSender<Update>) -> Self {
        Store {
            options,
            client,
            updates,
            objects: BTreeMap::new(),
            relisting: BTreeMap::new(),
            listed: BTreeSet::new(),
            secret_watches: BTreeMap::new(),
        }
    }

    fn apply(&mut self, update: Update) {
        match update {
            Update::Init(source) => {
                self.relisting.insert(source, Objects::new());
            }
            Update::InitApply(source, object) => {
                self.relisting
                    .entry(source)
                    .or_default()
                    .insert((object.kind(), object.key()), object);
            }
            Update::InitDone(source) => {
                if !self.is_current(&source) {
                    return;
                }
                let objects = self.relisting.remove(&source).unwrap_or_default();
                self.objects.insert(source.clone(), objects);
                self.listed.insert(source);
            }
            Update::Apply(source, object) => {
                if self.is_current(&source) {
                    self.objects
                        .entry(source)
                        .or_default()
                        .insert((object.kind(), object.key()), object);
                }
            }
            Update::Delete(source, kind, key) => {
                if let Some(objects) = self.objects.get_mut(&source) {
                    objects.remove(&(kind, key));
                }
            }
        }
    }

    /// Whether updates from `source` still matter (a Secret no longer referenced does not).
    fn is_current(&self, source: &Source) -> bool {
        match source {
            Source::Kind(_) => true,
            Source::Secret(name) => self.secret_watches.contains_key(name),
        }
    }

    /// Whether every kind and every referenced Secret has listed.
    fn ready(&self) -> bool {
        let kinds = Kind::ALL
            .into_iter()
            .filter(|kind| *kind != Kind::Secret)
            .all(|kind| self.listed.contains(&Source::Kind(kind)));
        kinds
            && self
                .secret_watches
                .keys()
                .all(|name| self.listed.contains(&Source::Secret(name.clone())))
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::from_objects(
            self.objects
                .values()
                .flat_map(|objects| objects.values().cloned()),
        )
    }

    /// Starts a watch for each newly referenced Secret and stops those no longer referenced.
    fn follow_secret_references(&mut self) {
        let wanted = referenced_secrets(&self.objects);
        let stale: Vec<String> = self
            .secret_watches
            .keys()
            .filter(|name| !wanted.contains(*name))
            .cloned()
            .collect();
        for name in stale {
            if let Some(handle) = self.secret_watches.remove(&name) {
                handle.abort();
            }
            let source = Source::Secret(name);
            self.objects.remove(&source);
            self.relisting.remove(&source);
            self.listed.remove(&source);
        }
        for name in wanted {
            if self.secret_watches.contains_key(&name) {
                continue;
            }
            tracing::info!(
                "watching Secret {}/{name} (referenced by BGP configuration)",
                self.options.secret_namespace
            );
            let api =
                Api::<Secret>::namespaced(self.client.clone(), &self.options.secret_namespace);
            let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
            let handle = spawn_watch(api, config, Source::Secret(name.clone()), &self.updates);
            self.secret_watches.insert(name, handle);
        }
    }
}

/// Names of the Secrets that BGPPeer passwords and the mesh password reference.
fn referenced_secrets(objects: &BTreeMap<Source, Objects>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for object in objects.values().flat_map(|objects| objects.values()) {
        let reference = match object {
            Object::BgpPeer(peer) => peer.spec.password.as_ref(),
            Object::BgpConfiguration(config) => config.spec.node_mesh_password.as_ref(),
            _ => None,
        };
        if let Some(key_ref) = reference.and_then(|password| password.secret_key_ref.as_ref()) {
            names.insert(key_ref.name.clone());
        }
    }
    names
}
