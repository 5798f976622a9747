//! Advertisement rules and families over real sockets: IPv6 transport, iBGP, the whole table
//! and End-of-RIB at session start, and 2-octet AS peers.

mod speaker_support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use bgp::packet::{
    AS_TRANS, Afi, Capability, CodecContext, Message, Open, PathAttributes, Safi, Update, frame_len,
};
use bgp::{PeerConfig, PeerType, Speaker, SpeakerConfig};
use bytes::BytesMut;
use speaker_support::{best, net, peer_of, speaker, wait_established, wait_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

#[test]
fn speaker_handles_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Speaker>();
}

#[tokio::test]
async fn ipv6_session_carries_both_families() {
    let start = |asn: u32, id: [u8; 4]| async move {
        let mut config = SpeakerConfig::new(asn, Ipv4Addr::from(id));
        config.listen = vec!["[::1]:0".parse().unwrap()];
        config.ipv4_next_hop = Some(Ipv4Addr::new(127, 0, 0, id[3]));
        Speaker::start(config).await.unwrap()
    };
    let a = start(65001, [198, 18, 0, 41]).await;
    let b = start(65002, [198, 18, 0, 42]).await;
    let peer = |other: &Speaker| {
        let listen = other.listen_addresses()[0];
        let mut peer = PeerConfig::new(listen.ip(), other.asn());
        peer.port = listen.port();
        peer.connect_retry = Duration::from_secs(1);
        peer
    };
    // Both speakers are ::1; one side active is enough to tell them apart by port.
    let mut to_a = peer(&a);
    to_a.passive = true;
    a.add_peer(peer(&b)).await.unwrap();
    b.add_peer(to_a).await.unwrap();
    a.originate(net("2001:db8:41::/48"), PathAttributes::default())
        .await
        .unwrap();
    a.originate(net("198.19.41.0/24"), PathAttributes::default())
        .await
        .unwrap();
    wait_for(
        "B learns both prefixes",
        Duration::from_secs(20),
        || async {
            best(&b, "2001:db8:41::/48").await.is_some()
                && best(&b, "198.19.41.0/24").await.is_some()
        },
    )
    .await;
    let v6 = best(&b, "2001:db8:41::/48").await.unwrap();
    assert_eq!(v6.path.next_hop, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
    let v4 = best(&b, "198.19.41.0/24").await.unwrap();
    assert_eq!(
        v4.path.next_hop,
        Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 41)))
    );
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
}

#[tokio::test]
async fn internal_routes_are_not_passed_between_internal_peers_but_go_to_external_ones() {
    // B -iBGP- A -iBGP- C, and A -eBGP- D.
    let a_addr = Ipv4Addr::new(127, 0, 0, 51);
    let b_addr = Ipv4Addr::new(127, 0, 0, 52);
    let c_addr = Ipv4Addr::new(127, 0, 0, 53);
    let d_addr = Ipv4Addr::new(127, 0, 0, 54);
    let a = speaker(65000, a_addr).await;
    let b = speaker(65000, b_addr).await;
    let c = speaker(65000, c_addr).await;
    let d = speaker(65099, d_addr).await;
    for (other, other_addr) in [(&b, b_addr), (&c, c_addr), (&d, d_addr)] {
        a.add_peer(peer_of(other, a_addr)).await.unwrap();
        let mut back = peer_of(&a, other_addr);
        back.passive = true;
        other.add_peer(back).await.unwrap();
    }
    for address in [b_addr, c_addr, d_addr] {
        wait_established(&a, address).await;
    }
    b.originate(net("198.19.52.0/24"), PathAttributes::default())
        .await
        .unwrap();
    wait_for(
        "D learns B's prefix through A",
        Duration::from_secs(10),
        || async { best(&d, "198.19.52.0/24").await.is_some() },
    )
    .await;
    let at_a = best(&a, "198.19.52.0/24").await.unwrap();
    assert_eq!(at_a.path.attributes.local_pref, Some(100));
    assert_eq!(at_a.as_path(), Vec::<u32>::new());
    assert_eq!(at_a.path.next_hop, Some(IpAddr::V4(b_addr)));
    assert!(matches!(
        at_a.path.source,
        bgp::RouteSource::Peer {
            peer_type: PeerType::Internal,
            ..
        }
    ));
    let at_d = best(&d, "198.19.52.0/24").await.unwrap();
    assert_eq!(at_d.as_path(), vec![65000]);
    assert_eq!(at_d.path.next_hop, Some(IpAddr::V4(a_addr)));
    assert_eq!(at_d.path.attributes.local_pref, None);
    // D's answer tells us A has sent everything it will; C must still not have the route.
    let status = a.peer(IpAddr::V4(c_addr)).await.unwrap().unwrap();
    assert_eq!(status.prefixes_advertised, 0);
    assert!(best(&c, "198.19.52.0/24").await.is_none());
    for speaker in [a, b, c, d] {
        speaker.shutdown().await.unwrap();
    }
}

/// A raw peer: connect, exchange OPENs, read messages.
struct RawPeer {
    stream: TcpStream,
    buffer: BytesMut,
    context: CodecContext,
}

