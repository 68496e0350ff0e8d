//! `ferry import`: local files and directory trees into a project, as closed files, for seeding
//! a server and for scripts. Each imported file is printed as `<sbg file id>\t<path>` on stdout.
//!
//! The order of work: walk the local paths; check the user's permission and every name
//! (reads only, so a refused import writes nothing, not even content); stream the bytes into
//! the content store; then register every file in one write transaction, which checks the
//! names again since another writer may have taken one in the meantime.
//!
//! Names follow SBG, where the files and the sub-folders of a folder share one namespace. An
//! imported directory is merged into an existing folder of its name; a file of that name is a
//! clash, even with `--rename`, which renames files only.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use ferry_domain::ids::{SbgProjectId, Username};
use ferry_domain::model::{Folder, Project, User};
use ferry_domain::name::FileName;
use ferry_domain::naming::{TakenNames, allocate_names};
use ferry_domain::path::FolderPath;
use ferry_store::{
    ContentInfo, DbConnection, Store, StoreError, files, folders, names, projects, users,
};

use crate::Failure;
use crate::cli::{ImportArgs, StoreArgs};
use crate::progress;
use crate::serve::open_store;

pub fn run(args: &StoreArgs, import: ImportArgs) -> Result<(), Failure> {
    let setup = |e: ferry_domain::error::DomainError| Failure::Setup(e.to_string());
    let username = Username::parse(&import.user).map_err(setup)?;
    let project_id = SbgProjectId::parse(&import.project).map_err(setup)?;
    let target = FolderPath::parse(&import.folder).map_err(setup)?;
    let plan = Plan::walk(target, &import.paths)?;

    let store = open_store(args)?;
    store.migrate().map_err(work)?;
    let mut conn = store.conn().map_err(work)?;
    let (user, project) = writable_project(&mut conn, &username, &project_id)?;
    // Fails before a single byte is stored; the transaction below decides.
    resolve_names(&mut conn, &project, &plan, import.rename).map_err(work)?;
    // Content goes in before the transaction, which then stays short. Content is immutable and
    // addressed by its hash, so an import that fails from here on leaves only unreferenced
    // blobs behind, never a broken file.
    let contents = store_contents(&store, &plan)?;
    drop(conn);
    let imported = store
        .write(None, |conn| {
            register(conn, &user, &project, &plan, &contents, import.rename)
        })
        .map_err(work)?;
    for line in imported {
        println!("{line}");
    }
    Ok(())
}

/// Store errors are failures of the work; a name clash travels as a `Conflict` carrying its
/// own one-line message.
fn work(e: StoreError) -> Failure {
    match e {
        StoreError::Conflict(message) => Failure::Work(message),
        other => Failure::Work(other.to_string()),
    }
}

fn unreadable(path: &Path, e: io::Error) -> Failure {
    Failure::Work(format!("cannot read '{}': {e}", path.display()))
}

fn refused(path: &Path, why: impl std::fmt::Display) -> Failure {
    Failure::Work(format!("cannot import '{}': {why}", path.display()))
}

/// `/dir/name`, or `/name` in the root folder.
fn display_path(folder: &FolderPath, name: &str) -> String {
    if folder.is_root() {
        format!("/{name}")
    } else {
        format!("{folder}/{name}")
    }
}

/// A local file to import, and where it goes.
#[derive(Debug)]
struct LocalFile {
    source: PathBuf,
    folder: FolderPath,
    name: FileName,
    /// As the walk saw it, for the progress bar; the stored size is what was read.
    size: u64,
}

/// What to import: the files, in order, and the folders to put in place: the target folder
/// and every imported directory, empty ones too.
#[derive(Debug)]
struct Plan {
    files: Vec<LocalFile>,
    folders: BTreeSet<FolderPath>,
}

impl Plan {
    fn walk(target: FolderPath, paths: &[PathBuf]) -> Result<Plan, Failure> {
        let mut plan = Plan {
            files: Vec::new(),
            folders: BTreeSet::from([target.clone()]),
        };
        for path in paths {
            plan.add(&target, path)?;
        }
        Ok(plan)
    }

