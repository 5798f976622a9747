//! Errors of the encapsulation dataplane.

/// Setting up tunnels, VXLAN entries, routes or NAT failed.
#[derive(Debug, thiserror::Error)]
pub enum EncapError {
    /// A netlink request failed.
    #[error("{what}: {source}")]
    Netlink {
        /// The request, as the `ip` command it equals.
        what: String,
        /// The kernel's answer.
        #[source]
        source: rtnetlink::Error,
    },
    /// The IPIP tunnel or one of its netlink requests failed.
    #[error("{0}")]
    Ipip(#[from] ipip::Error),
    /// A device exists but is not what tern needs.
    #[error("device {device}: {problem}")]
    Device {
        /// Device name.
        device: String,
        /// What is wrong.
        problem: String,
    },
    /// `nft` failed or could not run.
    #[error("nft: {0}")]
    Nft(String),
    /// This node lacks what the dataplane needs (address, pod CIDR).
    #[error("{0}")]
    Node(String),
}

impl EncapError {
    pub(crate) fn netlink(what: impl Into<String>, source: rtnetlink::Error) -> EncapError {
        EncapError::Netlink {
            what: what.into(),
            source,
        }
    }
}

/// Result with [`EncapError`].
pub type Result<T> = std::result::Result<T, EncapError>;
