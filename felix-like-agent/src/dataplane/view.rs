//! The API's view of the route programmer (`ternctl dataplane routes`): one row per next hop
//! of every tern route in the kernel, a blackhole as one row without gateway. The
//! encapsulation is read off the device name: `tunl*` is IPIP, `vxlan*` VXLAN.

use crate::api::views::{DataplaneView, Encapsulation, InstalledRoute, ViewError};

use super::codec::MAIN_TABLE;
use super::programmer::ProgrammerHandle;
use super::route::{DesiredRoute, RouteKind};

/// Rows for the API, in destination order.
pub fn installed_rows(routes: &[DesiredRoute]) -> Vec<InstalledRoute> {
    let mut rows = Vec::new();
    for route in routes {
        let row = |kind: &str, gateway, device: String| InstalledRoute {
            destination: route.destination,
            gateway,
            encapsulation: if device.starts_with("tunl") {
                Encapsulation::Ipip
            } else if device.starts_with("vxlan") {
                Encapsulation::Vxlan
            } else {
                Encapsulation::None
            },
            device,
            table: MAIN_TABLE,
            kind: kind.to_string(),
        };
        match &route.kind {
            RouteKind::Blackhole => rows.push(row("blackhole", None, String::new())),
            RouteKind::Unicast(hops) => {
                for hop in hops {
                    let device = hop
                        .device
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    rows.push(row("unicast", Some(hop.gateway), device));
                }
            }
        }
    }
    rows
}

#[tonic::async_trait]
impl DataplaneView for ProgrammerHandle {
    async fn installed_routes(&self) -> Result<Vec<InstalledRoute>, ViewError> {
        Ok(installed_rows(&ProgrammerHandle::installed_routes(self)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataplane::{Device, NextHop};

    #[test]
    fn rows_are_one_per_next_hop() {
        let tunnel = NextHop::via("198.18.1.12".parse().unwrap())
            .onlink_through(Device::Name("tunl0".into()));
        let plain = NextHop::via("198.18.0.13".parse().unwrap());
        let routes = [
            DesiredRoute::blackhole("198.19.1.0/24".parse().unwrap()),
            DesiredRoute::unicast("198.19.2.0/24".parse().unwrap(), vec![tunnel, plain]).unwrap(),
        ];
        let rows: Vec<_> = installed_rows(&routes)
            .iter()
            .map(InstalledRoute::to_proto)
            .collect();
        let summary: Vec<(&str, &str, &str, &str, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.destination.as_str(),
                    r.kind.as_str(),
                    r.gateway.as_str(),
                    r.device.as_str(),
                    r.encapsulation.as_str(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("198.19.1.0/24", "blackhole", "", "", "none"),
                ("198.19.2.0/24", "unicast", "198.18.0.13", "", "none"),
                ("198.19.2.0/24", "unicast", "198.18.1.12", "tunl0", "ipip"),
            ]
        );
        assert!(rows.iter().all(|r| r.table == 254));
    }
}
