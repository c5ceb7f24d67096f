//! SQLite 3.35 or later.
//!
//! SQLite's `ALTER TABLE` can rename a table or a column and add or drop a
//! plain column, nothing more. Every other change — a column's type,
//! nullability, default or identity, a key or check added to or dropped from
//! an existing table, a new column it cannot append, column order — is made
//! by the table rebuild of <https://www.sqlite.org/lang_altertable.html#otheralter>:
//! create the table as the to state defines it under a temporary name, copy
//! the rows, drop the old table, rename the new one, create its indexes. A
//! plan rebuilds a table once however many changes hit it, and wraps the plan
//! in `PRAGMA foreign_keys = OFF` … `PRAGMA foreign_key_check` …
//! `PRAGMA foreign_keys = ON` (see [`crate::plan::Plan::transaction_range`]).
//!
//! A schema is an attached database file and the catalog is the connection,
//! so neither can be created, dropped or renamed by a plan. SQLite stores no
//! comments and no table properties. An identity column must be the table's
//! single-column `INTEGER PRIMARY KEY`. Foreign keys are declared inside
//! `CREATE TABLE`, so a new table's keys are created with it.

use super::common::{
    column_list, default_wrapped, fk_body, index_entries, is_plain_default, mentions, quote_string,
    quote_with, unsupported, TypeText,
};
use super::{Dialect, DialectKind, Rendering};
use crate::context::RenderContext;
use crate::describe::{target_table, Side};
use crate::error::SqlError;
use tidemark_model::{Change, Column, DataType, ForeignKey, Index, QualifiedName, Table};

/// SQLite 3.35 or later.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

/// The prefix of the temporary name a rebuilt table is created under.
const REBUILD_PREFIX: &str = "tidemark_new_";

fn is_main(schema: &str) -> bool {
    schema.eq_ignore_ascii_case("main")
}

impl Sqlite {
    fn column_def(&self, c: &Column, inline_pk: bool) -> String {
        let ty = if inline_pk {
            // Only a column declared exactly INTEGER aliases the rowid.
            "INTEGER".to_string()
        } else {
            self.native_type(&c.data_type)
        };
        let mut sql = format!("{} {ty}", self.quote_ident(&c.name));
        if inline_pk {
            sql.push_str(" PRIMARY KEY AUTOINCREMENT");
        }
        if !c.nullable {
            sql.push_str(" NOT NULL");
        }
        if let (Some(default), false) = (&c.default, c.identity) {
            sql.push_str(" DEFAULT ");
            sql.push_str(&default_wrapped(DialectKind::Sqlite, default));
        }
        sql
    }

    /// An index name, qualified by the schema when not `main`: in SQLite the
    /// schema goes on the index, and the table in `ON` stays bare.
    fn index_name(&self, schema: &str, index: &str) -> String {
        if is_main(schema) {
            self.quote_ident(index)
        } else {
            format!("{}.{}", self.quote_ident(schema), self.quote_ident(index))
        }
    }

    fn create_index(&self, table: &QualifiedName, t: Option<&Table>, index: &Index) -> String {
        format!(
            "CREATE {}INDEX {} ON {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            self.index_name(&table.schema, &index.name),
            self.quote_ident(&table.name),
            index_entries(self, t, &index.columns)
        )
    }

