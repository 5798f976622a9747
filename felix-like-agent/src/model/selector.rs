//! Kubernetes LabelSelector semantics (`matchLabels` AND every `matchExpressions` term), as
//! `kubectl get -l` applies them. An empty selector matches everything.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// A selector term that cannot be evaluated (unknown operator, or values where none belong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid label selector term for key {key:?}: {reason}")]
pub struct SelectorError {
    /// The label key of the term.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

/// Whether `labels` satisfy `selector`.
pub fn selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<bool, SelectorError> {
    if let Some(match_labels) = &selector.match_labels {
        for (key, value) in match_labels {
            if labels.get(key) != Some(value) {
                return Ok(false);
            }
        }
    }
    for term in selector.match_expressions.iter().flatten() {
        let values = term.values.as_deref().unwrap_or_default();
        let label = labels.get(&term.key);
        let error = |reason: &str| SelectorError {
            key: term.key.clone(),
            reason: reason.to_string(),
        };
        let holds = match term.operator.as_str() {
            "In" | "NotIn" if values.is_empty() => {
                return Err(error("In and NotIn need at least one value"));
            }
            "In" => label.is_some_and(|value| values.contains(value)),
            "NotIn" => !label.is_some_and(|value| values.contains(value)),
            "Exists" | "DoesNotExist" if !values.is_empty() => {
                return Err(error("Exists and DoesNotExist take no values"));
            }
            "Exists" => label.is_some(),
            "DoesNotExist" => label.is_none(),
            other => return Err(error(&format!("unknown operator {other:?}"))),
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expression(key: &str, operator: &str, values: &[&str]) -> LabelSelector {
        LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.into(),
                operator: operator.into(),
                values: (!values.is_empty())
                    .then(|| values.iter().map(|v| v.to_string()).collect()),
            }]),
        }
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert_eq!(
            selector_matches(&LabelSelector::default(), &labels(&[])),
            Ok(true)
        );
    }

    #[test]
    fn match_labels_need_every_pair() {
        let selector = LabelSelector {
            match_labels: Some(
                labels(&[("rack", "r1"), ("zone", "a")])
                    .into_iter()
                    .collect(),
            ),
            match_expressions: None,
        };
        assert_eq!(
            selector_matches(&selector, &labels(&[("rack", "r1"), ("zone", "a")])),
            Ok(true)
        );
        assert_eq!(
            selector_matches(&selector, &labels(&[("rack", "r1")])),
            Ok(false)
        );
    }

    #[test]
    fn expression_operators() {
        let node = labels(&[("rack", "r1")]);
        let cases = [
            (expression("rack", "In", &["r1", "r2"]), true),
            (expression("rack", "In", &["r2"]), false),
            (expression("rack", "NotIn", &["r2"]), true),
            (expression("other", "NotIn", &["r2"]), true),
            (expression("rack", "Exists", &[]), true),
            (expression("rack", "DoesNotExist", &[]), false),
            (expression("other", "DoesNotExist", &[]), true),
        ];
        for (selector, expected) in cases {
            assert_eq!(
                selector_matches(&selector, &node),
                Ok(expected),
                "{selector:?}"
            );
        }
    }

    #[test]
    fn malformed_terms_are_errors() {
        let node = labels(&[]);
        assert!(selector_matches(&expression("k", "Near", &[]), &node).is_err());
        assert!(selector_matches(&expression("k", "In", &[]), &node).is_err());
        assert!(selector_matches(&expression("k", "Exists", &["x"]), &node).is_err());
    }
}
