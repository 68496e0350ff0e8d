//! Builders for the rows tests set up: projects, folders, files, members and copy jobs. Each
//! names what the test cares about and defaults the rest, and `create`s the rows through the
//! store's own functions, so they are the rows the application would write.
//!
//! # Panics
//! Every `create` panics on an error: they are for tests.

use ferry_domain::folder_ref::FolderRef;
use ferry_domain::ids::SbgId;
use ferry_domain::model::{Folder, Object, Placement, Project, User};
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_domain::permission::{Level, Permissions};
use ferry_store::jobs::{Job, RequestedCopy};
use ferry_store::{Store, billing, files, folders, jobs, members, projects};

/// A project of `owner`, billed to their personal group.
#[derive(Debug)]
pub struct ProjectBuilder<'a> {
    owner: &'a User,
    name: &'a str,
    description: &'a str,
}

impl<'a> ProjectBuilder<'a> {
    pub fn new(owner: &'a User, name: &'a str) -> Self {
        ProjectBuilder {
            owner,
            name,
            description: "",
        }
    }

    pub fn description(self, description: &'a str) -> Self {
        ProjectBuilder {
            description,
            ..self
        }
    }

    pub fn create(self, store: &Store) -> Project {
        let mut conn = store.conn().expect("a connection");
        let billing_group =
            billing::personal(&mut conn, self.owner.id).expect("the owner's billing group");
        projects::create(
            &mut conn,
            self.owner,
            self.name,
            self.description,
            billing_group.id,
        )
        .expect("create a project")
    }
}

/// The folder at `path` of a project (`/a/b`), made with its parents if need be.
pub fn folder(store: &Store, project: &Project, path: &str) -> Folder {
    let mut conn = store.conn().expect("a connection");
    let path = FolderPath::parse(path).expect("a valid folder path");
    folders::ensure_path(&mut conn, project.id, &path).expect("create the folder")
}

/// A closed file: by default in the project's root folder, holding its own name.
#[derive(Debug)]
pub struct FileBuilder<'a> {
    project: &'a Project,
    creator: &'a User,
    folder: &'a str,
    name: &'a str,
    content: &'a [u8],
}

impl<'a> FileBuilder<'a> {
    pub fn new(project: &'a Project, creator: &'a User, name: &'a str) -> Self {
        FileBuilder {
            project,
            creator,
            folder: "/",
            name,
            content: name.as_bytes(),
        }
    }

    /// The folder it is placed in, created if need be.
    pub fn in_folder(self, folder: &'a str) -> Self {
        FileBuilder { folder, ..self }
    }

    pub fn content(self, content: &'a [u8]) -> Self {
        FileBuilder { content, ..self }
    }

    pub fn create(self, store: &Store) -> (Object, Placement) {
        let folder = folder(store, self.project, self.folder);
        let content = store
            .content()
            .put_bytes(self.content)
            .expect("store the content");
        let name = FileName::parse(self.name).expect("a valid file name");
        let mut conn = store.conn().expect("a connection");
        files::create_closed_file(
            &mut conn,
            self.creator.id,
            self.project.id,
            &folder,
            &name,
            &content,
        )
        .expect("create a file")
    }
}

/// A member of a project: by default with view access, and neither copy nor execute.
#[derive(Debug)]
pub struct MemberBuilder<'a> {
    project: &'a Project,
    user: &'a User,
    permissions: Permissions,
}

impl<'a> MemberBuilder<'a> {
    pub fn new(project: &'a Project, user: &'a User) -> Self {
        MemberBuilder {
            project,
            user,
            permissions: Permissions {
                level: Level::View,
                copy: false,
                execute: false,
            },
        }
    }

    pub fn level(mut self, level: Level) -> Self {
        self.permissions.level = level;
        self
    }

    pub fn can_copy(mut self) -> Self {
        self.permissions.copy = true;
        self
    }

    pub fn can_execute(mut self) -> Self {
        self.permissions.execute = true;
        self
    }

    pub fn create(self, store: &Store) {
        let mut conn = store.conn().expect("a connection");
        members::add(&mut conn, self.project.id, self.user.id, self.permissions)
            .expect("add the member");
    }
}

/// An asynchronous copy job of a user, submitted and not yet worked.
#[derive(Debug)]
pub struct JobBuilder<'a> {
    user: &'a User,
    requests: Vec<RequestedCopy>,
}

impl<'a> JobBuilder<'a> {
    pub fn new(user: &'a User) -> Self {
        JobBuilder {
            user,
            requests: Vec::new(),
        }
    }

    /// One more item: the file or folder `source` copied to the root of `project`.
    pub fn copy_to_project(mut self, source: &SbgId, project: &Project) -> Self {
        self.requests.push(RequestedCopy {
            source: source.clone(),
            to: FolderRef::Project(project.sbg_id.clone()),
            name: None,
        });
        self
    }

    pub fn create(self, store: &Store) -> Job {
        let mut conn = store.conn().expect("a connection");
        jobs::submit(&mut conn, self.user.id, &self.requests).expect("submit the job")
    }
}
