//! Reading a call's input: the JSON object becomes a typed struct of domain values. Unknown keys
//! are ignored (dxpy sends deprecated ones); a known key of the wrong shape is `InvalidInput`.

use std::collections::BTreeMap;

use ferry_domain::dx_query::PropertyQuery;
use ferry_domain::glob::Glob;
use ferry_domain::ids::DxId;
use ferry_domain::name::FileName;
use ferry_domain::text;
use ferry_store::objects::NameFilter;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::DxError;

/// The input as `T`; what does not parse is `InvalidInput`, said in the dialect's words (the
/// key, and what it must be), never in the parser's.
pub(crate) fn parse<T: DeserializeOwned>(input: Value) -> Result<T, DxError> {
    serde_path_to_error::deserialize(input).map_err(|e| {
        let path = e.path().to_string();
        DxError::invalid_input(reworded(&path, &e.into_inner().to_string()))
    })
}

/// serde's message about the value at `path` (`.` for the input itself) reworded: which key,
/// and what it must be. The refusals of Ferry's own types (ids, names, paths) already say what
/// is wrong in their words, and are kept.
fn reworded(path: &str, message: &str) -> String {
    let root = path == "." || path.is_empty();
    let subject = if root {
        "The input".to_owned()
    } else {
        format!("\"{path}\"")
    };
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        return if root {
            format!("\"{field}\" is required")
        } else {
            format!("\"{path}.{field}\" is required")
        };
    }
    if let Some((found, expected)) = message.split_once(", expected ") {
        let expected = expected.replace('`', "");
        if let Some(given) = found.strip_prefix("unknown variant ") {
            let given = given.trim_matches('`');
            let allowed = expected.strip_prefix("one of ").unwrap_or(&expected);
            return format!("{subject} must be one of {allowed}, not \"{given}\"");
        }
        if ["invalid type", "invalid value", "invalid length"]
            .iter()
            .any(|kind| found.starts_with(kind))
        {
            // Ferry's type names are not the dialect's.
            let expected = if expected.starts_with("struct ") || expected == "a map" {
                "an object"
            } else if expected.starts_with("enum ") {
                "one of its documented values"
            } else {
                &expected
            };
            return format!("{subject} must be {expected}");
        }
    }
    format!("{subject}: {message}")
}

/// What a `describe` shows: with `fields`, `id` and the fields set to true (plus the default
/// ones if `defaultFields`); without, the default fields plus those the legacy flags add.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DescribeOptions {
    pub fields: Option<BTreeMap<String, bool>>,
    #[serde(default)]
    pub default_fields: bool,
    #[serde(default)]
    pub details: bool,
    #[serde(default)]
    pub properties: bool,
    #[serde(default)]
    pub folders: bool,
}

impl DescribeOptions {
    /// Whether `field`, shown by default or not, is wanted.
    pub(crate) fn wants(&self, field: &str, by_default: bool) -> bool {
        let flagged = match field {
            "details" => self.details,
            "properties" => self.properties,
            "folders" => self.folders,
            _ => false,
        };
        match &self.fields {
            Some(fields) => {
                fields.get(field).copied().unwrap_or(false)
                    || flagged
                    || (self.default_fields && by_default)
            }
            None => by_default || flagged,
        }
    }

    /// Keeps `id` and the wanted entries of `all` (name, shown by default, value).
    pub(crate) fn select(&self, all: Vec<(&str, bool, Value)>) -> Value {
        let described: Map<String, Value> = all
            .into_iter()
            .filter(|(field, by_default, _)| *field == "id" || self.wants(field, *by_default))
            .map(|(field, _, value)| (field.to_owned(), value))
            .collect();
        Value::Object(described)
    }
}

/// `describe` in a listing or a search: `false` (the default), `true`, or describe options.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum DescribeRequest {
    Flag(bool),
    Options(DescribeOptions),
}

impl Default for DescribeRequest {
    fn default() -> Self {
        DescribeRequest::Flag(false)
    }
}

impl DescribeRequest {
    /// The options to describe with, if describing at all.
    pub(crate) fn options(&self) -> Option<DescribeOptions> {
        match self {
            DescribeRequest::Flag(false) => None,
            DescribeRequest::Flag(true) => Some(DescribeOptions::default()),
            DescribeRequest::Options(options) => Some(options.clone()),
        }
    }
}

/// A search's `name`: an exact string, `{"glob": ...}`, or `{"regexp": ..., "flags"?: "i"}`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum NameQuery {
    Exact(String),
    Pattern {
        glob: Option<String>,
        regexp: Option<String>,
        flags: Option<String>,
    },
}

/// The largest compiled regular expression a search takes: a name pattern, not a program.
const MAX_REGEXP_BYTES: usize = 1024 * 1024;

