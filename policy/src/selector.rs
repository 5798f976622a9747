//! Kubernetes label selectors (`matchLabels` AND `matchExpressions`), compiled once and matched
//! against many label maps.
//!
//! An empty selector (`{}`) matches everything. Whether a selector is *absent* (`nil`) is the
//! caller's business: in a peer, a missing `namespaceSelector` means "the policy's namespace",
//! not "every namespace". An invalid selector (unknown operator, `In` without values, `Exists`
//! with values) matches nothing, as the API server would have refused the object.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// A label map.
pub type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    DoesNotExist(String),
}

impl Requirement {
    fn matches(&self, labels: &Labels) -> bool {
        match self {
            Requirement::Equals(key, value) => labels.get(key) == Some(value),
            Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            Requirement::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Requirement::Exists(key) => labels.contains_key(key),
            Requirement::DoesNotExist(key) => !labels.contains_key(key),
        }
    }
}

/// Why a selector matches nothing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The operator is not In, NotIn, Exists or DoesNotExist.
    #[error("unknown selector operator {operator:?} for key {key:?}")]
    UnknownOperator {
        /// Label key.
        key: String,
        /// The operator as written.
        operator: String,
    },
    /// In/NotIn without values, or Exists/DoesNotExist with values.
    #[error("operator {operator} on key {key:?} has wrong values")]
    BadValues {
        /// Label key.
        key: String,
        /// The operator.
        operator: String,
    },
}

/// A compiled label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The empty selector `{}`: matches every label map.
    pub fn everything() -> Selector {
        Selector {
            requirements: Vec::new(),
        }
    }

    /// Compile a LabelSelector.
    pub fn compile(selector: &LabelSelector) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        for (key, value) in selector.match_labels.iter().flatten() {
            requirements.push(Requirement::Equals(key.clone(), value.clone()));
        }
        for expression in selector.match_expressions.iter().flatten() {
            let key = expression.key.clone();
            let values: BTreeSet<String> = expression.values.iter().flatten().cloned().collect();
            let bad = || SelectorError::BadValues {
                key: expression.key.clone(),
                operator: expression.operator.clone(),
            };
            let requirement = match expression.operator.as_str() {
                "In" if !values.is_empty() => Requirement::In(key, values),
                "NotIn" if !values.is_empty() => Requirement::NotIn(key, values),
                "Exists" if values.is_empty() => Requirement::Exists(key),
                "DoesNotExist" if values.is_empty() => Requirement::DoesNotExist(key),
                "In" | "NotIn" | "Exists" | "DoesNotExist" => return Err(bad()),
                operator => {
                    return Err(SelectorError::UnknownOperator {
                        key,
                        operator: operator.to_string(),
                    });
                }
            };
            requirements.push(requirement);
        }
        Ok(Selector { requirements })
    }

    /// Whether every requirement holds for `labels`.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements
            .iter()
            .all(|requirement| requirement.matches(labels))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
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
        let selector = Selector::compile(&LabelSelector::default()).unwrap();
        assert!(selector.matches(&labels(&[])));
        assert!(selector.matches(&labels(&[("app", "web")])));
    }

    #[test]
    fn operators_follow_kubernetes() {
        let web = labels(&[("app", "web")]);
        let none = labels(&[]);
        let is = |s: LabelSelector, l: &Labels| Selector::compile(&s).unwrap().matches(l);
        assert!(is(expression("app", "In", &["web", "db"]), &web));
        assert!(!is(expression("app", "In", &["db"]), &web));
        assert!(!is(expression("app", "In", &["web"]), &none));
        assert!(!is(expression("app", "NotIn", &["web"]), &web));
        assert!(
            is(expression("app", "NotIn", &["web"]), &none),
            "NotIn holds when key is absent"
        );
        assert!(is(expression("app", "Exists", &[]), &web));
        assert!(!is(expression("app", "Exists", &[]), &none));
        assert!(is(expression("app", "DoesNotExist", &[]), &none));
        assert!(!is(expression("app", "DoesNotExist", &[]), &web));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let mut selector = expression("role", "Exists", &[]);
        selector.match_labels = Some(labels(&[("app", "web")]));
        let selector = Selector::compile(&selector).unwrap();
        assert!(selector.matches(&labels(&[("app", "web"), ("role", "x")])));
        assert!(!selector.matches(&labels(&[("app", "web")])));
        assert!(!selector.matches(&labels(&[("role", "x")])));
    }

    #[test]
    fn invalid_selectors_are_refused() {
        assert!(Selector::compile(&expression("a", "Equals", &["b"])).is_err());
        assert!(Selector::compile(&expression("a", "In", &[])).is_err());
        assert!(Selector::compile(&expression("a", "Exists", &["b"])).is_err());
    }
}
