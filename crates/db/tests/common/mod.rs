//! Shared test helpers: throwaway databases on the local servers, and a
//! small builder for expected states.
//!
//! Every test database gets a unique name and is dropped when its guard goes
//! out of scope, including when the test panics.

#![allow(dead_code)]

use std::collections::BTreeMap;
use tidemark_db::{connect, ConnectionSpec, Database};
use tidemark_model::{
    Catalog, CheckConstraint, Column, DataType, FkAction, ForeignKey, Index, ObjectId, PrimaryKey,
    Schema, State, Table, TableRef, UniqueConstraint,
};

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MYSQL_ADMIN: &str = "mysql://root@127.0.0.1:3306/mysql";

fn unique_name() -> String {
    format!("tm_test_{}", uuid::Uuid::new_v4().simple())
}

fn spec(url: &str) -> ConnectionSpec {
    ConnectionSpec::parse(url).expect("valid test URL")
}

/// Runs admin statements outside a transaction on a fresh connection.
async fn admin(url: &str, statements: Vec<String>) {
    let mut db = connect(&spec(url), None).await.expect("admin connection");
    db.execute(&statements, false)
        .await
        .expect("admin statements");
    db.close().await.expect("close");
}

/// Drops a database from a thread of its own, so it works from `Drop`
/// whether or not a tokio runtime is running on this thread.
fn drop_in_background(url: &'static str, statement: String) {
    let handle = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(admin(url, vec![statement]));
    });
    if handle.join().is_err() {
        eprintln!("warning: could not drop a test database");
    }
}

/// A fresh PostgreSQL database, dropped on drop.
pub struct PgDb {
    pub name: String,
    pub spec: ConnectionSpec,
}

impl PgDb {
    pub async fn create() -> PgDb {
        let name = unique_name();
        admin(PG_ADMIN, vec![format!("CREATE DATABASE \"{name}\"")]).await;
        let spec = spec(&format!("postgres://postgres@127.0.0.1:5432/{name}"));
        PgDb { name, spec }
    }

