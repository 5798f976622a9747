//! Applying the ruleset: `nft -f -` with a full or an incremental script, one transaction each.
//!
//! [`PolicyProgrammer::reconcile`] is level-triggered: give it the desired IR on start-up, on
//! every change and on periodic resync. It sends only the difference from what it applied last,
//! and falls back to a full replace when nft refuses the difference (someone changed the table
//! behind our back) or when nothing was applied yet.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::diff::{element_ops, render_update};
use crate::ir::PolicyIr;
use crate::netlink::{self, ElementOp};
use crate::render::render_full;

/// Why applying failed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// `nft` could not be started or fed.
    #[error("running {program}: {source}")]
    Spawn {
        /// The command line's program.
        program: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// `nft` refused the script; nothing was changed (the transaction is atomic).
    #[error("nft exited with {status}: {stderr}")]
    Rejected {
        /// Exit status as text.
        status: String,
        /// nft's error output (it quotes the offending line).
        stderr: String,
    },
    /// The kernel refused a netlink element batch; nothing was changed (one transaction).
    #[error("nf_tables netlink: {0}")]
    Netlink(#[source] std::io::Error),
}

/// Runs nft scripts. The real one is [`NftCommand`]; tests may record scripts instead.
pub trait NftRunner {
    /// Run `script` as one transaction (`nft -f -`).
    fn apply(&self, script: &str) -> Result<(), ApplyError>;

    /// The table as text (`nft list table inet tern`).
    fn list(&self) -> Result<String, ApplyError>;

    /// Apply element additions and deletions as one transaction without `nft`. `Ok(false)`:
    /// not supported by this runner (the caller renders a script instead).
    fn apply_elements(&self, ops: &[ElementOp]) -> Result<bool, ApplyError> {
        let _ = ops;
        Ok(false)
    }
}

/// The `nft` program, optionally inside a network namespace (`ip netns exec NS nft …`).
#[derive(Clone, Debug, Default)]
pub struct NftCommand {
    netns: Option<String>,
}

impl NftCommand {
    /// `nft` in the current network namespace.
    pub fn new() -> NftCommand {
        NftCommand { netns: None }
    }

    /// `ip netns exec <name> nft`.
    pub fn in_netns(name: impl Into<String>) -> NftCommand {
        NftCommand {
            netns: Some(name.into()),
        }
    }

    fn command(&self, arguments: &[&str]) -> Command {
        let mut command = match &self.netns {
            Some(netns) => {
                let mut command = Command::new("ip");
                command.args(["netns", "exec", netns, "nft"]);
                command
            }
            None => Command::new("nft"),
        };
        command.args(arguments);
        command
    }

    fn run(&self, arguments: &[&str], input: Option<&str>) -> Result<String, ApplyError> {
        let mut command = self.command(arguments);
        let program = format!("{command:?}");
        let spawn_error = |source| ApplyError::Spawn {
            program: program.clone(),
            source,
        };
        command.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().map_err(spawn_error)?;
        if let (Some(input), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(input.as_bytes()).map_err(spawn_error)?;
        }
        let output = child.wait_with_output().map_err(spawn_error)?;
        if !output.status.success() {
            return Err(ApplyError::Rejected {
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

impl NftRunner for NftCommand {
    /// `nft -f -` with the script on stdin.
    fn apply(&self, script: &str) -> Result<(), ApplyError> {
        self.run(&["-f", "-"], Some(script)).map(|_| ())
    }

    /// `nft list table inet tern`.
    fn list(&self) -> Result<String, ApplyError> {
        self.run(&["list", "table", "inet", "tern"], None)
    }

    /// One nfnetlink batch in the runner's namespace (see [`crate::netlink`]).
    fn apply_elements(&self, ops: &[ElementOp]) -> Result<bool, ApplyError> {
        netlink::apply_batch(self.netns.as_deref(), "tern", ops).map_err(ApplyError::Netlink)?;
        Ok(true)
    }
}

/// What [`PolicyProgrammer::reconcile`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyKind {
    /// The desired IR equals what was applied: nft was not called.
    Unchanged,
    /// An incremental change of this many commands was applied.
    Incremental {
        /// Element commands of a netlink batch, or lines of an `nft` script.
        commands: usize,
    },
    /// The whole table was replaced.
    Full,
}

/// Keeps `table inet tern` equal to the desired IR.
#[derive(Debug)]
pub struct PolicyProgrammer<R: NftRunner> {
    runner: R,
    applied: Option<PolicyIr>,
}

impl<R: NftRunner> PolicyProgrammer<R> {
    /// A programmer that has applied nothing yet (its first reconcile replaces the table).
    pub fn new(runner: R) -> PolicyProgrammer<R> {
        PolicyProgrammer {
            runner,
            applied: None,
        }
    }

    /// The runner.
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// The IR last applied successfully.
    pub fn applied(&self) -> Option<&PolicyIr> {
        self.applied.as_ref()
    }

    /// Replace the whole table (`nft -f -` with [`render_full`]).
    pub fn apply_full(&mut self, desired: PolicyIr) -> Result<ApplyKind, ApplyError> {
        self.applied = None;
        self.runner.apply(&render_full(&desired))?;
        self.applied = Some(desired);
        Ok(ApplyKind::Full)
    }

    /// Make the table match `desired`: incrementally when possible, else fully.
    pub fn reconcile(&mut self, desired: PolicyIr) -> Result<ApplyKind, ApplyError> {
        if let Some(kind) = self.reconcile_elements(&desired)? {
            return Ok(kind);
        }
        self.reconcile_script(desired)
    }

    /// [`Self::reconcile`] for a borrowed IR: pod churn (element-only changes) copies only the
    /// sets, maps and pods into the applied state, never the chains, so a caller that keeps
    /// its IR (e.g. [`crate::PolicyCompiler`]) does not clone a whole table per pod.
    pub fn reconcile_ref(&mut self, desired: &PolicyIr) -> Result<ApplyKind, ApplyError> {
        if let Some(kind) = self.reconcile_elements(desired)? {
            return Ok(kind);
        }
        self.reconcile_script(desired.clone())
    }

    /// The element-only path; `None` when it does not apply.
    fn reconcile_elements(&mut self, desired: &PolicyIr) -> Result<Option<ApplyKind>, ApplyError> {
        let Some(applied) = &mut self.applied else {
            return Ok(None);
        };
        let Some(ops) = element_ops(applied, desired) else {
            return Ok(None);
        };
        let kind = if ops.is_empty() {
            ApplyKind::Unchanged
        } else {
            match self.runner.apply_elements(&ops) {
                Ok(true) => ApplyKind::Incremental {
                    commands: ops.len(),
                },
                Ok(false) => return Ok(None),
                Err(error) => {
                    tracing::warn!(%error, "element update refused; replacing the table");
                    return self.apply_full(desired.clone()).map(Some);
                }
            }
        };
        // Chains are equal (element_ops checked); bring the rest along.
        if applied.sets != desired.sets {
            applied.sets = desired.sets.clone();
        }
        if applied.ingress_map != desired.ingress_map {
            applied.ingress_map = desired.ingress_map.clone();
        }
        if applied.egress_map != desired.egress_map {
            applied.egress_map = desired.egress_map.clone();
        }
        if applied.pods != desired.pods {
            applied.pods = desired.pods.clone();
        }
        applied.node_addresses = desired.node_addresses.clone();
        Ok(Some(kind))
    }

    fn reconcile_script(&mut self, desired: PolicyIr) -> Result<ApplyKind, ApplyError> {
        let Some(applied) = &self.applied else {
            return self.apply_full(desired);
        };
        if *applied == desired {
            return Ok(ApplyKind::Unchanged);
        }
        let Some(script) = render_update(applied, &desired) else {
            return self.apply_full(desired);
        };
        match self.runner.apply(&script) {
            Ok(()) => {
                self.applied = Some(desired);
                Ok(ApplyKind::Incremental {
                    commands: script.lines().count(),
                })
            }
            Err(error) => {
                tracing::warn!(%error, "incremental nft update refused; replacing the table");
                self.apply_full(desired)
            }
        }
    }

    /// Remove the table (`nft -f -` with `table inet tern {}` + `delete table inet tern`, which
    /// succeeds whether or not it exists). Pods are then unprotected: for uninstall only.
    pub fn remove(&mut self) -> Result<(), ApplyError> {
        self.applied = None;
        self.runner
            .apply("table inet tern {}\ndelete table inet tern\n")
    }

    /// Forget what was applied, so the next reconcile replaces the table (periodic resync).
    pub fn invalidate(&mut self) {
        self.applied = None;
    }
}
