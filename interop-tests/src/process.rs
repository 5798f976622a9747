//! Long-running programs inside a [`Host`]: stdout and stderr go to files in the host's temp
//! dir, the process leads its own process group (so signals reach its children too, e.g.
//! ExaBGP's API helper), and it is killed on drop.
//!
//! [`spawn_in`] is generic on purpose: peer drivers and tern's own speaker use the same call.

use std::ffi::OsStr;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::command::{self, enter_netns};
use crate::error::{Error, Result};
use crate::logs;
use crate::naming::OWNER_ENV;
use crate::netns::Host;

/// A running program inside a host.
#[derive(Debug)]
pub struct Process {
    label: String,
    command_line: String,
    pid: u32,
    child: Mutex<Child>,
    stdout_path: PathBuf,
    stderr_path: PathBuf,
}

/// Starts `program args` inside `host` with extra environment `env`. Output goes to
/// `<host dir>/<label>.stdout` and `.stderr` (appended, so a restarted daemon keeps one log),
/// which are registered with the host for failure dumps. The process gets the
/// [`OWNER_ENV`] marker so a later run can kill it if this test process dies.
pub fn spawn_in<S: AsRef<OsStr>>(
    host: &Host,
    label: &str,
    program: &str,
    args: &[S],
    env: &[(&str, &str)],
) -> Result<Process> {
    let command_line = command::display(program, args);
    let stdout_path = host.dir().join(format!("{label}.stdout"));
    let stderr_path = host.dir().join(format!("{label}.stderr"));
    let open = |path: &Path| {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io(format!("open log {}", path.display()), e))?;
        let _ = writeln!(file, "==== tern harness: starting `{command_line}`");
        Ok::<_, Error>(file)
    };
    let stdout = open(&stdout_path)?;
    let stderr = open(&stderr_path)?;
    host.register_log(stdout_path.clone());
    host.register_log(stderr_path.clone());

    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(host.dir())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .env(OWNER_ENV, std::process::id().to_string())
        .process_group(0);
    for (key, value) in env {
        command.env(key, value);
    }
    let _handle = enter_netns(&mut command, host.name())?;
    let child = command.spawn().map_err(|e| {
        Error::io(
            format!("start `{command_line}` in netns {}", host.name()),
            e,
        )
    })?;
    Ok(Process {
        label: label.to_string(),
        command_line,
        pid: child.id(),
        child: Mutex::new(child),
        stdout_path,
        stderr_path,
    })
}

impl Process {
    /// The process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The label given at spawn time.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Path of the captured standard output.
    pub fn stdout_path(&self) -> &Path {
        &self.stdout_path
    }

    /// Path of the captured standard error.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr_path
    }

    /// Sends `signal` to the whole process group.
    pub fn signal(&self, signal: libc::c_int) -> Result<()> {
        let group = libc::pid_t::try_from(self.pid)
            .map_err(|_| Error::Unsupported(format!("pid {} out of range", self.pid)))?;
        // SAFETY: plain kill(2) on our own child's process group.
        let rc = unsafe { libc::kill(-group, signal) };
        if rc != 0 {
            return Err(Error::io(
                format!("signal {signal} to {} ({})", self.label, self.pid),
                std::io::Error::last_os_error(),
            ));
        }
        Ok(())
    }

    /// Stops the process group with SIGSTOP: it keeps its sockets but sends nothing (no
    /// keepalives), as a hung daemon would. Returns once the leader is seen stopped.
    pub fn freeze(&self) -> Result<()> {
        self.signal(libc::SIGSTOP)?;
        crate::wait::wait_until(
            &format!("{} ({}) to stop", self.label, self.pid),
            Duration::from_secs(5),
            || {
                let state = process_state(self.pid)?;
                match state {
                    'T' | 't' => Ok(Some(())),
                    other => Err(format!("state {other}")),
                }
            },
        )
    }

    /// Resumes a frozen process group with SIGCONT.
    pub fn thaw(&self) -> Result<()> {
        self.signal(libc::SIGCONT)
    }

    /// Whether the process has not exited yet.
    pub fn is_running(&self) -> bool {
        match self.child.lock() {
            Ok(mut child) => matches!(child.try_wait(), Ok(None)),
            Err(_) => false,
        }
    }

    /// Ok while running; once it has exited, an error with its status and log tails.
    pub fn check_running(&self) -> Result<()> {
        let status = match self.child.lock() {
            Ok(mut child) => child.try_wait(),
            Err(_) => return Ok(()),
        };
        match status {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(Error::Exited {
                label: self.label.clone(),
                status: status.to_string(),
                logs: self.log_tail(30),
            }),
            Err(e) => Err(Error::io(format!("wait for {}", self.label), e)),
        }
    }

    /// SIGTERM, then SIGKILL if still alive after `grace`; reaps the process.
    pub fn terminate(&self, grace: Duration) -> Result<()> {
        if !self.is_running() {
            return Ok(());
        }
        let _ = self.signal(libc::SIGCONT);
        let _ = self.signal(libc::SIGTERM);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if !self.is_running() {
                // Children of the group (helpers) may outlive the leader.
                let _ = self.signal(libc::SIGKILL);
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Ok(())
    }

    /// SIGKILL to the whole group, then reap.
    pub fn kill(&self) {
        let _ = self.signal(libc::SIGKILL);
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The last `lines` lines of stdout and stderr, with the command line.
    pub fn log_tail(&self, lines: usize) -> String {
        format!(
            "command: {}\n{}",
            self.command_line,
            logs::tails(&[self.stdout_path.clone(), self.stderr_path.clone()], lines)
        )
    }
}

/// The one-letter state of a process from `/proc/PID/stat` (`R`, `S`, `T`, `Z`, ...).
pub fn process_state(pid: u32) -> std::result::Result<char, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("read /proc/{pid}/stat: {e}"))?;
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
        .ok_or_else(|| format!("unexpected stat line {stat}"))
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}
