//! Listing a folder: `GET /files` and `GET /files/{id}/list`.

use super::*;

// Listing.

/// The query of a listing: filters, page, and the pairs to carry into the envelope's links.
#[derive(Debug)]
pub(crate) struct ListQuery {
    pub(super) project: Option<String>,
    pub(super) parent: Option<String>,
    pub(super) filter: ListFilter,
    pub(super) page: PageQuery,
    /// Every pair but `offset` and `limit`, in the order given.
    pub(super) carried: Vec<(String, String)>,
}

impl ListQuery {
    /// Parses a query string the way `requests` writes it: form-urlencoded (`+` is a space),
    /// lists as repeated keys. Unknown keys (`fields`) are carried into links and ignored.
    pub(super) fn parse(query: &str) -> Result<ListQuery, SbgError> {
        let mut parsed = ListQuery {
            project: None,
            parent: None,
            filter: ListFilter::default(),
            page: PageQuery {
                offset: None,
                limit: None,
            },
            carried: Vec::new(),
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let (key, value) = (key.into_owned(), value.into_owned());
            let number = || {
                value.parse::<i64>().map_err(|_| {
                    SbgError::bad_request(format!("{key} must be an integer, not {value:?}."))
                })
            };
            let filter = &mut parsed.filter;
            match key.as_str() {
                "offset" => {
                    parsed.page.offset = Some(number()?);
                    continue;
                }
                "limit" => {
                    parsed.page.limit = Some(number()?);
                    continue;
                }
                "project" => parsed.project = Some(value.clone()),
                "parent" => parsed.parent = Some(value.clone()),
                "name" => filter.names.push(value.clone()),
                "tag" => filter.tags.push(value.clone()),
                other => {
                    if let Some(field) = other.strip_prefix("metadata.") {
                        let accepted = filter.metadata.entry(field.to_owned()).or_default();
                        accepted.push(value.clone());
                    } else if let Some(field) = other.strip_prefix("origin.") {
                        let accepted = filter.origin.entry(field.to_owned()).or_default();
                        accepted.push(value.clone());
                    }
                }
            }
            parsed.carried.push((key, value));
        }
        Ok(parsed)
    }
}

/// `GET /files?project=…|parent=…`: the direct children of the project's root or of a folder.
#[utoipa::path(get, path = "/v2/files", tag = "sbg", params(("project" = Option<String>, Query, description = "owner/slug of the project whose root to list"), ("parent" = Option<String>, Query, description = "The folder to list"), ("name" = Option<String>, Query), ("tag" = Option<String>, Query), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "The entries")))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: SbgCaller,
    req: HttpRequest,
) -> Result<HttpResponse, SbgError> {
    let query = ListQuery::parse(req.query_string())?;
    let target = folder_ref(
        query.project.as_deref(),
        query.parent.as_deref(),
        SbgError::MalformedProjectQuery,
        SbgError::FileNotFound,
    )?;
    respond_listing(&state, &caller, target, query, "/files").await
}

/// `GET /files/{id}/list`: the direct children of a folder.
#[utoipa::path(get, path = "/v2/files/{id}/list", tag = "sbg", params(("id" = String, Path, description = "A file or folder id"), ("offset" = Option<i64>, Query), ("limit" = Option<i64>, Query)), responses((status = 200, description = "The folder's entries")))]
pub(crate) async fn list_children(
    state: web::Data<AppState>,
    caller: SbgCaller,
    id: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, SbgError> {
    let query = ListQuery::parse(req.query_string())?;
    let id = parse_file_id(&id)?;
    let base = format!("/files/{id}/list");
    respond_listing(&state, &caller, FolderRef::Folder(id), query, &base).await
}

pub(crate) async fn respond_listing(
    state: &AppState,
    caller: &SbgCaller,
    target: FolderRef,
    query: ListQuery,
    path: &str,
) -> Result<HttpResponse, SbgError> {
    let page = query.page.page()?;
    let user_id = caller.0.user.id;
    let filter = query.filter;
    let listing = db::read(&state.store, move |conn| {
        let (folder, _) = resolve_folder(conn, user_id, &target, SbgError::FileNotFound)?;
        let listing = sbg_views::list_folder(conn, user_id, &folder.folder, &filter, page)?;
        Ok::<_, SbgError>(listing)
    })
    .await?;
    let items = listing
        .folders
        .iter()
        .map(|view| render_folder(state, view))
        .chain(listing.files.iter().map(|view| render_file(state, view)))
        .collect();
    Ok(envelope(
        &href(state, path),
        &query.carried,
        page,
        items,
        listing.total,
    ))
}
