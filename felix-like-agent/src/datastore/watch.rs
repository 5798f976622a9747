//! Keeps a [`FileDatastore`] current: file-system notifications (debounced) trigger a rescan,
//! and a periodic rescan catches anything notifications miss (network file systems, symlink
//! swaps of ConfigMap volumes). Each changed snapshot is published on a tokio watch channel.

use std::sync::Arc;
use std::time::Duration;

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::snapshot::Snapshot;

use super::file::{DatastoreError, FileDatastore, ScanReport};

/// Timing of the watcher.
#[derive(Clone, Copy, Debug)]
pub struct WatchOptions {
    /// Quiet time after the last file event before rescanning.
    pub debounce: Duration,
    /// Rescan this often even without events.
    pub rescan_interval: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(200),
            rescan_interval: Duration::from_secs(10),
        }
    }
}

/// Logs what a scan found: every error names file, document, line and field.
pub fn log_scan_report(report: &ScanReport) {
    for error in &report.errors {
        tracing::error!("ignoring manifest file, last good version stays in force: {error}");
    }
    for warning in &report.warnings {
        tracing::warn!("{warning}");
    }
}

/// Starts watching `datastore`'s directory. The receiver holds the current snapshot at once
/// and sees every later change; the task ends when every receiver is dropped.
pub fn watch_directory(
    mut datastore: FileDatastore,
    options: WatchOptions,
) -> Result<(watch::Receiver<Arc<Snapshot>>, JoinHandle<()>), DatastoreError> {
    let directory = datastore.directory().to_path_buf();
    let (trigger, mut triggered) = mpsc::channel::<()>(1);
    let mut debouncer = new_debouncer(options.debounce, move |result: DebounceEventResult| {
        if let Err(error) = &result {
            tracing::warn!("file watch error: {error}");
        }
        // A full channel means a rescan is already pending.
        let _ = trigger.try_send(());
    })
    .map_err(|e| DatastoreError::Watch {
        path: directory.clone(),
        message: e.to_string(),
    })?;
    debouncer
        .watcher()
        .watch(&directory, RecursiveMode::NonRecursive)
        .map_err(|e| DatastoreError::Watch {
            path: directory.clone(),
            message: e.to_string(),
        })?;

    let (publisher, receiver) = watch::channel(Arc::new(datastore.snapshot().clone()));
    let task = tokio::spawn(async move {
        let _debouncer = debouncer; // lives as long as the task
        let directory = datastore.directory().to_path_buf();
        let mut interval = tokio::time::interval(options.rescan_interval);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        interval.tick().await; // the first tick is immediate; the datastore was just read
        let mut last_error: Option<String> = None;
        loop {
            tokio::select! {
                _ = triggered.recv() => {}
                _ = interval.tick() => {}
                _ = publisher.closed() => return,
            }
            match datastore.rescan() {
                Ok(report) => {
                    if last_error.take().is_some() {
                        tracing::info!(
                            "datastore directory {} readable again",
                            directory.display()
                        );
                    }
                    log_scan_report(&report);
                    if report.changed {
                        let snapshot = datastore.snapshot();
                        tracing::info!("datastore changed: {}", snapshot.summary());
                        publisher.send_replace(Arc::new(snapshot.clone()));
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    if last_error.as_ref() != Some(&message) {
                        tracing::error!("{message}; keeping the objects last read");
                        last_error = Some(message);
                    }
                }
            }
        }
    });
    Ok((receiver, task))
}