    /// Adds the file or directory tree at `path` to `folder`, under its local name.
    fn add(&mut self, folder: &FolderPath, path: &Path) -> Result<(), Failure> {
        let name = local_name(path)?;
        // Follows symbolic links; a loop of them ends at the folder depth limit.
        let metadata = fs::metadata(path).map_err(|e| unreadable(path, e))?;
        if metadata.is_file() {
            self.files.push(LocalFile {
                source: path.to_path_buf(),
                folder: folder.clone(),
                name: FileName::parse(name).map_err(|e| refused(path, e))?,
                size: metadata.len(),
            });
        } else if metadata.is_dir() {
            let subfolder = folder.join(&name).map_err(|e| refused(path, e))?;
            let mut entries = fs::read_dir(path)
                .and_then(|entries| {
                    entries
                        .map(|entry| entry.map(|e| e.path()))
                        .collect::<io::Result<Vec<_>>>()
                })
                .map_err(|e| unreadable(path, e))?;
            // Directory order is arbitrary; sorted, the output is the same on every run.
            entries.sort();
            self.folders.insert(subfolder.clone());
            for entry in entries {
                self.add(&subfolder, &entry)?;
            }
        } else {
            return Err(refused(path, "not a regular file or a directory"));
        }
        Ok(())
    }
}

/// The name a local path is imported under: its last component (`data/` is `data`), or for
/// `.` and `..` the name of the directory they stand for.
fn local_name(path: &Path) -> Result<String, Failure> {
    let name = match path.file_name() {
        Some(name) => name.to_owned(),
        None => fs::canonicalize(path)
            .map_err(|e| unreadable(path, e))?
            .file_name()
            .ok_or_else(|| refused(path, "it has no name"))?
            .to_owned(),
    };
    name.into_string()
        .map_err(|_| refused(path, "its name is not valid UTF-8"))
}

/// The user and the project, if the user may write to it.
fn writable_project(
    conn: &mut DbConnection,
    username: &Username,
    project_id: &SbgProjectId,
) -> Result<(User, Project), Failure> {
    let user = users::find_by_username(conn, username)
        .map_err(work)?
        .ok_or_else(|| Failure::Work(format!("no user named {username}")))?;
    let project = projects::get_by_sbg_id(conn, project_id)
        .map_err(work)?
        .ok_or_else(|| Failure::Work(format!("no project {project_id}")))?;
    match projects::membership(conn, project.id, user.id).map_err(work)? {
        Some(permissions) if permissions.can_write() => Ok((user, project)),
        Some(_) => Err(Failure::Work(format!(
            "{username} may not write to {project_id}"
        ))),
        None => Err(Failure::Work(format!(
            "{username} is not a member of {project_id}"
        ))),
    }
}

/// The name each file of the plan gets, in plan order, given what the project holds now.
///
/// Reads only, and locks the existing folders it reads (`folders::lock`), so that in a
/// transaction the answer holds until commit. A file whose name is taken in its folder (by a
/// file or a sub-folder there, or by a file or directory of this import) gets the `N_name` rule
/// with `rename`, and is a clash without it. A new folder whose name a file already has is
/// always a clash. Clashes come back as one `StoreError::Conflict` naming the first and
/// counting the rest.
fn resolve_names(
    conn: &mut DbConnection,
    project: &Project,
    plan: &Plan,
    rename: bool,
) -> Result<Vec<FileName>, StoreError> {
    // Every folder the import touches, the target's ancestors included. Sorted, a folder comes
    // before its sub-folders (a path sorts after its prefixes).
    let touched: BTreeSet<FolderPath> = plan
        .folders
        .iter()
        .flat_map(|folder| folder.ancestors().into_iter().chain([folder.clone()]))
        .collect();
    // The folders that exist, each locked before anything in it is read, parents first, so
    // that concurrent imports and copies take turns. Below a missing folder everything is
    // missing: no lookup needed.
    let mut existing: HashMap<&FolderPath, Folder> = HashMap::new();
    for path in &touched {
        let parent_exists = path
            .parent()
            .is_none_or(|parent| existing.contains_key(&parent));
        if parent_exists && let Some(folder) = folders::get_by_path(conn, project.id, path)? {
            folders::lock(conn, &[folder.id])?;
            existing.insert(path, folder);
        }
    }
    let mut files_in: BTreeMap<&FolderPath, Vec<usize>> = BTreeMap::new();
    for (index, file) in plan.files.iter().enumerate() {
        files_in.entry(&file.folder).or_default().push(index);
    }
    let mut subfolders_in: BTreeMap<FolderPath, Vec<&FolderPath>> = BTreeMap::new();
    for path in &touched {
        if let Some(parent) = path.parent() {
            subfolders_in.entry(parent).or_default().push(path);
        }
    }

    let mut resolved: Vec<Option<String>> = vec![None; plan.files.len()];
    let mut clashes: Vec<String> = Vec::new();
    for folder in &touched {
        let file_indexes = files_in.get(folder).map_or(&[][..], Vec::as_slice);
        let subfolders = subfolders_in.get(folder).map_or(&[][..], Vec::as_slice);
        let file_names: Vec<&str> = file_indexes
            .iter()
            .map(|&index| plan.files[index].name.as_str())
            .collect();
        let subfolder_names: Vec<&str> = subfolders
            .iter()
            .map(|path| path.name().expect("a sub-folder has a name"))
            .collect();
        // What the project holds; the sub-folders of the import are added below.
        let taken: TakenNames = match existing.get(folder) {
            Some(found) if !(file_names.is_empty() && subfolder_names.is_empty()) => {
                let wanted: Vec<&str> =
                    file_names.iter().chain(&subfolder_names).copied().collect();
                names::taken_in_folder(conn, found.id, &wanted)?
            }
            _ => TakenNames::default(),
        };
        for (path, name) in subfolders.iter().zip(&subfolder_names) {
            // Folders are unique by path, so a taken name without a folder there is a file's.
            if !existing.contains_key(path) && taken.contains(name) {
                clashes.push(format!(
                    "'{path}' in {} is a file, not a folder",
                    project.sbg_id
                ));
            }
        }
        let mut occupied = taken.clone();
        occupied.extend(subfolder_names.iter().copied());
        let allocated = allocate_names(&file_names, &occupied);
        for ((&index, &wanted), name) in file_indexes.iter().zip(&file_names).zip(allocated) {
            if !rename && name != wanted {
                let why = if taken.contains(wanted) {
                    "already exists in"
                } else {
                    "is imported twice into"
                };
                clashes.push(format!(
                    "'{}' {why} {} (--rename would import it as '{name}')",
                    display_path(folder, wanted),
                    project.sbg_id
                ));
            }
            resolved[index] = Some(name);
        }
    }
    if let Some(first) = clashes.first() {
        return Err(StoreError::Conflict(match clashes.len() {
            1 => first.clone(),
            n => format!("{first}; and {} more name clashes", n - 1),
        }));
    }
    plan.files
        .iter()
        .zip(resolved)
        .map(|(file, name)| {
            let name = name.expect("every file's folder is touched");
            // Only a rename can make a valid name invalid, by making it too long.
            FileName::parse(name.as_str()).map_err(|e| {
                StoreError::Conflict(format!(
                    "'{}' is taken, and its new name '{name}' is not a valid file name: {e}",
                    display_path(&file.folder, file.name.as_str())
                ))
            })
        })
        .collect()
}

