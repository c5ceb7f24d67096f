//! MySQL 8.0.19+ and MariaDB 10.5+.
//!
//! A schema is a MySQL database; the catalog is the server, so catalog
//! changes and schema renames are not expressible. Every change to one column
//! (type, nullability, default, identity, comment) is a `MODIFY COLUMN` with
//! the column's full to-state definition, because MySQL replaces the whole
//! definition; a plan emits one such statement per column. Columns are placed
//! with `FIRST` / `AFTER`. MySQL stores no schema comments and no table
//! properties.

use super::common::{
    column_list, default_wrapped, fk_body, index_entries, quote_string, quote_with,
    referenced_table, reorder_moves, unsupported, TypeText,
};
use super::{Dialect, DialectKind, Rendering};
use crate::context::RenderContext;
use crate::error::SqlError;
use tidemark_model::{Change, Column, DataType, ForeignKey, PrimaryKey, QualifiedName, Table};

/// MySQL 8.0.19+ / MariaDB 10.5+.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mysql;

impl Mysql {
    /// The full column definition, as `CREATE TABLE`, `ADD COLUMN` and
    /// `MODIFY COLUMN` take it.
    pub(crate) fn column_def(&self, c: &Column) -> String {
        let mut sql = format!(
            "{} {}",
            self.quote_ident(&c.name),
            self.native_type(&c.data_type)
        );
        sql.push_str(if c.nullable { " NULL" } else { " NOT NULL" });
        if let (Some(default), false) = (&c.default, c.identity) {
            sql.push_str(" DEFAULT ");
            // TEXT, BLOB and JSON columns take only expression defaults.
            let expression_only = matches!(
                self.parse_native_type(&self.native_type(&c.data_type)),
                DataType::Text | DataType::Binary | DataType::Json
            );
            if expression_only && !default.trim_start().starts_with('(') {
                sql.push_str(&format!("({default})"));
            } else {
                sql.push_str(&default_wrapped(DialectKind::Mysql, default));
            }
        }
        if c.identity {
            sql.push_str(" AUTO_INCREMENT");
        }
        if let Some(comment) = &c.comment {
            sql.push_str(" COMMENT ");
            sql.push_str(&self.quote_literal(comment));
        }
        sql
    }

