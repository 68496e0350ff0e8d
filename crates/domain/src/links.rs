//! DNAnexus links between data objects, as they appear in an object's details and in an applet's
//! `runSpec.bundledDepends`: `{"$dnanexus_link": "<id>"}` or
//! `{"$dnanexus_link": {"project": "<container>", "id": "<id>"}}`.
//!
//! These are what `describe` reports as `links` and what a clone follows to pull in hidden
//! objects, so they are extracted once, when the details are written.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::error::DomainError;
use crate::ids::DxId;

/// The key that marks a link.
pub const LINK_KEY: &str = "$dnanexus_link";

const WHAT: &str = "details";

/// The data object ids linked from anywhere in `details`, sorted and without duplicates.
/// Malformed links are skipped: [`check_links`] refuses them where details come in.
pub fn linked_ids(details: &Value) -> BTreeSet<DxId> {
    let mut ids = BTreeSet::new();
    visit_links(details, &mut |link| {
        if let Ok(Some(id)) = link_target(link) {
            ids.insert(id);
        }
        Ok(())
    })
    .expect("the visitor never fails");
    ids
}

/// The data object ids in an applet's `runSpec.bundledDepends[*].id`, which is a link or a bare
/// id. Anything else in the run specification is not a dependency.
pub fn bundled_depends(run_spec: &Value) -> BTreeSet<DxId> {
    let Some(depends) = run_spec.get("bundledDepends").and_then(Value::as_array) else {
        return BTreeSet::new();
    };
    depends
        .iter()
        .filter_map(|dependency| match dependency.get("id")? {
            Value::String(id) => DxId::parse(id).ok(),
            link => link
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.get(LINK_KEY))
                .and_then(|target| link_target(target).ok().flatten()),
        })
        .filter(|id| id.class().is_data_object())
        .collect()
}

/// Refuses details in which `$dnanexus_link` is a key but not the only key of its object, or
/// whose value is neither an id nor `{"id"[, "project"]}` (nor a job reference
/// `{"job", "field"}`, which links no object); returns the linked ids as [`linked_ids`] does.
pub fn check_links(details: &Value) -> Result<BTreeSet<DxId>, DomainError> {
    let mut ids = BTreeSet::new();
    visit_links(details, &mut |link| {
        if let Some(id) = link_target(link)? {
            ids.insert(id);
        }
        Ok(())
    })?;
    Ok(ids)
}

/// Calls `on_link` with the value of every `$dnanexus_link`; fails if one shares its object
/// with other keys.
fn visit_links(
    details: &Value,
    on_link: &mut dyn FnMut(&Value) -> Result<(), DomainError>,
) -> Result<(), DomainError> {
    let mut pending = vec![details];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(map) => match map.get(LINK_KEY) {
                Some(link) if map.len() == 1 => on_link(link)?,
                Some(_) => {
                    return Err(DomainError::invalid(
                        WHAT,
                        "the key $dnanexus_link must be the only key of its hash",
                    ));
                }
                None => pending.extend(map.values()),
            },
            Value::Array(items) => pending.extend(items),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
        }
    }
    Ok(())
}

/// The data object a link's value names: `Ok(None)` for a job reference or a link to something
/// other than a data object (a project, say).
fn link_target(link: &Value) -> Result<Option<DxId>, DomainError> {
    let id = match link {
        Value::String(id) => id.as_str(),
        Value::Object(map) if map.contains_key("job") && map.contains_key("field") => {
            return Ok(None);
        }
        Value::Object(map) => match map.get("id") {
            Some(Value::String(id)) if map.keys().all(|k| k == "id" || k == "project") => id,
            _ => return Err(malformed_link()),
        },
        _ => return Err(malformed_link()),
    };
    let id = DxId::parse(id).map_err(|_| malformed_link())?;
    Ok(id.class().is_data_object().then_some(id))
}

fn malformed_link() -> DomainError {
    DomainError::invalid(
        WHAT,
        "the value of $dnanexus_link must be an object id or {\"id\": ..., \"project\": ...}",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RECORD: &str = "record-B2b1QKQ0Fv9K1pQjXkJ8fF0x";
    const FILE: &str = "file-B2b1QKQ0Fv9K1pQjXkJ8fF0y";
    const PROJECT: &str = "project-B2b1QKQ0Fv9K1pQjXkJ8fF0z";

    fn ids(raw: &[&str]) -> BTreeSet<DxId> {
        raw.iter().map(|id| DxId::parse(id).unwrap()).collect()
    }

    #[test]
    fn finds_both_link_forms_anywhere_once_each() {
        let details = json!({
            "index": {"$dnanexus_link": RECORD},
            "nested": [{"deep": {"$dnanexus_link": {"project": PROJECT, "id": FILE}}}],
            "again": {"$dnanexus_link": RECORD},
            "text": "$dnanexus_link",
        });
        assert_eq!(linked_ids(&details), ids(&[FILE, RECORD]));
        assert_eq!(check_links(&details).unwrap(), ids(&[FILE, RECORD]));
        assert!(linked_ids(&json!([1, "a", null])).is_empty());
        assert_eq!(linked_ids(&json!([{"$dnanexus_link": FILE}])), ids(&[FILE]));
    }

    #[test]
    fn links_to_containers_and_jobs_link_no_object() {
        let details = json!({
            "project": {"$dnanexus_link": PROJECT},
            "output": {"$dnanexus_link": {"job": "job-B2b1QKQ0Fv9K1pQjXkJ8fF0x", "field": "out"}},
        });
        assert!(check_links(&details).unwrap().is_empty());
        assert!(linked_ids(&details).is_empty());
    }

    #[test]
    fn malformed_links_are_refused_and_skipped() {
        for bad in [
            json!({"$dnanexus_link": RECORD, "other": 1}),
            json!({"$dnanexus_link": 5}),
            json!({"$dnanexus_link": "not-an-id"}),
            json!({"$dnanexus_link": {"project": PROJECT}}),
            json!({"$dnanexus_link": {"id": FILE, "extra": true}}),
            json!([{"x": {"$dnanexus_link": null}}]),
        ] {
            assert!(check_links(&bad).is_err(), "{bad} accepted");
        }
        let mixed = json!({"good": {"$dnanexus_link": FILE}, "bad": {"$dnanexus_link": 5}});
        assert_eq!(linked_ids(&mixed), ids(&[FILE]));
    }

    #[test]
    fn bundled_depends_reads_links_and_bare_ids() {
        let run_spec = json!({
            "interpreter": "bash",
            "bundledDepends": [
                {"name": "asset.tar.gz", "id": {"$dnanexus_link": FILE}},
                {"name": "other", "id": RECORD},
                {"name": "scoped", "id": {"$dnanexus_link": {"project": PROJECT, "id": RECORD}}},
                {"name": "no id"},
                {"name": "not an object", "id": PROJECT},
            ],
        });
        assert_eq!(bundled_depends(&run_spec), ids(&[FILE, RECORD]));
        assert!(bundled_depends(&json!({"interpreter": "bash"})).is_empty());
        assert!(bundled_depends(&json!({"bundledDepends": "x"})).is_empty());
    }
}