    /// `CREATE TABLE` for a table as defined, with the given foreign keys.
    fn create_table(
        &self,
        change: &Change,
        name: &QualifiedName,
        t: &Table,
        foreign_keys: &[&ForeignKey],
    ) -> Result<String, SqlError> {
        let pk_columns = t.primary_key.as_ref().map(|pk| pk.columns.as_slice());
        let mut inline = None;
        for c in t.columns.iter().filter(|c| c.identity) {
            if pk_columns != Some(std::slice::from_ref(&c.name)) {
                return Err(unsupported(
                    self.kind(),
                    change,
                    format!(
                        "SQLite generates values only for the single-column INTEGER PRIMARY KEY; {} is not that column",
                        c.name
                    ),
                ));
            }
            inline = Some(c.name.as_str());
        }
        let mut lines: Vec<String> = t
            .columns
            .iter()
            .map(|c| self.column_def(c, inline == Some(c.name.as_str())))
            .collect();
        if let (Some(pk), None) = (&t.primary_key, inline) {
            let constraint = if pk.name.is_empty() {
                String::new()
            } else {
                format!("CONSTRAINT {} ", self.quote_ident(&pk.name))
            };
            lines.push(format!(
                "{constraint}PRIMARY KEY ({})",
                column_list(self, &pk.columns)
            ));
        }
        for u in &t.uniques {
            lines.push(format!(
                "CONSTRAINT {} UNIQUE ({})",
                self.quote_ident(&u.name),
                column_list(self, &u.columns)
            ));
        }
        for c in &t.checks {
            lines.push(format!(
                "CONSTRAINT {} CHECK ({})",
                self.quote_ident(&c.name),
                c.expression
            ));
        }
        for fk in foreign_keys {
            // The parent of a key is always in the same database file.
            let parent = self.quote_ident(&fk.references.table);
            lines.push(format!(
                "CONSTRAINT {} {}",
                self.quote_ident(&fk.name),
                fk_body(self, fk, &parent)
            ));
        }
        Ok(format!(
            "CREATE TABLE {} (\n  {}\n)",
            self.qualified_name(name),
            lines.join(",\n  ")
        ))
    }

    fn alter(&self, table: &QualifiedName, rest: impl AsRef<str>) -> String {
        format!(
            "ALTER TABLE {} {}",
            self.qualified_name(table),
            rest.as_ref()
        )
    }

    /// Whether a table (to-state name) is created by this change list.
    fn created(&self, table: &QualifiedName, ctx: &RenderContext<'_>) -> bool {
        ctx.changes()
            .iter()
            .any(|c| matches!(c, Change::AddTable { table: t, .. } if t == table))
    }

    /// Whether a table (from-state name) is dropped by this change list.
    fn dropped(&self, table: &QualifiedName, ctx: &RenderContext<'_>) -> bool {
        ctx.changes()
            .iter()
            .any(|c| matches!(c, Change::DropTable { table: t, .. } if t == table))
    }

    /// Whether `ALTER TABLE … ADD COLUMN` can add this column as the to state
    /// wants it: appended, no key, and a constant default when NOT NULL.
    fn can_append(
        &self,
        table: &QualifiedName,
        column: &Column,
        position: usize,
        ctx: &RenderContext<'_>,
    ) -> bool {
        let Some(t) = ctx.to_table(table) else {
            return false;
        };
        let added = |name: &str| {
            ctx.changes().iter().any(|c| {
                matches!(c, Change::AddColumn { table: tt, column: cc, .. } if tt == table && cc.name == name)
            })
        };
        let appended = t.columns.iter().skip(position + 1).all(|c| added(&c.name));
        let keyed = t
            .primary_key
            .iter()
            .any(|pk| pk.columns.contains(&column.name))
            || t.uniques.iter().any(|u| u.columns.contains(&column.name));
        let default_ok = match &column.default {
            None => column.nullable,
            Some(d) => {
                let upper = d.trim().to_ascii_uppercase();
                is_plain_default(DialectKind::Sqlite, d) && !upper.starts_with("CURRENT_")
            }
        };
        appended && !keyed && !column.identity && default_ok
    }

