//! The lifecycle every peer driver shares: one optional running [`Process`], stopped
//! gracefully or killed, frozen and thawed.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::process::Process;

/// How long a daemon gets to exit after SIGTERM before SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// A peer daemon's process slot.
#[derive(Debug, Default)]
pub struct Daemon {
    process: Option<Process>,
}

impl Daemon {
    /// Records a freshly started process (killing any previous one).
    pub fn set(&mut self, process: Process) {
        self.kill();
        self.process = Some(process);
    }

    /// The running process, or an error naming `what` is not running.
    pub fn running(&self, what: &str) -> Result<&Process> {
        self.process
            .as_ref()
            .ok_or_else(|| Error::Unsupported(format!("{what} is not running")))
    }

    /// Fails with the exit status and logs if the process has exited.
    pub fn check_running(&self) -> Result<()> {
        match &self.process {
            Some(process) => process.check_running(),
            None => Ok(()),
        }
    }

    /// SIGTERM, then SIGKILL after [`STOP_GRACE`].
    pub fn stop(&mut self) -> Result<()> {
        if let Some(process) = self.process.take() {
            process.terminate(STOP_GRACE)?;
        }
        Ok(())
    }

    /// Waits up to `timeout` for the process to exit by itself (e.g. after a CLI command
    /// told it to), then forgets it; SIGKILL if it is still running then.
    pub fn wait_exit(&mut self, what: &str, timeout: Duration) -> Result<()> {
        let Some(process) = self.process.take() else {
            return Ok(());
        };
        let exited = crate::wait::wait_until(&format!("{what} to exit"), timeout, || {
            Ok::<_, Error>((!process.is_running()).then_some(()))
        });
        process.kill();
        exited
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(process) = self.process.take() {
            process.kill();
        }
    }
}
