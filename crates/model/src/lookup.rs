//! Small read-only lookups on a [`State`].
//!
//! These scan the state, which is fine for one question at a time; code that
//! asks many questions of one state should walk it once (or use a
//! [`crate::Reducer`], which keeps an index).

use crate::change::QualifiedName;
use crate::ids::ObjectId;
use crate::state::{Catalog, Column, Schema, State, Table};
use std::fmt;

/// Where a column lives, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnPath<'a> {
    /// Catalog name.
    pub catalog: &'a str,
    /// Schema name.
    pub schema: &'a str,
    /// Table name.
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
}

/// `schema.table.column`, the form messages use (the catalog is implied by
/// context almost everywhere).
impl fmt::Display for ColumnPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.schema, self.table, self.column)
    }
}

impl State {
    /// Every table with its catalog and schema, in state order.
    pub fn tables(&self) -> impl Iterator<Item = (&Catalog, &Schema, &Table)> {
        self.catalogs.iter().flat_map(|c| {
            c.schemas
                .iter()
                .flat_map(move |s| s.tables.iter().map(move |t| (c, s, t)))
        })
    }

    /// How many tables the state holds, across all catalogs.
    pub fn table_count(&self) -> usize {
        self.catalogs
            .iter()
            .flat_map(|c| &c.schemas)
            .map(|s| s.tables.len())
            .sum()
    }

    /// The table `schema.table`, from the first catalog that has one.
    pub fn find_table(&self, schema: &str, table: &str) -> Option<&Table> {
        self.tables()
            .find(|(_, s, t)| s.name == schema && t.name == table)
            .map(|(_, _, t)| t)
    }

    /// The table with id `id`.
    pub fn table_by_id(&self, id: &ObjectId) -> Option<&Table> {
        self.tables().map(|(_, _, t)| t).find(|t| t.id == *id)
    }

    /// The qualified name of the table with id `id`.
    pub fn table_name(&self, id: &ObjectId) -> Option<QualifiedName> {
        self.tables()
            .find(|(_, _, t)| t.id == *id)
            .map(|(c, s, t)| QualifiedName {
                catalog: c.name.clone(),
                schema: s.name.clone(),
                name: t.name.clone(),
            })
    }

    /// The names leading to the column with id `id`.
    pub fn column_path(&self, id: &ObjectId) -> Option<ColumnPath<'_>> {
        self.tables().find_map(|(c, s, t)| {
            t.columns
                .iter()
                .find(|col| col.id == *id)
                .map(|col| ColumnPath {
                    catalog: &c.name,
                    schema: &s.name,
                    table: &t.name,
                    column: &col.name,
                })
        })
    }
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
