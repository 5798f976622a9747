//! Every rule criterion and operator, the first-match and fall-through semantics, and the
//! operations.

use std::sync::Arc;

use ipnetwork::IpNetwork;

use super::*;
use crate::packet::{AsPath, Community, LargeCommunity, Origin};

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn attributes() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(vec![65001, 65002])),
        communities: vec![Community::new(65000, 100)],
        large_communities: vec![LargeCommunity::new(65000, 1, 2)],
        ..PathAttributes::default()
    }
}

fn candidate<'a>(prefix: &str, attributes: &'a PathAttributes) -> Candidate<'a> {
    Candidate {
        prefix: net(prefix),
        attributes,
        peer_type: PeerType::External,
        learned: true,
    }
}

fn matches(rule: &Rule, prefix: &str) -> bool {
    rule.matches(&candidate(prefix, &attributes()))
}

#[test]
fn cidr_operators() {
    let cidr = net("10.0.0.0/8");
    let equal = Rule::new(Action::Accept).cidr(cidr, MatchOperator::Equal);
    let not_equal = Rule::new(Action::Accept).cidr(cidr, MatchOperator::NotEqual);
    let inside = Rule::new(Action::Accept).cidr(cidr, MatchOperator::In);
    let not_inside = Rule::new(Action::Accept).cidr(cidr, MatchOperator::NotIn);
    for (prefix, e, ne, i, ni) in [
        ("10.0.0.0/8", true, false, true, false),
        ("10.1.0.0/16", false, true, true, false),
        ("10.0.0.0/7", false, true, false, true),
        ("11.0.0.0/16", false, true, false, true),
    ] {
        assert_eq!(matches(&equal, prefix), e, "Equal {prefix}");
        assert_eq!(matches(&not_equal, prefix), ne, "NotEqual {prefix}");
        assert_eq!(matches(&inside, prefix), i, "In {prefix}");
        assert_eq!(matches(&not_inside, prefix), ni, "NotIn {prefix}");
    }
    // IPv6 the same way.
    let v6 = Rule::new(Action::Accept).cidr(net("2001:db8::/32"), MatchOperator::In);
    assert!(matches(&v6, "2001:db8:1::/48"));
    assert!(!matches(&v6, "2001:db9::/48"));
}

#[test]
fn prefix_length_range_defaults_to_the_cidr_length_up_to_the_full_length() {
    let cidr = net("10.0.0.0/8");
    let ranged = Rule::new(Action::Accept)
        .cidr(cidr, MatchOperator::In)
        .prefix_length(Some(16), Some(24));
    assert!(!matches(&ranged, "10.0.0.0/8"));
    assert!(matches(&ranged, "10.1.0.0/16"));
    assert!(matches(&ranged, "10.1.1.0/24"));
    assert!(!matches(&ranged, "10.1.1.0/25"));
    let min_only = Rule::new(Action::Accept)
        .cidr(cidr, MatchOperator::In)
        .prefix_length(Some(30), None);
    assert!(matches(&min_only, "10.1.1.4/30"));
    assert!(matches(&min_only, "10.1.1.4/32"));
    assert!(!matches(&min_only, "10.1.1.0/29"));
    let max_only = Rule::new(Action::Accept)
        .cidr(cidr, MatchOperator::NotIn)
        .prefix_length(None, Some(16));
    assert!(!matches(&max_only, "10.1.0.0/16"));
    assert!(
        matches(&max_only, "10.1.1.0/24"),
        "NotIn: outside the length range"
    );
}

