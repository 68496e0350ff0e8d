//! A job's items: what was asked for, what became of each, and how outcomes are recorded.

use super::*;
use ferry_domain::row_ids::{ChunkRowId, JobRowId};

/// One item of a copy request: a file or a folder (with its whole tree), optionally renamed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedCopy {
    pub source: SbgId,
    pub to: FolderRef,
    pub name: Option<FileName>,
}

/// A request item still to be worked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestItem {
    pub id: i64,
    /// Its position in the request.
    pub index: i64,
    pub copy: RequestedCopy,
}

/// Stored and shown as `file` or `folder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumString, IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum ItemKind {
    File,
    Folder,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What became of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// A new file, or a new folder, with its id and name.
    Copied { id: SbgId, name: String },
    /// A folder merged into the target's folder of the same name.
    Merged { id: SbgId, name: String },
    /// Not copied, and why.
    Failed(CopyRefusal),
}

/// The outcome of one item, with what working it learnt about the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worked {
    /// `None` when the source could not be found.
    pub kind: Option<ItemKind>,
    pub source_name: Option<String>,
    pub outcome: ItemOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemStatus {
    Pending,
    Worked(ItemOutcome),
    Cancelled,
}

/// An item as the job's item listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobItem {
    pub id: i64,
    /// The position in the request; `None` for an entry found in a copied folder.
    pub request_index: Option<i64>,
    pub kind: Option<ItemKind>,
    pub source: SbgId,
    pub source_name: Option<String>,
    pub to: FolderRef,
    /// The name the request asked for.
    pub name: Option<String>,
    pub status: ItemStatus,
    /// The worker that recorded the outcome.
    pub worked_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = job_items, check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(super) struct ItemRow {
    id: i64,
    request_index: Option<i64>,
    kind: Option<String>,
    source_id: String,
    source_name: Option<String>,
    target: String,
    name: Option<String>,
    state: String,
    result_id: Option<String>,
    result_name: Option<String>,
    worked_by: Option<String>,
    refusal: Option<String>,
    refusal_detail: Option<String>,
}

impl ItemRow {
    fn target(&self) -> Result<FolderRef, StoreError> {
        FolderRef::parse(&self.target).map_err(|e| corrupt("job_items", self.id, e))
    }

    fn outcome(&self) -> Result<ItemOutcome, StoreError> {
        let bad = || {
            corrupt(
                "job_items",
                self.id,
                format!("incomplete outcome of a {} item", self.state),
            )
        };
        if self.state == FAILED {
            return self
                .refusal
                .as_deref()
                .and_then(|kind| CopyRefusal::from_stored(kind, self.refusal_detail.as_deref()))
                .map(ItemOutcome::Failed)
                .ok_or_else(bad);
        }
        let (Some(id), Some(name)) = (&self.result_id, &self.result_name) else {
            return Err(bad());
        };
        let id = SbgId::parse(id).map_err(|e| corrupt("job_items", self.id, e))?;
        let name = name.clone();
        Ok(if self.state == MERGED {
            ItemOutcome::Merged { id, name }
        } else {
            ItemOutcome::Copied { id, name }
        })
    }
}

impl TryFrom<ItemRow> for JobItem {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<JobItem, StoreError> {
        let bad = |e| corrupt("job_items", row.id, e);
        let status = match row.state.as_str() {
            PENDING => ItemStatus::Pending,
            CANCELLED => ItemStatus::Cancelled,
            COPIED | MERGED | FAILED => ItemStatus::Worked(row.outcome()?),
            other => return Err(bad(format!("state '{other}'"))),
        };
        let kind = row
            .kind
            .as_deref()
            .map(|kind| kind.parse().map_err(|_| bad(format!("kind '{kind}'"))))
            .transpose()?;
        Ok(JobItem {
            id: row.id,
            request_index: row.request_index,
            kind,
            source: SbgId::parse(&row.source_id).map_err(|e| bad(e.to_string()))?,
            to: row.target()?,
            source_name: row.source_name,
            name: row.name,
            status,
            worked_by: row.worked_by,
        })
    }
}

impl TryFrom<ItemRow> for RequestItem {
    type Error = StoreError;

