//! Log tails for failure messages: `panic!("... {}", logs::dump(&[&a, &b]))`.

use std::path::PathBuf;

use crate::netns::Host;

/// The last `lines` lines of each file, each under a `==> PATH <==` header.
pub fn tails(paths: &[PathBuf], lines: usize) -> String {
    let mut out = String::new();
    for path in paths {
        out.push_str(&format!("==> {} <==\n", path.display()));
        match std::fs::read(path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let all: Vec<&str> = text.lines().collect();
                let start = all.len().saturating_sub(lines);
                for line in &all[start..] {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Err(e) => out.push_str(&format!("(unreadable: {e})\n")),
        }
    }
    out
}

/// Tails (40 lines) of every log of every host given, for a panic message.
pub fn dump(hosts: &[&Host]) -> String {
    let mut out = String::new();
    for host in hosts {
        out.push_str(&format!(
            "---- host {} ({}), dir {} ----\n",
            host.label(),
            host.name(),
            host.dir().display()
        ));
        out.push_str(&host.logs_tail(40));
    }
    out
}