#[test]
fn source_peer_type_community_and_as_path_prefix() {
    let attrs = attributes();
    let remote = Rule {
        source: Some(RuleSource::RemotePeers),
        ..Rule::new(Action::Reject)
    };
    let mut local = candidate("10.0.0.0/8", &attrs);
    local.learned = false;
    assert!(!remote.matches(&local));
    assert!(remote.matches(&candidate("10.0.0.0/8", &attrs)));

    let internal_only = Rule {
        peer_type: Some(PeerType::Internal),
        ..Rule::new(Action::Reject)
    };
    assert!(!internal_only.matches(&candidate("10.0.0.0/8", &attrs)));

    let community = |value: &str| Rule {
        communities: vec![value.parse().unwrap()],
        ..Rule::new(Action::Reject)
    };
    assert!(matches(&community("65000:100"), "10.0.0.0/8"));
    assert!(!matches(&community("65000:101"), "10.0.0.0/8"));
    assert!(matches(&community("65000:1:2"), "10.0.0.0/8"));
    assert!(!matches(&community("65000:1:3"), "10.0.0.0/8"));
    assert!("65536:1".parse::<CommunityValue>().is_err());

    let as_path = |asns: &[u32]| Rule {
        as_path_prefix: asns.to_vec(),
        ..Rule::new(Action::Reject)
    };
    assert!(matches(&as_path(&[65001]), "10.0.0.0/8"));
    assert!(matches(&as_path(&[65001, 65002]), "10.0.0.0/8"));
    assert!(!matches(&as_path(&[65002]), "10.0.0.0/8"));
    assert!(!matches(&as_path(&[65001, 65002, 65003]), "10.0.0.0/8"));
}

#[test]
fn first_matching_rule_decides_then_next_filter_then_accept() {
    let attrs = attributes();
    let first = Arc::new(Filter {
        name: "first".into(),
        import_v4: vec![
            Rule::new(Action::Accept).cidr(net("10.1.0.0/16"), MatchOperator::In),
            Rule::new(Action::Reject).cidr(net("10.0.0.0/8"), MatchOperator::In),
        ],
        ..Filter::default()
    });
    let second = Arc::new(Filter {
        name: "second".into(),
        import_v4: vec![Rule::new(Action::Reject).cidr(net("192.0.2.0/24"), MatchOperator::Equal)],
        export_v4: vec![Rule::new(Action::Reject)],
        ..Filter::default()
    });
    let filters = [first, second];
    let verdict =
        |prefix: &str, direction| evaluate(&filters, direction, &candidate(prefix, &attrs));
    assert_eq!(
        verdict("10.1.2.0/24", Direction::Import),
        Verdict::Accept(&[])
    );
    assert_eq!(verdict("10.2.0.0/16", Direction::Import), Verdict::Reject);
    assert_eq!(
        verdict("192.0.2.0/24", Direction::Import),
        Verdict::Reject,
        "second filter"
    );
    assert_eq!(
        verdict("198.51.100.0/24", Direction::Import),
        Verdict::Accept(&[]),
        "fall through"
    );
    assert_eq!(
        verdict("2001:db8::/32", Direction::Import),
        Verdict::Accept(&[]),
        "no v6 rules"
    );
    assert_eq!(
        verdict("198.51.100.0/24", Direction::Export),
        Verdict::Reject,
        "export rules"
    );
    assert_eq!(
        evaluate(&[], Direction::Import, &candidate("10.0.0.0/8", &attrs)),
        Verdict::Accept(&[])
    );
}

#[test]
fn operations_add_community_prepend_and_set_local_preference() {
    let operations = [
        Operation::AddCommunity("65000:200".parse().unwrap()),
        Operation::AddCommunity("65000:100".parse().unwrap()),
        Operation::AddCommunity("65000:7:8".parse().unwrap()),
        Operation::PrependAsPath(vec![64512, 64513]),
        Operation::SetLocalPreference(300),
    ];
    let changed = apply(&operations, &attributes());
    assert_eq!(
        changed.communities,
        vec![Community::new(65000, 100), Community::new(65000, 200)],
        "added once"
    );
    assert_eq!(changed.large_communities.len(), 2);
    assert_eq!(
        changed.as_path,
        Some(AsPath::from_sequence(vec![64512, 64513, 65001, 65002]))
    );
    assert_eq!(changed.local_pref, Some(300));
    // A matching Accept rule hands its operations back.
    let rule = Rule::new(Action::Accept).with(Operation::SetLocalPreference(50));
    let filters = [Arc::new(Filter {
        import_v4: vec![rule],
        ..Filter::default()
    })];
    let attrs = attributes();
    let verdict = evaluate(
        &filters,
        Direction::Import,
        &candidate("10.0.0.0/8", &attrs),
    );
    assert_eq!(
        verdict,
        Verdict::Accept(&[Operation::SetLocalPreference(50)])
    );
    assert_ne!(verdict.operations_key(), 0);
}
