//! The conformance cases, in three groups. Each `check` probes the whole matrix.

use policy::NftRunner;
use serde_json::json;

use crate::cluster::Family::{self, V4, V6};
use crate::cluster::PODS;
use crate::probe::Probe;
use crate::{DENY_IN_X, DENY_OUT_Y, Outcome, Suite};

/// Default deny, allow all, and the selector shapes of peers.
pub fn selectors(suite: &mut Suite) {
    suite.set_policies(&[]);
    suite.check("no policy");

    suite.set_policies(&[DENY_IN_X]);
    suite.check("default deny ingress (x)");

    suite.set_policies(&[DENY_OUT_Y]);
    suite.check("default deny egress (y)");

    suite.set_policies(&[
        DENY_IN_X,
        "metadata: {name: allow-all-in, namespace: x}
spec: {podSelector: {}, ingress: [{}]}",
        DENY_OUT_Y,
        "metadata: {name: allow-all-out, namespace: y}
spec: {podSelector: {}, policyTypes: [Egress], egress: [{}]}",
    ]);
    suite.check("allow all over default deny (x in, y out)");

    suite.set_policies(&["metadata: {name: a-from-own-ns, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {}}]}]"]);
    suite.check("peer podSelector {} = own namespace");

    suite.set_policies(&["metadata: {name: a-from-all-ns, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {}}]}]"]);
    suite.check("peer namespaceSelector {} = all namespaces");

    suite.set_policies(&["metadata: {name: nil-selector, namespace: z}
spec:
  ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}]}]"]);
    suite.check("nil policy podSelector, labelled peer");

    suite.set_policies(&["metadata: {name: and-peer, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]}]"]);
    suite.check("AND within a peer (ns y and pod b)");

    suite.set_policies(&["metadata: {name: or-peers, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}, {podSelector: {matchLabels: {pod: b}}}]}]"]);
    suite.check("OR across peers (ns y, or pod b of x)");

    suite.set_policies(&["metadata: {name: expressions, namespace: y}
spec:
  podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [c]}]}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - namespaceSelector: {matchExpressions: [{key: ns, operator: In, values: [x, z]}]}
          podSelector: {matchExpressions: [{key: pod, operator: In, values: [a, c]}]}
        - podSelector: {matchExpressions: [{key: missing, operator: DoesNotExist}, {key: pod, operator: Exists}]}
  egress:
    - to: [{namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x]}]}}]"]);
    suite.check("matchExpressions In/NotIn/Exists/DoesNotExist");
}

