//! BGP community values as written in BGPConfiguration: `"AA:NN"` is a standard community
//! (RFC 1997), `"AA:NN:MM"` a large community (RFC 8092).

use std::fmt;
use std::str::FromStr;

/// One community attached to an advertised prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Community {
    /// RFC 1997: a 16-bit AS number and a 16-bit value.
    Standard(u16, u16),
    /// RFC 8092: global administrator and two 32-bit local data parts.
    Large(u32, u32, u32),
}

/// A community value that is neither `AA:NN` nor `AA:NN:MM` with parts in range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid community {0:?}: expected \"AA:NN\" (16-bit parts) or \"AA:NN:MM\" (32-bit parts)"
)]
pub struct CommunityError(pub String);

impl Community {
    /// The RFC 1997 32-bit value of a standard community.
    pub fn standard_value(&self) -> Option<u32> {
        match *self {
            Community::Standard(high, low) => Some((u32::from(high) << 16) | u32::from(low)),
            Community::Large(..) => None,
        }
    }
}

impl FromStr for Community {
    type Err = CommunityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || CommunityError(text.to_string());
        let parts: Vec<&str> = text.split(':').collect();
        match parts.as_slice() {
            [high, low] => Ok(Community::Standard(
                high.parse().map_err(|_| error())?,
                low.parse().map_err(|_| error())?,
            )),
            [global, first, second] => Ok(Community::Large(
                global.parse().map_err(|_| error())?,
                first.parse().map_err(|_| error())?,
                second.parse().map_err(|_| error())?,
            )),
            _ => Err(error()),
        }
    }
}

impl serde::Serialize for Community {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Community::Standard(high, low) => write!(f, "{high}:{low}"),
            Community::Large(global, first, second) => write!(f, "{global}:{first}:{second}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_standard_and_large() {
        assert_eq!("64512:100".parse(), Ok(Community::Standard(64512, 100)));
        assert_eq!("64512:300:1".parse(), Ok(Community::Large(64512, 300, 1)));
        assert_eq!(
            Community::Standard(64512, 100).standard_value(),
            Some(0xFC00_0064)
        );
        for bad in ["", "1", "70000:1", "1:2:3:4", "a:b", "1:-2"] {
            assert!(bad.parse::<Community>().is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_as_written() {
        for text in ["64512:100", "64512:300:1"] {
            assert_eq!(text.parse::<Community>().unwrap().to_string(), text);
        }
    }
}