    fn create_table(&self, name: &QualifiedName, t: &Table) -> String {
        let mut lines: Vec<String> = t.columns.iter().map(|c| self.column_def(c)).collect();
        if let Some(pk) = &t.primary_key {
            // MySQL names every primary key PRIMARY; a given name is ignored.
            lines.push(format!("PRIMARY KEY ({})", column_list(self, &pk.columns)));
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
        let mut sql = format!(
            "CREATE TABLE {} (\n  {}\n)",
            self.qualified_name(name),
            lines.join(",\n  ")
        );
        if let Some(comment) = &t.comment {
            sql.push_str(" COMMENT = ");
            sql.push_str(&self.quote_literal(comment));
        }
        sql
    }

    fn alter(&self, table: &QualifiedName, rest: impl AsRef<str>) -> String {
        format!(
            "ALTER TABLE {} {}",
            self.qualified_name(table),
            rest.as_ref()
        )
    }

    /// `FIRST`, `AFTER prev`, or nothing when the column goes last anyway.
    fn placement(&self, table: Option<&Table>, position: usize) -> String {
        let Some(t) = table else {
            return String::new();
        };
        if position + 1 >= t.columns.len() {
            String::new()
        } else if position == 0 {
            " FIRST".to_string()
        } else {
            format!(" AFTER {}", self.quote_ident(&t.columns[position - 1].name))
        }
    }

    /// Whether MySQL made an index of its own for a foreign key, named after
    /// it, which `DROP FOREIGN KEY` leaves behind: it does when no key or
    /// index of the table starts with the key's columns. Foreign keys whose
    /// columns nest (one list starts with the other) share one index, kept
    /// or renamed by rules that differ between MySQL and MariaDB, so its
    /// name is not known and it is left alone.
    fn own_index(&self, table: Option<&Table>, fk: &ForeignKey) -> bool {
        let Some(t) = table else {
            return false;
        };
        let covers = |cols: &[String]| cols.starts_with(&fk.columns);
        let covered = t.primary_key.iter().any(|k| covers(&k.columns))
            || t.uniques.iter().any(|u| covers(&u.columns))
            || t.indexes.iter().any(|i| covers(&i.columns));
        let shared = t.foreign_keys.iter().any(|other| {
            other.name != fk.name
                && (covers(&other.columns) || fk.columns.starts_with(&other.columns))
        });
        !covered && !shared
    }

    /// The primary key a plan adds to a table (to-state name) when that key
    /// is exactly a new AUTO_INCREMENT column of the plan: MySQL wants such a
    /// column to be a key as it is added, so the key goes in the same
    /// statement (which also numbers the existing rows).
    fn key_of_new_identity<'c>(
        &self,
        table: &QualifiedName,
        column: &str,
        ctx: &RenderContext<'c>,
    ) -> Option<&'c PrimaryKey> {
        let new_identity = ctx.changes().iter().any(|c| {
            matches!(c, Change::AddColumn { table: t, column: col, .. }
                if t == table && col.name == column && col.identity)
        });
        ctx.changes().iter().find_map(|c| match c {
            Change::AddPrimaryKey { table: t, key }
                if new_identity && t == table && key.columns == [column] =>
            {
                Some(key)
            }
            _ => None,
        })
    }

    /// The from-state AUTO_INCREMENT column under a primary key (from-state
    /// table name) that is no identity column in the to state.
    fn identity_losing_key<'c>(
        &self,
        table: &QualifiedName,
        key: &PrimaryKey,
        ctx: &RenderContext<'c>,
    ) -> Option<&'c Column> {
        let to_name = ctx.renames().table_forward(table);
        let to_table = ctx.to_table(&to_name);
        ctx.from_table(table)?.columns.iter().find(|c| {
            let to_column = ctx.renames().column_forward(&to_name, &c.name);
            let stays = to_table
                .and_then(|t| t.columns.iter().find(|x| x.name == to_column))
                .is_some_and(|x| x.identity);
            c.identity && key.columns.contains(&c.name) && !stays
        })
    }

    /// `MODIFY COLUMN` with the column's to-state definition: the one
    /// statement for every kind of change to an existing column.
    pub(crate) fn modify_column(
        &self,
        change: &Change,
        table: &QualifiedName,
        column: &str,
        ctx: &RenderContext<'_>,
    ) -> Result<String, SqlError> {
        let c = ctx.require_to_column(change, table, column)?;
        Ok(self.alter(table, format!("MODIFY COLUMN {}", self.column_def(c))))
    }
}

impl Dialect for Mysql {
    fn kind(&self) -> DialectKind {
        DialectKind::Mysql
    }

    fn quote_ident(&self, name: &str) -> String {
        quote_with(name, '`', '`')
    }

    fn quote_literal(&self, value: &str) -> String {
        // Unless NO_BACKSLASH_ESCAPES is set, a backslash escapes in MySQL strings.
        quote_string(value, true)
    }

    fn native_type(&self, data_type: &DataType) -> String {
        match data_type {
            DataType::Boolean => "tinyint(1)".into(),
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
            // A bare DECIMAL is decimal(10,0) in MySQL, which would silently
            // drop every fraction; an unconstrained numeric gets the widest.
            DataType::Decimal {
                precision: None, ..
            } => "decimal(65,30)".into(),
            DataType::Real => "float".into(),
            DataType::Double => "double".into(),
            DataType::Varchar { length: Some(n) } => format!("varchar({n})"),
            // VARCHAR needs a length; the unbounded string is LONGTEXT (TEXT
            // stops at 64 KiB).
            DataType::Varchar { length: None } | DataType::Text => "longtext".into(),
            DataType::Char { length } => format!("char({length})"),
            DataType::Binary => "longblob".into(),
            DataType::Date => "date".into(),
            DataType::Time => "time".into(),
            DataType::Timestamp => "datetime".into(),
            // TIMESTAMP stores an instant (converted through the session
            // time zone); its range ends in 2038.
            DataType::TimestampTz => "timestamp".into(),
            DataType::Uuid => "char(36)".into(),
            DataType::Json => "json".into(),
            DataType::Raw { sql } => sql.clone(),
        }
    }

