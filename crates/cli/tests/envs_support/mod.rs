//! Shared helpers of the environment tests: a throwaway target database per
//! environment on the local PostgreSQL and MariaDB servers (or a SQLite file
//! in the test's folder), and a small project with three snapshots.
//!
//! Server databases are named `tm_env_<random>` and dropped when their guard
//! goes out of scope, including when the test panics.
#![allow(dead_code)]

use crate::common::{Run, Ws};
use serde_json::{json, Value};
use std::path::PathBuf;
use tidemark_db::{connect, ConnectionSpec};
use tidemark_model::State;

pub const PG_HOST: &str = "postgres://postgres@127.0.0.1:5432";
pub const MY_HOST: &str = "mysql://root@127.0.0.1:3306";

/// Which database an environment lives on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Postgres,
    MariaDb,
    Sqlite,
}

/// A fresh target database, dropped on drop.
pub struct TargetDb {
    pub kind: Kind,
    pub name: String,
    /// The URL tidemark connects with.
    pub url: String,
    /// The file, for SQLite.
    pub path: Option<PathBuf>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn spec(url: &str) -> ConnectionSpec {
    ConnectionSpec::parse(url).expect("valid test URL")
}

/// Runs statements one by one, outside a transaction.
pub fn exec_on(url: &str, statements: &[String]) {
    runtime().block_on(async {
        let mut db = connect(&spec(url), None).await.expect("connect");
        db.execute(statements, false)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        db.close().await.expect("close");
    });
}

/// Runs a statement from a thread of its own, so it works from `Drop`.
fn exec_in_background(url: String, statement: String) {
    let handle = std::thread::spawn(move || exec_on(&url, &[statement]));
    if handle.join().is_err() {
        eprintln!("warning: could not drop a test database");
    }
}

impl TargetDb {
    /// A fresh database on a server, or a SQLite file in `ws`'s folder.
    pub fn new(kind: Kind, ws: &Ws) -> TargetDb {
        let name = format!("tm_env_{}", uuid::Uuid::new_v4().simple());
        match kind {
            Kind::Postgres => {
                exec_on(
                    &format!("{PG_HOST}/postgres"),
                    &[format!("CREATE DATABASE \"{name}\"")],
                );
                let url = format!("{PG_HOST}/{name}");
                TargetDb {
                    kind,
                    name,
                    url,
                    path: None,
                }
            }
            Kind::MariaDb => {
                exec_on(
                    &format!("{MY_HOST}/mysql"),
                    &[format!(
                        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )],
                );
                let url = format!("{MY_HOST}/{name}");
                TargetDb {
                    kind,
                    name,
                    url,
                    path: None,
                }
            }
            Kind::Sqlite => {
                let path = ws.path(&format!("{name}.sqlite"));
                let url = format!("sqlite:{}?mode=rwc", path.display());
                TargetDb {
                    kind,
                    name,
                    url,
                    path: Some(path),
                }
            }
        }
    }

    /// Runs statements in this database, one by one.
    pub fn exec(&self, statements: &[&str]) {
        let list: Vec<String> = statements.iter().map(|s| s.to_string()).collect();
        exec_on(&self.url, &list);
    }

    /// Every row of a query, every value as text.
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        runtime().block_on(async {
            let mut db = connect(&spec(&self.url), None).await.expect("connect");
            let rows = db.query_text(sql).await.unwrap_or_else(|e| panic!("{e}"));
            db.close().await.expect("close");
            rows
        })
    }

    /// The rows of a query as `|`-joined strings, for compact assertions.
    pub fn rows(&self, sql: &str) -> Vec<String> {
        self.query(sql)
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|v| v.unwrap_or_else(|| "NULL".into()))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    /// The database's whole schema as the driver reads it (including the
    /// marker table).
    pub fn introspect(&self) -> State {
        runtime().block_on(async {
            let mut db = connect(&spec(&self.url), None).await.expect("connect");
            let state = db.introspect(&[]).await.unwrap_or_else(|e| panic!("{e}"));
            db.close().await.expect("close");
            state
        })
    }

    /// The marker rows: `version|status`, oldest first.
    pub fn markers(&self) -> Vec<String> {
        self.rows("SELECT version, status FROM tidemark_deployments ORDER BY seq")
    }
}

impl Drop for TargetDb {
    fn drop(&mut self) {
        match self.kind {
            Kind::Postgres => exec_in_background(
                format!("{PG_HOST}/postgres"),
                format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            ),
            Kind::MariaDb => exec_in_background(
                format!("{MY_HOST}/mysql"),
                format!("DROP DATABASE IF EXISTS `{}`", self.name),
            ),
            // The file lives in the test's temporary folder.
            Kind::Sqlite => {}
        }
    }
}

fn col(table: &str, name: &str, ty: Value, nullable: bool) -> Value {
    json!({"target": format!("tbl_{table}"), "op": "add_column",
           "payload": {"id": format!("col_{table}_{name}"), "name": name, "data_type": ty, "nullable": nullable}})
}

fn with(mut op: Value, key: &str, value: Value) -> Value {
    op["payload"][key] = value;
    op
}