/// Streams every file into the content store, showing bytes and files on stderr.
fn store_contents(store: &Store, plan: &Plan) -> Result<Vec<ContentInfo>, Failure> {
    let total_files = plan.files.len();
    let progress = progress::bar(
        plan.files.iter().map(|file| file.size).sum(),
        "{bar:30} {bytes}/{total_bytes} {msg} ({eta})",
    );
    progress.set_message(format!("0/{total_files} files"));
    let contents = plan
        .files
        .iter()
        .enumerate()
        .map(|(index, file)| {
            let source = File::open(&file.source).map_err(|e| unreadable(&file.source, e))?;
            let content = store
                .content()
                .put_reader(progress.wrap_read(source))
                .map_err(|e| {
                    Failure::Work(format!("cannot store '{}': {e}", file.source.display()))
                })?;
            progress.set_message(format!("{}/{total_files} files", index + 1));
            Ok(content)
        })
        .collect();
    progress.finish_and_clear();
    contents
}

/// Registers every file of the plan, in the caller's unit of work, and returns the output lines,
/// `<sbg file id>\t<path>`, in plan order.
fn register(
    conn: &mut DbConnection,
    user: &User,
    project: &Project,
    plan: &Plan,
    contents: &[ContentInfo],
    rename: bool,
) -> Result<Vec<String>, StoreError> {
    let names = resolve_names(conn, project, plan, rename)?;
    let mut placed: HashMap<&FolderPath, Folder> = HashMap::new();
    for path in &plan.folders {
        placed.insert(path, folders::ensure_path(conn, project.id, path)?);
    }
    // One batch per destination folder: a constant number of statements per folder.
    let mut by_folder: HashMap<&FolderPath, Vec<usize>> = HashMap::new();
    for (i, file) in plan.files.iter().enumerate() {
        by_folder.entry(&file.folder).or_default().push(i);
    }
    let mut lines = vec![String::new(); plan.files.len()];
    for (folder, indices) in by_folder {
        let batch: Vec<(FileName, ContentInfo)> = indices
            .iter()
            .map(|&i| (names[i].clone(), contents[i].clone()))
            .collect();
        let created =
            files::create_closed_files(conn, user.id, project.id, &placed[folder], &batch)?;
        for (&i, (_, placement)) in indices.iter().zip(created) {
            lines[i] = format!(
                "{}\t{}",
                placement.sbg_id,
                display_path(folder, names[i].as_str())
            );
        }
    }
    Ok(lines)
}
