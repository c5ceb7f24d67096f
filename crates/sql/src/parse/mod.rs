//! DDL import: SQL text in one of four dialects → model ops.
//!
//! The text is read with the real `sqlparser` crate, statement by statement,
//! and turned into the ops that would have built the same schema, against an
//! existing [`State`]: `add_catalog` / `add_schema` when they are missing,
//! then `add_table`, `add_column`, keys, checks, comments and indexes in file
//! order, and every `add_foreign_key` last so a key may point at a table that
//! the file creates further down. Names are resolved against the state and
//! against what the file created before, the way the database would.
//!
//! Statements that do not describe the schema (INSERT, SET, GRANT, CREATE
//! EXTENSION, …) and clauses the model has no place for (collations, partial
//! index predicates, generated column expressions, …) are not errors: they are
//! listed in [`DdlImport::skipped`] so the user sees what was left out.
//! Statements sqlparser cannot read are skipped the same way, unless they
//! would have changed tables, indexes or schemas: then the import fails with
//! a syntax error rather than silently missing part of the schema.

mod error;
mod import;
mod names;
mod split;
mod tsql;
mod types;

pub use error::ParseError;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use tidemark_model::{Action, ObjectId, State};

/// Which SQL dialect a DDL file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceDialect {
    /// PostgreSQL (`pg_dump --schema-only` output or hand-written DDL).
    Postgres,
    /// MySQL / MariaDB (`mysqldump --no-data` output or hand-written DDL).
    Mysql,
    /// SQLite (`.schema` output or hand-written DDL).
    Sqlite,
    /// Microsoft SQL Server (T-SQL; `GO` separates batches).
    SqlServer,
}

impl SourceDialect {
    /// Every dialect, in the order the CLI lists them.
    pub const ALL: [SourceDialect; 4] = [
        SourceDialect::Postgres,
        SourceDialect::Mysql,
        SourceDialect::Sqlite,
        SourceDialect::SqlServer,
    ];

    /// The name accepted on the command line (`postgres`, `mysql`, …).
    pub fn name(self) -> &'static str {
        match self {
            SourceDialect::Postgres => "postgres",
            SourceDialect::Mysql => "mysql",
            SourceDialect::Sqlite => "sqlite",
            SourceDialect::SqlServer => "sqlserver",
        }
    }

    /// The product name, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            SourceDialect::Postgres => "PostgreSQL",
            SourceDialect::Mysql => "MySQL",
            SourceDialect::Sqlite => "SQLite",
            SourceDialect::SqlServer => "SQL Server",
        }
    }
}

impl fmt::Display for SourceDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// A dialect name that [`SourceDialect::from_str`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown SQL dialect {given:?}: expected one of postgres (or postgresql), mysql (or mariadb), sqlite, sqlserver (or mssql)")]
pub struct UnknownDialect {
    /// The name as given.
    pub given: String,
}

impl FromStr for SourceDialect {
    type Err = UnknownDialect;

    /// Accepts the CLI names and their common aliases, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(SourceDialect::Postgres),
            "mysql" | "mariadb" => Ok(SourceDialect::Mysql),
            "sqlite" => Ok(SourceDialect::Sqlite),
            "sqlserver" | "mssql" => Ok(SourceDialect::SqlServer),
            _ => Err(UnknownDialect {
                given: s.to_string(),
            }),
        }
    }
}

/// Where unqualified names land and how new ids are made.
pub struct ImportContext<'a> {
    /// The catalog to import into; created (with `add_catalog`) when the state
    /// has no catalog of this name.
    pub catalog: &'a str,
    /// The schema of unqualified table names (`public`, `dbo`, `main`, the
    /// MySQL database); created when missing. A MySQL `USE db` changes it for
    /// the rest of the file.
    pub default_schema: &'a str,
    /// Makes a fresh id for a new object. The argument is the kind of object:
    /// `"cat"`, `"sch"`, `"tbl"`, `"col"`, `"pk"`, `"uq"`, `"idx"`, `"fk"` or
    /// `"ck"`. The importer never invents ids itself so callers (and tests)
    /// decide their shape.
    pub new_id: &'a mut dyn FnMut(&str) -> ObjectId,
}

/// One op produced by the import, without the id and timestamp a log entry
/// gets when it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedOp {
    /// The object the op acts on (the parent for `add_*` ops).
    pub target: ObjectId,
    /// What the op does.
    #[serde(flatten)]
    pub action: Action,
}

/// The result of [`import_ddl`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DdlImport {
    /// Ops in an order the reducer can apply one after the other.
    pub ops: Vec<ImportedOp>,
    /// What was not imported, one line each, starting with `line N:` and the
    /// statement's first words (e.g. `line 3: CREATE EXTENSION IF NOT EXISTS
    /// "uuid-ossp" (not schema DDL)`).
    pub skipped: Vec<String>,
}

/// Parses `sql` as `dialect` DDL and returns the ops that bring `state` to
/// the schema the file describes.
///
/// `state` is only read; applying the ops is the caller's job. Fails on the
/// first statement that is malformed or that contradicts the state or the
/// file (a duplicate table, an unknown table or column); in that case nothing
/// should be applied.
pub fn import_ddl(
    sql: &str,
    dialect: SourceDialect,
    state: &State,
    ctx: &mut ImportContext<'_>,
) -> Result<DdlImport, ParseError> {
    let statements = split::parse_statements(sql, dialect)?;
    let mut importer = import::Importer::new(dialect, state, ctx);
    for statement in statements {
        importer.statement(statement)?;
    }
    importer.finish()
}
