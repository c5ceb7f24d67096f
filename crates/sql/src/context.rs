//! What a dialect may look at while rendering one change.

use crate::describe::describe;
use crate::error::SqlError;
use crate::names::Renames;
use tidemark_model::{Change, Column, QualifiedName, State, Table};

/// The two states of a plan and the renames between them.
#[derive(Debug, Clone)]
pub struct RenderContext<'a> {
    changes: &'a [Change],
    from: &'a State,
    to: &'a State,
    renames: Renames,
}

impl<'a> RenderContext<'a> {
    /// A context for rendering `changes`, which turn `from` into `to`.
    pub fn new(changes: &'a [Change], from: &'a State, to: &'a State) -> Self {
        RenderContext {
            changes,
            from,
            to,
            renames: Renames::new(changes),
        }
    }

    /// Every change of the plan, for a change whose SQL depends on the others
    /// (SQLite declares a new table's foreign keys inside `CREATE TABLE`).
    pub fn changes(&self) -> &'a [Change] {
        self.changes
    }

    /// The state the plan starts from.
    pub fn from_state(&self) -> &'a State {
        self.from
    }

    /// The state the plan arrives at.
    pub fn to_state(&self) -> &'a State {
        self.to
    }

    /// The renames of the change list.
    pub fn renames(&self) -> &Renames {
        &self.renames
    }

    /// A table of the to state, by its to-state name.
    pub fn to_table(&self, name: &QualifiedName) -> Option<&'a Table> {
        find_table(self.to, name)
    }

    /// A table of the from state, by its from-state name.
    pub fn from_table(&self, name: &QualifiedName) -> Option<&'a Table> {
        find_table(self.from, name)
    }

    /// The from-state definition of a table known by its to-state name.
    pub fn old_table(&self, to_name: &QualifiedName) -> Option<&'a Table> {
        self.from_table(&self.renames.table_back(to_name))
    }

    /// A to-state table, or an error naming the change that needed it.
    pub(crate) fn require_to_table(
        &self,
        change: &Change,
        name: &QualifiedName,
    ) -> Result<&'a Table, SqlError> {
        self.to_table(name).ok_or_else(|| SqlError::MissingObject {
            change: describe(change),
            object: format!("table {name}"),
            side: "to",
        })
    }

    /// A to-state column, or an error naming the change that needed it.
    pub(crate) fn require_to_column(
        &self,
        change: &Change,
        table: &QualifiedName,
        column: &str,
    ) -> Result<&'a Column, SqlError> {
        self.require_to_table(change, table)?
            .columns
            .iter()
            .find(|c| c.name == column)
            .ok_or_else(|| SqlError::MissingObject {
                change: describe(change),
                object: format!("column {table}.{column}"),
                side: "to",
            })
    }
}

fn find_table<'s>(state: &'s State, name: &QualifiedName) -> Option<&'s Table> {
    state
        .catalogs
        .iter()
        .filter(|c| c.name == name.catalog)
        .flat_map(|c| &c.schemas)
        .filter(|s| s.name == name.schema)
        .flat_map(|s| &s.tables)
        .find(|t| t.name == name.name)
}