/// The ops of the test project's three snapshots.
///
/// - 0.1.0: customers (id, email unique, name) and orders (id, customer_id →
///   customers, status default 'new', note) with an index on status;
/// - 0.2.0: customers.phone (nullable, safe);
/// - 1.0.0: customers.name renamed to full_name and orders.note dropped
///   (both breaking).
pub fn project_ops() -> [Value; 3] {
    let bigint = json!({"kind": "big_int"});
    let text = json!({"kind": "text"});
    let varchar = |n: u32| json!({"kind": "varchar", "length": n});
    let v010 = json!([
        {"target": "root", "op": "add_catalog", "payload": {"id": "cat_app", "name": "app"}},
        {"target": "cat_app", "op": "add_schema", "payload": {"id": "sch_public", "name": "public"}},
        {"target": "sch_public", "op": "add_table", "payload": {"id": "tbl_customers", "name": "customers"}},
        with(col("customers", "id", bigint.clone(), false), "identity", json!(true)),
        col("customers", "email", varchar(255), false),
        col("customers", "name", text.clone(), false),
        {"target": "tbl_customers", "op": "add_primary_key", "payload": {"id": "pk_customers", "columns": ["id"]}},
        {"target": "tbl_customers", "op": "add_unique", "payload": {"id": "uq_customers_email", "name": "customers_email_key", "columns": ["email"]}},
        {"target": "sch_public", "op": "add_table", "payload": {"id": "tbl_orders", "name": "orders"}},
        with(col("orders", "id", bigint.clone(), false), "identity", json!(true)),
        col("orders", "customer_id", bigint.clone(), false),
        with(col("orders", "status", varchar(20), false), "default", json!("'new'")),
        col("orders", "note", text.clone(), true),
        {"target": "tbl_orders", "op": "add_primary_key", "payload": {"id": "pk_orders", "columns": ["id"]}},
        {"target": "tbl_orders", "op": "add_foreign_key", "payload": {"id": "fk_orders_customer", "name": "orders_customer_id_fkey",
            "columns": ["customer_id"], "references": {"schema": "public", "table": "customers"}, "ref_columns": ["id"]}},
        {"target": "tbl_orders", "op": "add_index", "payload": {"id": "idx_orders_status", "name": "orders_status_idx", "columns": ["status"]}},
    ]);
    let v020 = json!([col("customers", "phone", varchar(32), true)]);
    let v100 = json!([
        {"target": "col_customers_name", "op": "rename_column", "payload": {"name": "full_name"}},
        {"target": "col_orders_note", "op": "drop_column"},
    ]);
    [v010, v020, v100]
}

/// A workspace with project `app` and snapshots 0.1.0, 0.2.0 and 1.0.0.
pub fn project(ws: &Ws) {
    project_up_to(ws, 3);
}

/// A workspace with project `app` and its first `count` snapshots.
pub fn project_up_to(ws: &Ws, count: usize) {
    ws.ok(&["project", "new", "app"]);
    let versions = ["0.1.0", "0.2.0", "1.0.0"];
    for (ops, version) in project_ops().iter().zip(versions).take(count) {
        let r = ws.run_with_stdin(&["op", "add", "-"], &ops.to_string());
        assert_eq!(r.code, 0, "{}", r.stderr);
        ws.ok(&[
            "snapshot",
            "create",
            "--version",
            version,
            "--name",
            &format!("release {version}"),
        ]);
    }
}

/// Adds a connection and an environment on it, with extra `env add` flags.
pub fn add_env(ws: &Ws, env: &str, db: &TargetDb, flags: &[&str]) {
    let connection = format!("{env}-db");
    ws.ok(&["connection", "add", &connection, "--url", &db.url]);
    let mut args = vec!["env", "add", env, "--connection", &connection];
    args.extend_from_slice(flags);
    ws.ok(&args);
}

/// The workspace's deployment history, newest first.
pub fn history(ws: &Ws) -> Vec<Value> {
    ws.json(&["history"]).as_array().unwrap().clone()
}

/// `status` of each history entry of an environment, newest first.
pub fn statuses(ws: &Ws, env: &str) -> Vec<String> {
    ws.json(&["history", "--env", env])
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["to_version"].as_str().unwrap(),
                d["status"].as_str().unwrap()
            )
        })
        .collect()
}

/// Asserts a failed command: its exit code, one line on stderr, containing
/// every needle, and never the given secret.
pub fn assert_fails(r: &Run, code: i32, needles: &[&str]) {
    assert_eq!(
        r.code, code,
        "expected exit {code}:\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    assert_eq!(
        r.stderr.trim_end().lines().count(),
        1,
        "not one line:\n{}",
        r.stderr
    );
    for needle in needles {
        assert!(
            r.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            r.stderr
        );
    }
}

/// Runs the binary on `ws` with extra environment variables.
pub fn run_env(ws: &Ws, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tidemark"))
        .arg("--workspace")
        .arg(&ws.file)
        .args(args)
        .env_remove("TIDEMARK_WORKSPACE")
        .env("TIDEMARK_USER", "tester")
        .envs(vars.iter().copied())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every byte of the workspace file and its WAL, to search for secrets.
pub fn workspace_bytes(ws: &Ws) -> Vec<u8> {
    let mut all = std::fs::read(&ws.file).unwrap_or_default();
    let wal = PathBuf::from(format!("{}-wal", ws.file.display()));
    all.extend(std::fs::read(wal).unwrap_or_default());
    all
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