    fn parse_native_type(&self, sql: &str) -> DataType {
        let t = TypeText::parse(sql);
        let raw = || DataType::Raw {
            sql: sql.trim().to_string(),
        };
        if !t.suffix.is_empty() {
            // unsigned, zerofill, character set …: no logical equivalent.
            return raw();
        }
        let no_args = t.args.is_empty();
        match t.base.as_str() {
            "bool" | "boolean" if no_args => DataType::Boolean,
            "tinyint" if t.one() == Some(1) => DataType::Boolean,
            // Display widths (int(11)) mean nothing for the values.
            "smallint" if no_args || t.one().is_some() => DataType::SmallInt,
            "int" | "integer" if no_args || t.one().is_some() => DataType::Integer,
            "bigint" if no_args || t.one().is_some() => DataType::BigInt,
            "decimal" | "numeric" | "dec" | "fixed" => match super::common::decimal_args(&t) {
                Some((None, None)) => DataType::Decimal {
                    precision: Some(10),
                    scale: Some(0),
                },
                Some((precision, scale)) => DataType::Decimal { precision, scale },
                None => raw(),
            },
            "float" if no_args => DataType::Real,
            "float" => match t.one() {
                Some(p) if p <= 24 => DataType::Real,
                Some(_) => DataType::Double,
                None => raw(),
            },
            "double" | "double precision" | "real" if no_args => DataType::Double,
            "varchar" | "character varying" => match t.one() {
                Some(n) => DataType::Varchar { length: Some(n) },
                None => raw(),
            },
            "char" | "character" => match (no_args, t.one()) {
                (true, _) => DataType::Char { length: 1 },
                (false, Some(n)) => DataType::Char { length: n },
                _ => raw(),
            },
            "longtext" if no_args => DataType::Text,
            "longblob" if no_args => DataType::Binary,
            "date" if no_args => DataType::Date,
            "time" if no_args => DataType::Time,
            "datetime" if no_args => DataType::Timestamp,
            "timestamp" if no_args => DataType::TimestampTz,
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
        let r = match change {
            Change::AddCatalog { .. } | Change::DropCatalog { .. } | Change::RenameCatalog { .. } => {
                return Err(unsupported(
                    kind,
                    change,
                    "the catalog is the server; MySQL schemas are its databases",
                ))
            }
            Change::AddSchema { name, .. } => {
                Rendering::sql([format!("CREATE SCHEMA {}", self.quote_ident(name))])
            }
            Change::DropSchema { name, .. } => {
                Rendering::sql([format!("DROP SCHEMA {}", self.quote_ident(name))])
            }
            Change::RenameSchema { .. } => {
                return Err(unsupported(
                    kind,
                    change,
                    "MySQL cannot rename a database; create the new schema and move each table with RENAME TABLE",
                ))
            }
            Change::SetSchemaComment { .. } => {
                Rendering::note("MySQL stores no schema comments; the comment is kept in the project only")
            }
            Change::AddTable { table, definition } => {
                Rendering::sql([self.create_table(table, definition)])
            }
            Change::DropTable { table, .. } => {
                Rendering::sql([format!("DROP TABLE {}", self.qualified_name(table))])
            }
            Change::RenameTable { from, to } => {
                let new = QualifiedName {
                    name: to.clone(),
                    ..from.clone()
                };
                Rendering::sql([format!(
                    "RENAME TABLE {} TO {}",
                    self.qualified_name(from),
                    self.qualified_name(&new)
                )])
            }
            Change::SetTableComment { table, to, .. } => Rendering::sql([self.alter(
                table,
                // An empty comment is how MySQL removes one.
                format!("COMMENT = {}", self.quote_literal(to.as_deref().unwrap_or(""))),
            )]),
            Change::SetTableProperty { .. } | Change::UnsetTableProperty { .. } => {
                Rendering::note("MySQL has no table properties; the property is kept in the project only")
            }
            Change::AddColumn {
                table,
                column,
                position,
            } => {
                let mut sql = format!(
                    "ADD COLUMN {}{}",
                    self.column_def(column),
                    self.placement(ctx.to_table(table), *position)
                );
                if let Some(key) = self.key_of_new_identity(table, &column.name, ctx) {
                    sql.push_str(&format!(", ADD PRIMARY KEY ({})", column_list(self, &key.columns)));
                }
                Rendering::sql([self.alter(table, sql)])
            }
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
            Change::ChangeColumnType { table, column, .. }
            | Change::SetColumnNullable { table, column, .. }
            | Change::SetColumnDefault { table, column, .. }
            | Change::SetColumnIdentity { table, column, .. }
            | Change::SetColumnComment { table, column, .. } => {
                Rendering::sql([self.modify_column(change, table, column, ctx)?])
            }
            Change::ReorderColumns { table, from, to } => {
                let mut sql = Vec::new();
                for (name, after) in reorder_moves(from, to) {
                    let c = ctx.require_to_column(change, table, &name)?;
                    let place = match after {
                        Some(a) => format!("AFTER {}", self.quote_ident(&a)),
                        None => "FIRST".to_string(),
                    };
                    sql.push(self.alter(
                        table,
                        format!("MODIFY COLUMN {} {place}", self.column_def(c)),
                    ));
                }
                Rendering::sql(sql)
            }
            Change::AddPrimaryKey { table, key } => {
                if let [column] = key.columns.as_slice() {
                    if self.key_of_new_identity(table, column, ctx).is_some() {
                        return Ok(Rendering::note(format!(
                            "added with column {column}: MySQL wants an AUTO_INCREMENT column to be a key"
                        )));
                    }
                }
                Rendering::sql([self.alter(
                    table,
                    format!("ADD PRIMARY KEY ({})", column_list(self, &key.columns)),
                )])
            }
            Change::DropPrimaryKey { table, key } => {
                // MySQL will not drop the key of an AUTO_INCREMENT column, so
                // a column that stops being one (or goes) stops first, in the
                // same statement; a later statement gives a kept column its
                // to-state definition.
                let sql = match self.identity_losing_key(table, key, ctx) {
                    Some(c) => format!(
                        "MODIFY COLUMN {}, DROP PRIMARY KEY",
                        self.column_def(&Column {
                            identity: false,
                            ..c.clone()
                        })
                    ),
                    None => "DROP PRIMARY KEY".to_string(),
                };
                Rendering::sql([self.alter(table, sql)])
            }
            Change::AddUnique { table, constraint } => Rendering::sql([self.alter(
                table,
                format!(
                    "ADD CONSTRAINT {} UNIQUE ({})",
                    self.quote_ident(&constraint.name),
                    column_list(self, &constraint.columns)
                ),
            )]),
            // A unique constraint is an index of the same name in MySQL.
            Change::DropUnique { table, constraint } => Rendering::sql([self.alter(
                table,
                format!("DROP INDEX {}", self.quote_ident(&constraint.name)),
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
                        fk_body(self, foreign_key, &referenced)
                    ),
                )])
            }
            Change::DropForeignKey { table, foreign_key } => {
                let mut sql = vec![self.alter(
                    table,
                    format!("DROP FOREIGN KEY {}", self.quote_ident(&foreign_key.name)),
                )];
                if self.own_index(ctx.from_table(table), foreign_key) {
                    sql.push(self.alter(
                        table,
                        format!("DROP INDEX {}", self.quote_ident(&foreign_key.name)),
                    ));
                }
                Rendering::sql(sql)
            }
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
