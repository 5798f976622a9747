//! BGP AS numbers as Calico accepts them: an integer, or a string in plain (`"64512"`) or
//! dotted (`"1.10"`, RFC 5396 asdot) notation.

use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A four-octet AS number (RFC 6793).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsNumber(pub u32);

/// Why an AS number was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid AS number {0:?}: expected 0..=4294967295 or asdot \"X.Y\"")]
pub struct AsNumberError(pub String);

impl FromStr for AsNumber {
    type Err = AsNumberError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || AsNumberError(text.to_string());
        let text = text.trim();
        match text.split_once('.') {
            Some((high, low)) => {
                let high: u16 = high.parse().map_err(|_| error())?;
                let low: u16 = low.parse().map_err(|_| error())?;
                Ok(AsNumber((u32::from(high) << 16) | u32::from(low)))
            }
            None => text.parse().map(AsNumber).map_err(|_| error()),
        }
    }
}

impl fmt::Display for AsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for AsNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for AsNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = AsNumber;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an AS number (integer or \"X.Y\")")
            }

            fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<AsNumber, E> {
                u32::try_from(value)
                    .map(AsNumber)
                    .map_err(|_| E::custom(AsNumberError(value.to_string())))
            }

            fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<AsNumber, E> {
                u32::try_from(value)
                    .map(AsNumber)
                    .map_err(|_| E::custom(AsNumberError(value.to_string())))
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<AsNumber, E> {
                value.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for AsNumber {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AsNumber".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "x-kubernetes-int-or-string": true,
            "description": "AS number: an integer, or a string in asplain or asdot notation."
        })
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_dotted() {
        assert_eq!("64512".parse(), Ok(AsNumber(64512)));
        assert_eq!("1.10".parse(), Ok(AsNumber(65546)));
        assert_eq!("4294967295".parse(), Ok(AsNumber(u32::MAX)));
        assert!("4294967296".parse::<AsNumber>().is_err());
        assert!("x".parse::<AsNumber>().is_err());
        assert!("1.70000".parse::<AsNumber>().is_err());
    }

    #[test]
    fn deserializes_integer_or_string() {
        let from_int: AsNumber = serde_json::from_str("64513").unwrap();
        let from_string: AsNumber = serde_json::from_str("\"64513\"").unwrap();
        assert_eq!(from_int, from_string);
        assert!(serde_json::from_str::<AsNumber>("-1").is_err());
    }
}
