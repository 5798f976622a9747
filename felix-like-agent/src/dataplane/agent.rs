//! The route programmer as ternd runs it (`--dataplane`): opened before the speaker (whether
//! the kernel kept tern's routes decides whether the speaker starts as a restarting one, RFC
//! 4724 §4.1), fed by the [`SpeakerApplier`] and the intent, stopped without flushing.

use std::sync::Arc;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::desired::{LocalRoutes, RouteVia, WithLocalRoutes};
use super::kernel::KernelError;
use super::programmer::{ProgrammerConfig, ProgrammerHandle, ProgrammerInputs, RouteProgrammer};
use crate::apply::SpeakerApplier;

/// A running route programmer.
#[derive(Debug)]
pub struct Dataplane {
    handle: ProgrammerHandle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// `applier` wrapped so every applied intent also reaches the programmer (without a
/// programmer the intent's routes go nowhere).
pub fn without_dataplane(applier: SpeakerApplier) -> WithLocalRoutes<SpeakerApplier> {
    WithLocalRoutes {
        inner: applier,
        local: watch::Sender::new(LocalRoutes::default()),
    }
}

impl Dataplane {
    /// Opens the programmer in the current network namespace, tells `applier` whether
    /// forwarding state survived a restart, and starts the loop. `via` turns BGP next hops
    /// into kernel next hops (the encapsulation's decision; [`super::PlainNextHop`] without).
    pub async fn start(
        applier: SpeakerApplier,
        via: Arc<dyn RouteVia>,
        config: ProgrammerConfig,
    ) -> Result<(WithLocalRoutes<SpeakerApplier>, Dataplane), KernelError> {
        let programmer = RouteProgrammer::open(config).await?;
        let applier = applier.with_forwarding_preserved(programmer.preserved() > 0);
        let (local, local_receiver) = watch::channel(LocalRoutes::default());
        let inputs = ProgrammerInputs {
            speaker: applier.subscribe(),
            selection_deferred: applier.selection_deferred(),
            local: local_receiver,
            via,
        };
        let handle = programmer.handle();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(programmer.run(inputs, async move {
            let _ = stopped.await;
        }));
        let applier = WithLocalRoutes {
            inner: applier,
            local,
        };
        Ok((applier, Dataplane { handle, stop, task }))
    }

    /// For the API (installed routes) and the encapsulation (refresh).
    pub fn handle(&self) -> ProgrammerHandle {
        self.handle.clone()
    }

    /// Stops the loop; routes stay in the kernel.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
