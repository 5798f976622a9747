//! Resource kinds `ternctl get`, `apply` and `delete` know, and the names people type for them
//! (calicoctl's and kubectl's plurals, singulars and short names).

/// A resource kind served by `Resources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BgpConfiguration,
    BgpPeer,
    BgpFilter,
    IpPool,
    Node,
    NetworkPolicy,
}

/// Every kind, in help order.
pub const ALL: [Kind; 6] = [
    Kind::BgpConfiguration,
    Kind::BgpPeer,
    Kind::BgpFilter,
    Kind::IpPool,
    Kind::Node,
    Kind::NetworkPolicy,
];

impl Kind {
    /// The `kind:` of a manifest.
    pub fn kind(self) -> &'static str {
        match self {
            Kind::BgpConfiguration => "BGPConfiguration",
            Kind::BgpPeer => "BGPPeer",
            Kind::BgpFilter => "BGPFilter",
            Kind::IpPool => "IPPool",
            Kind::Node => "Node",
            Kind::NetworkPolicy => "NetworkPolicy",
        }
    }

    /// Names accepted on the command line (the first is shown in help).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Kind::BgpConfiguration => &[
                "bgpconfig",
                "bgpconfigs",
                "bgpconfiguration",
                "bgpconfigurations",
            ],
            Kind::BgpPeer => &["bgppeers", "bgppeer", "bgpp"],
            Kind::BgpFilter => &["bgpfilters", "bgpfilter"],
            Kind::IpPool => &["ippools", "ippool", "pool", "pools"],
            Kind::Node => &["nodes", "node", "no"],
            Kind::NetworkPolicy => &["networkpolicies", "networkpolicy", "netpol", "policy"],
        }
    }

    pub fn namespaced(self) -> bool {
        self == Kind::NetworkPolicy
    }

    /// From a command-line name, case-insensitively.
    pub fn from_argument(name: &str) -> Option<Kind> {
        let name = name.to_ascii_lowercase();
        ALL.into_iter().find(|kind| {
            kind.aliases().contains(&name.as_str()) || kind.kind().eq_ignore_ascii_case(&name)
        })
    }

    /// From a manifest's `kind:`.
    pub fn from_kind(kind: &str) -> Option<Kind> {
        ALL.into_iter().find(|k| k.kind() == kind)
    }

    /// "BGPConfiguration, BGPPeer, …" for error messages.
    pub fn known_kinds() -> String {
        ALL.map(Kind::kind).join(", ")
    }

    /// Extra `-o wide` columns: header and the path of the field under the object.
    pub fn wide_columns(self) -> &'static [(&'static str, &'static [&'static str])] {
        match self {
            Kind::BgpConfiguration => &[
                ("ASNUMBER", &["spec", "asNumber"]),
                ("MESH", &["spec", "nodeToNodeMeshEnabled"]),
                ("LISTENPORT", &["spec", "listenPort"]),
            ],
            Kind::BgpPeer => &[
                ("PEERIP", &["spec", "peerIP"]),
                ("ASN", &["spec", "asNumber"]),
                ("NODE", &["spec", "node"]),
            ],
            Kind::BgpFilter => &[],
            Kind::IpPool => &[
                ("CIDR", &["spec", "cidr"]),
                ("IPIPMODE", &["spec", "ipipMode"]),
                ("VXLANMODE", &["spec", "vxlanMode"]),
                ("NATOUTGOING", &["spec", "natOutgoing"]),
                ("DISABLED", &["spec", "disabled"]),
            ],
            Kind::Node => &[("PODCIDRS", &["spec", "podCIDRs"])],
            Kind::NetworkPolicy => &[("PODSELECTOR", &["spec", "podSelector"])],
        }
    }
}

/// The names `ternctl get` accepts besides resource kinds.
pub const NODE_VIEWS: [&str; 2] = ["routes", "peers"];

/// Help text listing every accepted kind.
pub fn get_kinds_help() -> String {
    let mut names: Vec<&str> = NODE_VIEWS.to_vec();
    names.extend(ALL.iter().map(|k| k.aliases()[0]));
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calicoctl_and_kubectl_names_resolve() {
        assert_eq!(
            Kind::from_argument("bgpconfig"),
            Some(Kind::BgpConfiguration)
        );
        assert_eq!(Kind::from_argument("BGPPeers"), Some(Kind::BgpPeer));
        assert_eq!(Kind::from_argument("ippool"), Some(Kind::IpPool));
        assert_eq!(Kind::from_argument("netpol"), Some(Kind::NetworkPolicy));
        assert_eq!(Kind::from_argument("IPPool"), Some(Kind::IpPool));
        assert_eq!(Kind::from_argument("widgets"), None);
    }
}
