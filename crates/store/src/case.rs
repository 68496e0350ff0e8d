//! `CASE <id column> WHEN $1 THEN $2 ... END`: a different text value per row, so that one
//! UPDATE writes many rows with values computed in Rust (a path and its digest, say).

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text};

/// The text value of each row, by the row's id in `column` (a `BigInt` column). Rows not listed
/// get NULL: filter the UPDATE to the listed ids.
#[derive(Debug, Clone)]
pub(crate) struct TextById<C> {
    pub column: C,
    pub values: Vec<(i64, String)>,
}

impl<C> Expression for TextById<C> {
    type SqlType = Text;
}

impl<C, QS> AppearsOnTable<QS> for TextById<C> where C: AppearsOnTable<QS> {}

impl<C> ValidGrouping<()> for TextById<C> {
    type IsAggregate = is_aggregate::Never;
}

impl<C> QueryId for TextById<C> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, DB> QueryFragment<DB> for TextById<C>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<Text>,
    i64: ToSql<BigInt, DB>,
    String: ToSql<Text, DB>,
    C: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("CASE ");
        self.column.walk_ast(out.reborrow())?;
        for (id, value) in &self.values {
            out.push_sql(" WHEN ");
            out.push_bind_param::<BigInt, _>(id)?;
            out.push_sql(" THEN ");
            out.push_bind_param::<Text, _>(value)?;
        }
        out.push_sql(" END");
        Ok(())
    }
}
