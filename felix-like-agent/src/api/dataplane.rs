//! [`DataplaneView`] over the kernel route programmer ([`ProgrammerHandle`]): the routes tern
//! has in the main table as of the programmer's last pass, one row per next hop (ECMP routes
//! give several), device indexes named as `ip link` names them.

use std::collections::HashMap;

use crate::dataplane::{DesiredRoute, Device, ProgrammerHandle, RouteKind, RouteSocket};

use super::views::{DataplaneView, Encapsulation, InstalledRoute, ViewError};

/// The kernel's main routing table (`RT_TABLE_MAIN`), where tern programs.
const MAIN_TABLE: u32 = 254;

/// Interface indexes to names; empty when the links cannot be read (rows then show `#index`).
fn link_names() -> HashMap<u32, String> {
    RouteSocket::open()
        .and_then(|mut socket| socket.links())
        .map(|links| {
            links
                .into_iter()
                .map(|(name, index)| (index, name))
                .collect()
        })
        .unwrap_or_default()
}

/// What a tunnel device's name says about encapsulation.
fn encapsulation(device: &str) -> Encapsulation {
    if device == "tunl0" {
        Encapsulation::Ipip
    } else if device.starts_with("vxlan") {
        Encapsulation::Vxlan
    } else {
        Encapsulation::None
    }
}

/// One programmed route as API rows.
pub fn rows(route: &DesiredRoute, names: &HashMap<u32, String>) -> Vec<InstalledRoute> {
    let row = |gateway, device: String, kind: &str| InstalledRoute {
        destination: route.destination,
        gateway,
        encapsulation: encapsulation(&device),
        device,
        table: MAIN_TABLE,
        kind: kind.to_string(),
    };
    match &route.kind {
        RouteKind::Blackhole => vec![row(None, String::new(), "blackhole")],
        RouteKind::Unicast(hops) => hops
            .iter()
            .map(|hop| {
                let device = match &hop.device {
                    None => String::new(),
                    Some(Device::Name(name)) => name.clone(),
                    Some(Device::Index(index)) => names
                        .get(index)
                        .cloned()
                        .unwrap_or_else(|| format!("#{index}")),
                };
                row(Some(hop.gateway), device, "unicast")
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl DataplaneView for ProgrammerHandle {
    async fn installed_routes(&self) -> Result<Vec<InstalledRoute>, ViewError> {
        let routes = ProgrammerHandle::installed_routes(self);
        let names = tokio::task::spawn_blocking(link_names)
            .await
            .unwrap_or_default();
        Ok(routes
            .iter()
            .flat_map(|route| rows(route, &names))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::dataplane::NextHop;

    use super::*;

    #[test]
    fn ecmp_gives_a_row_per_next_hop_with_named_devices() {
        let route = DesiredRoute::unicast(
            "198.19.2.0/24".parse().unwrap(),
            vec![
                NextHop::via("198.18.0.12".parse().unwrap()).onlink_through(Device::Index(7)),
                NextHop::via("198.18.0.13".parse().unwrap()),
            ],
        )
        .unwrap();
        let names = HashMap::from([(7, "tunl0".to_string())]);
        let rows = rows(&route, &names);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].device, "tunl0");
        assert_eq!(rows[0].encapsulation, Encapsulation::Ipip);
        assert_eq!(rows[1].device, "");
        assert_eq!(rows[1].encapsulation, Encapsulation::None);
        assert_eq!(rows[1].kind, "unicast");
        let blackhole = super::rows(
            &DesiredRoute::blackhole("198.19.1.0/24".parse().unwrap()),
            &names,
        );
        assert_eq!(blackhole[0].kind, "blackhole");
        assert_eq!(blackhole[0].gateway, None);
    }
}