/// ipBlock with except (IPv4 blocks admit IPv4 only, IPv6 blocks IPv6 only), named ports,
/// endPort, single protocols.
pub fn blocks_and_ports(suite: &mut Suite) {
    let (xb, yc, zb) = (
        suite.address("x/b", V4),
        suite.address("y/c", V4),
        suite.address("z/b", V4),
    );
    suite.set_policies(&[&format!(
        "metadata: {{name: blocks-in, namespace: z}}
spec:
  podSelector: {{}}
  ingress:
    - from:
        - ipBlock: {{cidr: 198.19.0.0/16, except: ['{xb}/32', '{yc}/32']}}
        - namespaceSelector: {{matchLabels: {{ns: y}}}}"
    )]);
    let outcome = suite.check("ipBlock except on pod IPs (ingress; ns y re-allows y/c)");
    // The IPv4 block admits x/a's IPv4 traffic only; ns y admits both families.
    expect(
        suite,
        &outcome,
        &[
            (V4, "x/a", "z/a", "TCP", 80, true),
            (V6, "x/a", "z/a", "TCP", 80, false),
            (V4, "x/b", "z/a", "TCP", 80, false),
            (V6, "y/c", "z/a", "UDP", 81, true),
        ],
    );

    let node2 = suite.cluster.nodes[1].v4.pod_cidr.clone();
    suite.set_policies(&[&format!(
        "metadata: {{name: blocks-out, namespace: x}}
spec:
  podSelector: {{matchLabels: {{pod: a}}}}
  policyTypes: [Egress]
  egress: [{{to: [{{ipBlock: {{cidr: {node2}, except: ['{zb}/32']}}}}]}}]"
    )]);
    suite.check("ipBlock except on pod IPs (egress)");

    let (xa6, zc6) = (suite.address("x/a", V6), suite.address("z/c", V6));
    let node2_v6 = suite.cluster.nodes[1].v6.pod_cidr.clone();
    suite.set_policies(&[&format!(
        "metadata: {{name: blocks-in-v6, namespace: y}}
spec:
  podSelector: {{}}
  ingress:
    - from: [{{ipBlock: {{cidr: '2001:db8::/32', except: ['{node2_v6}', '{xa6}/128']}}}}]
      ports: [{{port: 80}}, {{protocol: UDP, port: 80}}]
    - from: [{{ipBlock: {{cidr: '{zc6}/128'}}}}]"
    )]);
    let outcome = suite.check("IPv6 ipBlock except on pod IPs (ingress)");
    // x/c, z/c are on node-1, x/b on node-2; y/a is isolated.
    expect(
        suite,
        &outcome,
        &[
            (V6, "x/c", "y/a", "TCP", 80, true),
            (V4, "x/c", "y/a", "TCP", 80, false),
            (V6, "x/c", "y/a", "TCP", 81, false),
            (V6, "x/a", "y/a", "UDP", 80, false),
            (V6, "x/b", "y/a", "TCP", 80, false),
            (V6, "z/c", "y/a", "TCP", 81, true),
            (V4, "z/c", "y/a", "TCP", 81, false),
        ],
    );

    let (node1, ya6) = (
        suite.cluster.nodes[0].v4.pod_cidr.clone(),
        suite.address("y/a", V6),
    );
    suite.set_policies(&[&format!(
        "metadata: {{name: blocks-out-mixed, namespace: z}}
spec:
  podSelector: {{matchLabels: {{pod: b}}}}
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock: {{cidr: {node1}}}
        - ipBlock: {{cidr: '{node2_v6}', except: ['{ya6}/128']}}"
    )]);
    let outcome = suite.check("IPv4 and IPv6 ipBlocks per family (egress)");
    // x/a is on node-1, x/b and y/a on node-2.
    expect(
        suite,
        &outcome,
        &[
            (V4, "z/b", "x/a", "TCP", 80, true),
            (V6, "z/b", "x/a", "TCP", 80, false),
            (V4, "z/b", "x/b", "UDP", 81, false),
            (V6, "z/b", "x/b", "UDP", 81, true),
            (V6, "z/b", "y/a", "TCP", 80, false),
        ],
    );

    suite.set_policies(&[
        &format!(
            "metadata: {{name: all-v4-out, namespace: x}}
spec:
  podSelector: {{matchLabels: {{pod: a}}}}
  policyTypes: [Egress]
  egress: [{{to: [{{ipBlock: {{cidr: 0.0.0.0/0, except: ['{node2}']}}}}]}}]"
        ),
        &format!(
            "metadata: {{name: all-v6-in, namespace: y}}
spec:
  podSelector: {{}}
  ingress: [{{from: [{{ipBlock: {{cidr: '::/0', except: ['{xa6}/128']}}}}]}}]"
        ),
    ]);
    let outcome = suite.check("whole-family ipBlocks 0.0.0.0/0 and ::/0 with except");
    // x/c is on node-1, x/b and y/a on node-2.
    expect(
        suite,
        &outcome,
        &[
            (V4, "x/a", "x/c", "TCP", 80, true),
            (V4, "x/a", "x/b", "TCP", 80, false),
            (V6, "x/a", "x/c", "TCP", 80, false),
            (V6, "x/b", "y/a", "UDP", 81, true),
            (V4, "x/b", "y/a", "UDP", 81, false),
            (V6, "x/a", "y/a", "UDP", 81, false),
        ],
    );

    suite.set_policies(&[
        "metadata: {name: named-in, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{port: serve-web}]}]",
        "metadata: {name: named-out, namespace: y}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {}}], ports: [{protocol: UDP, port: serve-dns}]}]",
    ]);
    suite.check("named ports (per-pod numbers, both directions)");

    suite.set_policies(&[
        "metadata: {name: range-in, namespace: z}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 79, endPort: 80}, {protocol: UDP, port: 81, endPort: 90}]}]",
        "metadata: {name: range-out, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: 81, endPort: 81}]}]",
    ]);
    suite.check("endPort ranges");

    suite.set_policies(&["metadata: {name: udp-only, namespace: y}
spec:
  podSelector: {}
  ingress: [{ports: [{protocol: UDP}]}]"]);
    suite.check("UDP only (every UDP port)");

    suite.set_policies(&["metadata: {name: sctp-only, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{protocol: SCTP, port: 80}]}]"]);
    suite.check("SCTP only still isolates TCP and UDP");
    let node = suite.cluster.pod("x/a").node;
    let table = suite.programmers[node].runner().list().unwrap();
    assert!(
        table.contains("sctp dport 80"),
        "the SCTP rule reached the kernel table:\n{table}"
    );
}

/// Several policies at once, replies, and live changes of policies and labels.
pub fn stacking_and_changes(suite: &mut Suite) {
    let stacked = [
        "metadata: {name: deny-all, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}",
        "metadata: {name: a-from-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}], ports: [{port: 80}]}]",
        "metadata: {name: a-from-z-udp, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}}], ports: [{protocol: UDP}]}]",
        "metadata: {name: out-to-y, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {ns: y}}}]}]",
        "metadata: {name: b-out-to-zc, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: c}}}], ports: [{port: 81}]}]",
    ];
    suite.set_policies(&stacked);
    suite.check("stacked policies (union)");

    let mut updated = stacked;
    updated[1] = "metadata: {name: a-from-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: z}}, podSelector: {matchLabels: {pod: b}}}], ports: [{port: 81}]}]";
    suite.set_policies(&updated);
    suite.check("policy update (peer and port changed)");

    // Replies: y admits x but may send nothing itself.
    suite.set_policies(&["metadata: {name: in-from-x-no-egress, namespace: y}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns: x}}}]}]"]);
    let outcome = suite.check("replies pass (y admits x, y egress denied)");
    let one_way = one_way_tcp(suite, &outcome);
    println!("replies: {one_way} TCP flows allowed one way, denied the other way, observed so");
    assert!(
        one_way > 0,
        "no allowed TCP flow with a denied reverse direction"
    );

    suite.set_policies(&["metadata: {name: from-clients, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {role: client}}}]}]"]);
    suite.check("pod relabel: before");
    suite.pod_labels("z/a", json!({"pod": "a", "role": "client"}));
    suite.pod_labels("y/b", json!({"pod": "b", "role": "client"}));
    suite.check("pod relabel: z/a, y/b become clients");
    suite.pod_labels("y/b", json!({"pod": "b"}));
    suite.check("pod relabel: y/b no longer a client");
    suite.pod_labels("z/a", json!({"pod": "a"}));
    suite.pod_labels("y/b", json!({"pod": "b"}));

    suite.set_policies(&["metadata: {name: from-blue, namespace: y}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]"]);
    suite.check("namespace relabel: before");
    suite.namespace_labels("z", json!({"ns": "z", "team": "blue"}));
    suite.check("namespace relabel: z joins team blue");
    suite.namespace_labels("z", json!({"ns": "z"}));
    suite.namespace_labels("x", json!({"ns": "x", "team": "blue"}));
    suite.check("namespace relabel: x replaces z");
    suite.namespace_labels("x", json!({"ns": "x"}));
}

/// The oracle's verdict on a few flows `(family, from, to, protocol, port, allowed)`, as the
/// spec reads (the traffic is compared with the oracle by `check`).
fn expect(suite: &Suite, outcome: &Outcome, flows: &[(Family, &str, &str, &str, u16, bool)]) {
    let index = |id: &str| PODS.iter().position(|pod| *pod == id).expect("a pod");
    for (family, from, to, protocol, port, allowed) in flows {
        let probe = suite
            .probes
            .iter()
            .position(|p| {
                (p.family, p.from, p.to, p.protocol, p.port)
                    == (*family, index(from), index(to), *protocol, *port)
            })
            .expect("a probe of the matrix");
        assert_eq!(
            outcome.expected[probe],
            *allowed,
            "oracle on {} {from} -> {to} {protocol}/{port}",
            family.name()
        );
    }
}

/// TCP flows the oracle allows whose reverse it denies, observed exactly so.
fn one_way_tcp(suite: &Suite, outcome: &Outcome) -> usize {
    let find = |probe: &Probe| {
        suite.probes.iter().position(|p| {
            (p.family, p.from, p.to, p.port, p.protocol)
                == (probe.family, probe.to, probe.from, probe.port, "TCP")
        })
    };
    let mut count = 0;
    for (index, probe) in suite.probes.iter().enumerate() {
        if probe.protocol != "TCP" || !outcome.expected[index] || !outcome.observed[index] {
            continue;
        }
        if let Some(reverse) = find(probe)
            && !outcome.expected[reverse]
            && !outcome.observed[reverse]
        {
            count += 1;
        }
    }
    count
}
