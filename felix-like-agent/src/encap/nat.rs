//! `natOutgoing`: masquerade traffic from a `natOutgoing` pool to destinations outside every
//! pool, as Calico does. One tern-owned table, replaced atomically in one `nft -f`
//! transaction:
//!
//! ```text
//! table ip tern-nat {
//!   set pools { type ipv4_addr; flags interval; elements = { EVERY POOL } }
//!   set nat_pools { type ipv4_addr; flags interval; elements = { NAT-OUTGOING POOLS } }
//!   chain postrouting {
//!     type nat hook postrouting priority srcnat; policy accept;
//!     ip saddr @nat_pools ip daddr != @pools masquerade
//!   }
//! }
//! ```
//!
//! Encapsulated packets carry the node's address as outer source, so they never match.
//! Without any `natOutgoing` pool the table is deleted.

use std::io::Write;
use std::process::{Command, Stdio};

use super::PoolEncap;
use super::error::{EncapError, Result};

/// The table's family and name.
pub const NAT_TABLE: &str = "ip tern-nat";

/// The `nft -f` script that makes the table exactly what `pools` ask for.
pub fn render(pools: &[PoolEncap]) -> String {
    // `table` first so `delete` never fails on a missing table; both in one transaction.
    let mut script = format!("table {NAT_TABLE}\ndelete table {NAT_TABLE}\n");
    let nat: Vec<String> = pools
        .iter()
        .filter(|pool| pool.nat_outgoing)
        .map(|pool| pool.cidr.to_string())
        .collect();
    if nat.is_empty() {
        return script;
    }
    let all: Vec<String> = pools.iter().map(|pool| pool.cidr.to_string()).collect();
    script.push_str(&format!(
        "table {NAT_TABLE} {{\n\
         \tset pools {{\n\t\ttype ipv4_addr; flags interval; auto-merge;\n\t\telements = {{ {} }}\n\t}}\n\
         \tset nat_pools {{\n\t\ttype ipv4_addr; flags interval; auto-merge;\n\t\telements = {{ {} }}\n\t}}\n\
         \tchain postrouting {{\n\
         \t\ttype nat hook postrouting priority srcnat; policy accept;\n\
         \t\tip saddr @nat_pools ip daddr != @pools masquerade\n\
         \t}}\n\
         }}\n",
        all.join(", "),
        nat.join(", ")
    ));
    script
}

/// Runs `nft -f -` with `script` (one atomic transaction) in the current namespace.
pub fn apply(script: &str) -> Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| EncapError::Nft(format!("cannot run nft: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| EncapError::Nft(format!("writing the script: {e}")))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| EncapError::Nft(format!("waiting for nft: {e}")))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(EncapError::Nft(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}
