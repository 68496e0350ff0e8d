//! The pure half of a DNAnexus clone (`/project-xxxx/clone`): where the cloned folders and the
//! objects in them go, the breadth-first walk of the hidden-link closure, and why a clone is
//! refused. The store reads the rows and writes the result; everything here is decided in memory.

use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;

use crate::error::DomainError;
use crate::ids::DxId;
use crate::path::FolderPath;

/// Why a clone is refused, grouped by the DNAnexus error type each one is reported as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloneRefusal {
    // InvalidInput
    /// Two listed folders have the same name at different paths: both would become
    /// `destination/name`.
    FolderNameTwice(String),
    /// A cloned folder's path in the destination would break the depth or length limits.
    TargetPathInvalid(DomainError),

    // ResourceNotFound
    SourceNotFound,
    DestinationNotFound,
    /// Object ids (as given) that are not placed in the source container.
    ObjectsNotInSource(Vec<String>),
    FoldersNotInSource(Vec<FolderPath>),
    DestinationFolderNotFound(FolderPath),

    // PermissionDenied
    /// The caller has no access to the source (VIEW is the lowest level).
    SourceNotViewable,
    /// The caller has less than UPLOAD in the destination.
    DestinationNotWritable,
    SourceRestricted,
    /// A `containsPHI` source into a destination without it.
    PhiIntoNonPhi,
    DifferentRegions,

    // InvalidState
    /// Objects to clone that are not closed (open workflows excepted: they are replicated).
    NotClosed(Vec<DxId>),
    /// Destination folders that already exist, or that two listed folders would both create.
    FolderConflict(Vec<FolderPath>),
    /// The destination is third-party sponsored and some objects already have a sponsor.
    Sponsorship(SponsorshipConflict),

    // SpendingLimitExceeded
    /// The destination's billTo is at its spending limit and is not the source's.
    SpendingLimitReached(String),
}

/// Why objects cannot be sponsored by a third-party sponsored project: an object has one
/// sponsor at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SponsorshipConflict {
    /// Objects whose storage the operator sponsors (DNAnexus-sponsored in the dialect's words).
    OperatorSponsored(Vec<DxId>),
    /// Objects third-party sponsored in another project: (object, sponsoring project).
    AlreadySponsored(Vec<(DxId, DxId)>),
}

/// The folders of a clone: for each source folder inside a listed folder, the destination
/// folder it becomes, and the destination folders to create.
///
/// A listed folder `/a/b` becomes `destination/b` with its whole subtree; the root `/` gives its
/// contents to `destination` itself. When listed folders nest (`/a` and `/a/b`), each creates its
/// own tree, and an object inside both goes where the first of them in the request puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderPlan {
    /// Source folder -> destination folder, for placing the objects inside them.
    targets: BTreeMap<FolderPath, FolderPath>,
    /// The destination folders the listed folders create, parents before children.
    created: Vec<FolderPath>,
}

impl FolderPlan {
    /// Plans `listed` (deduplicated, request order kept) into `destination`, given every source
    /// folder inside a listed folder, the listed ones included (in any order).
    ///
    /// Refuses two listed folders of one name at different paths, a destination folder that two
    /// listed folders would both create (`/` and `/x` both make `destination/x`), and paths
    /// beyond the limits.
    pub fn new(
        destination: &FolderPath,
        listed: &[FolderPath],
        source_folders: &[FolderPath],
    ) -> Result<FolderPlan, CloneRefusal> {
        check_folder_names(listed)?;
        // By path, so that the folders within a listed one are one range: `/a` then `/a/...`,
        // which sort between `/a/` and `/a0` ('0' follows '/').
        let by_path: BTreeMap<&str, &FolderPath> = source_folders
            .iter()
            .map(|folder| (folder.as_str(), folder))
            .collect();
        let mut targets = BTreeMap::new();
        let mut created = Vec::new();
        let mut made_from: BTreeMap<FolderPath, &FolderPath> = BTreeMap::new();
        let mut conflicts = Vec::new();
        for folder in listed {
            let base = base_of(destination, folder)?;
            let within: Vec<&FolderPath> = if folder.is_root() {
                by_path.values().copied().collect()
            } else {
                let (after, past) = (format!("{folder}/"), format!("{folder}0"));
                let subtree = by_path.range(after.as_str()..past.as_str());
                by_path
                    .get(folder.as_str())
                    .into_iter()
                    .chain(subtree.map(|(_, path)| path))
                    .copied()
                    .collect()
            };
            for source in within {
                let target = source
                    .rebase(folder, &base)
                    .map_err(CloneRefusal::TargetPathInvalid)?;
                targets
                    .entry(source.clone())
                    .or_insert_with(|| target.clone());
                if folder.is_root() && source.is_root() {
                    continue; // `/` fills the destination, which is not created here.
                }
                match made_from.get(&target) {
                    Some(first) if *first != source => conflicts.push(target),
                    Some(_) => {}
                    None => {
                        made_from.insert(target.clone(), source);
                        created.push(target);
                    }
                }
            }
        }
        if !conflicts.is_empty() {
            conflicts.sort();
            conflicts.dedup();
            return Err(CloneRefusal::FolderConflict(conflicts));
        }
        created.sort_by(|a, b| (a.depth(), a).cmp(&(b.depth(), b)));
        Ok(FolderPlan { targets, created })
    }