impl RawPeer {
    async fn connect(from: Ipv4Addr, to: SocketAddr) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
        Self {
            stream: socket.connect(to).await.unwrap(),
            buffer: BytesMut::new(),
            context: CodecContext::FOUR_OCTET_AS,
        }
    }

    async fn send(&mut self, message: Message) {
        let mut bytes = BytesMut::new();
        message.encode(&self.context, &mut bytes).unwrap();
        self.stream.write_all(&bytes).await.unwrap();
    }

    async fn receive(&mut self) -> Message {
        let next = async {
            loop {
                if let Ok(Some(len)) = frame_len(&self.buffer)
                    && self.buffer.len() >= len
                {
                    let frame = self.buffer.split_to(len);
                    return Message::decode(&frame, &self.context).unwrap();
                }
                assert_ne!(self.stream.read_buf(&mut self.buffer).await.unwrap(), 0);
            }
        };
        tokio::time::timeout(Duration::from_secs(10), next)
            .await
            .expect("a message")
    }

    async fn receive_update(&mut self) -> Update {
        loop {
            if let Message::Update(update) = self.receive().await {
                return update;
            }
        }
    }
}

async fn passive_speaker_for(
    asn: u32,
    address: Ipv4Addr,
    peer: Ipv4Addr,
    peer_asn: u32,
) -> Speaker {
    let speaker = speaker(asn, address).await;
    let mut config = PeerConfig::new(IpAddr::V4(peer), peer_asn);
    config.passive = true;
    speaker.add_peer(config).await.unwrap();
    speaker
}

#[tokio::test]
async fn session_start_sends_the_whole_table_then_end_of_rib_in_negotiated_families_only() {
    let address = Ipv4Addr::new(127, 0, 0, 61);
    let peer = Ipv4Addr::new(127, 0, 0, 62);
    let speaker = passive_speaker_for(65001, address, peer, 65009).await;
    speaker
        .originate(net("198.19.61.0/24"), PathAttributes::default())
        .await
        .unwrap();
    speaker
        .originate(net("198.19.62.0/24"), PathAttributes::default())
        .await
        .unwrap();
    speaker
        .originate(net("2001:db8:61::/48"), PathAttributes::default())
        .await
        .unwrap();
    let mut raw = RawPeer::connect(peer, speaker.listen_addresses()[0]).await;
    // No Multiprotocol capability: IPv4 unicast only (RFC 4760).
    raw.send(Message::Open(Open {
        version: 4,
        my_as: 65009,
        hold_time: 90,
        bgp_identifier: Ipv4Addr::new(198, 18, 9, 9),
        capabilities: vec![Capability::FourOctetAs(65009)],
    }))
    .await;
    assert!(matches!(raw.receive().await, Message::Open(_)));
    assert!(matches!(raw.receive().await, Message::Keepalive));
    raw.send(Message::Keepalive).await;
    let table = raw.receive_update().await;
    assert_eq!(
        table.nlri,
        vec![
            "198.19.61.0/24".parse().unwrap(),
            "198.19.62.0/24".parse().unwrap()
        ],
        "both IPv4 prefixes in one UPDATE"
    );
    assert_eq!(table.attributes.next_hop, Some(address));
    assert!(table.mp_reach.is_none());
    let end = raw.receive_update().await;
    assert_eq!(end.end_of_rib_family(), Some((Afi::Ipv4, Safi::Unicast)));
    speaker.shutdown().await.unwrap();
}

#[tokio::test]
async fn two_octet_peer_gets_as_trans_and_as4_path() {
    let address = Ipv4Addr::new(127, 0, 0, 63);
    let peer = Ipv4Addr::new(127, 0, 0, 64);
    let speaker = passive_speaker_for(4_200_000_001, address, peer, 65009).await;
    speaker
        .originate(net("198.19.63.0/24"), PathAttributes::default())
        .await
        .unwrap();
    let mut raw = RawPeer::connect(peer, speaker.listen_addresses()[0]).await;
    raw.context = CodecContext::TWO_OCTET_AS;
    raw.send(Message::Open(Open {
        version: 4,
        my_as: 65009,
        hold_time: 90,
        bgp_identifier: Ipv4Addr::new(198, 18, 9, 9),
        capabilities: Vec::new(),
    }))
    .await;
    let Message::Open(open) = raw.receive().await else {
        panic!("OPEN expected");
    };
    assert_eq!(open.my_as, AS_TRANS);
    assert_eq!(open.asn(), 4_200_000_001);
    assert!(matches!(raw.receive().await, Message::Keepalive));
    raw.send(Message::Keepalive).await;
    let update = raw.receive_update().await;
    // Decoded as a 2-octet speaker would, with AS4_PATH merged back (RFC 6793 §4.2.3).
    assert_eq!(
        update
            .attributes
            .as_path
            .as_ref()
            .unwrap()
            .asns()
            .collect::<Vec<_>>(),
        vec![4_200_000_001]
    );
    speaker.shutdown().await.unwrap();
}
