use rtnetlink::packet_route::link::{InfoData, InfoIpTunnel, InfoKind, LinkAttribute, LinkInfo};

use super::*;

#[test]
fn new_link_message_is_ip_link_add_type_ipip_ttl_inherit_pmtudisc() {
    let message = new_link_message("tunl0", &TunnelParams::TERN);
    assert!(
        message
            .attributes
            .contains(&LinkAttribute::IfName("tunl0".into()))
    );
    let infos = message
        .attributes
        .iter()
        .find_map(|attribute| match attribute {
            LinkAttribute::LinkInfo(infos) => Some(infos.clone()),
            _ => None,
        })
        .expect("IFLA_LINKINFO present");
    assert!(infos.contains(&LinkInfo::Kind(InfoKind::IpIp)));
    let data = infos
        .iter()
        .find_map(|info| match info {
            LinkInfo::Data(InfoData::IpTunnel(data)) => Some(data.clone()),
            _ => None,
        })
        .expect("IFLA_INFO_DATA present");
    assert_eq!(
        data,
        vec![
            InfoIpTunnel::Ttl(0),
            InfoIpTunnel::Tos(0),
            InfoIpTunnel::PMtuDisc(true)
        ]
    );
}

#[test]
fn ip_tunnel_parm_matches_the_uapi_layout() {
    assert_eq!(std::mem::size_of::<IpTunnelParm>(), 52);
    assert_eq!(std::mem::offset_of!(IpTunnelParm, link), 16);
    assert_eq!(std::mem::offset_of!(IpTunnelParm, i_key), 24);
    assert_eq!(std::mem::offset_of!(IpTunnelParm, iph), 32);
}

#[test]
fn ioctl_template_sets_df_for_pmtudisc_and_fixed_ttl() {
    // SAFETY-free: a zeroed template as SIOCGETTUNNEL returns for the fallback tunl0, with
    // version/IHL and protocol filled in.
    let mut parm = IpTunnelParm {
        name: [0; libc::IFNAMSIZ],
        link: 0,
        i_flags: 0,
        o_flags: 0,
        i_key: 0,
        o_key: 0,
        iph: [0; 20],
    };
    parm.iph[0] = 0x45;
    parm.iph[9] = 4;
    parm.apply(&TunnelParams::TERN);
    assert_eq!(&parm.iph[6..8], &[0x40, 0x00]);
    assert_eq!(parm.iph[8], 0);
    parm.apply(&TunnelParams::KERNEL_FALLBACK);
    assert_eq!(&parm.iph[6..8], &[0x00, 0x00]);
    parm.apply(&TunnelParams {
        ttl: 64,
        tos: 0,
        pmtudisc: false,
    });
    // The kernel forces DF with a fixed TTL (ip_tunnel_ctl); so do we.
    assert_eq!(&parm.iph[6..8], &[0x40, 0x00]);
    assert_eq!(parm.iph[8], 64);
    assert_eq!(parm.iph[0], 0x45);
    assert_eq!(parm.iph[9], 4);
}