    /// Where an object in source folder `folder` goes: `None` if no listed folder holds it.
    pub fn target_of(&self, folder: &FolderPath) -> Option<&FolderPath> {
        self.targets.get(folder)
    }

    /// The destination folders to create, parents before children.
    pub fn created(&self) -> &[FolderPath] {
        &self.created
    }
}

/// Refuses two listed folders with one name and different paths (the same path twice is one
/// folder): both would become `destination/name`. Pure, so the API checks it with the input.
pub fn check_folder_names(listed: &[FolderPath]) -> Result<(), CloneRefusal> {
    let mut path_of_name: BTreeMap<&str, &FolderPath> = BTreeMap::new();
    for folder in listed {
        let Some(name) = folder.name() else { continue };
        match path_of_name.insert(name, folder) {
            Some(other) if other != folder => {
                return Err(CloneRefusal::FolderNameTwice(name.to_owned()));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The destination folder a listed folder becomes: `destination` for `/`, else
/// `destination/<name>`.
fn base_of(destination: &FolderPath, listed: &FolderPath) -> Result<FolderPath, CloneRefusal> {
    match listed.name() {
        None => Ok(destination.clone()),
        Some(name) => destination
            .join(name)
            .map_err(CloneRefusal::TargetPathInvalid),
    }
}

/// Walks a graph breadth-first from `start`, one level at a time: `neighbours` gets the whole
/// frontier and returns the nodes it reaches (in any order, duplicates allowed), so that a
/// caller can fetch a level in one query. Returns every node reached, each once: `start` in its
/// order, then each level sorted, so the result does not depend on the order rows come back in.
///
/// A visited set makes cycles harmless and the loop needs no recursion, so depth is bounded by
/// memory only.
pub fn walk<K, E>(
    start: impl IntoIterator<Item = K>,
    mut neighbours: impl FnMut(&[K]) -> Result<Vec<K>, E>,
) -> Result<Vec<K>, E>
where
    K: Clone + Eq + Hash + Ord,
{
    let mut visited = HashSet::new();
    let mut reached = Vec::new();
    let mut frontier: Vec<K> = start
        .into_iter()
        .filter(|node| visited.insert(node.clone()))
        .collect();
    while !frontier.is_empty() {
        let mut next: Vec<K> = neighbours(&frontier)?
            .into_iter()
            .filter(|node| visited.insert(node.clone()))
            .collect();
        next.sort();
        reached.append(&mut frontier);
        frontier = next;
    }
    Ok(reached)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::convert::Infallible;

    use super::*;

    fn p(s: &str) -> FolderPath {
        FolderPath::parse(s).unwrap()
    }

    fn paths(raw: &[&str]) -> Vec<FolderPath> {
        raw.iter().map(|s| p(s)).collect()
    }

    #[test]
    fn a_folder_becomes_destination_slash_its_name_with_its_subtree() {
        let source = paths(&["/a/b", "/a/b/c", "/a/b/c/d"]);
        let plan = FolderPlan::new(&p("/in"), &paths(&["/a/b"]), &source).unwrap();
        assert_eq!(plan.created(), paths(&["/in/b", "/in/b/c", "/in/b/c/d"]));
        assert_eq!(plan.target_of(&p("/a/b/c")), Some(&p("/in/b/c")));
        assert_eq!(plan.target_of(&p("/a")), None);
    }

    #[test]
    fn siblings_that_share_a_prefix_are_not_inside() {
        let source = paths(&["/a", "/a!", "/a-b", "/a/x", "/a/x/y", "/a0", "/ab"]);
        let plan = FolderPlan::new(&p("/d"), &paths(&["/a"]), &source).unwrap();
        assert_eq!(plan.created(), paths(&["/d/a", "/d/a/x", "/d/a/x/y"]));
        assert_eq!(plan.target_of(&p("/a-b")), None);
    }

    #[test]
    fn the_root_gives_its_contents_to_the_destination() {
        let source = paths(&["/", "/x", "/x/y"]);
        let plan = FolderPlan::new(&p("/in"), &paths(&["/"]), &source).unwrap();
        assert_eq!(plan.created(), paths(&["/in/x", "/in/x/y"]));
        assert_eq!(plan.target_of(&p("/")), Some(&p("/in")));
        let into_root = FolderPlan::new(&FolderPath::root(), &paths(&["/"]), &source).unwrap();
        assert_eq!(into_root.target_of(&p("/x/y")), Some(&p("/x/y")));
    }

    #[test]
    fn nested_folders_each_make_a_tree_and_the_first_one_places_the_objects() {
        let source = paths(&["/a", "/a/b", "/a/b/c"]);
        let plan = FolderPlan::new(&p("/"), &paths(&["/a", "/a/b"]), &source).unwrap();
        assert_eq!(
            plan.created(),
            paths(&["/a", "/b", "/a/b", "/b/c", "/a/b/c"])
        );
        assert_eq!(plan.target_of(&p("/a/b/c")), Some(&p("/a/b/c")));
        let reversed = FolderPlan::new(&p("/"), &paths(&["/a/b", "/a"]), &source).unwrap();
        assert_eq!(reversed.target_of(&p("/a/b/c")), Some(&p("/b/c")));
    }

    #[test]
    fn one_name_at_two_paths_is_refused_but_one_path_twice_is_one_folder() {
        let source = paths(&["/a/x", "/b/x"]);
        assert_eq!(
            FolderPlan::new(&p("/"), &paths(&["/a/x", "/b/x"]), &source),
            Err(CloneRefusal::FolderNameTwice("x".to_owned()))
        );
        let plan = FolderPlan::new(&p("/"), &paths(&["/a/x", "/a/x"]), &source).unwrap();
        assert_eq!(plan.created(), paths(&["/x"]));
    }

    #[test]
    fn a_folder_made_twice_from_different_sources_conflicts() {
        // `/` makes /x from /x, and `/a/x` makes /x too.
        let source = paths(&["/", "/x", "/a", "/a/x"]);
        assert_eq!(
            FolderPlan::new(&p("/"), &paths(&["/", "/a/x"]), &source),
            Err(CloneRefusal::FolderConflict(paths(&["/x"])))
        );
        // `/` and `/a` make /a from the same source folder: one folder.
        let plan = FolderPlan::new(&p("/d"), &paths(&["/", "/a"]), &source).unwrap();
        assert_eq!(plan.created(), paths(&["/d/a", "/d/x", "/d/a/x"]));
    }

    #[test]
    fn paths_beyond_the_limits_are_refused() {
        let deep = p(&"/d".repeat(127));
        let source = paths(&["/a", "/a/b"]);
        assert!(matches!(
            FolderPlan::new(&deep, &paths(&["/a"]), &source),
            Err(CloneRefusal::TargetPathInvalid(_))
        ));
    }

    fn graph(edges: &[(u32, u32)]) -> HashMap<u32, Vec<u32>> {
        let mut out: HashMap<u32, Vec<u32>> = HashMap::new();
        for (from, to) in edges {
            out.entry(*from).or_default().push(*to);
        }
        out
    }

    fn walk_graph(start: &[u32], edges: &HashMap<u32, Vec<u32>>) -> (Vec<u32>, usize) {
        let mut levels = 0;
        let reached = walk(start.iter().copied(), |frontier| {
            levels += 1;
            Ok::<_, Infallible>(
                frontier
                    .iter()
                    .flat_map(|node| edges.get(node).into_iter().flatten().copied())
                    .collect(),
            )
        })
        .unwrap();
        (reached, levels)
    }

    #[test]
    fn the_walk_reaches_each_node_once_in_level_order_and_survives_cycles() {
        let edges = graph(&[(1, 3), (1, 2), (2, 4), (3, 4), (4, 1), (4, 5), (5, 5)]);
        let (reached, levels) = walk_graph(&[1, 1], &edges);
        assert_eq!(reached, [1, 2, 3, 4, 5]);
        assert_eq!(
            levels, 4,
            "one call per level, the last finding nothing new"
        );
        let (from_two_starts, _) = walk_graph(&[5, 2], &edges);
        assert_eq!(from_two_starts, [5, 2, 4, 1, 3]);
    }

    #[test]
    fn the_walk_goes_a_million_levels_deep_without_recursion() {
        const DEPTH: u32 = 1_000_000;
        let mut levels = 0;
        let reached = walk([0_u32], |frontier| {
            levels += 1;
            // A chain, closed into a cycle at the end.
            Ok::<_, Infallible>(frontier.iter().map(|n| (n + 1) % DEPTH).collect())
        })
        .unwrap();
        assert_eq!(reached.len(), DEPTH as usize);
        assert_eq!(levels, DEPTH as usize);
        assert!(reached.iter().copied().eq(0..DEPTH));
    }

    #[test]
    fn a_failing_level_stops_the_walk() {
        let result = walk([1_u32], |_| Err::<Vec<u32>, _>("no database"));
        assert_eq!(result, Err("no database"));
    }
}
