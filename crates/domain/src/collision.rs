//! What a copy does when the name it wants is taken in the destination folder: the collision
//! policy of a copy request, Ferry's extension of the SBG copies (docs/sbg.md, "Collisions").
//! CAVATICA always renames; Synapse and iRODS fail; DNAnexus lets duplicates pile up. A re-run
//! export wants neither: `skip_identical` copies only what is not there already.

use std::collections::HashMap;

use serde::Deserialize;
use strum::{Display, EnumString, IntoStaticStr};

use crate::ids::SbgId;

/// The policy, from `?collision=`; `rename` unless asked.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Display, EnumString, IntoStaticStr, Deserialize,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CollisionPolicy {
    /// CAVATICA's `N_name` rule.
    #[default]
    Rename,
    /// A taken name: the item is not copied, and what holds the name is reported.
    Skip,
    /// A taken name: the item is refused.
    Fail,
    /// A file of that name with the same content: not copied, and reported; any other holder:
    /// renamed, as `rename`.
    SkipIdentical,
}

/// What holds a name in the destination folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    File { id: SbgId, sha256: Option<String> },
    Folder { id: SbgId },
}

/// What holds the name an item wanted, when it is skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Existing {
    /// Already in the folder.
    Stored(SbgId),
    /// The copy of an earlier item of the same request, by its index.
    Earlier(usize),
}

/// What becomes of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Copied, under the name wanted or, if taken, its `N_name`.
    Place,
    Skip(Existing),
    /// Refused: the name is taken.
    Fail,
}

/// One item to decide: the name it wants, and its content's SHA-256 if known.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    pub name: &'a str,
    pub sha256: Option<&'a str>,
}

/// The decision for each item, in order, under `policy`, given what holds the wanted names in
/// the folder (`holders`, by name). An earlier item of the request that is copied under the
/// name holds it for the later ones.
pub fn decide(
    policy: CollisionPolicy,
    items: &[Wanted<'_>],
    holders: &HashMap<String, Holder>,
) -> Vec<Decision> {
    let mut earlier: HashMap<&str, (usize, Option<&str>)> = HashMap::new();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let stored = holders.get(item.name);
            let decision = match (policy, stored, earlier.get(item.name)) {
                (CollisionPolicy::Rename, _, _) | (_, None, None) => Decision::Place,
                (CollisionPolicy::Fail, _, _) => Decision::Fail,
                (CollisionPolicy::Skip, Some(holder), _) => {
                    Decision::Skip(Existing::Stored(holder_id(holder).clone()))
                }
                (CollisionPolicy::Skip, None, Some(&(first, _))) => {
                    Decision::Skip(Existing::Earlier(first))
                }
                (CollisionPolicy::SkipIdentical, Some(Holder::File { id, sha256 }), _)
                    if same_content(sha256.as_deref(), item.sha256) =>
                {
                    Decision::Skip(Existing::Stored(id.clone()))
                }
                (CollisionPolicy::SkipIdentical, None, Some(&(first, sha256)))
                    if same_content(sha256, item.sha256) =>
                {
                    Decision::Skip(Existing::Earlier(first))
                }
                (CollisionPolicy::SkipIdentical, _, _) => Decision::Place,
            };
            if decision == Decision::Place && stored.is_none() {
                earlier.entry(item.name).or_insert((i, item.sha256));
            }
            decision
        })
        .collect()
}

fn holder_id(holder: &Holder) -> &SbgId {
    match holder {
        Holder::File { id, .. } | Holder::Folder { id } => id,
    }
}

/// Known and equal: content not hashed yet is never the same.
fn same_content(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> SbgId {
        SbgId::parse(&format!("{n:024x}")).unwrap()
    }

    fn wanted<'a>(name: &'a str, sha256: &'a str) -> Wanted<'a> {
        Wanted {
            name,
            sha256: Some(sha256),
        }
    }

    #[test]
    fn each_policy_decides_as_documented() {
        let holders = HashMap::from([
            (
                "a".to_owned(),
                Holder::File {
                    id: id(1),
                    sha256: Some("same".into()),
                },
            ),
            ("dir".to_owned(), Holder::Folder { id: id(2) }),
        ]);
        let items = [
            wanted("a", "same"),
            wanted("a", "other"),
            wanted("dir", "same"),
            wanted("free", "x"),
            wanted("free", "x"),
            wanted("free", "y"),
        ];
        let decide = |policy| decide(policy, &items, &holders);
        let skip = |n| Decision::Skip(Existing::Stored(id(n)));
        let earlier = Decision::Skip(Existing::Earlier(3));
        use Decision::{Fail, Place};
        assert_eq!(decide(CollisionPolicy::Rename), vec![Place; 6]);
        assert_eq!(
            decide(CollisionPolicy::Skip),
            vec![
                skip(1),
                skip(1),
                skip(2),
                Place,
                earlier.clone(),
                earlier.clone()
            ]
        );
        assert_eq!(
            decide(CollisionPolicy::Fail),
            vec![Fail, Fail, Fail, Place, Fail, Fail]
        );
        assert_eq!(
            decide(CollisionPolicy::SkipIdentical),
            vec![skip(1), Place, Place, Place, earlier, Place]
        );
    }

    #[test]
    fn content_not_hashed_is_never_identical() {
        let holders = HashMap::from([(
            "a".to_owned(),
            Holder::File {
                id: id(1),
                sha256: None,
            },
        )]);
        let items = [Wanted {
            name: "a",
            sha256: None,
        }];
        assert_eq!(
            decide(CollisionPolicy::SkipIdentical, &items, &holders),
            vec![Decision::Place]
        );
        assert_eq!(
            "skip_identical".parse::<CollisionPolicy>(),
            Ok(CollisionPolicy::SkipIdentical)
        );
        assert!("merge".parse::<CollisionPolicy>().is_err());
    }
}
