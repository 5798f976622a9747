//! The crate's error type.

use std::net::Ipv4Addr;

/// Why a tunnel could not be set up or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A netlink request failed.
    #[error("netlink: {context}: {source}")]
    Netlink {
        /// What was being done (the `ip` command it equals).
        context: String,
        /// The netlink error.
        #[source]
        source: rtnetlink::Error,
    },
    /// The kernel has no ipip support (`ip link add … type ipip` answers EOPNOTSUPP).
    #[error("kernel IPIP unavailable: {reason}")]
    KernelUnavailable {
        /// What the kernel said.
        reason: String,
    },
    /// No interface carries the configured underlay address.
    #[error("no interface has the underlay address {address}")]
    AddressNotFound {
        /// The address looked for.
        address: Ipv4Addr,
    },
    /// A named interface does not exist or is of another kind.
    #[error("interface {name}: {problem}")]
    Interface {
        /// Interface name.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A configuration value is out of range.
    #[error("invalid tunnel configuration: {0}")]
    Config(String),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn netlink(context: impl Into<String>, source: rtnetlink::Error) -> Error {
        Error::Netlink {
            context: context.into(),
            source,
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