impl NameQuery {
    pub(crate) fn filter(self) -> Result<NameFilter, DxError> {
        match self {
            NameQuery::Exact(name) => Ok(NameFilter::Exact(name)),
            NameQuery::Pattern {
                glob: Some(glob), ..
            } => Ok(NameFilter::Glob(Glob::new(&glob))),
            NameQuery::Pattern {
                regexp: Some(regexp),
                flags,
                ..
            } => {
                let insensitive = match flags.as_deref() {
                    None | Some("") => false,
                    Some("i") => true,
                    Some(other) => {
                        return Err(DxError::invalid_input(format!(
                            "name.flags must be \"i\" or absent, not {other:?}"
                        )));
                    }
                };
                regex::RegexBuilder::new(&regexp)
                    .case_insensitive(insensitive)
                    .size_limit(MAX_REGEXP_BYTES)
                    .build()
                    .map(NameFilter::Regexp)
                    .map_err(|e| DxError::invalid_input(format!("name.regexp: {e}")))
            }
            NameQuery::Pattern { .. } => Err(DxError::invalid_input(
                "name must be a string, {\"glob\": ...} or {\"regexp\": ...}",
            )),
        }
    }
}

/// A name given to an object: a valid file name, so that the SBG dialect can show it.
pub(crate) fn object_name(name: String) -> Result<FileName, DxError> {
    Ok(FileName::parse(name)?)
}

/// Properties are `{string: string}`, within the limits of `domain::text`.
pub(crate) fn checked_properties(properties: &Map<String, Value>) -> Result<(), DxError> {
    text::property_count(properties.len())?;
    for (key, value) in properties {
        let Some(value) = value.as_str() else {
            return Err(DxError::invalid_input(format!(
                "the property {key} must have a string value"
            )));
        };
        text::property(key, value)?;
    }
    Ok(())
}

/// `addTags`, on an object or a project: the tags given join, each once.
pub(crate) fn add_tags(tags: &mut Vec<String>, given: Vec<String>) {
    for tag in given {
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
}

/// `removeTags`: the tags given go; those not there are ignored.
pub(crate) fn remove_tags(tags: &mut Vec<String>, given: Vec<String>) {
    tags.retain(|kept| !given.contains(kept));
}

/// A search's `properties`, as `PropertyQuery` reads it.
pub(crate) fn property_query(properties: Option<&Value>) -> Result<Option<PropertyQuery>, DxError> {
    Ok(properties.map(PropertyQuery::parse).transpose()?)
}

/// The changes of a `setProperties`: `{key: string}` sets, `{key: null}` removes.
#[derive(Debug)]
pub(crate) struct PropertyChanges(Map<String, Value>);

impl PropertyChanges {
    pub(crate) fn parse(changes: Map<String, Value>) -> Result<Self, DxError> {
        match changes
            .iter()
            .find(|(_, value)| !value.is_string() && !value.is_null())
        {
            Some((key, _)) => Err(DxError::invalid_input(format!(
                "the property {key} must be set to a string or null"
            ))),
            None => Ok(PropertyChanges(changes)),
        }
    }

    /// `properties` with the changes made, within the limits.
    pub(crate) fn applied_to(
        self,
        mut properties: Map<String, Value>,
    ) -> Result<Map<String, Value>, DxError> {
        for (key, value) in self.0 {
            if value.is_null() {
                properties.remove(&key);
            } else {
                properties.insert(key, value);
            }
        }
        checked_properties(&properties)?;
        Ok(properties)
    }
}

/// `[id, ...]` or `[{"id", "project"?}, ...]`: objects named in a bulk call.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub(crate) enum ObjectRef {
    #[schema(value_type = String)]
    Id(DxId),
    Scoped {
        #[schema(value_type = String)]
        id: DxId,
        #[schema(value_type = Option<String>)]
        project: Option<DxId>,
        describe: Option<DescribeRequest>,
    },
}

impl ObjectRef {
    pub(crate) fn id(&self) -> &DxId {
        match self {
            ObjectRef::Id(id) | ObjectRef::Scoped { id, .. } => id,
        }
    }

    pub(crate) fn project(&self) -> Option<&DxId> {
        match self {
            ObjectRef::Id(_) => None,
            ObjectRef::Scoped { project, .. } => project.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_domain::permission::Level;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Invite {
        invitee: String,
        level: Level,
        scope: Option<Scope>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Scope {
        project: String,
        recurse: Option<bool>,
    }

    fn refusal(input: Value) -> String {
        let refused = parse::<Invite>(input).unwrap_err();
        refused.body()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn a_refusal_names_the_key_and_what_it_must_be_in_the_dialect_s_words() {
        let level = json!("VIEW");
        for (input, message) in [
            (json!({"level": level}), r#""invitee" is required"#),
            (
                json!({"invitee": 5, "level": level}),
                r#""invitee" must be a string"#,
            ),
            (
                json!({"invitee": "user-bob", "level": level, "scope": {}}),
                r#""scope.project" is required"#,
            ),
            (
                json!({"invitee": "user-bob", "level": level, "scope": {"project": "p", "recurse": "yes"}}),
                r#""scope.recurse" must be a boolean"#,
            ),
            (
                json!({"invitee": "user-bob", "level": level, "scope": 5}),
                r#""scope" must be an object"#,
            ),
        ] {
            let said = refusal(input);
            assert_eq!(said, message);
            assert!(!said.contains('`'), "{said}");
        }
        let said = refusal(json!({"invitee": "user-bob", "level": "OWNER"}));
        assert!(said.starts_with(r#""level""#), "{said}");
        assert!(
            !said.contains("missing field") && !said.contains('`'),
            "{said}"
        );
    }
}
