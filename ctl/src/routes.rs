//! `ternctl get routes`: the Loc-RIB (or a peer's Adj-RIB-In / Adj-RIB-Out) with every path
//! and the best one.
//!
//! JSON/YAML: `{"routes":[{"prefix","nextHops":[…],"bestPath":{…}|null,"sourcePeer",
//! "paths":[{…,"best":true|false}]}]}`. `nextHops` are the best path's next hops (`[]` for
//! routes this node originates); `sourcePeer` is the best path's peer, `null` when local.

use serde::Serialize;
use tern_proto::pb;

use crate::output::{Format, plain_table, print_structured, render};

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutesView {
    pub routes: Vec<RouteView>,
}

#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RouteView {
    pub prefix: String,
    pub next_hops: Vec<String>,
    pub best_path: Option<PathView>,
    pub source_peer: Option<String>,
    pub paths: Vec<PathView>,
}

#[derive(Debug, Serialize, PartialEq, Clone)]
#[serde(rename_all = "camelCase")]
pub struct PathView {
    pub next_hop: Option<String>,
    pub source_peer: Option<String>,
    pub source_type: String,
    pub best: bool,
    /// The step of the decision process that made this path best.
    pub reason: Option<String>,
    pub as_path: Vec<u32>,
    pub origin: Option<String>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub communities: Vec<String>,
    /// Adj-RIB-In only: the import filters rejected it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub rejected: bool,
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

impl From<&pb::RoutePath> for PathView {
    fn from(path: &pb::RoutePath) -> Self {
        PathView {
            next_hop: non_empty(&path.next_hop),
            source_peer: non_empty(&path.source_peer),
            source_type: path.source_type.clone(),
            best: path.best,
            reason: non_empty(&path.best_reason),
            as_path: path.as_path.clone(),
            origin: non_empty(&path.origin),
            med: path.med,
            local_pref: path.local_pref,
            communities: path.communities.clone(),
            rejected: path.rejected,
        }
    }
}

impl From<&pb::Destination> for RouteView {
    fn from(destination: &pb::Destination) -> Self {
        let paths: Vec<PathView> = destination.paths.iter().map(PathView::from).collect();
        let best_path = paths.iter().find(|p| p.best).cloned();
        RouteView {
            prefix: destination.prefix.clone(),
            next_hops: best_path
                .iter()
                .filter_map(|p| p.next_hop.clone())
                .collect(),
            source_peer: best_path.as_ref().and_then(|p| p.source_peer.clone()),
            best_path,
            paths,
        }
    }
}

fn as_path_text(path: &pb::RoutePath) -> String {
    let asns: Vec<String> = path.as_path.iter().map(u32::to_string).collect();
    asns.join(" ")
}

fn optional(value: Option<u32>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// gobgp `global rib` style: `*>` marks the best path, `*` the others, `x` a route the
/// import filters rejected (Adj-RIB-In); REASON is the decision step that chose the best.
pub fn render_routes(destinations: &[pb::Destination], wide: bool) -> String {
    if destinations.is_empty() {
        return "No routes found.\n".to_string();
    }
    let mut headers = vec![
        "",
        "PREFIX",
        "NEXT HOP",
        "SOURCE",
        "AS PATH",
        "ORIGIN",
        "LOCAL PREF",
        "MED",
        "REASON",
    ];
    if wide {
        headers.push("COMMUNITIES");
    }
    let mut table = plain_table(&headers);
    for destination in destinations {
        for path in &destination.paths {
            let source = if path.source_peer.is_empty() {
                path.source_type.clone()
            } else {
                format!("{} ({})", path.source_peer, path.source_type)
            };
            let mut row = vec![
                match (path.best, path.rejected) {
                    (true, _) => "*>",
                    (false, true) => "x",
                    (false, false) => "*",
                }
                .to_string(),
                destination.prefix.clone(),
                if path.next_hop.is_empty() {
                    "self".to_string()
                } else {
                    path.next_hop.clone()
                },
                source,
                as_path_text(path),
                path.origin.clone(),
                optional(path.local_pref),
                optional(path.med),
                path.best_reason.clone(),
            ];
            if wide {
                row.push(path.communities.join(" "));
            }
            table.add_row(row);
        }
    }
    render(&table)
}

pub fn print_routes(format: Format, destinations: &[pb::Destination]) -> anyhow::Result<()> {
    let view = RoutesView {
        routes: destinations.iter().map(RouteView::from).collect(),
    };
    if !print_structured(format, &view)? {
        print!("{}", render_routes(destinations, format == Format::Wide));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination() -> pb::Destination {
        let path = |peer: &str, best: bool| pb::RoutePath {
            next_hop: peer.into(),
            source_peer: peer.into(),
            source_type: "eBGP".into(),
            best,
            best_reason: if best {
                "as-path length".into()
            } else {
                String::new()
            },
            as_path: vec![65001],
            origin: "igp".into(),
            ..Default::default()
        };
        pb::Destination {
            prefix: "198.19.1.0/24".into(),
            paths: vec![path("127.0.0.11", true), path("127.0.0.12", false)],
        }
    }

    #[test]
    fn json_names_prefix_next_hops_best_path_and_source_peer() {
        let view = RoutesView {
            routes: vec![RouteView::from(&destination())],
        };
        let json = serde_json::to_value(&view).unwrap();
        let route = &json["routes"][0];
        let mut keys: Vec<&str> = route
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["bestPath", "nextHops", "paths", "prefix", "sourcePeer"]
        );
        assert_eq!(route["nextHops"], serde_json::json!(["127.0.0.11"]));
        assert_eq!(route["sourcePeer"], "127.0.0.11");
        assert_eq!(route["bestPath"]["reason"], "as-path length");
        assert_eq!(route["paths"][1]["best"], false);
    }

    #[test]
    fn table_marks_the_best_path() {
        let text = render_routes(&[destination()], false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].contains("PREFIX") && lines[0].contains("NEXT HOP"));
        assert!(lines[1].starts_with("*>") && lines[1].contains("127.0.0.11 (eBGP)"));
        assert!(lines[2].starts_with("* ") && lines[2].contains("127.0.0.12"));
        assert!(lines[0].contains("REASON") && lines[1].contains("as-path length"));
        assert!(!text.contains("COMMUNITIES"));
        assert!(render_routes(&[destination()], true).contains("COMMUNITIES"));
    }
}
