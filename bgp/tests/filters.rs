//! Import and export filters between loopback speakers, and filter changes applied without
//! a session reset (soft reconfiguration).

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use bgp::filter::{Action, Filter, MatchOperator, Operation, Rule};
use bgp::packet::{Community, PathAttributes};
use speaker_support::{best, net, peer_of, speaker, wait_established, wait_for};

const A: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 101);
const B: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 102);

fn export_filter() -> Arc<Filter> {
    Arc::new(Filter {
        name: "a-export".into(),
        export_v4: vec![
            Rule::new(Action::Reject).cidr(net("198.19.2.0/24"), MatchOperator::Equal),
            Rule::new(Action::Accept)
                .cidr(net("198.19.0.0/16"), MatchOperator::In)
                .with(Operation::AddCommunity("65001:42".parse().unwrap())),
        ],
        ..Filter::default()
    })
}

fn import_filter() -> Arc<Filter> {
    Arc::new(Filter {
        name: "b-import".into(),
        import_v4: vec![
            Rule::new(Action::Reject).cidr(net("198.19.3.0/24"), MatchOperator::Equal),
            Rule::new(Action::Accept)
                .cidr(net("198.19.0.0/16"), MatchOperator::In)
                .prefix_length(Some(24), Some(24))
                .with(Operation::SetLocalPreference(250)),
        ],
        ..Filter::default()
    })
}

#[tokio::test]
async fn export_and_import_filters_shape_what_is_sent_and_accepted_and_changes_need_no_reset() {
    let a = speaker(65001, A).await;
    let b = speaker(65002, B).await;
    let mut to_b = peer_of(&b, A);
    to_b.filters = vec![export_filter()];
    a.add_peer(to_b.clone()).await.unwrap();
    let mut to_a = peer_of(&a, B);
    to_a.filters = vec![import_filter()];
    b.add_peer(to_a.clone()).await.unwrap();
    wait_established(&a, B).await;
    wait_established(&b, A).await;

    for prefix in [
        "198.19.1.0/24",
        "198.19.2.0/24",
        "198.19.3.0/24",
        "198.19.4.0/24",
    ] {
        a.originate(net(prefix), PathAttributes::default())
            .await
            .unwrap();
    }
    wait_for(
        "B learns the last prefix",
        Duration::from_secs(10),
        || async { best(&b, "198.19.4.0/24").await.is_some() },
    )
    .await;
    let first = best(&b, "198.19.1.0/24").await.expect("accepted");
    assert_eq!(
        first.path.attributes.communities,
        vec![Community::new(65001, 42)]
    );
    assert_eq!(first.path.attributes.local_pref, Some(250), "set on import");
    assert!(
        best(&b, "198.19.2.0/24").await.is_none(),
        "rejected on export"
    );
    assert!(
        best(&b, "198.19.3.0/24").await.is_none(),
        "rejected on import"
    );
    let at_b = b.peer(IpAddr::V4(A)).await.unwrap().unwrap();
    assert_eq!(at_b.prefixes_received, 2);
    let to_b_status = a.peer(IpAddr::V4(B)).await.unwrap().unwrap();
    assert_eq!(to_b_status.prefixes_advertised, 3);
    let opens_before = at_b.messages.received.open;

    // Without the filters: A sends 198.19.2.0/24 (and the others without the community),
    // B accepts 198.19.3.0/24 from what it kept; the session stays up.
    to_b.filters.clear();
    a.update_peer(to_b).await.unwrap();
    to_a.filters.clear();
    b.update_peer(to_a).await.unwrap();
    wait_for(
        "B has all four prefixes",
        Duration::from_secs(10),
        || async {
            let rib = b.loc_rib().await.unwrap();
            rib.len() == 4
                && rib.iter().all(|r| {
                    r.path.attributes.communities.is_empty()
                        && r.path.attributes.local_pref.is_none()
                })
        },
    )
    .await;
    let at_b = b.peer(IpAddr::V4(A)).await.unwrap().unwrap();
    assert_eq!(at_b.messages.received.open, opens_before, "no new session");
    assert_eq!(at_b.prefixes_received, 4);
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}