    /// The to-state name of the table a change would have SQLite rebuild,
    /// if it cannot be done with `ALTER TABLE`.
    pub(crate) fn needs_rebuild(
        &self,
        change: &Change,
        ctx: &RenderContext<'_>,
    ) -> Option<QualifiedName> {
        let (table, side) = target_table(change)?;
        let to_name = match side {
            Side::To => table.clone(),
            Side::From => ctx.renames().table_forward(table),
        };
        match change {
            Change::ChangeColumnType { .. }
            | Change::SetColumnNullable { .. }
            | Change::SetColumnDefault { .. }
            | Change::SetColumnIdentity { .. }
            | Change::ReorderColumns { .. } => Some(to_name),
            Change::AddPrimaryKey { .. }
            | Change::AddUnique { .. }
            | Change::AddCheck { .. }
            | Change::AddForeignKey { .. } => (!self.created(table, ctx)).then_some(to_name),
            Change::DropPrimaryKey { .. }
            | Change::DropUnique { .. }
            | Change::DropCheck { .. }
            | Change::DropForeignKey { .. } => (!self.dropped(table, ctx)).then_some(to_name),
            Change::DropColumn { table, column } => {
                let t = ctx.from_table(table)?;
                let name = &column.name;
                let constrained = t.primary_key.iter().any(|pk| pk.columns.contains(name))
                    || t.uniques.iter().any(|u| u.columns.contains(name))
                    || t.foreign_keys.iter().any(|f| f.columns.contains(name))
                    || t.checks
                        .iter()
                        .any(|c| mentions(self.kind(), &c.expression, name));
                constrained.then_some(to_name)
            }
            Change::AddColumn {
                table,
                column,
                position,
            } => (!self.can_append(table, column, *position, ctx)).then_some(to_name),
            _ => None,
        }
    }

    /// Whether a rebuild of its table does this change too.
    pub(crate) fn absorbed_by_rebuild(change: &Change) -> bool {
        !matches!(
            change,
            Change::AddTable { .. }
                | Change::DropTable { .. }
                | Change::RenameTable { .. }
                // Renaming in place also fixes the keys of other tables that
                // point at the column; a rebuild would leave them dangling.
                | Change::RenameColumn { .. }
                | Change::SetTableComment { .. }
                | Change::SetColumnComment { .. }
                | Change::SetTableProperty { .. }
                | Change::UnsetTableProperty { .. }
        )
    }

    /// The statements that rebuild a table (to-state name) into its to-state
    /// definition, keeping the rows of every column it keeps. Runs after the
    /// plan's renames, so the old table already has its to-state name and
    /// column names.
    pub(crate) fn rebuild(
        &self,
        change: &Change,
        table: &QualifiedName,
        ctx: &RenderContext<'_>,
    ) -> Result<Vec<String>, SqlError> {
        let new = ctx.require_to_table(change, table)?;
        let old = ctx
            .old_table(table)
            .ok_or_else(|| SqlError::MissingObject {
                change: crate::describe::describe(change),
                object: format!("table {}", ctx.renames().table_back(table)),
                side: "from",
            })?;
        // A dropped column is not kept, even when a renamed one takes its name.
        let from_name = ctx.renames().table_back(table);
        let dropped = |name: &str| {
            ctx.changes().iter().any(|c| {
                matches!(c, Change::DropColumn { table: t, column } if *t == from_name && column.name == name)
            })
        };
        let kept: Vec<String> = old
            .columns
            .iter()
            .filter(|c| !dropped(&c.name))
            .map(|c| ctx.renames().column_forward(table, &c.name))
            .filter(|name| new.columns.iter().any(|c| &c.name == name))
            .collect();
        let temp = QualifiedName {
            name: format!("{REBUILD_PREFIX}{}", table.name),
            ..table.clone()
        };
        let fks: Vec<&ForeignKey> = new.foreign_keys.iter().collect();
        // With no column kept, the rowids carry the rows over and every
        // column takes its default, as ALTER TABLE would have done.
        let columns = if kept.is_empty() {
            "rowid".to_string()
        } else {
            column_list(self, &kept)
        };
        let mut sql = vec![
            self.create_table(change, &temp, new, &fks)?,
            format!(
                "INSERT INTO {} ({columns}) SELECT {columns} FROM {}",
                self.qualified_name(&temp),
                self.qualified_name(table)
            ),
            format!("DROP TABLE {}", self.qualified_name(table)),
            self.alter(
                &temp,
                format!("RENAME TO {}", self.quote_ident(&table.name)),
            ),
        ];
        for index in &new.indexes {
            sql.push(self.create_index(table, Some(new), index));
        }
        Ok(sql)
    }
}

