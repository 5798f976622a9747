//! Running short commands, in the root namespace or inside a named network namespace, with a
//! deadline and an error that carries the command line and its stderr.
//!
//! Entering a namespace is done with `setns(2)` in the child between fork and exec (the same
//! thing `ip netns exec` does, minus the `/sys` remount), so no extra process sits in between.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a one-shot command may run before it is killed (a CLI talking to a frozen daemon
/// would otherwise hang the test forever).
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The captured result of a successful command.
#[derive(Debug, Clone)]
pub struct Output {
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

/// Path of a named namespace's handle (as made by `ip netns add`).
pub fn netns_path(netns: &str) -> String {
    format!("/run/netns/{netns}")
}

/// Arranges for `command` to run inside `netns`. The returned file must stay open until the
/// command is spawned.
pub fn enter_netns(command: &mut Command, netns: &str) -> Result<File> {
    let path = netns_path(netns);
    let handle = File::open(&path).map_err(|e| Error::io(format!("open {path}"), e))?;
    let fd = handle.as_raw_fd();
    // SAFETY: setns(2) is async-signal-safe and touches no memory shared with the parent.
    unsafe {
        command.pre_exec(move || {
            if libc::setns(fd, libc::CLONE_NEWNET) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(handle)
}

/// A printable form of a command line.
pub fn display<S: AsRef<OsStr>>(program: &str, args: &[S]) -> String {
    let mut line = program.to_string();
    for arg in args {
        line.push(' ');
        let arg = arg.as_ref().to_string_lossy();
        if arg.contains(' ') || arg.is_empty() {
            line.push('\'');
            line.push_str(&arg);
            line.push('\'');
        } else {
            line.push_str(&arg);
        }
    }
    line
}

/// Runs `program args` (inside `netns` when given) and returns its output; a non-zero exit, a
/// failure to start or a run longer than `timeout` is an error naming the command and its stderr.
pub fn run<S: AsRef<OsStr>>(
    netns: Option<&str>,
    program: &str,
    args: &[S],
    timeout: Duration,
) -> Result<Output> {
    let line = display(program, args);
    let where_ = netns.unwrap_or("root").to_string();
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let _handle = match netns {
        Some(netns) => Some(enter_netns(&mut command, netns)?),
        None => None,
    };
    let mut child = command
        .spawn()
        .map_err(|e| Error::io(format!("start `{line}` in netns {where_}"), e))?;
    let stdout = child.stdout.take().map(reader_thread);
    let stderr = child.stderr.take().map(reader_thread);
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Command {
                    command: line,
                    netns: where_,
                    status: format!("no exit within {timeout:?} (killed)"),
                    stderr: String::new(),
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(Error::io(format!("wait for `{line}`"), e)),
        }
    };
    let stdout = stdout.map(join_reader).unwrap_or_default();
    let stderr = stderr.map(join_reader).unwrap_or_default();
    if !status.success() {
        let shown = if stderr.trim().is_empty() {
            stdout.trim()
        } else {
            stderr.trim()
        };
        return Err(Error::Command {
            command: line,
            netns: where_,
            status: status.to_string(),
            stderr: shown.to_string(),
        });
    }
    Ok(Output { stdout, stderr })
}

fn reader_thread<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn join_reader(handle: std::thread::JoinHandle<String>) -> String {
    handle.join().unwrap_or_default()
}

/// `ip ARGS` in the root namespace (used only for `ip netns` bookkeeping and `ip -n NAME ...`).
pub fn ip<S: AsRef<OsStr>>(args: &[S]) -> Result<Output> {
    run(None, "ip", args, COMMAND_TIMEOUT)
}
