//! DNAnexus search conditions on tags, types and properties (`findDataObjects`,
//! `findProjects`): a string, or `{"$and": [...]}` / `{"$or": [...]}` of conditions.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::DomainError;

/// `created` or `modified` of a search: `{after, before}`, inclusive, either open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    pub after: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
}

/// A condition on a set of strings (tags, types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetQuery {
    Has(String),
    And(Vec<SetQuery>),
    Or(Vec<SetQuery>),
}

impl SetQuery {
    /// `"t"`, `{"$and": [...]}` or `{"$or": [...]}`, nested as deep as one likes.
    pub fn parse(what: &'static str, value: &Value) -> Result<SetQuery, DomainError> {
        match value {
            Value::String(s) => Ok(SetQuery::Has(s.clone())),
            Value::Object(map) => {
                let (all, parts) = combination(what, map)?;
                let parts = parts
                    .iter()
                    .map(|part| SetQuery::parse(what, part))
                    .collect::<Result<_, _>>()?;
                Ok(if all {
                    SetQuery::And(parts)
                } else {
                    SetQuery::Or(parts)
                })
            }
            _ => Err(DomainError::invalid(
                what,
                "must be a string, or {\"$and\": [...]} or {\"$or\": [...]}",
            )),
        }
    }

    pub fn matches(&self, set: &[String]) -> bool {
        match self {
            SetQuery::Has(s) => set.contains(s),
            SetQuery::And(parts) => parts.iter().all(|part| part.matches(set)),
            SetQuery::Or(parts) => parts.iter().any(|part| part.matches(set)),
        }
    }
}

/// A condition on properties: each key of `{key: value}` set to that value, or present
/// (`true`) or absent (`false`); or `$and` / `$or` of such conditions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyQuery {
    Equals { key: String, value: String },
    Present { key: String, present: bool },
    And(Vec<PropertyQuery>),
    Or(Vec<PropertyQuery>),
}

impl PropertyQuery {
    pub fn parse(value: &Value) -> Result<PropertyQuery, DomainError> {
        const WHAT: &str = "properties";
        let Value::Object(map) = value else {
            return Err(DomainError::invalid(WHAT, "must be an object"));
        };
        if map.keys().any(|key| key.starts_with('$')) {
            let (all, parts) = combination(WHAT, map)?;
            let parts = parts
                .iter()
                .map(PropertyQuery::parse)
                .collect::<Result<_, _>>()?;
            return Ok(if all {
                PropertyQuery::And(parts)
            } else {
                PropertyQuery::Or(parts)
            });
        }
        let conditions = map
            .iter()
            .map(|(key, value)| match value {
                Value::String(v) => Ok(PropertyQuery::Equals {
                    key: key.clone(),
                    value: v.clone(),
                }),
                Value::Bool(present) => Ok(PropertyQuery::Present {
                    key: key.clone(),
                    present: *present,
                }),
                _ => Err(DomainError::invalid(
                    WHAT,
                    format!("the condition on {key:?} must be a string or a boolean"),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PropertyQuery::And(conditions))
    }

    pub fn matches(&self, properties: &Map<String, Value>) -> bool {
        match self {
            PropertyQuery::Equals { key, value } => {
                properties.get(key).and_then(Value::as_str) == Some(value)
            }
            PropertyQuery::Present { key, present } => properties.contains_key(key) == *present,
            PropertyQuery::And(parts) => parts.iter().all(|part| part.matches(properties)),
            PropertyQuery::Or(parts) => parts.iter().any(|part| part.matches(properties)),
        }
    }
}

/// `{"$and": [...]}` (true) or `{"$or": [...]}` (false), and its conditions.
fn combination<'a>(
    what: &'static str,
    map: &'a Map<String, Value>,
) -> Result<(bool, &'a Vec<Value>), DomainError> {
    match map.iter().next() {
        Some((key, Value::Array(parts))) if map.len() == 1 && (key == "$and" || key == "$or") => {
            Ok((key == "$and", parts))
        }
        _ => Err(DomainError::invalid(
            what,
            "a combination is {\"$and\": [...]} or {\"$or\": [...]}",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tag_conditions_nest() {
        let tags = vec!["raw".to_owned(), "2024".to_owned()];
        let query = |value| SetQuery::parse("tags", &value).unwrap();
        assert!(query(json!("raw")).matches(&tags));
        assert!(!query(json!("final")).matches(&tags));
        assert!(query(json!({"$and": ["raw", "2024"]})).matches(&tags));
        assert!(!query(json!({"$and": ["raw", "final"]})).matches(&tags));
        assert!(query(json!({"$or": ["final", {"$and": ["raw"]}]})).matches(&tags));
        for wrong in [json!(5), json!({"$not": ["a"]}), json!({"$and": "a"})] {
            assert!(SetQuery::parse("tags", &wrong).is_err(), "{wrong}");
        }
    }

    #[test]
    fn property_conditions_match_values_and_presence() {
        let properties = json!({"study": "S1", "site": "north"});
        let properties = properties.as_object().unwrap();
        let query = |value| PropertyQuery::parse(&value).unwrap();
        assert!(query(json!({"study": "S1"})).matches(properties));
        assert!(query(json!({"study": "S1", "site": true})).matches(properties));
        assert!(!query(json!({"study": "S2"})).matches(properties));
        assert!(query(json!({"absent": false})).matches(properties));
        assert!(!query(json!({"site": false})).matches(properties));
        assert!(query(json!({"$or": [{"study": "S2"}, {"site": "north"}]})).matches(properties));
        assert!(PropertyQuery::parse(&json!({"k": 1})).is_err());
        assert!(PropertyQuery::parse(&json!("k")).is_err());
    }
}
