//! Microsoft SQL Server 2016 or later.
//!
//! Each statement is meant to run as its own batch (`CREATE SCHEMA` must start
//! one, and a few statements declare a variable). Renames go through
//! `sp_rename`; comments are `MS_Description` extended properties. Defaults
//! are named constraints: Tidemark names the ones it creates `DF_table_column`
//! and, to drop one, looks the current name up in `sys.default_constraints`,
//! so defaults created by other tools (with generated names) are handled too.
//! SQL Server cannot add or remove `IDENTITY` on an existing column, reorder
//! columns, or rename schemas; it has no table properties.

use super::common::{
    column_list, fk_body, index_entries, quote_with, referenced_table, unsupported, TypeText,
};
use super::{Dialect, DialectKind, Rendering};
use crate::context::RenderContext;
use crate::error::SqlError;
use tidemark_model::{Change, Column, DataType, FkAction, ForeignKey, QualifiedName, Table};

/// SQL Server 2016 or later.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqlServer;

/// Where a comment lives: schema, table or column.
enum CommentTarget<'a> {
    Schema(&'a str),
    Table(&'a QualifiedName),
    Column(&'a QualifiedName, &'a str),
}

impl SqlServer {
    fn default_name(&self, table: &str, column: &str) -> String {
        format!("DF_{table}_{column}")
    }

    fn column_def(&self, table: &str, c: &Column) -> String {
        let mut sql = format!(
            "{} {}",
            self.quote_ident(&c.name),
            self.native_type(&c.data_type)
        );
        if c.identity {
            sql.push_str(" IDENTITY(1,1)");
        }
        sql.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if let (Some(default), false) = (&c.default, c.identity) {
            sql.push_str(&format!(
                " CONSTRAINT {} DEFAULT {default}",
                self.quote_ident(&self.default_name(table, &c.name))
            ));
        }
        sql
    }

    fn levels(&self, target: &CommentTarget<'_>) -> String {
        let lit = |s: &str| self.quote_literal(s);
        match target {
            CommentTarget::Schema(s) => {
                format!("@level0type = N'SCHEMA', @level0name = {}", lit(s))
            }
            CommentTarget::Table(t) => format!(
                "@level0type = N'SCHEMA', @level0name = {}, @level1type = N'TABLE', @level1name = {}",
                lit(&t.schema),
                lit(&t.name)
            ),
            CommentTarget::Column(t, c) => format!(
                "@level0type = N'SCHEMA', @level0name = {}, @level1type = N'TABLE', @level1name = {}, @level2type = N'COLUMN', @level2name = {}",
                lit(&t.schema),
                lit(&t.name),
                lit(c)
            ),
        }
    }

    /// The extended-property call that moves a comment from `from` to `to`.
    fn comment(
        &self,
        target: CommentTarget<'_>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Option<String> {
        let levels = self.levels(&target);
        match (from, to) {
            (None, None) => None,
            (Some(_), None) => Some(format!(
                "EXEC sp_dropextendedproperty @name = N'MS_Description', {levels}"
            )),
            (None, Some(v)) => Some(format!(
                "EXEC sp_addextendedproperty @name = N'MS_Description', @value = {}, {levels}",
                self.quote_literal(v)
            )),
            (Some(_), Some(v)) => Some(format!(
                "EXEC sp_updateextendedproperty @name = N'MS_Description', @value = {}, {levels}",
                self.quote_literal(v)
            )),
        }
    }

    fn create_table(&self, name: &QualifiedName, t: &Table) -> Vec<String> {
        let mut lines: Vec<String> = t
            .columns
            .iter()
            .map(|c| self.column_def(&name.name, c))
            .collect();
        if let Some(pk) = &t.primary_key {
            lines.push(format!(
                "CONSTRAINT {} PRIMARY KEY ({})",
                self.quote_ident(&pk.name),
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
        let mut out = vec![format!(
            "CREATE TABLE {} (\n  {}\n)",
            self.qualified_name(name),
            lines.join(",\n  ")
        )];
        out.extend(self.comment(CommentTarget::Table(name), None, t.comment.as_deref()));
        for c in &t.columns {
            out.extend(self.comment(
                CommentTarget::Column(name, &c.name),
                None,
                c.comment.as_deref(),
            ));
        }
        out
    }

    fn alter(&self, table: &QualifiedName, rest: impl AsRef<str>) -> String {
        format!(
            "ALTER TABLE {} {}",
            self.qualified_name(table),
            rest.as_ref()
        )
    }

    /// Drops whatever default constraint the column has, under any name.
    fn drop_default(&self, table: &QualifiedName, column: &str) -> String {
        let name = self.qualified_name(table);
        format!(
            "DECLARE @df sysname = (SELECT d.name FROM sys.default_constraints AS d JOIN sys.columns AS c ON c.object_id = d.parent_object_id AND c.column_id = d.parent_column_id WHERE d.parent_object_id = OBJECT_ID({}) AND c.name = {}); IF @df IS NOT NULL EXEC ({} + QUOTENAME(@df))",
            self.quote_literal(&name),
            self.quote_literal(column),
            self.quote_literal(&format!("ALTER TABLE {name} DROP CONSTRAINT ")),
        )
    }

    fn add_default(&self, table: &QualifiedName, column: &str, default: &str) -> String {
        self.alter(
            table,
            format!(
                "ADD CONSTRAINT {} DEFAULT {default} FOR {}",
                self.quote_ident(&self.default_name(&table.name, column)),
                self.quote_ident(column)
            ),
        )
    }

    /// The statements for all type, nullability and default changes of one
    /// column, which SQL Server spreads over `ALTER COLUMN` (restating the
    /// type and nullability) and the default constraint. A column's type
    /// cannot change while a default is bound to it, so the default is
    /// dropped first and added back.
    pub(crate) fn column_alter(
        &self,
        changes: &[&Change],
        table: &QualifiedName,
        column: &str,
        ctx: &RenderContext<'_>,
    ) -> Result<Vec<String>, SqlError> {
        let first = changes
            .first()
            .copied()
            .ok_or_else(|| SqlError::MissingObject {
                change: "alter column".into(),
                object: format!("column {table}.{column}"),
                side: "to",
            })?;
        let to = ctx.require_to_column(first, table, column)?;
        let old_default = changes
            .iter()
            .find_map(|c| match c {
                Change::SetColumnDefault { from, .. } => Some(from.clone()),
                _ => None,
            })
            .unwrap_or_else(|| {
                let old_name = ctx.renames().column_back(table, column);
                ctx.old_table(table)
                    .and_then(|t| t.columns.iter().find(|c| c.name == old_name))
                    .map_or_else(|| to.default.clone(), |c| c.default.clone())
            });
        let type_changed = changes
            .iter()
            .any(|c| matches!(c, Change::ChangeColumnType { .. }));
        let null_changed = changes
            .iter()
            .any(|c| matches!(c, Change::SetColumnNullable { .. }));
        let default_changed = changes
            .iter()
            .any(|c| matches!(c, Change::SetColumnDefault { .. }));
        let rebind = type_changed || default_changed;
        let mut sql = Vec::new();
        if rebind && old_default.is_some() {
            sql.push(self.drop_default(table, column));
        }
        if type_changed || null_changed {
            sql.push(self.alter(
                table,
                format!(
                    "ALTER COLUMN {} {} {}",
                    self.quote_ident(column),
                    self.native_type(&to.data_type),
                    if to.nullable { "NULL" } else { "NOT NULL" }
                ),
            ));
        }
        if rebind && !to.identity {
            if let Some(default) = &to.default {
                sql.push(self.add_default(table, column, default));
            }
        }
        Ok(sql)
    }

    fn fk(&self, fk: &ForeignKey) -> ForeignKey {
        // SQL Server checks keys immediately, so RESTRICT is NO ACTION there.
        let plain = |a: FkAction| {
            if a == FkAction::Restrict {
                FkAction::NoAction
            } else {
                a
            }
        };
        ForeignKey {
            on_delete: plain(fk.on_delete),
            on_update: plain(fk.on_update),
            ..fk.clone()
        }
    }
}

impl Dialect for SqlServer {
    fn kind(&self) -> DialectKind {
        DialectKind::SqlServer
    }

    fn quote_ident(&self, name: &str) -> String {
        quote_with(name, '[', ']')
    }

    fn quote_literal(&self, value: &str) -> String {
        // N'…' keeps characters outside the database's code page.
        format!("N{}", super::common::quote_string(value, false))
    }

    fn native_type(&self, data_type: &DataType) -> String {
        match data_type {
            DataType::Boolean => "bit".into(),
            DataType::SmallInt => "smallint".into(),
            DataType::Integer => "int".into(),
            DataType::BigInt => "bigint".into(),
            DataType::Decimal {
                precision: Some(p),
                scale: Some(s),
            } => format!("decimal({p},{s})"),
            DataType::Decimal {
                precision: Some(p),
                scale: None,
            } => format!("decimal({p})"),
            // A bare DECIMAL is decimal(18,0); an unconstrained numeric gets
            // the widest precision and keeps ten fraction digits.
            DataType::Decimal {
                precision: None, ..
            } => "decimal(38,10)".into(),
            DataType::Real => "real".into(),
            DataType::Double => "float".into(),
            // nvarchar: Unicode regardless of the database collation.
            DataType::Varchar { length: Some(n) } if *n <= 4000 => format!("nvarchar({n})"),
            DataType::Varchar { .. } | DataType::Text | DataType::Json => "nvarchar(max)".into(),
            DataType::Char { length } if *length <= 4000 => format!("nchar({length})"),
            DataType::Char { .. } => "nvarchar(max)".into(),
            DataType::Binary => "varbinary(max)".into(),
            DataType::Date => "date".into(),
            DataType::Time => "time".into(),
            DataType::Timestamp => "datetime2".into(),
            DataType::TimestampTz => "datetimeoffset".into(),
            DataType::Uuid => "uniqueidentifier".into(),
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
        // SQL Server reports the default fractional precision (7) explicitly.
        let default_precision = no_args || t.one() == Some(7);
        let max = t.args.len() == 1 && t.args[0] == "max";
        match t.base.as_str() {
            "bit" if no_args => DataType::Boolean,
            "smallint" if no_args => DataType::SmallInt,
            "int" | "integer" if no_args => DataType::Integer,
            "bigint" if no_args => DataType::BigInt,
            "decimal" | "numeric" | "dec" => match super::common::decimal_args(&t) {
                Some((None, None)) => DataType::Decimal {
                    precision: Some(18),
                    scale: Some(0),
                },
                Some((precision, scale)) => DataType::Decimal { precision, scale },
                None => raw(),
            },
            "real" if no_args => DataType::Real,
            "float" if no_args => DataType::Double,
            "float" => match t.one() {
                Some(p) if p <= 24 => DataType::Real,
                Some(_) => DataType::Double,
                None => raw(),
            },
            "nvarchar" | "national character varying" if max => DataType::Text,
            "nvarchar" | "national character varying" => match t.one() {
                Some(n) => DataType::Varchar { length: Some(n) },
                None => raw(),
            },
            "nchar" | "national character" => match (no_args, t.one()) {
                (true, _) => DataType::Char { length: 1 },
                (false, Some(n)) => DataType::Char { length: n },
                _ => raw(),
            },
            "varbinary" if max => DataType::Binary,
            "date" if no_args => DataType::Date,
            "time" if default_precision => DataType::Time,
            "datetime2" if default_precision => DataType::Timestamp,
            "datetimeoffset" if default_precision => DataType::TimestampTz,
            "uniqueidentifier" if no_args => DataType::Uuid,
            // varchar/char/text are code-page strings, datetime and
            // smalldatetime have their own ranges: kept verbatim.
            _ => raw(),
        }
    }

    fn render_change(
        &self,
        change: &Change,
        ctx: &RenderContext<'_>,
    ) -> Result<Rendering, SqlError> {
        let kind = self.kind();
        let r = match change {
            Change::AddCatalog { .. } | Change::DropCatalog { .. } | Change::RenameCatalog { .. } => {
                return Err(unsupported(
                    kind,
                    change,
                    "a plan runs inside one database; create, drop or rename the database outside the migration",
                ))
            }
            Change::AddSchema { name, comment, .. } => {
                let mut sql = vec![format!("CREATE SCHEMA {}", self.quote_ident(name))];
                sql.extend(self.comment(CommentTarget::Schema(name), None, comment.as_deref()));
                Rendering::sql(sql)
            }
            Change::DropSchema { name, .. } => {
                Rendering::sql([format!("DROP SCHEMA {}", self.quote_ident(name))])
            }
            Change::RenameSchema { .. } => {
                return Err(unsupported(
                    kind,
                    change,
                    "SQL Server cannot rename a schema; create the new schema and move each table with ALTER SCHEMA … TRANSFER",
                ))
            }
            Change::SetSchemaComment { name, from, to, .. } => Rendering::sql(self.comment(
                CommentTarget::Schema(name),
                from.as_deref(),
                to.as_deref(),
            )),
            Change::AddTable { table, definition } => {
                Rendering::sql(self.create_table(table, definition))
            }
            Change::DropTable { table, .. } => {
                Rendering::sql([format!("DROP TABLE {}", self.qualified_name(table))])
            }
            Change::RenameTable { from, to } => Rendering::sql([format!(
                // The new name is taken literally: brackets would become part of it.
                "EXEC sp_rename {}, {}",
                self.quote_literal(&self.qualified_name(from)),
                self.quote_literal(to)
            )]),
            Change::SetTableComment { table, from, to } => Rendering::sql(self.comment(
                CommentTarget::Table(table),
                from.as_deref(),
                to.as_deref(),
            )),
            Change::SetTableProperty { .. } | Change::UnsetTableProperty { .. } => {
                Rendering::note("SQL Server has no table properties; the property is kept in the project only")
            }
            Change::AddColumn { table, column, .. } => {
                // SQL Server always appends a new column.
                let mut sql = vec![self.alter(
                    table,
                    format!("ADD {}", self.column_def(&table.name, column)),
                )];
                sql.extend(self.comment(
                    CommentTarget::Column(table, &column.name),
                    None,
                    column.comment.as_deref(),
                ));
                Rendering::sql(sql)
            }
            Change::DropColumn { table, column } => {
                let mut sql = Vec::new();
                if column.default.is_some() {
                    // A bound default blocks DROP COLUMN.
                    sql.push(self.drop_default(table, &column.name));
                }
                sql.push(self.alter(
                    table,
                    format!("DROP COLUMN {}", self.quote_ident(&column.name)),
                ));
                Rendering::sql(sql)
            }
            Change::RenameColumn { table, from, to } => Rendering::sql([format!(
                "EXEC sp_rename {}, {}, N'COLUMN'",
                self.quote_literal(&format!(
                    "{}.{}",
                    self.qualified_name(table),
                    self.quote_ident(from)
                )),
                self.quote_literal(to)
            )]),
            Change::ChangeColumnType { table, column, .. }
            | Change::SetColumnNullable { table, column, .. }
            | Change::SetColumnDefault { table, column, .. } => {
                Rendering::sql(self.column_alter(&[change], table, column, ctx)?)
            }
            Change::SetColumnIdentity { .. } => {
                return Err(unsupported(
                    kind,
                    change,
                    "SQL Server cannot add or remove IDENTITY on an existing column; add a new column and copy the values instead",
                ))
            }
            Change::SetColumnComment {
                table,
                column,
                from,
                to,
            } => Rendering::sql(self.comment(
                CommentTarget::Column(table, column),
                from.as_deref(),
                to.as_deref(),
            )),
            Change::ReorderColumns { .. } => {
                Rendering::note("SQL Server cannot reorder columns in place; order kept")
            }
            Change::AddPrimaryKey { table, key } => Rendering::sql([self.alter(
                table,
                format!(
                    "ADD CONSTRAINT {} PRIMARY KEY ({})",
                    self.quote_ident(&key.name),
                    column_list(self, &key.columns)
                ),
            )]),
            Change::DropPrimaryKey { table, key } => Rendering::sql([self.alter(
                table,
                format!("DROP CONSTRAINT {}", self.quote_ident(&key.name)),
            )]),
            Change::AddUnique { table, constraint } => Rendering::sql([self.alter(
                table,
                format!(
                    "ADD CONSTRAINT {} UNIQUE ({})",
                    self.quote_ident(&constraint.name),
                    column_list(self, &constraint.columns)
                ),
            )]),
            Change::DropUnique { table, constraint } => Rendering::sql([self.alter(
                table,
                format!("DROP CONSTRAINT {}", self.quote_ident(&constraint.name)),
            )]),
            Change::AddIndex { table, index } => Rendering::sql([format!(
                "CREATE {}INDEX {} ON {} ({})",
                if index.unique { "UNIQUE " } else { "" },
                self.quote_ident(&index.name),
                self.qualified_name(table),
                index_entries(self, ctx.to_table(table), &index.columns)
            )]),
            Change::DropIndex { table, index } => Rendering::sql([format!(
                "DROP INDEX {} ON {}",
                self.quote_ident(&index.name),
                self.qualified_name(table)
            )]),
            Change::AddForeignKey { table, foreign_key } => {
                let referenced = self.qualified_name(&referenced_table(table, foreign_key));
                Rendering::sql([self.alter(
                    table,
                    format!(
                        "ADD CONSTRAINT {} {}",
                        self.quote_ident(&foreign_key.name),
                        fk_body(self, &self.fk(foreign_key), &referenced)
                    ),
                )])
            }
            Change::DropForeignKey { table, foreign_key } => Rendering::sql([self.alter(
                table,
                format!("DROP CONSTRAINT {}", self.quote_ident(&foreign_key.name)),
            )]),
            Change::AddCheck { table, check } => Rendering::sql([self.alter(
                table,
                format!(
                    "ADD CONSTRAINT {} CHECK ({})",
                    self.quote_ident(&check.name),
                    check.expression
                ),
            )]),
            Change::DropCheck { table, check } => Rendering::sql([self.alter(
                table,
                format!("DROP CONSTRAINT {}", self.quote_ident(&check.name)),
            )]),
        };
        Ok(r)
    }
}
