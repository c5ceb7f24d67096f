//! Named connections (never with a secret in them).

use crate::error::{Result, SqlContext, StoreError};
use crate::read::ReadView;
use crate::write::WriteTx;
use crate::{format_time, parse_time};
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// Where a connection's password comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "source", content = "name", rename_all = "snake_case")]
#[ts(export)]
pub enum PasswordSource {
    /// No password (trust auth, SQLite files).
    None,
    /// The environment variable with this name.
    Env(String),
    /// The OS keychain, under the connection's name.
    Keychain,
}

/// A stored connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Connection {
    /// Unique name.
    pub name: String,
    /// Database kind: postgres, mysql, sqlite, sqlserver or databricks.
    pub kind: String,
    /// The URL without any password.
    pub url: String,
    /// Where the password comes from.
    pub password: PasswordSource,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

fn decode(
    row: &Row<'_>,
) -> rusqlite::Result<(String, String, String, String, Option<String>, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
    ))
}

fn build(
    (name, kind, url, source, env, created): (
        String,
        String,
        String,
        String,
        Option<String>,
        String,
    ),
) -> Result<Connection> {
    let password = match (source.as_str(), env) {
        ("env", Some(var)) => PasswordSource::Env(var),
        ("keychain", _) => PasswordSource::Keychain,
        _ => PasswordSource::None,
    };
    Ok(Connection {
        created_at: parse_time(&created).map_err(|reason| StoreError::Unreadable {
            what: format!("connection {name}"),
            reason,
        })?,
        name,
        kind,
        url,
        password,
    })
}

const SELECT: &str =
    "SELECT name, kind, url, password_source, password_env, created_at FROM connections";

impl ReadView {
    /// Every connection, by name.
    pub fn connections(&self) -> Result<Vec<Connection>> {
        let action = "listing connections";
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{SELECT} ORDER BY name"))
            .ctx(action)?;
        let rows = stmt
            .query_map([], decode)
            .ctx(action)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .ctx(action)?;
        rows.into_iter().map(build).collect()
    }

    /// The connection named `name`, or [`StoreError::UnknownConnection`].
    pub fn connection(&self, name: &str) -> Result<Connection> {
        let action = format!("looking up connection {name}");
        let row = self
            .conn
            .prepare_cached(&format!("{SELECT} WHERE name = ?1"))
            .ctx(&action)?
            .query_row([name], decode)
            .optional()
            .ctx(&action)?;
        row.map(build)
            .transpose()?
            .ok_or_else(|| StoreError::UnknownConnection(name.to_string()))
    }
}

impl WriteTx<'_> {
    /// Adds a connection; [`StoreError::ConnectionExists`] if the name is taken.
    pub fn add_connection(&self, c: &Connection) -> Result<()> {
        if self.connection(&c.name).is_ok() {
            return Err(StoreError::ConnectionExists(c.name.clone()));
        }
        let (source, env) = match &c.password {
            PasswordSource::None => ("none", None),
            PasswordSource::Env(var) => ("env", Some(var.as_str())),
            PasswordSource::Keychain => ("keychain", None),
        };
        self.conn()
            .prepare_cached(
                "INSERT INTO connections (name, kind, url, password_source, password_env, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .ctx("adding a connection")?
            .execute(params![c.name, c.kind, c.url, source, env, format_time(&c.created_at)])
            .ctx(&format!("adding connection {}", c.name))?;
        Ok(())
    }

    /// Removes a connection; [`StoreError::UnknownConnection`] if there is none.
    pub fn remove_connection(&self, name: &str) -> Result<()> {
        let n = self
            .conn()
            .prepare_cached("DELETE FROM connections WHERE name = ?1")
            .ctx("removing a connection")?
            .execute([name])
            .ctx(&format!("removing connection {name}"))?;
        if n == 0 {
            return Err(StoreError::UnknownConnection(name.to_string()));
        }
        Ok(())
    }
}
