//! What both tools seed before they send a request: a user with a token, and closed files.
//! Written through the store's repositories, untimed.

use ferry_domain::ids::Username;
use ferry_domain::model::{Project, User};
use ferry_domain::name::FileName;
use ferry_domain::path::FolderPath;
use ferry_domain::row_ids::BillingGroupRowId;
use ferry_store::{ContentInfo, DbConnection, billing, files, folders, tokens, users};

use crate::{Failure, work};

/// The user `name` with their personal billing group and a token labelled `name`; returns the
/// user, the billing group's id and the token's secret.
pub(crate) fn seed_user(
    conn: &mut DbConnection,
    name: &str,
) -> Result<(User, BillingGroupRowId, String), Failure> {
    let user =
        users::create(conn, &Username::parse(name).map_err(work)?, name, None).map_err(work)?;
    let billing_group_id = billing::personal(conn, user.id).map_err(work)?.id;
    let (_, token) = tokens::create(conn, user.id, Some(name), None).map_err(work)?;
    Ok((user, billing_group_id, token))
}

/// `count` closed files over `content` in the root of `project`; returns their SBG and DX ids.
pub(crate) fn seed_sources(
    conn: &mut DbConnection,
    user: &User,
    project: &Project,
    content: &ContentInfo,
    count: usize,
) -> Result<Vec<(String, String)>, Failure> {
    let root = folders::ensure_path(conn, project.id, &FolderPath::root()).map_err(work)?;
    let names = (0..count)
        .map(|i| {
            Ok((
                FileName::parse(format!("file-{i:06}.txt"))?,
                content.clone(),
            ))
        })
        .collect::<Result<Vec<_>, ferry_domain::error::DomainError>>()
        .map_err(work)?;
    let created =
        files::create_closed_files(conn, user.id, project.id, &root, &names).map_err(work)?;
    Ok(created
        .into_iter()
        .map(|(object, placement)| (placement.sbg_id.to_string(), object.dx_id.to_string()))
        .collect())
}
