//! Free text users give Ferry, bounded the same in both dialects, so that no request stores
//! megabytes in a name or a tag (docs/sbg.md and docs/dx.md list the limits): project names,
//! descriptions and summaries, tags, DNAnexus properties, details and types. File names are
//! [`crate::name::FileName`]; SBG metadata keeps SBG's own documented limits (`api::sbg`).

use crate::error::DomainError;

/// The longest project name, in characters (a file name's limit).
pub const MAX_PROJECT_NAME_CHARS: usize = 255;
/// The longest description or summary, in bytes.
pub const MAX_DESCRIPTION_BYTES: usize = 64 * 1024;
/// The longest tag, in characters, and the most tags a project or an object holds.
pub const MAX_TAG_CHARS: usize = 256;
pub const MAX_TAGS: usize = 1_000;
/// DNAnexus properties: the longest key and value, in bytes, and the most an object holds.
pub const MAX_PROPERTY_KEY_BYTES: usize = 256;
pub const MAX_PROPERTY_VALUE_BYTES: usize = 16 * 1024;
pub const MAX_PROPERTIES: usize = 1_000;
/// The largest details, as JSON text, in bytes.
pub const MAX_DETAILS_BYTES: usize = 1024 * 1024;
/// The longest type name, in characters, and the most types an object holds.
pub const MAX_TYPE_CHARS: usize = 256;
pub const MAX_TYPES: usize = 100;

/// A project's name: 1 to 255 characters, not all blanks, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(name: impl Into<String>) -> Result<Self, DomainError> {
        const WHAT: &str = "project name";
        let name = name.into();
        if name.trim().is_empty() {
            return Err(DomainError::invalid(WHAT, "must not be empty or blank"));
        }
        if name.chars().count() > MAX_PROJECT_NAME_CHARS {
            return Err(DomainError::invalid(
                WHAT,
                format!("must be at most {MAX_PROJECT_NAME_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                WHAT,
                "must not contain control characters",
            ));
        }
        Ok(ProjectName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A description or a summary: at most 64 KiB; any text else (Markdown, new lines).
pub fn description(what: &'static str, text: String) -> Result<String, DomainError> {
    if text.len() > MAX_DESCRIPTION_BYTES {
        return Err(DomainError::invalid(
            what,
            format!("must be at most {MAX_DESCRIPTION_BYTES} bytes"),
        ));
    }
    Ok(text)
}

/// Tags as given: each 1 to 256 characters without control characters, at most 1,000 of them.
pub fn tags(tags: Vec<String>) -> Result<Vec<String>, DomainError> {
    bounded_list("tags", "tag", tags, MAX_TAGS, MAX_TAG_CHARS)
}

/// Type names as given: each 1 to 256 characters without control characters, at most 100.
pub fn types(types: Vec<String>) -> Result<Vec<String>, DomainError> {
    bounded_list("types", "type", types, MAX_TYPES, MAX_TYPE_CHARS)
}

fn bounded_list(
    what: &'static str,
    one: &str,
    items: Vec<String>,
    most: usize,
    longest: usize,
) -> Result<Vec<String>, DomainError> {
    if items.len() > most {
        return Err(DomainError::invalid(
            what,
            format!("at most {most} are allowed, not {}", items.len()),
        ));
    }
    if let Some(item) = items.iter().find(|item| {
        item.is_empty() || item.chars().count() > longest || item.chars().any(char::is_control)
    }) {
        let shown: String = item.chars().take(40).collect();
        return Err(DomainError::invalid(
            what,
            format!(
                "each {one} must be 1 to {longest} characters without control characters, not {shown:?}{}",
                if item.chars().count() > 40 { "..." } else { "" }
            ),
        ));
    }
    Ok(items)
}

/// A property's key and value within the limits; the caller counts the properties.
pub fn property(key: &str, value: &str) -> Result<(), DomainError> {
    const WHAT: &str = "property";
    if key.is_empty() || key.len() > MAX_PROPERTY_KEY_BYTES {
        return Err(DomainError::invalid(
            WHAT,
            format!("a key must be 1 to {MAX_PROPERTY_KEY_BYTES} bytes long"),
        ));
    }
    if value.len() > MAX_PROPERTY_VALUE_BYTES {
        let shown: String = key.chars().take(40).collect();
        return Err(DomainError::invalid(
            WHAT,
            format!("the value of {shown:?} must be at most {MAX_PROPERTY_VALUE_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// At most 1,000 properties on one object or project.
pub fn property_count(count: usize) -> Result<(), DomainError> {
    if count > MAX_PROPERTIES {
        return Err(DomainError::invalid(
            "properties",
            format!("at most {MAX_PROPERTIES} are allowed, not {count}"),
        ));
    }
    Ok(())
}

/// Details of `len` bytes as JSON text, within the limit.
pub fn details_len(len: usize) -> Result<(), DomainError> {
    if len > MAX_DETAILS_BYTES {
        return Err(DomainError::invalid(
            "details",
            format!("must be at most {MAX_DETAILS_BYTES} bytes as JSON, not {len}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_bounded_and_visible() {
        assert_eq!(ProjectName::parse("My study").unwrap().as_str(), "My study");
        let longest = "é".repeat(MAX_PROJECT_NAME_CHARS);
        assert!(ProjectName::parse(longest.clone()).is_ok());
        for wrong in ["", "  ", "a\0b", "line\nbreak", &format!("{longest}x")] {
            assert!(ProjectName::parse(wrong).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn free_text_past_its_limit_is_refused() {
        let long = "d".repeat(MAX_DESCRIPTION_BYTES);
        assert!(description("description", long.clone()).is_ok());
        assert!(description("description", format!("{long}d")).is_err());

        assert!(tags(vec!["a".repeat(MAX_TAG_CHARS)]).is_ok());
        for wrong in [
            vec![String::new()],
            vec!["a".repeat(MAX_TAG_CHARS + 1)],
            vec!["a\tb".to_owned()],
            vec!["t".to_owned(); MAX_TAGS + 1],
        ] {
            assert!(tags(wrong.clone()).is_err(), "{:?}", wrong.first());
        }
        assert!(types(vec!["t".to_owned(); MAX_TYPES + 1]).is_err());
        assert!(types(vec!["Reads".to_owned()]).is_ok());

        assert!(property("k", &"v".repeat(MAX_PROPERTY_VALUE_BYTES)).is_ok());
        assert!(property("k", &"v".repeat(MAX_PROPERTY_VALUE_BYTES + 1)).is_err());
        assert!(property("", "v").is_err());
        assert!(property(&"k".repeat(MAX_PROPERTY_KEY_BYTES + 1), "v").is_err());
        assert!(property_count(MAX_PROPERTIES).is_ok());
        assert!(property_count(MAX_PROPERTIES + 1).is_err());
        assert!(details_len(MAX_DETAILS_BYTES).is_ok());
        assert!(details_len(MAX_DETAILS_BYTES + 1).is_err());
    }
}
