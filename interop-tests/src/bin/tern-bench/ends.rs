//! The bench's two kinds of BGP ends, each one tokio task on an Established [`Session`]:
//!
//! - the injector writes a pre-encoded UPDATE stream as fast as the peer takes it (KEEPALIVEs
//!   slipped between chunks), then only KEEPALIVEs; it records its first and last write;
//! - a client counts the distinct IPv4 prefixes it holds (announce inserts, withdraw removes,
//!   [`crate::wire::apply_frame`]) and records the instant the count first reaches what it
//!   expects; it may announce one pre-encoded UPDATE of its own when told to start.
//!
//! Both read everything the peer sends, so the peer never blocks on them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::wire::{FrameEffect, PrefixSet, Session, apply_frame, drain_frames, keepalive};

/// Keepalive period when the session negotiated none.
const NO_KEEPALIVE: Duration = Duration::from_secs(3600);

/// What one end has seen so far; shared with the run's poll loop.
#[derive(Debug, Default)]
pub struct Progress {
    /// Distinct prefixes held (clients) or chunks written (injector).
    pub count: AtomicUsize,
    /// When the count first reached the goal (clients) or the last byte was written
    /// (injector).
    pub done_at: OnceLock<Instant>,
    /// When the first UPDATE byte was written (injector).
    pub started_at: OnceLock<Instant>,
    /// Why the end stopped early.
    pub error: Mutex<Option<String>>,
}

impl Progress {
    fn fail(&self, error: impl std::fmt::Display) {
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert_with(|| error.to_string());
        }
    }

    /// The error that stopped the end, if any.
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Reads and discards everything (the injector's peer only sends KEEPALIVEs), failing on a
/// NOTIFICATION or a closed connection.
async fn discard(mut reader: OwnedReadHalf, mut buffer: BytesMut) -> anyhow::Result<()> {
    loop {
        drain_frames(&mut buffer, |frame| match frame.get(18) {
            Some(3) => FrameEffect::Notification,
            _ => FrameEffect::Applied,
        })?;
        if reader.read_buf(&mut buffer).await? == 0 {
            anyhow::bail!("peer closed the connection");
        }
    }
}

async fn keepalives(writer: &mut OwnedWriteHalf, period: Duration) -> anyhow::Result<()> {
    let message = keepalive();
    loop {
        tokio::time::sleep(period).await;
        writer.write_all(&message).await?;
    }
}

/// Starts the injector: once `start` turns true, writes `chunks`, then keeps the session up.
pub fn spawn_injector(
    session: Session,
    chunks: Arc<Vec<Bytes>>,
    mut start: watch::Receiver<bool>,
    progress: Arc<Progress>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = session.keepalive.unwrap_or(NO_KEEPALIVE);
        let (reader, mut writer) = session.stream.into_split();
        let send = async {
            let _ = start.wait_for(|go| *go).await;
            let _ = progress.started_at.set(Instant::now());
            let mut last_keepalive = Instant::now();
            for chunk in chunks.iter() {
                writer.write_all(chunk).await?;
                progress.count.fetch_add(1, Ordering::Relaxed);
                if last_keepalive.elapsed() >= period {
                    writer.write_all(&keepalive()).await?;
                    last_keepalive = Instant::now();
                }
            }
            let _ = progress.done_at.set(Instant::now());
            keepalives(&mut writer, period).await
        };
        let outcome = tokio::select! {
            sent = send => sent,
            read = discard(reader, session.buffer) => read,
        };
        if let Err(error) = outcome {
            progress.fail(format!("injector: {error:#}"));
        }
    })
}

/// What a client announces itself, and when.
#[derive(Debug)]
pub struct Announcement {
    /// One encoded UPDATE.
    pub update: Bytes,
    /// The prefix key never counted as received (the client's own).
    pub own: u64,
    /// Turns true when the clock starts.
    pub start: watch::Receiver<bool>,
}

/// Starts a client that expects `expected` prefixes (its own not counted).
pub fn spawn_client(
    session: Session,
    expected: usize,
    announcement: Option<Announcement>,
    progress: Arc<Progress>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let period = session.keepalive.unwrap_or(NO_KEEPALIVE);
        let (mut reader, mut writer) = session.stream.into_split();
        let mut buffer = session.buffer;
        buffer.reserve(1 << 16);
        let mut prefixes = PrefixSet::default();
        let own = announcement.as_ref().map(|a| a.own);
        let (update, mut start) = match announcement {
            Some(a) => (Some(a.update), Some(a.start)),
            None => (None, None),
        };
        let mut keepalive_timer =
            tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        let outcome: anyhow::Result<()> = async {
            loop {
                tokio::select! {
                    read = reader.read_buf(&mut buffer) => {
                        if read? == 0 {
                            anyhow::bail!("peer closed the connection");
                        }
                        drain_frames(&mut buffer, |frame| apply_frame(frame, &mut prefixes, own))?;
                        progress.count.store(prefixes.len(), Ordering::Relaxed);
                        if prefixes.len() >= expected && progress.done_at.get().is_none() {
                            let _ = progress.done_at.set(Instant::now());
                        }
                    }
                    _ = keepalive_timer.tick() => writer.write_all(&keepalive()).await?,
                    go = async { start.as_mut()?.wait_for(|go| *go).await.ok().map(|_| ()) },
                        if start.is_some() => {
                        if go.is_some() && let Some(update) = &update {
                            writer.write_all(update).await?;
                        }
                        start = None;
                    }
                }
            }
        }
        .await;
        if let Err(error) = outcome {
            progress.fail(format!("client: {error:#}"));
        }
    })
}