impl Dialect for Sqlite {
    fn kind(&self) -> DialectKind {
        DialectKind::Sqlite
    }

    fn quote_ident(&self, name: &str) -> String {
        quote_with(name, '"', '"')
    }

    fn qualified_name(&self, name: &QualifiedName) -> String {
        if is_main(&name.schema) {
            self.quote_ident(&name.name)
        } else {
            format!(
                "{}.{}",
                self.quote_ident(&name.schema),
                self.quote_ident(&name.name)
            )
        }
    }

    fn quote_literal(&self, value: &str) -> String {
        quote_string(value, false)
    }

    fn native_type(&self, data_type: &DataType) -> String {
        // SQLite keeps the declared type text as written and derives an
        // affinity from it, so the names can stay descriptive.
        match data_type {
            DataType::Boolean => "BOOLEAN".into(),
            DataType::SmallInt => "SMALLINT".into(),
            DataType::Integer => "INTEGER".into(),
            DataType::BigInt => "BIGINT".into(),
            DataType::Decimal {
                precision: Some(p),
                scale: Some(s),
            } => format!("NUMERIC({p},{s})"),
            DataType::Decimal {
                precision: Some(p),
                scale: None,
            } => format!("NUMERIC({p})"),
            DataType::Decimal {
                precision: None, ..
            } => "NUMERIC".into(),
            DataType::Real => "REAL".into(),
            DataType::Double => "DOUBLE".into(),
            DataType::Varchar { length: Some(n) } => format!("VARCHAR({n})"),
            DataType::Varchar { length: None } | DataType::Text => "TEXT".into(),
            DataType::Char { length } => format!("CHAR({length})"),
            DataType::Binary => "BLOB".into(),
            DataType::Date => "DATE".into(),
            DataType::Time => "TIME".into(),
            DataType::Timestamp => "TIMESTAMP".into(),
            DataType::TimestampTz => "TIMESTAMPTZ".into(),
            DataType::Uuid => "UUID".into(),
            DataType::Json => "JSON".into(),
            DataType::Raw { sql } => sql.clone(),
        }
    }

    fn parse_native_type(&self, sql: &str) -> DataType {
        let t = TypeText::parse(sql);
        let raw = || DataType::Raw {
            sql: sql.trim().to_string(),
        };
        if !t.suffix.is_empty() {
            return raw();
        }
        let no_args = t.args.is_empty();
        match t.base.as_str() {
            "boolean" | "bool" if no_args => DataType::Boolean,
            "smallint" | "int2" if no_args => DataType::SmallInt,
            "integer" | "int" | "int4" | "mediumint" if no_args => DataType::Integer,
            "bigint" | "int8" if no_args => DataType::BigInt,
            "numeric" | "decimal" => match super::common::decimal_args(&t) {
                Some((precision, scale)) => DataType::Decimal { precision, scale },
                None => raw(),
            },
            "real" | "float" | "float4" if no_args => DataType::Real,
            "double" | "double precision" | "float8" if no_args => DataType::Double,
            "varchar" | "character varying" | "nvarchar" | "varying character" => match t.one() {
                Some(n) => DataType::Varchar { length: Some(n) },
                None if no_args => DataType::Text,
                None => raw(),
            },
            "char" | "character" | "nchar" => match t.one() {
                Some(n) => DataType::Char { length: n },
                None => raw(),
            },
            "text" | "clob" if no_args => DataType::Text,
            "blob" if no_args => DataType::Binary,
            "date" if no_args => DataType::Date,
            "time" if no_args => DataType::Time,
            "timestamp" | "datetime" if no_args => DataType::Timestamp,
            "timestamptz" if no_args => DataType::TimestampTz,
            "uuid" if no_args => DataType::Uuid,
            "json" if no_args => DataType::Json,
            _ => raw(),
        }
    }

