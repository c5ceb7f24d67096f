//! SQL dialects: one [`Dialect`] implementation per database.
//!
//! A dialect knows how its database spells names, literals and types, what
//! a state looks like once the database has stored it (see
//! [`Dialect::normalize`]), and how to express one [`Change`] as statements.
//! Ordering the statements of a whole plan is the planner's job
//! ([`crate::plan`]); a dialect renders one change at a time.

pub(crate) mod common;
pub mod databricks;
pub mod mysql;
pub mod postgres;
pub mod sqlite;
pub mod sqlserver;

use crate::context::RenderContext;
use crate::error::SqlError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use tidemark_model::{Change, DataType, QualifiedName, State};

/// The databases Tidemark renders SQL for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DialectKind {
    /// PostgreSQL 12 or later.
    Postgres,
    /// MySQL 8.0.19+ or MariaDB 10.5+.
    Mysql,
    /// SQLite 3.35 or later.
    Sqlite,
    /// Microsoft SQL Server 2016 or later.
    SqlServer,
    /// Databricks SQL on Delta tables in Unity Catalog.
    Databricks,
}

impl DialectKind {
    /// Every dialect, in the order documentation lists them.
    pub const ALL: [DialectKind; 5] = [
        DialectKind::Postgres,
        DialectKind::Mysql,
        DialectKind::Sqlite,
        DialectKind::SqlServer,
        DialectKind::Databricks,
    ];

    /// The canonical lower-case name, as serialized and displayed.
    pub fn name(self) -> &'static str {
        match self {
            DialectKind::Postgres => "postgres",
            DialectKind::Mysql => "mysql",
            DialectKind::Sqlite => "sqlite",
            DialectKind::SqlServer => "sqlserver",
            DialectKind::Databricks => "databricks",
        }
    }

    /// The product name, for messages a user reads.
    pub fn product(self) -> &'static str {
        match self {
            DialectKind::Postgres => "PostgreSQL",
            DialectKind::Mysql => "MySQL",
            DialectKind::Sqlite => "SQLite",
            DialectKind::SqlServer => "SQL Server",
            DialectKind::Databricks => "Databricks",
        }
    }
}

impl fmt::Display for DialectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DialectKind {
    type Err = SqlError;

    /// Accepts the canonical names and the common aliases (`postgresql`,
    /// `mariadb`, `mssql`), ignoring ASCII case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(DialectKind::Postgres),
            "mysql" | "mariadb" => Ok(DialectKind::Mysql),
            "sqlite" => Ok(DialectKind::Sqlite),
            // sql_server is the serialized spelling.
            "sqlserver" | "sql_server" | "mssql" => Ok(DialectKind::SqlServer),
            "databricks" => Ok(DialectKind::Databricks),
            _ => Err(SqlError::UnknownDialect {
                name: s.to_string(),
                valid:
                    "postgres (postgresql), mysql (mariadb), sqlite, sqlserver (mssql), databricks"
                        .to_string(),
            }),
        }
    }
}

/// One statement a dialect produced for a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedStatement {
    /// The SQL, without a trailing semicolon.
    pub sql: String,
    /// Set for an idempotent preparation of the table (such as a Delta
    /// protocol upgrade) that several changes may ask for: a plan keeps the
    /// first copy only, and flags it at least risky with this reason.
    pub setup: Option<String>,
}

impl RenderedStatement {
    /// A plain statement.
    pub fn new(sql: impl Into<String>) -> Self {
        RenderedStatement {
            sql: sql.into(),
            setup: None,
        }
    }

    /// A shared preparation statement, with why it is needed and what it costs.
    pub fn setup(sql: impl Into<String>, reason: impl Into<String>) -> Self {
        RenderedStatement {
            sql: sql.into(),
            setup: Some(reason.into()),
        }
    }
}

/// What a dialect makes of one change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendering {
    /// Statements to execute, in order.
    pub statements: Vec<RenderedStatement>,
    /// When there is nothing to execute, why (for instance, SQLite stores no
    /// comments). A change with neither statements nor a note renders nothing.
    pub note: Option<String>,
}

impl Rendering {
    /// Plain statements.
    pub fn sql<I, S>(statements: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Rendering {
            statements: statements.into_iter().map(RenderedStatement::new).collect(),
            note: None,
        }
    }

    /// Nothing to execute, and why.
    pub fn note(reason: impl Into<String>) -> Self {
        Rendering {
            statements: Vec::new(),
            note: Some(reason.into()),
        }
    }
}

/// A database's SQL: names, literals, types, normalization and DDL.
pub trait Dialect: Send + Sync {
    /// Which database this is.
    fn kind(&self) -> DialectKind;

    /// Quotes an identifier so that any name, including reserved words and
    /// names with quotes, spaces or semicolons, is read back as exactly itself.
    fn quote_ident(&self, name: &str) -> String;

    /// A table name as statements spell it (qualified as far as the database
    /// supports and needs): `schema.table` unless a dialect says otherwise.
    fn qualified_name(&self, name: &QualifiedName) -> String {
        format!(
            "{}.{}",
            self.quote_ident(&name.schema),
            self.quote_ident(&name.name)
        )
    }

    /// Quotes a string literal (for comments, properties and the like).
    fn quote_literal(&self, value: &str) -> String;

    /// The native type this database uses for a logical type.
    fn native_type(&self, data_type: &DataType) -> String;

    /// The logical type of a native type as the database reports it; what has
    /// no logical equivalent comes back as [`DataType::Raw`], verbatim.
    fn parse_native_type(&self, sql: &str) -> DataType;

    /// The canonical form of a state as this database would store and report
    /// it, so that comparing a project with a live database shows only real
    /// differences. Idempotent. Meant for comparison: plan from the states
    /// themselves, not from their normalized forms, since normalization may
    /// fold names to lower case where the database ignores case.
    fn normalize(&self, state: &State) -> State {
        crate::normalize::normalize(self, state)
    }

    /// The statements for one change. Names follow the convention of
    /// [`Change`]; the context gives the full from and to states for changes
    /// whose SQL needs more than the change carries.
    fn render_change(
        &self,
        change: &Change,
        ctx: &RenderContext<'_>,
    ) -> Result<Rendering, SqlError>;
}

/// The dialect for a kind.
pub fn dialect(kind: DialectKind) -> &'static dyn Dialect {
    match kind {
        DialectKind::Postgres => &postgres::Postgres,
        DialectKind::Mysql => &mysql::Mysql,
        DialectKind::Sqlite => &sqlite::Sqlite,
        DialectKind::SqlServer => &sqlserver::SqlServer,
        DialectKind::Databricks => &databricks::Databricks,
    }
}
