//! Copying folders: each source folder created in (or merged into) its destination.

use super::*;

/// What became of a folder copied into a target folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderCopy {
    Created(Folder),
    /// The target already had a folder of that name: the contents go into it.
    Merged(Folder),
    /// The folder cannot be created under this name (too long once renamed, too deep).
    Refused(String),
}

#[derive(Insertable)]
#[diesel(table_name = folders)]
pub(super) struct NewFolder<'a> {
    sbg_id: String,
    project_id: i64,
    parent_id: i64,
    path: &'a str,
    path_digest: String,
    name: &'a str,
    created_at: NaiveDateTime,
    modified_at: NaiveDateTime,
}

/// Copies folders named `wanted` into `target`, without their contents: a name that a
/// sub-folder of `target` has is merged into it; otherwise a folder is created under the
/// `N_name` rule (files and sub-folders share one namespace in SBG). A name wanted twice is
/// created once and then merged into, as copying the two one after the other would do. Call
/// inside a [`Store::write`](crate::Store::write); the target folder is locked until it commits. Four
/// statements, whatever the number of folders (per 900).
pub fn copy_folders(
    conn: &mut DbConnection,
    target: &Folder,
    wanted: &[&str],
) -> Result<Vec<FolderCopy>, StoreError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    crate::folders::lock(conn, &[target.id])?;
    let mut distinct: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    for name in wanted {
        if seen.insert(*name) {
            distinct.push(name);
        }
    }
    let mut existing: HashMap<String, Folder> = HashMap::new();
    for chunk in distinct.chunks(IDS_PER_QUERY) {
        let rows: Vec<FolderRow> = folders::table
            .filter(folders::parent_id.eq(target.id.get()))
            .filter(folders::name.eq_any(chunk))
            .select(FolderRow::as_select())
            .load(conn)?;
        for row in rows {
            let folder = Folder::try_from(row)?;
            let name = folder.path.name().unwrap_or_default().to_owned();
            existing.insert(name, folder);
        }
    }
    let missing: Vec<&str> = distinct
        .iter()
        .copied()
        .filter(|name| !existing.contains_key(*name))
        .collect();
    let taken = names::taken_in_folder(conn, target.id, &missing)?;

    /// Where each wanted folder goes.
    enum Plan<'w> {
        Existing,
        /// The `i`-th name to allocate.
        Allocated(usize),
        /// The folder allocated for the first want of this free name.
        SameAs(&'w str),
    }
    // A free name is allocated once, for its first want; a taken one once per want, so that
    // each of those copies gets its own `k_name`.
    let mut to_allocate: Vec<&str> = Vec::new();
    let mut first_want: HashMap<&str, usize> = HashMap::new();
    let plans: Vec<Plan<'_>> = wanted
        .iter()
        .map(|name| {
            if existing.contains_key(*name) {
                Plan::Existing
            } else if !taken.contains(name) && first_want.contains_key(name) {
                Plan::SameAs(name)
            } else {
                to_allocate.push(name);
                first_want.entry(name).or_insert(to_allocate.len() - 1);
                Plan::Allocated(to_allocate.len() - 1)
            }
        })
        .collect();
    let allocated = allocate_names(&to_allocate, &taken);
    let paths: Vec<Result<FolderPath, String>> = allocated
        .iter()
        .map(|name| {
            FileName::parse(name.as_str())
                .and_then(|name| target.path.join(name.as_str()))
                .map_err(|e| format!("cannot create folder {name:?}: {e}"))
        })
        .collect();
    let created = insert_folders(conn, target, paths.iter().filter_map(|p| p.as_ref().ok()))?;
    let outcome_of = |i: usize| match &paths[i] {
        Ok(path) => created
            .get(path)
            .cloned()
            .map(FolderCopy::Created)
            .ok_or_else(|| StoreError::Corrupt(format!("folder {path} not returned"))),
        Err(reason) => Ok(FolderCopy::Refused(reason.clone())),
    };
    plans
        .into_iter()
        .zip(wanted)
        .map(|(plan, name)| match plan {
            Plan::Existing => Ok(FolderCopy::Merged(existing[*name].clone())),
            Plan::Allocated(i) => outcome_of(i),
            Plan::SameAs(first) => Ok(match outcome_of(first_want[first])? {
                FolderCopy::Created(folder) => FolderCopy::Merged(folder),
                other => other,
            }),
        })
        .collect()
}

/// Inserts sub-folders of `parent` at these paths, one statement per 1,000; returns them by
/// path.
pub(super) fn insert_folders<'p>(
    conn: &mut DbConnection,
    parent: &Folder,
    paths: impl Iterator<Item = &'p FolderPath>,
) -> Result<HashMap<FolderPath, Folder>, StoreError> {
    let at = now();
    let rows: Vec<NewFolder<'_>> = paths
        .map(|path| NewFolder {
            sbg_id: SbgId::generate().to_string(),
            project_id: parent.project_id.get(),
            parent_id: parent.id.get(),
            path: path.as_str(),
            path_digest: path_digest(path),
            name: path.name().unwrap_or_default(),
            created_at: at,
            modified_at: at,
        })
        .collect();
    let mut created = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(1_000) {
        let inserted: Vec<FolderRow> =
            each_backend!(conn, |c| diesel::insert_into(folders::table)
                .values(chunk)
                .returning(FolderRow::as_returning())
                .get_results(c))?;
        for row in inserted {
            let folder = Folder::try_from(row)?;
            created.insert(folder.path.clone(), folder);
        }
    }
    Ok(created)
}
