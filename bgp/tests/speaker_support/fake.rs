//! A hand-driven BGP peer over a plain TcpStream, for tests that need to see or send exact
//! messages.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bgp::packet::{
    Afi, AsPath, Capability, CodecContext, GracefulRestart, GracefulRestartFamily, Message,
    Notification, Open, Origin, PathAttributes, Safi, Update, frame_len,
};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

pub struct FakePeer {
    stream: TcpStream,
    buffer: BytesMut,
}

impl FakePeer {
    /// Connect from `from`; with `ttl`, send with that TTL and (like a GTSM router) drop
    /// packets that arrive with less than 255.
    pub async fn connect(
        from: Ipv4Addr,
        to: SocketAddr,
        ttl: Option<u32>,
    ) -> std::io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        if let Some(ttl) = ttl {
            socket2::SockRef::from(&socket).set_ttl(ttl)?;
            bgp::driver::ttl::set_min_ttl(&socket, &to, 255)?;
        }
        Self::connect_socket(socket, from, to).await
    }

    /// Connect from `from` with a receive buffer of `bytes`: the kernel keeps the TCP window
    /// that small, so when the test stops reading the speaker's writes stall at once.
    pub async fn connect_with_receive_buffer(
        from: Ipv4Addr,
        to: SocketAddr,
        bytes: u32,
    ) -> std::io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(bytes)?;
        Self::connect_socket(socket, from, to).await
    }

    async fn connect_socket(
        socket: TcpSocket,
        from: Ipv4Addr,
        to: SocketAddr,
    ) -> std::io::Result<Self> {
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
        let stream = socket.connect(to).await?;
        Ok(Self {
            stream,
            buffer: BytesMut::new(),
        })
    }

    pub async fn send(&mut self, message: Message) {
        let mut bytes = BytesMut::new();
        message
            .encode(&CodecContext::FOUR_OCTET_AS, &mut bytes)
            .unwrap();
        self.stream.write_all(&bytes).await.unwrap();
    }

    /// The next message, or `None` at end of stream.
    pub async fn receive(&mut self) -> Option<Message> {
        loop {
            if let Ok(Some(len)) = frame_len(&self.buffer)
                && self.buffer.len() >= len
            {
                let frame = self.buffer.split_to(len);
                return Some(Message::decode(&frame, &CodecContext::FOUR_OCTET_AS).unwrap());
            }
            match self.stream.read_buf(&mut self.buffer).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The next UPDATE (KEEPALIVEs skipped), within 10 s; panics on anything else.
    pub async fn receive_update(&mut self) -> Update {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match self.receive().await {
                    Some(Message::Keepalive) => continue,
                    Some(Message::Update(update)) => return update,
                    other => panic!("expected an UPDATE, got {other:?}"),
                }
            }
        })
        .await
        .expect("an UPDATE within 10 s")
    }

    /// The next NOTIFICATION (other messages skipped) within 10 s, or `None` if the
    /// connection closed first.
    pub async fn receive_notification(&mut self) -> Option<Notification> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match self.receive().await {
                    Some(Message::Notification(n)) => return Some(n),
                    Some(_) => continue,
                    None => return None,
                }
            }
        })
        .await
        .expect("a NOTIFICATION or a close within 10 s")
    }

    /// OPEN from AS 65009 with `hold_time`, then the KEEPALIVE that confirms ours.
    pub async fn establish(&mut self, hold_time: u16) {
        self.establish_with(open(
            65009,
            Ipv4Addr::new(198, 18, 9, 9),
            hold_time,
            Vec::new(),
        ))
        .await;
    }

    /// Send `open`, expect the speaker's OPEN and KEEPALIVE, confirm; returns its OPEN.
    pub async fn establish_with(&mut self, open: Open) -> Open {
        self.send(Message::Open(open)).await;
        let Some(Message::Open(theirs)) = self.receive().await else {
            panic!("expected OPEN");
        };
        assert!(matches!(self.receive().await, Some(Message::Keepalive)));
        self.send(Message::Keepalive).await;
        theirs
    }
}

/// An UPDATE from AS 65009 announcing `prefixes` (IPv4) with `next_hop`.
pub fn announce(next_hop: Ipv4Addr, prefixes: &[&str]) -> Message {
    Message::Update(Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(vec![65009])),
            next_hop: Some(next_hop),
            ..PathAttributes::default()
        },
        nlri: prefixes.iter().map(|p| p.parse().unwrap()).collect(),
        ..Update::default()
    })
}

/// An OPEN from `asn` / `id` with the 4-octet AS capability plus `extra`.
pub fn open(asn: u32, id: Ipv4Addr, hold_time: u16, extra: Vec<Capability>) -> Open {
    let mut capabilities = extra;
    capabilities.push(Capability::FourOctetAs(asn));
    Open {
        version: 4,
        my_as: u16::try_from(asn).unwrap_or(bgp::packet::AS_TRANS),
        hold_time,
        bgp_identifier: id,
        capabilities,
    }
}

/// The Graceful Restart capability for IPv4 unicast with forwarding preserved.
pub fn graceful_restart(restart_time: u16, restarting: bool) -> Capability {
    Capability::GracefulRestart(GracefulRestart {
        restarting,
        notification: false,
        restart_time,
        families: vec![GracefulRestartFamily {
            afi: Afi::Ipv4,
            safi: Safi::Unicast,
            forwarding_preserved: true,
        }],
    })
}
