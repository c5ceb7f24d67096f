//! Short, human descriptions of changes for errors, notes and reports.

use tidemark_model::{Change, QualifiedName};

/// What a change does, as an action: `drop column public.orders.note`.
pub fn describe(change: &Change) -> String {
    let col = |t: &QualifiedName, c: &str| format!("{t}.{c}");
    match change {
        Change::AddCatalog { name } => format!("add catalog {name}"),
        Change::DropCatalog { name } => format!("drop catalog {name}"),
        Change::RenameCatalog { from, to } => format!("rename catalog {from} to {to}"),
        Change::AddSchema { name, .. } => format!("add schema {name}"),
        Change::DropSchema { name, .. } => format!("drop schema {name}"),
        Change::RenameSchema { from, to, .. } => format!("rename schema {from} to {to}"),
        Change::SetSchemaComment { name, .. } => format!("set the comment of schema {name}"),
        Change::AddTable { table, .. } => format!("add table {table}"),
        Change::DropTable { table, .. } => format!("drop table {table}"),
        Change::RenameTable { from, to } => format!("rename table {from} to {to}"),
        Change::SetTableComment { table, .. } => format!("set the comment of table {table}"),
        Change::SetTableProperty { table, key, .. } => {
            format!("set property {key} of table {table}")
        }
        Change::UnsetTableProperty { table, key, .. } => {
            format!("unset property {key} of table {table}")
        }
        Change::AddColumn { table, column, .. } => {
            format!("add column {}", col(table, &column.name))
        }
        Change::DropColumn { table, column } => format!("drop column {}", col(table, &column.name)),
        Change::RenameColumn { table, from, to } => {
            format!("rename column {} to {to}", col(table, from))
        }
        Change::ChangeColumnType {
            table, column, to, ..
        } => {
            format!("change the type of {} to {to}", col(table, column))
        }
        Change::SetColumnNullable {
            table,
            column,
            nullable,
        } => {
            let what = if *nullable { "nullable" } else { "NOT NULL" };
            format!("make {} {what}", col(table, column))
        }
        Change::SetColumnDefault { table, column, .. } => {
            format!("change the default of {}", col(table, column))
        }
        Change::SetColumnIdentity {
            table,
            column,
            identity,
        } => {
            let what = if *identity {
                "an identity column"
            } else {
                "a plain column"
            };
            format!("make {} {what}", col(table, column))
        }
        Change::SetColumnComment { table, column, .. } => {
            format!("set the comment of {}", col(table, column))
        }
        Change::ReorderColumns { table, .. } => format!("reorder the columns of {table}"),
        Change::AddPrimaryKey { table, key } => format!("add primary key {} to {table}", key.name),
        Change::DropPrimaryKey { table, key } => {
            format!("drop primary key {} of {table}", key.name)
        }
        Change::AddUnique { table, constraint } => {
            format!("add unique constraint {} to {table}", constraint.name)
        }
        Change::DropUnique { table, constraint } => {
            format!("drop unique constraint {} of {table}", constraint.name)
        }
        Change::AddIndex { table, index } => format!("add index {} to {table}", index.name),
        Change::DropIndex { table, index } => format!("drop index {} of {table}", index.name),
        Change::AddForeignKey { table, foreign_key } => {
            format!("add foreign key {} to {table}", foreign_key.name)
        }
        Change::DropForeignKey { table, foreign_key } => {
            format!("drop foreign key {} of {table}", foreign_key.name)
        }
        Change::AddCheck { table, check } => format!("add check {} to {table}", check.name),
        Change::DropCheck { table, check } => format!("drop check {} of {table}", check.name),
    }
}

/// The table a change touches and whether that name is a from-state name
/// (drops) rather than a to-state name. `None` for catalog and schema changes.
pub fn target_table(change: &Change) -> Option<(&QualifiedName, Side)> {
    use Side::{From, To};
    match change {
        Change::AddCatalog { .. }
        | Change::DropCatalog { .. }
        | Change::RenameCatalog { .. }
        | Change::AddSchema { .. }
        | Change::DropSchema { .. }
        | Change::RenameSchema { .. }
        | Change::SetSchemaComment { .. } => None,
        Change::DropTable { table, .. }
        | Change::DropColumn { table, .. }
        | Change::DropPrimaryKey { table, .. }
        | Change::DropUnique { table, .. }
        | Change::DropIndex { table, .. }
        | Change::DropForeignKey { table, .. }
        | Change::DropCheck { table, .. } => Some((table, From)),
        // A rename names the table before the rename, parents already renamed.
        Change::RenameTable { from, .. } => Some((from, From)),
        Change::AddTable { table, .. }
        | Change::SetTableComment { table, .. }
        | Change::SetTableProperty { table, .. }
        | Change::UnsetTableProperty { table, .. }
        | Change::AddColumn { table, .. }
        | Change::RenameColumn { table, .. }
        | Change::ChangeColumnType { table, .. }
        | Change::SetColumnNullable { table, .. }
        | Change::SetColumnDefault { table, .. }
        | Change::SetColumnIdentity { table, .. }
        | Change::SetColumnComment { table, .. }
        | Change::ReorderColumns { table, .. }
        | Change::AddPrimaryKey { table, .. }
        | Change::AddUnique { table, .. }
        | Change::AddIndex { table, .. }
        | Change::AddForeignKey { table, .. }
        | Change::AddCheck { table, .. } => Some((table, To)),
    }
}

/// Which state a name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The state a plan starts from.
    From,
    /// The state a plan arrives at.
    To,
}
