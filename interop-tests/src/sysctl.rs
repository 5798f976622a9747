//! The one root-namespace setting the harness may change: the neighbour table limits, which are
//! global to all namespaces (default hard limit 1024 entries; beyond it sessions stall in
//! Connect with no error). Values are only ever raised.

use crate::error::{Error, Result};

/// Raises `net.ipv4.neigh.default.gc_thresh{1,2,3}` and the IPv6 equivalents to at least the
/// given values (never lowers them).
pub fn raise_neighbor_table_limits(thresh1: u32, thresh2: u32, thresh3: u32) -> Result<()> {
    for family in ["ipv4", "ipv6"] {
        for (name, wanted) in [
            ("gc_thresh1", thresh1),
            ("gc_thresh2", thresh2),
            ("gc_thresh3", thresh3),
        ] {
            let path = format!("/proc/sys/net/{family}/neigh/default/{name}");
            let current: u32 = std::fs::read_to_string(&path)
                .map_err(|e| Error::io(format!("read {path}"), e))?
                .trim()
                .parse()
                .unwrap_or(0);
            if current < wanted {
                std::fs::write(&path, wanted.to_string())
                    .map_err(|e| Error::io(format!("write {path}"), e))?;
            }
        }
    }
    Ok(())
}