    fn try_from(row: ItemRow) -> Result<RequestItem, StoreError> {
        let bad = |e| corrupt("job_items", row.id, e);
        Ok(RequestItem {
            id: row.id,
            index: row
                .request_index
                .ok_or_else(|| bad("a request item without its index".to_owned()))?,
            copy: RequestedCopy {
                source: SbgId::parse(&row.source_id).map_err(|e| bad(e.to_string()))?,
                to: row.target()?,
                name: row
                    .name
                    .as_deref()
                    .map(FileName::parse)
                    .transpose()
                    .map_err(|e| bad(e.to_string()))?,
            },
        })
    }
}

/// A new item row; request items keep their id when their chunk rewrites them.
#[derive(Insertable)]
#[diesel(table_name = job_items, treat_none_as_default_value = false)]
pub(super) struct NewItem<'a> {
    job_id: i64,
    chunk_id: i64,
    request_index: Option<i64>,
    kind: Option<&'a str>,
    source_id: &'a str,
    source_name: Option<&'a str>,
    target: &'a str,
    name: Option<&'a str>,
    state: &'a str,
    result_id: Option<&'a str>,
    result_name: Option<&'a str>,
    worked_by: Option<&'a str>,
    refusal: Option<&'static str>,
    refusal_detail: Option<String>,
}

impl<'a> NewItem<'a> {
    /// A pending item: `request_index` is `None` for an entry of a copied folder.
    pub(super) fn new(
        job_id: JobRowId,
        chunk_id: ChunkRowId,
        request_index: Option<i64>,
        copy: &'a RequestedCopy,
    ) -> NewItem<'a> {
        NewItem {
            job_id: job_id.get(),
            chunk_id: chunk_id.get(),
            request_index,
            kind: None,
            source_id: copy.source.as_str(),
            source_name: None,
            target: copy.to.as_str(),
            name: copy.name.as_ref().map(FileName::as_str),
            state: PENDING,
            result_id: None,
            result_name: None,
            worked_by: None,
            refusal: None,
            refusal_detail: None,
        }
    }

    /// This item with its outcome, recorded by `worker`.
    pub(super) fn worked(mut self, worked: &'a Worked, worker: &'a str) -> NewItem<'a> {
        self.kind = worked.kind.map(ItemKind::as_str);
        self.source_name = worked.source_name.as_deref();
        self.worked_by = Some(worker);
        match &worked.outcome {
            ItemOutcome::Copied { id, name } | ItemOutcome::Merged { id, name } => {
                self.state = if matches!(worked.outcome, ItemOutcome::Merged { .. }) {
                    MERGED
                } else {
                    COPIED
                };
                self.result_id = Some(id.as_str());
                self.result_name = Some(name);
            }
            ItemOutcome::Failed(refusal) => {
                self.state = FAILED;
                self.refusal = Some(refusal.kind());
                self.refusal_detail = refusal.detail();
            }
        }
        self
    }
}

