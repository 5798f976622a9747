//! Durations written the way Kubernetes and Calico write them (`120s`, `1m30s`, `1.5h`, `300ms`):
//! Go's `time.ParseDuration` syntax, carried in manifests as strings.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration parsed from Go syntax: one or more `<number><unit>` terms with units
/// `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h`; a bare `0` is zero.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoDuration(pub Duration);

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {text:?}: {reason} (expected e.g. \"120s\", \"1m30s\", \"1.5h\")")]
pub struct DurationError {
    /// The text as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl GoDuration {
    /// The parsed value.
    pub fn as_duration(&self) -> Duration {
        self.0
    }
}

impl FromStr for GoDuration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = |reason| DurationError {
            text: text.to_string(),
            reason,
        };
        if text == "0" {
            return Ok(GoDuration(Duration::ZERO));
        }
        if text.starts_with('-') {
            return Err(error("negative durations are not allowed"));
        }
        let mut rest = text.strip_prefix('+').unwrap_or(text);
        if rest.is_empty() {
            return Err(error("empty"));
        }
        let mut total_nanos: f64 = 0.0;
        while !rest.is_empty() {
            let number_len = rest
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .ok_or_else(|| error("missing unit"))?;
            if number_len == 0 {
                return Err(error("expected a number"));
            }
            let (number, after) = rest.split_at(number_len);
            let value: f64 = number.parse().map_err(|_| error("bad number"))?;
            let unit_len = after
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(after.len());
            let (unit, after_unit) = after.split_at(unit_len);
            let nanos_per_unit = match unit {
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                _ => return Err(error("unknown unit")),
            };
            total_nanos += value * nanos_per_unit;
            rest = after_unit;
        }
        if !total_nanos.is_finite() || total_nanos > u64::MAX as f64 {
            return Err(error("too large"));
        }
        Ok(GoDuration(Duration::from_nanos(total_nanos.round() as u64)))
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos == 0 {
            write!(f, "0s")
        } else if nanos.is_multiple_of(1_000_000_000) {
            write!(f, "{}s", self.0.as_secs())
        } else if nanos.is_multiple_of(1_000_000) {
            write!(f, "{}ms", self.0.as_millis())
        } else {
            write!(f, "{nanos}ns")
        }
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for GoDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GoDuration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration in Go syntax, e.g. \"120s\" or \"1m30s\"."
        })
    }

    fn inline_schema() -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Duration, DurationError> {
        text.parse::<GoDuration>().map(|d| d.0)
    }

    #[test]
    fn parses_go_syntax() {
        assert_eq!(parse("120s"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("2h45m0.5s"), Ok(Duration::from_millis(9_900_500)));
    }

    #[test]
    fn rejects_bad_text_with_reason() {
        for bad in ["", "120", "s", "-5s", "5 s", "5d", "1..5s"] {
            let error = parse(bad).unwrap_err();
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn displays_round_trip() {
        for text in ["120s", "300ms", "0s"] {
            assert_eq!(text.parse::<GoDuration>().unwrap().to_string(), text);
        }
    }
}
