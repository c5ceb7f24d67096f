//! Tidemark's live databases behind one async trait.
//!
//! [`connect`] opens a [`Database`] from a [`ConnectionSpec`] and a password
//! that travels separately. A database can be read into the model
//! ([`Database::introspect`]), run a plan ([`Database::execute`]) and count
//! rows. PostgreSQL and MySQL/MariaDB go through sqlx, SQLite through
//! rusqlite, SQL Server through tiberius.
//!
//! **Invariant**: no password or token is ever part of a spec, a log line or
//! an error message produced here.

mod build;
mod error;
mod mysql;
mod native_type;
mod postgres;
mod quote;
mod spec;
mod sqlite;
mod sqlserver;
mod sqltext;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tidemark_model::{State, TableRef};

pub use error::{DbError, ExecError};
pub use spec::{redact_url, ConnectionSpec, DatabaseKind, ServerSpec};

/// How many rows a table holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowCount {
    /// The table counted.
    pub table: TableRef,
    /// Its row count at the time of the query.
    pub rows: u64,
}

/// A live database connection.
///
/// One connection, used by one task at a time (`&mut self`); open another for
/// parallel work.
#[async_trait]
pub trait Database: Send {
    /// What kind of database this is.
    fn kind(&self) -> DatabaseKind;

    /// The connection URL without credentials, for messages.
    fn target(&self) -> &str;

    /// Checks that the connection is alive.
    async fn ping(&mut self) -> Result<(), DbError>;

    /// Reads the database's catalogs into a [`State`] with one catalog.
    ///
    /// `schemas` limits the read to those schemas (an empty slice means all
    /// user schemas); schemas asked for that do not exist are absent from
    /// the result rather than an error, so drift can report them as missing.
    async fn introspect(&mut self, schemas: &[String]) -> Result<State, DbError>;

    /// Runs statements in order, stopping at the first failure.
    ///
    /// With `transactional`, databases with transactional DDL (PostgreSQL,
    /// SQLite, SQL Server) run all of them in one transaction and roll it
    /// back on failure, leaving the database as it was. MySQL commits each
    /// DDL statement implicitly, so there it always runs statement by
    /// statement and earlier statements stay applied. Pass `false` for
    /// statements that cannot run in a transaction (e.g. PostgreSQL's
    /// `CREATE INDEX CONCURRENTLY`).
    async fn execute(&mut self, statements: &[String], transactional: bool)
        -> Result<(), ExecError>;

    /// Counts the rows of each table, in the order given.
    async fn row_counts(&mut self, tables: &[TableRef]) -> Result<Vec<RowCount>, DbError>;

    /// Closes the connection politely (servers log abrupt disconnects).
    async fn close(self: Box<Self>) -> Result<(), DbError>;
}

/// Opens a connection.
///
/// `password` is the password (or, for Databricks, the access token); it is
/// never stored and never appears in an error. With `None`, the PostgreSQL
/// driver falls back to `PGPASSWORD`, as libpq does.
pub async fn connect(
    spec: &ConnectionSpec,
    password: Option<&str>,
) -> Result<Box<dyn Database>, DbError> {
    tracing::debug!(target = %spec.redacted(), "connecting");
    match spec {
        ConnectionSpec::Postgres(server) => {
            Ok(Box::new(postgres::Postgres::connect(spec, server, password).await?))
        }
        ConnectionSpec::MySql(server) => {
            Ok(Box::new(mysql::MySql::connect(spec, server, password).await?))
        }
        ConnectionSpec::Sqlite { path, create } => {
            Ok(Box::new(sqlite::Sqlite::open(spec, path, *create).await?))
        }
        ConnectionSpec::SqlServer(server) => {
            Ok(Box::new(sqlserver::SqlServer::connect(spec, server, password).await?))
        }
        ConnectionSpec::Databricks { .. } => Err(DbError::Unsupported {
            target: spec.redacted(),
            what: "connecting to Databricks (no driver in this build)".into(),
        }),
    }
}

/// How long to wait for a server to accept a connection: the URL's
/// `connect_timeout` (seconds) or 15 s, so an unreachable host fails in
/// reasonable time instead of the OS's minutes.
fn connect_timeout(server: &ServerSpec) -> Duration {
    let secs = server
        .params
        .get("connect_timeout")
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(15);
    Duration::from_secs(secs.max(1))
}