/// Writes the outcomes of a chunk's pending items (by item id) in one UPDATE: the rows come
/// as a table (`unnest` of arrays, `json_each` of a JSON array), so the statement is the same
/// whatever their number, and only the columns a worker fills and the `(chunk_id, state)` index
/// are rewritten.
pub(super) fn record_outcomes<'a>(
    conn: &mut DbConnection,
    chunk_id: ChunkRowId,
    outcomes: &[(i64, NewItem<'a>)],
) -> Result<(), StoreError> {
    type Texts = Array<Nullable<Text>>;
    if outcomes.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&NewItem<'a>) -> Option<&'a str>| -> Vec<Option<&'a str>> {
        outcomes.iter().map(|(_, item)| f(item)).collect()
    };
    const SET: &str = "kind = o.kind, source_name = o.source_name, state = o.state, \
                       result_id = o.result_id, result_name = o.result_name, \
                       worked_by = o.worked_by, refusal = o.refusal, \
                       refusal_detail = o.refusal_detail";
    let updated = match conn {
        DbConnection::Pg(c) => {
            let ids: Vec<i64> = outcomes.iter().map(|(id, _)| *id).collect();
            let details: Vec<Option<&str>> = outcomes
                .iter()
                .map(|(_, i)| i.refusal_detail.as_deref())
                .collect();
            diesel::sql_query(format!(
                "UPDATE job_items SET {SET} \
             FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], \
                         $6::text[], $7::text[], $8::text[], $9::text[]) \
               AS o(id, kind, source_name, state, result_id, result_name, worked_by, refusal, \
                    refusal_detail) \
             WHERE job_items.id = o.id AND job_items.chunk_id = $10 AND job_items.state = $11"
            ))
            .bind::<Array<BigInt>, _>(&ids)
            .bind::<Texts, _>(column(|i| i.kind))
            .bind::<Texts, _>(column(|i| i.source_name))
            .bind::<Texts, _>(column(|i| Some(i.state)))
            .bind::<Texts, _>(column(|i| i.result_id))
            .bind::<Texts, _>(column(|i| i.result_name))
            .bind::<Texts, _>(column(|i| i.worked_by))
            .bind::<Texts, _>(column(|i| i.refusal))
            .bind::<Texts, _>(&details)
            .bind::<BigInt, _>(chunk_id.get())
            .bind::<Text, _>(PENDING)
            .execute(c)?
        }
        DbConnection::Sqlite(c) => {
            let rows: Vec<serde_json::Value> = outcomes
                .iter()
                .map(|(id, i)| {
                    serde_json::json!({
                        "id": id, "kind": i.kind, "source_name": i.source_name,
                        "state": i.state, "result_id": i.result_id,
                        "result_name": i.result_name, "worked_by": i.worked_by,
                        "refusal": i.refusal, "refusal_detail": i.refusal_detail,
                    })
                })
                .collect();
            // The unary `+` keeps SQLite from driving the join from the (chunk_id, state) index,
            // which would scan the JSON once per item; each item is found by its rowid instead.
            diesel::sql_query(format!(
                "UPDATE job_items SET {SET} \
                 FROM (SELECT value ->> '$.id' AS id, value ->> '$.kind' AS kind, \
                              value ->> '$.source_name' AS source_name, \
                              value ->> '$.state' AS state, \
                              value ->> '$.result_id' AS result_id, \
                              value ->> '$.result_name' AS result_name, \
                              value ->> '$.worked_by' AS worked_by, \
                              value ->> '$.refusal' AS refusal, \
                              value ->> '$.refusal_detail' AS refusal_detail \
                       FROM json_each($1)) AS o \
                 WHERE job_items.id = o.id AND +job_items.chunk_id = $2 AND +job_items.state = $3"
            ))
            .bind::<Text, _>(serde_json::Value::from(rows).to_string())
            .bind::<BigInt, _>(chunk_id.get())
            .bind::<Text, _>(PENDING)
            .execute(c)?
        }
    };
    if updated != outcomes.len() {
        return Err(StoreError::Corrupt(format!(
            "{updated} of the {} items of chunk {chunk_id} were pending",
            outcomes.len()
        )));
    }
    Ok(())
}

/// One page of the job's items in the order they were created (request items first, in
/// request order), and how many it has.
pub fn items(
    conn: &mut DbConnection,
    job_id: JobRowId,
    page: Page,
) -> Result<(Vec<JobItem>, i64), StoreError> {
    let total = job_items::table
        .filter(job_items::job_id.eq(job_id.get()))
        .select(count_star())
        .get_result(conn)?;
    let listed = job_items::table
        .filter(job_items::job_id.eq(job_id.get()))
        .order(job_items::id)
        .paginate(page)
        .select(ItemRow::as_select())
        .load(conn)?
        .into_iter()
        .map(JobItem::try_from)
        .collect::<Result<_, _>>()?;
    Ok((listed, total))
}

/// The job's first `limit` request items, in request order.
pub fn request_items(
    conn: &mut DbConnection,
    job_id: JobRowId,
    limit: i64,
) -> Result<Vec<JobItem>, StoreError> {
    job_items::table
        .filter(job_items::job_id.eq(job_id.get()))
        .filter(job_items::request_index.is_not_null())
        .order(job_items::request_index)
        .limit(limit)
        .select(ItemRow::as_select())
        .load(conn)?
        .into_iter()
        .map(JobItem::try_from)
        .collect()
}
