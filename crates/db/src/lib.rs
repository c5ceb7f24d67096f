//! Tidemark's live databases behind one async trait.
//!
//! [`connect`] opens a [`Database`] from a [`ConnectionSpec`] and a password
//! that travels separately. A database can be read into the model
//! ([`Database::introspect`]), run a plan ([`Database::execute`]) and count
//! rows. PostgreSQL and MySQL/MariaDB go through sqlx, SQLite through
//! rusqlite, SQL Server through tiberius, Databricks through its SQL
//! Statement Execution REST API.
//!
//! **Invariant**: no password or token is ever part of a spec, a log line or
//! an error message produced here.

mod build;
mod databricks;
mod error;
mod mysql;
mod postgres;
pub mod scan_output;
mod spec;
mod sqlite;
mod sqlserver;
mod sqltext;
mod table_stats;
pub mod transfer;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tidemark_model::{State, TableRef};

pub use error::{DbError, ExecError};
pub use spec::{redact_url, ConnectionSpec, ServerSpec};
pub use table_stats::TableStats;
pub use tidemark_sql::DialectKind;

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
    fn kind(&self) -> DialectKind;

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
    async fn execute(
        &mut self,
        statements: &[String],
        transactional: bool,
    ) -> Result<(), ExecError>;

    /// Runs one query and returns its rows with every value as text (`None`
    /// for NULL). Meant for small reads of Tidemark's own bookkeeping tables,
    /// such as the deployment marker, not for user data.
    async fn query_text(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, DbError> {
        let _ = sql;
        Err(DbError::Unsupported {
            target: self.target().to_string(),
            what: "reading rows as text".into(),
        })
    }

    /// Facts about each table that the model does not hold: an estimated
    /// row count where the database keeps one cheaply, creation and update
    /// times where it records them, and storage properties. Same schema
    /// filter as [`introspect`](Self::introspect). Databases that keep none
    /// return an empty list.
    async fn table_stats(&mut self, schemas: &[String]) -> Result<Vec<TableStats>, DbError> {
        let _ = schemas;
        Ok(Vec::new())
    }

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
        ConnectionSpec::Postgres(server) => Ok(Box::new(
            postgres::Postgres::connect(spec, server, password).await?,
        )),
        ConnectionSpec::MySql(server) => Ok(Box::new(
            mysql::MySql::connect(spec, server, password).await?,
        )),
        ConnectionSpec::Sqlite { path, create } => {
            Ok(Box::new(sqlite::Sqlite::open(spec, path, *create).await?))
        }
        ConnectionSpec::SqlServer(server) => Ok(Box::new(
            sqlserver::SqlServer::connect(spec, server, password).await?,
        )),
        ConnectionSpec::Databricks {
            host,
            warehouse_id,
            catalog,
            schema,
        } => Ok(Box::new(
            databricks::Databricks::connect(
                spec,
                host,
                warehouse_id,
                catalog.as_deref(),
                schema.as_deref(),
                password,
            )
            .await?,
        )),
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