    pub async fn connect(&self) -> Box<dyn Database> {
        connect(&self.spec, None)
            .await
            .expect("connect to test database")
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        drop_in_background(
            PG_ADMIN,
            format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// A fresh MariaDB/MySQL database, dropped on drop.
pub struct MyDb {
    pub name: String,
    pub spec: ConnectionSpec,
}

impl MyDb {
    pub async fn create() -> MyDb {
        let name = unique_name();
        admin(
            MYSQL_ADMIN,
            vec![format!(
                "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )],
        )
        .await;
        let spec = spec(&format!("mysql://root@127.0.0.1:3306/{name}"));
        MyDb { name, spec }
    }

    pub async fn connect(&self) -> Box<dyn Database> {
        connect(&self.spec, None)
            .await
            .expect("connect to test database")
    }
}

impl Drop for MyDb {
    fn drop(&mut self) {
        drop_in_background(
            MYSQL_ADMIN,
            format!("DROP DATABASE IF EXISTS `{}`", self.name),
        );
    }
}

/// Splits a script on `;` at line ends (the fixtures put no `;` inside
/// literals at a line end).
pub fn statements(script: &str) -> Vec<String> {
    script
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches(';').to_string())
        .collect()
}

pub fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Asserts two states are equal table by table first, so a failure shows
/// the one table that differs rather than the whole state.
pub fn assert_state_eq(actual: &State, expected: &State) {
    assert_eq!(
        actual.catalogs.len(),
        expected.catalogs.len(),
        "catalog count"
    );
    for (a, e) in actual.catalogs.iter().zip(&expected.catalogs) {
        assert_eq!((&a.id, &a.name), (&e.id, &e.name), "catalog");
        let names = |c: &Catalog| c.schemas.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(a), names(e), "schemas of {}", e.name);
        for (sa, se) in a.schemas.iter().zip(&e.schemas) {
            let tnames = |s: &Schema| s.tables.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
            assert_eq!(tnames(sa), tnames(se), "tables of schema {}", se.name);
            for (ta, te) in sa.tables.iter().zip(&se.tables) {
                for (ca, ce) in ta.columns.iter().zip(&te.columns) {
                    assert_eq!(ca, ce, "column {}.{}.{}", se.name, te.name, ce.name);
                }
                assert_eq!(ta, te, "table {}.{}", se.name, te.name);
            }
            assert_eq!(sa, se, "schema {}", se.name);
        }
    }
    assert_eq!(actual, expected);
}

/// Builds ids the way introspection does (names here contain no dots).
fn id(prefix: &str, parts: &[&str]) -> ObjectId {
    ObjectId::new(format!("{prefix}:{}", parts.join(".")))
}

pub fn state(catalog: &str, schemas: Vec<Schema>) -> State {
    State {
        catalogs: vec![Catalog {
            id: id("cat", &[catalog]),
            name: catalog.to_string(),
            comment: None,
            schemas,
        }],
    }
}

pub fn schema(name: &str, comment: Option<&str>, tables: Vec<TableBuilder>) -> Schema {
    Schema {
        id: id("sch", &[name]),
        name: name.to_string(),
        comment: comment.map(str::to_string),
        tables: tables.into_iter().map(|t| t.table).collect(),
    }
}

/// Builds one expected table.
pub struct TableBuilder {
    schema: String,
    table: Table,
}

pub fn table(schema: &str, name: &str) -> TableBuilder {
    TableBuilder {
        schema: schema.to_string(),
        table: Table {
            id: id("tbl", &[schema, name]),
            name: name.to_string(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            comment: None,
            properties: BTreeMap::new(),
        },
    }
}

impl TableBuilder {
    fn ids(&self, prefix: &str, name: &str) -> ObjectId {
        id(prefix, &[&self.schema, &self.table.name, name])
    }

    /// A column; `nullable` as declared.
    pub fn col(mut self, name: &str, data_type: DataType, nullable: bool) -> Self {
        let column = Column {
            id: self.ids("col", name),
            name: name.to_string(),
            data_type,
            nullable,
            default: None,
            comment: None,
            identity: false,
        };
        self.table.columns.push(column);
        self
    }

    fn last(&mut self) -> &mut Column {
        self.table.columns.last_mut().expect("a column first")
    }

    /// Sets the default of the last column.
    pub fn default(mut self, expr: &str) -> Self {
        self.last().default = Some(expr.to_string());
        self
    }

    /// Marks the last column as identity.
    pub fn identity(mut self) -> Self {
        self.last().identity = true;
        self
    }

    /// Sets the comment of the last column.
    pub fn col_comment(mut self, text: &str) -> Self {
        self.last().comment = Some(text.to_string());
        self
    }

    pub fn comment(mut self, text: &str) -> Self {
        self.table.comment = Some(text.to_string());
        self
    }

    pub fn pk(mut self, name: &str, columns: &[&str]) -> Self {
        self.table.primary_key = Some(PrimaryKey {
            id: self.ids("pk", name),
            name: name.to_string(),
            columns: strings(columns),
        });
        self
    }

    pub fn unique(mut self, name: &str, columns: &[&str]) -> Self {
        let u = UniqueConstraint {
            id: self.ids("uq", name),
            name: name.to_string(),
            columns: strings(columns),
        };
        self.table.uniques.push(u);
        self
    }

    pub fn index(mut self, name: &str, columns: &[&str], unique: bool) -> Self {
        let i = Index {
            id: self.ids("idx", name),
            name: name.to_string(),
            columns: strings(columns),
            unique,
        };
        self.table.indexes.push(i);
        self
    }

    #[allow(clippy::too_many_arguments)]
    pub fn fk(
        mut self,
        name: &str,
        columns: &[&str],
        ref_schema: &str,
        ref_table: &str,
        ref_columns: &[&str],
        on_delete: FkAction,
        on_update: FkAction,
    ) -> Self {
        let f = ForeignKey {
            id: self.ids("fk", name),
            name: name.to_string(),
            columns: strings(columns),
            references: TableRef {
                schema: ref_schema.to_string(),
                table: ref_table.to_string(),
            },
            ref_columns: strings(ref_columns),
            on_delete,
            on_update,
        };
        self.table.foreign_keys.push(f);
        self
    }

    pub fn check(mut self, name: &str, expression: &str) -> Self {
        let c = CheckConstraint {
            id: self.ids("ck", name),
            name: name.to_string(),
            expression: expression.to_string(),
        };
        self.table.checks.push(c);
        self
    }
}

pub fn varchar(n: u32) -> DataType {
    DataType::Varchar { length: Some(n) }
}

pub fn decimal(p: u32, s: u32) -> DataType {
    DataType::Decimal {
        precision: Some(p),
        scale: Some(s),
    }
}

pub fn raw(sql: &str) -> DataType {
    DataType::Raw {
        sql: sql.to_string(),
    }
}

pub fn tref(schema: &str, table: &str) -> TableRef {
    TableRef {
        schema: schema.to_string(),
        table: table.to_string(),
    }
}
