//! One-line, human descriptions of changes, shared by every front end.

use tidemark_model::Change;

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "(none)".into())
}

/// What a change does, in one line: `rename column public.customers.name → full_name`.
pub fn describe_change(change: &Change) -> String {
    match change {
        Change::AddCatalog { name } => format!("add catalog {name}"),
        Change::DropCatalog { name } => format!("drop catalog {name}"),
        Change::RenameCatalog { from, to } => format!("rename catalog {from} → {to}"),
        Change::AddSchema { name, .. } => format!("add schema {name}"),
        Change::DropSchema { name, .. } => format!("drop schema {name}"),
        Change::RenameSchema { from, to, .. } => format!("rename schema {from} → {to}"),
        Change::SetSchemaComment { name, from, to, .. } => {
            format!("comment on schema {name}: {} → {}", opt(from), opt(to))
        }
        Change::AddTable { table, definition } => {
            format!("add table {table} ({} columns)", definition.columns.len())
        }
        Change::DropTable { table, .. } => format!("drop table {table}"),
        Change::RenameTable { from, to } => format!("rename table {from} → {to}"),
        Change::SetTableComment { table, from, to } => {
            format!("comment on table {table}: {} → {}", opt(from), opt(to))
        }
        Change::SetTableProperty {
            table,
            key,
            from,
            to,
        } => {
            format!("set property {key} on {table}: {} → {to}", opt(from))
        }
        Change::UnsetTableProperty { table, key, .. } => format!("unset property {key} on {table}"),
        Change::AddColumn { table, column, .. } => format!(
            "add column {table}.{} {}{}",
            column.name,
            column.data_type,
            if column.nullable { "" } else { " not null" }
        ),
        Change::DropColumn { table, column } => format!("drop column {table}.{}", column.name),
        Change::RenameColumn { table, from, to } => {
            format!("rename column {table}.{from} → {to}")
        }
        Change::ChangeColumnType {
            table,
            column,
            from,
            to,
        } => format!("change type of {table}.{column}: {} → {}", from, to),
        Change::SetColumnNullable {
            table,
            column,
            nullable,
        } => format!(
            "{} {table}.{column}",
            if *nullable {
                "allow null in"
            } else {
                "set not null on"
            }
        ),
        Change::SetColumnDefault {
            table,
            column,
            from,
            to,
        } => format!("default of {table}.{column}: {} → {}", opt(from), opt(to)),
        Change::SetColumnIdentity {
            table,
            column,
            identity,
        } => format!(
            "{} identity on {table}.{column}",
            if *identity { "add" } else { "drop" }
        ),
        Change::SetColumnComment {
            table,
            column,
            from,
            to,
        } => format!("comment on {table}.{column}: {} → {}", opt(from), opt(to)),
        Change::ReorderColumns { table, to, .. } => {
            format!("reorder columns of {table}: {}", to.join(", "))
        }
        Change::AddPrimaryKey { table, key } => {
            format!("add primary key on {table} ({})", key.columns.join(", "))
        }
        Change::DropPrimaryKey { table, .. } => format!("drop primary key of {table}"),
        Change::AddUnique { table, constraint } => format!(
            "add unique {} on {table} ({})",
            constraint.name,
            constraint.columns.join(", ")
        ),
        Change::DropUnique { table, constraint } => {
            format!("drop unique {} on {table}", constraint.name)
        }
        Change::AddIndex { table, index } => format!(
            "add {}index {} on {table} ({})",
            if index.unique { "unique " } else { "" },
            index.name,
            index.columns.join(", ")
        ),
        Change::DropIndex { table, index } => format!("drop index {} on {table}", index.name),
        Change::AddForeignKey { table, foreign_key } => format!(
            "add foreign key {} on {table} ({}) → {}.{}",
            foreign_key.name,
            foreign_key.columns.join(", "),
            foreign_key.references.schema,
            foreign_key.references.table
        ),
        Change::DropForeignKey { table, foreign_key } => {
            format!("drop foreign key {} on {table}", foreign_key.name)
        }
        Change::AddCheck { table, check } => {
            format!("add check {} on {table}: {}", check.name, check.expression)
        }
        Change::DropCheck { table, check } => format!("drop check {} on {table}", check.name),
    }
}
