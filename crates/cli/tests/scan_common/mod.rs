//! Shared helpers of the scan and incremental-diff tests: a throwaway
//! database per test on the local PostgreSQL and MariaDB servers, and
//! readers for the diff results.
//!
//! Every database is named `tm_scan_<random>` and dropped when its guard goes
//! out of scope, including when the test panics.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeSet;
use tidemark_db::{connect, ConnectionSpec};

pub const PG_HOST: &str = "postgres://postgres@127.0.0.1:5432";
pub const MY_HOST: &str = "mysql://root@127.0.0.1:3306";

/// Which server a scratch database lives on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Server {
    Postgres,
    MariaDb,
}

/// A fresh database, dropped on drop.
pub struct ScratchDb {
    pub server: Server,
    pub name: String,
    /// The URL of the database itself.
    pub url: String,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Runs statements one by one, outside a transaction.
fn exec_on(url: &str, statements: &[String]) {
    let spec = ConnectionSpec::parse(url).expect("valid test URL");
    runtime().block_on(async {
        let mut db = connect(&spec, None).await.expect("connect");
        db.execute(statements, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        db.close().await.expect("close");
    });
}

impl ScratchDb {
    pub fn new(server: Server) -> ScratchDb {
        let name = format!("tm_scan_{}", uuid::Uuid::new_v4().simple());
        let (admin, create, url) = match server {
            Server::Postgres => (
                format!("{PG_HOST}/postgres"),
                format!("CREATE DATABASE \"{name}\""),
                format!("{PG_HOST}/{name}"),
            ),
            Server::MariaDb => (
                format!("{MY_HOST}/mysql"),
                format!(
                    "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                ),
                format!("{MY_HOST}/{name}"),
            ),
        };
        exec_on(&admin, &[create]);
        ScratchDb { server, name, url }
    }

    pub fn postgres() -> ScratchDb {
        ScratchDb::new(Server::Postgres)
    }

    pub fn mariadb() -> ScratchDb {
        ScratchDb::new(Server::MariaDb)
    }

    /// Runs statements in this database.
    pub fn exec(&self, statements: &[&str]) {
        let list: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
        exec_on(&self.url, &list);
    }

    /// Rows of a query as column name → JSON value (PostgreSQL only), for
    /// reading the diff output independently of Tidemark's own reader.
    pub fn pg_rows(&self, sql: &str) -> Vec<serde_json::Map<String, Value>> {
        assert_eq!(self.server, Server::Postgres);
        let url = self.url.clone();
        let sql = sql.to_string();
        runtime().block_on(async move {
            use sqlx::{Connection, Row};
            let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
            let rows = sqlx::query(&format!("SELECT to_jsonb(q)::text FROM ({sql}) q"))
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let out = rows
                .iter()
                .map(|r| {
                    let text: String = r.get(0);
                    serde_json::from_str(&text).expect("row JSON")
                })
                .collect();
            conn.close().await.ok();
            out
        })
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let (admin, drop) = match self.server {
            Server::Postgres => (
                format!("{PG_HOST}/postgres"),
                format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            ),
            Server::MariaDb => (
                format!("{MY_HOST}/mysql"),
                format!("DROP DATABASE IF EXISTS `{}`", self.name),
            ),
        };
        // A thread of its own: Drop may run while a panic unwinds, and
        // exec_on makes its own runtime.
        let handle = std::thread::spawn(move || exec_on(&admin, &[drop]));
        if handle.join().is_err() {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

/// `schema[.table[.column]]` of a change row.
pub fn object_of(change: &Value) -> String {
    ["schema_name", "table_name", "column_name"]
        .iter()
        .filter_map(|k| change[*k].as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// (asset type, change type, object) of every change of a `diff show --json`.
pub fn change_set(detail: &Value) -> BTreeSet<(String, String, String)> {
    detail["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| {
            (
                c["asset_type"].as_str().unwrap().to_string(),
                c["change_type"].as_str().unwrap().to_string(),
                object_of(c),
            )
        })
        .collect()
}

/// Builds an expected change set from `(asset, change, object)` literals.
pub fn expected(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, c, o)| (a.to_string(), c.to_string(), o.to_string()))
        .collect()
}

/// The change of one object.
pub fn change_of<'a>(detail: &'a Value, object: &str) -> &'a Value {
    detail["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| object_of(c) == object)
        .unwrap_or_else(|| panic!("no change of {object}"))
}

/// The non-informational differences of a change as (kind, attribute, from, to).
pub fn differences(change: &Value) -> Vec<(String, String, Value, Value)> {
    change["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .filter(|d| d["kind"] != "info")
        .map(|d| {
            (
                d["kind"].as_str().unwrap().to_string(),
                d["attribute"].as_str().unwrap().to_string(),
                d["from"].clone(),
                d["to"].clone(),
            )
        })
        .collect()
}

/// The workspace's `diff_summary` row of a diff, column name → value.
pub fn workspace_summary(
    workspace: &std::path::Path,
    diff_id: &str,
) -> serde_json::Map<String, Value> {
    let conn = rusqlite::Connection::open(workspace).unwrap();
    let mut stmt = conn
        .prepare("SELECT * FROM diff_summary WHERE diff_sync_id = ?1")
        .unwrap();
    let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    stmt.query_row([diff_id], |row| {
        let mut map = serde_json::Map::new();
        for (i, name) in names.iter().enumerate() {
            let value = match row.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(n) => Value::from(n),
                rusqlite::types::ValueRef::Real(f) => Value::from(f),
                rusqlite::types::ValueRef::Text(t) => {
                    Value::from(String::from_utf8_lossy(t).into_owned())
                }
                rusqlite::types::ValueRef::Blob(_) => Value::from("<blob>"),
            };
            map.insert(name.clone(), value);
        }
        Ok(map)
    })
    .unwrap()
}

/// The nine counts and the total of a summary row, in a fixed order:
/// schemas, tables, columns × added, removed, modified, then the total.
pub fn summary_counts(row: &serde_json::Map<String, Value>) -> Vec<i64> {
    let mut out = Vec::new();
    for asset in ["schemas", "tables", "columns"] {
        for change in ["added", "removed", "modified"] {
            out.push(row[&format!("{asset}_{change}")].as_i64().unwrap());
        }
    }
    out.push(row["total_changes"].as_i64().unwrap());
    out
}
