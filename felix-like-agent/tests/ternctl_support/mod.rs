//! Tests that run ternctl as a real process against a ternd: the test binary re-executes
//! itself with [`AS_TERNCTL`] as its first argument and then *is* ternctl (its library is
//! compiled in), so each call has its own exit code and output. Such a test has its own
//! `main` (`harness = false` in Cargo.toml) that calls [`main`].

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// First argument that turns the test binary into ternctl.
pub const AS_TERNCTL: &str = "--as-ternctl";

/// The test binary's `main`: ternctl when asked to be, else the test harness over `trials`.
pub fn main(trials: Vec<libtest_mimic::Trial>) -> ! {
    let mut arguments = std::env::args_os();
    let program = arguments.next();
    if arguments.next().as_deref() == Some(OsStr::new(AS_TERNCTL)) {
        ternctl::main_with_args(program.into_iter().chain(arguments));
    }
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit();
}

/// Runs `ternctl --socket SOCKET ARGS` as a process of its own.
pub fn ternctl(socket: &Path, args: &[&str]) -> Output {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .arg(AS_TERNCTL)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("TERN_API_SOCKET")
        .env_remove("TERN_API_SERVER")
        .output()
        .unwrap()
}
