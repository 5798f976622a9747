//! The one error type of the harness: every failure says what was attempted and what was seen.

use std::path::PathBuf;
use std::time::Duration;

/// Errors from hosts, links, processes, waits and peer drivers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A command ran but exited unsuccessfully.
    #[error("`{command}` (in netns {netns}) failed with {status}: {stderr}")]
    Command {
        /// The command line, as a shell would show it.
        command: String,
        /// The namespace it ran in (`root` for the root namespace).
        netns: String,
        /// Exit status text.
        status: String,
        /// Trimmed standard error (or standard output when stderr was empty).
        stderr: String,
    },
    /// A command or file operation could not be performed at all.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A bounded wait ran out of time.
    #[error("timed out after {timeout:?} waiting for {what}; last observation: {last}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long we waited.
        timeout: Duration,
        /// The last thing the probe saw (its last error, or "condition not met").
        last: String,
    },
    /// Output of a peer's CLI could not be understood.
    #[error("cannot parse {what} output: {reason}; output was:\n{output}")]
    Parse {
        /// Which query (e.g. `birdc show route all`).
        what: String,
        /// Why parsing failed.
        reason: String,
        /// The raw output (truncated).
        output: String,
    },
    /// The caller asked for something this driver or topology cannot do.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A process exited when it should be running.
    #[error("process {label} exited early ({status}); logs: {logs}")]
    Exited {
        /// The process label.
        label: String,
        /// Exit status text.
        status: String,
        /// Log paths and their tails.
        logs: String,
    },
    /// A file the harness needs was missing or malformed.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

/// Result alias for the harness.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with a description of the attempted action.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            what: what.into(),
            source,
        }
    }

    /// Builds a parse error, keeping at most 4 KiB of the offending output.
    pub fn parse(what: impl Into<String>, reason: impl Into<String>, output: &str) -> Self {
        let mut output = output.to_string();
        if output.len() > 4096 {
            let mut cut = 4096;
            while !output.is_char_boundary(cut) {
                cut -= 1;
            }
            output.truncate(cut);
            output.push_str("\n[...]");
        }
        Error::Parse {
            what: what.into(),
            reason: reason.into(),
            output,
        }
    }
}
