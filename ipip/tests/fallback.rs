//! `Tunnel::open` on this kernel (no `ipip.ko`): the kernel path answers EOPNOTSUPP and the
//! tunnel falls back to userspace, with the device configured like `tunl0`.
//!
//! Needs root. Each test runs in a private network namespace made by `unshare(CLONE_NEWNET)`
//! on a dedicated thread, with a current-thread runtime on that thread: every socket and the
//! TUN device belong to that namespace, which the kernel deletes when the thread ends (also on
//! panic), so nothing needs a name or a cleanup.

use std::net::{IpAddr, Ipv4Addr};

use futures::TryStreamExt;
use ipip::netlink;
use ipip::{Error, Mode, Peer, Tunnel, TunnelConfig};
use rtnetlink::LinkVeth;
use rtnetlink::packet_route::address::AddressAttribute;

const LOCAL: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
const TUNNEL_ADDRESS: Ipv4Addr = Ipv4Addr::new(198, 19, 1, 254);

/// Runs `body` on a thread inside a fresh network namespace with an underlay veth
/// (`under0`, 198.18.0.1/24, MTU 1500) and returns its result.
fn in_private_netns<T: Send + 'static>(
    body: impl AsyncFnOnce(rtnetlink::Handle) -> T + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        // SAFETY: unshare(2) on this thread only; it owns no namespace-bound resources yet.
        let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
        assert_eq!(
            rc,
            0,
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let (handle, connection) = netlink::connect().expect("rtnetlink");
            handle
                .link()
                .add(LinkVeth::new("under0", "under1").build())
                .execute()
                .await
                .expect("ip link add under0 type veth peer name under1");
            let under0 = netlink::link_by_name(&handle, "under0")
                .await
                .expect("link query")
                .expect("under0 exists");
            netlink::set_mtu_and_up(&handle, under0.index, 1500)
                .await
                .expect("under0 up");
            handle
                .address()
                .add(under0.index, IpAddr::V4(LOCAL), 24)
                .execute()
                .await
                .expect("ip addr add 198.18.0.1/24 dev under0");
            let result = body(handle).await;
            connection.abort();
            result
        })
    })
    .join()
    .expect("test thread")
}

fn config() -> TunnelConfig {
    let mut config = TunnelConfig::new(LOCAL);
    config.tunnel_address = Some(TUNNEL_ADDRESS);
    config.peers = vec![Peer::new(
        "198.19.2.0/24".parse().expect("prefix"),
        Ipv4Addr::new(198, 18, 0, 2),
    )];
    config
}

async fn addresses_of(handle: &rtnetlink::Handle, index: u32) -> Vec<IpAddr> {
    let mut stream = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute();
    let mut addresses = Vec::new();
    while let Some(message) = stream.try_next().await.expect("ip addr show") {
        for attribute in message.attributes {
            if let AddressAttribute::Address(address) = attribute {
                addresses.push(address);
            }
        }
    }
    addresses
}

#[test]
fn open_falls_back_to_userspace_without_ipip_ko() {
    let (mode, device, kind, mtu, addresses) = in_private_netns(async |handle| {
        let tunnel = Tunnel::open(&config()).await.expect("tunnel opens");
        let interface = netlink::link_by_name(&handle, "tunl0")
            .await
            .expect("link query")
            .expect("tunl0 exists");
        let addresses = addresses_of(&handle, interface.index).await;
        let mode = tunnel.mode();
        let device = tunnel.device().to_string();
        tunnel.shutdown().await;
        (mode, device, interface.kind, interface.mtu, addresses)
    });
    assert_eq!(mode, Mode::Userspace);
    assert_eq!(device, "tunl0");
    assert_eq!(
        kind.as_deref(),
        Some("tun"),
        "a TUN device stands in for tunl0"
    );
    assert_eq!(mtu, 1480, "MTU = underlay − 20");
    assert_eq!(addresses, vec![IpAddr::V4(TUNNEL_ADDRESS)]);
}

#[test]
fn forcing_kernel_mode_reports_kernel_unavailable() {
    let result = in_private_netns(async |_handle| {
        let mut config = config();
        config.force_mode = Some(Mode::Kernel);
        Tunnel::open(&config).await.map(|tunnel| tunnel.mode())
    });
    match result {
        Err(Error::KernelUnavailable { reason }) => {
            assert!(reason.contains("type ipip"), "{reason}")
        }
        other => panic!("expected KernelUnavailable, got {other:?}"),
    }
}

#[test]
fn the_tun_device_goes_away_on_shutdown() {
    let remaining = in_private_netns(async |handle| {
        let tunnel = Tunnel::open(&config()).await.expect("tunnel opens");
        tunnel.shutdown().await;
        netlink::link_by_name(&handle, "tunl0")
            .await
            .expect("link query")
    });
    assert_eq!(remaining, None);
}

#[test]
fn peers_can_be_read_from_routes_via_the_device() {
    let peers = in_private_netns(async |handle| {
        let tunnel = Tunnel::open(&config()).await.expect("tunnel opens");
        let Tunnel::Userspace(userspace) = &tunnel else {
            panic!("userspace expected on this kernel");
        };
        let route = rtnetlink::RouteMessageBuilder::<Ipv4Addr>::new()
            .destination_prefix(Ipv4Addr::new(198, 19, 3, 0), 24)
            .gateway(Ipv4Addr::new(198, 18, 0, 3))
            .output_interface(userspace.index())
            .onlink()
            .build();
        handle
            .route()
            .add(route)
            .execute()
            .await
            .expect("ip route add 198.19.3.0/24 via 198.18.0.3 dev tunl0 onlink");
        let count = userspace
            .load_peers_from_routes()
            .await
            .expect("route dump");
        let peers = userspace.peers();
        (count, peers.lookup(Ipv4Addr::new(198, 19, 3, 9)))
    });
    assert_eq!(peers, (1, Some(Ipv4Addr::new(198, 18, 0, 3))));
}