    fn render_change(
        &self,
        change: &Change,
        ctx: &RenderContext<'_>,
    ) -> Result<Rendering, SqlError> {
        let kind = self.kind();
        if let Some(table) = self.needs_rebuild(change, ctx) {
            return Ok(Rendering::sql(self.rebuild(change, &table, ctx)?));
        }
        let r = match change {
            Change::AddCatalog { .. }
            | Change::DropCatalog { .. }
            | Change::RenameCatalog { .. }
            | Change::AddSchema { .. }
            | Change::DropSchema { .. }
            | Change::RenameSchema { .. } => {
                return Err(unsupported(
                    kind,
                    change,
                    "SQLite schemas are attached database files; attach, detach or rename them outside the migration",
                ))
            }
            Change::SetSchemaComment { .. }
            | Change::SetTableComment { .. }
            | Change::SetColumnComment { .. } => {
                Rendering::note("SQLite stores no comments; the comment is kept in the project only")
            }
            Change::SetTableProperty { .. } | Change::UnsetTableProperty { .. } => {
                Rendering::note("SQLite has no table properties; the property is kept in the project only")
            }
            Change::AddTable { table, definition } => {
                let fks: Vec<&ForeignKey> = ctx
                    .changes()
                    .iter()
                    .filter_map(|c| match c {
                        Change::AddForeignKey {
                            table: t,
                            foreign_key,
                        } if t == table => Some(foreign_key),
                        _ => None,
                    })
                    .collect();
                Rendering::sql([self.create_table(change, table, definition, &fks)?])
            }
            Change::AddForeignKey { table, .. } => {
                // needs_rebuild said no: the table is new.
                Rendering::note(format!(
                    "created with table {table}: SQLite declares foreign keys in CREATE TABLE"
                ))
            }
            Change::DropPrimaryKey { table, .. }
            | Change::DropUnique { table, .. }
            | Change::DropCheck { table, .. }
            | Change::DropForeignKey { table, .. } => {
                Rendering::note(format!("dropped with table {table}"))
            }
            Change::DropTable { table, .. } => {
                Rendering::sql([format!("DROP TABLE {}", self.qualified_name(table))])
            }
            Change::RenameTable { from, to } => {
                Rendering::sql([self.alter(from, format!("RENAME TO {}", self.quote_ident(to)))])
            }
            Change::AddColumn { table, column, .. } => Rendering::sql([self.alter(
                table,
                format!("ADD COLUMN {}", self.column_def(column, false)),
            )]),
            Change::DropColumn { table, column } => Rendering::sql([self.alter(
                table,
                format!("DROP COLUMN {}", self.quote_ident(&column.name)),
            )]),
            Change::RenameColumn { table, from, to } => Rendering::sql([self.alter(
                table,
                format!(
                    "RENAME COLUMN {} TO {}",
                    self.quote_ident(from),
                    self.quote_ident(to)
                ),
            )]),
            Change::AddIndex { table, index } => {
                Rendering::sql([self.create_index(table, ctx.to_table(table), index)])
            }
            Change::DropIndex { table, index } => Rendering::sql([format!(
                "DROP INDEX {}",
                self.index_name(&table.schema, &index.name)
            )]),
            // Only reached for a table this plan creates: there is nothing
            // to rebuild, and the definition is what CREATE TABLE takes.
            Change::AddPrimaryKey { .. } | Change::AddUnique { .. } | Change::AddCheck { .. } => {
                return Err(unsupported(
                    kind,
                    change,
                    "SQLite declares keys and checks in CREATE TABLE; make it part of the new table's definition",
                ))
            }
            // Always rebuilt above.
            Change::ChangeColumnType { .. }
            | Change::SetColumnNullable { .. }
            | Change::SetColumnDefault { .. }
            | Change::SetColumnIdentity { .. }
            | Change::ReorderColumns { .. } => Rendering::default(),
        };
        Ok(r)
    }
}
