//! `CASE <id column> WHEN $1 THEN $2 ... END`: a different value per row, so that one UPDATE
//! writes many rows with values computed in Rust (a path and its digest, say).

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, ValidGrouping, is_aggregate};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{BigInt, HasSqlType, Text};

/// The value of SQL type `ST` of each row, by the row's id in `column` (a `BigInt` column).
/// Rows not listed get NULL: filter the UPDATE to the listed ids.
#[derive(Debug, Clone)]
pub(crate) struct ValueById<C, ST, T> {
    column: C,
    values: Vec<(i64, T)>,
    sql_type: PhantomData<ST>,
}

/// Text per row, the common case.
pub(crate) type TextById<C> = ValueById<C, Text, String>;

impl<C, ST, T> ValueById<C, ST, T> {
    pub(crate) fn new(column: C, values: Vec<(i64, T)>) -> Self {
        ValueById {
            column,
            values,
            sql_type: PhantomData,
        }
    }
}

impl<C, ST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue, T> Expression
    for ValueById<C, ST, T>
{
    type SqlType = ST;
}

impl<C, ST, T, QS> AppearsOnTable<QS> for ValueById<C, ST, T>
where
    C: AppearsOnTable<QS>,
    Self: Expression,
{
}

impl<C, ST, T> ValidGrouping<()> for ValueById<C, ST, T> {
    type IsAggregate = is_aggregate::Never;
}

impl<C, ST, T> QueryId for ValueById<C, ST, T> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C, ST, T, DB> QueryFragment<DB> for ValueById<C, ST, T>
where
    DB: Backend + HasSqlType<BigInt> + HasSqlType<ST>,
    i64: ToSql<BigInt, DB>,
    T: ToSql<ST, DB>,
    C: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("CASE ");
        self.column.walk_ast(out.reborrow())?;
        for (id, value) in &self.values {
            out.push_sql(" WHEN ");
            out.push_bind_param::<BigInt, _>(id)?;
            out.push_sql(" THEN ");
            out.push_bind_param::<ST, _>(value)?;
        }
        out.push_sql(" END");
        Ok(())
    }
}
