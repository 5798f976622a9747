//! The prefix and family filter of `Node.ListRoutes`, as a pure function over prefixes.
//!
//! - `LONGEST`: the most specific prefixes covering the given address or prefix (a FIB
//!   lookup; `ternctl get routes 198.19.1.7`).
//! - `EXACT`: only the given prefix.
//! - `LONGER`: the given prefix and every more specific one.
//!
//! An address without a length means a host prefix (/32 or /128).

use ipnetwork::IpNetwork;
use tonic::Status;

use crate::pb::{Family, ListRoutesRequest, PrefixMatch};

/// A parsed route filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFilter {
    prefix: Option<IpNetwork>,
    matching: PrefixMatch,
    family: Family,
}

impl RouteFilter {
    /// From a request; `INVALID_ARGUMENT` when the prefix does not parse.
    pub fn from_request(request: &ListRoutesRequest) -> Result<Self, Status> {
        let prefix = if request.prefix.is_empty() {
            None
        } else {
            Some(request.prefix.parse::<IpNetwork>().map_err(|_| {
                Status::invalid_argument(format!(
                    "{:?} is not an IP prefix or address",
                    request.prefix
                ))
            })?)
        };
        Ok(RouteFilter {
            prefix,
            matching: request.r#match(),
            family: request.family(),
        })
    }

    /// Whether `prefix` is of the requested family.
    pub fn family_matches(&self, prefix: &IpNetwork) -> bool {
        match self.family {
            Family::Unspecified => true,
            Family::Ipv4Unicast => prefix.is_ipv4(),
            Family::Ipv6Unicast => prefix.is_ipv6(),
        }
    }

    /// Keep the items whose prefix (`key`) passes the filter, in their order.
    pub fn apply<T>(&self, items: Vec<T>, key: impl Fn(&T) -> IpNetwork) -> Vec<T> {
        let items: Vec<T> = items
            .into_iter()
            .filter(|item| self.family_matches(&key(item)))
            .collect();
        let Some(wanted) = self.prefix else {
            return items;
        };
        match self.matching {
            PrefixMatch::Exact => items.into_iter().filter(|i| key(i) == wanted).collect(),
            PrefixMatch::Longer => items
                .into_iter()
                .filter(|i| covers(&wanted, &key(i)))
                .collect(),
            PrefixMatch::Longest => {
                let longest = items
                    .iter()
                    .map(&key)
                    .filter(|prefix| covers(prefix, &wanted))
                    .map(|prefix| prefix.prefix())
                    .max();
                items
                    .into_iter()
                    .filter(|i| {
                        let prefix = key(i);
                        Some(prefix.prefix()) == longest && covers(&prefix, &wanted)
                    })
                    .collect()
            }
        }
    }
}

/// `outer` contains all of `inner` (same family, shorter or equal length).
fn covers(outer: &IpNetwork, inner: &IpNetwork) -> bool {
    outer.is_ipv4() == inner.is_ipv4()
        && outer.prefix() <= inner.prefix()
        && outer.contains(inner.network())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNetwork {
        text.parse().unwrap()
    }

    fn table() -> Vec<IpNetwork> {
        [
            "0.0.0.0/0",
            "10.0.0.0/8",
            "10.1.0.0/16",
            "10.1.2.0/24",
            "2001:db8::/32",
        ]
        .into_iter()
        .map(net)
        .collect()
    }

    fn filter(prefix: &str, matching: PrefixMatch, family: Family) -> Vec<IpNetwork> {
        let request = ListRoutesRequest {
            prefix: prefix.into(),
            r#match: matching as i32,
            family: family as i32,
            ..Default::default()
        };
        RouteFilter::from_request(&request)
            .unwrap()
            .apply(table(), |p| *p)
    }

    #[test]
    fn longest_match_of_an_address_is_the_most_specific_covering_prefix() {
        let found = filter("10.1.2.7", PrefixMatch::Longest, Family::Unspecified);
        assert_eq!(found, vec![net("10.1.2.0/24")]);
        let found = filter("10.9.0.1", PrefixMatch::Longest, Family::Unspecified);
        assert_eq!(found, vec![net("10.0.0.0/8")]);
        let found = filter("2001:db8::1", PrefixMatch::Longest, Family::Unspecified);
        assert_eq!(found, vec![net("2001:db8::/32")]);
    }

    #[test]
    fn exact_match_needs_the_same_prefix() {
        assert_eq!(
            filter("10.1.0.0/16", PrefixMatch::Exact, Family::Unspecified),
            vec![net("10.1.0.0/16")]
        );
        assert!(filter("10.1.0.0/17", PrefixMatch::Exact, Family::Unspecified).is_empty());
    }

    #[test]
    fn longer_gives_the_prefix_and_its_more_specifics() {
        assert_eq!(
            filter("10.1.0.0/16", PrefixMatch::Longer, Family::Unspecified),
            vec![net("10.1.0.0/16"), net("10.1.2.0/24")]
        );
    }

    #[test]
    fn family_filter_without_prefix() {
        assert_eq!(
            filter("", PrefixMatch::Longest, Family::Ipv6Unicast),
            vec![net("2001:db8::/32")]
        );
        assert_eq!(
            filter("", PrefixMatch::Longest, Family::Ipv4Unicast).len(),
            4
        );
    }

    #[test]
    fn a_bad_prefix_is_an_invalid_argument() {
        let request = ListRoutesRequest {
            prefix: "10.1.0.0/99".into(),
            ..Default::default()
        };
        let error = RouteFilter::from_request(&request).unwrap_err();
        assert_eq!(error.code(), tonic::Code::InvalidArgument);
    }
}
