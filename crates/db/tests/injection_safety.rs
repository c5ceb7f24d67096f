//! Names are data, never SQL: tables, columns, keys, indexes and checks whose
//! names hold quotes of every dialect, spaces, semicolons, comment markers,
//! reserved words and unicode are created by a plan on a real server, read
//! back with exactly those names, renamed and dropped by a second plan, and
//! a canary table with one row is still there, untouched, at the end.

mod common;
mod roundtrip;

use common::{MyDb, PgDb};
use roundtrip::{apply, differences_after, differences_but_order};
use std::collections::BTreeMap;
use tidemark_db::{connect, ConnectionSpec, Database, DialectKind};
use tidemark_model::{
    Catalog, CheckConstraint, Column, DataType, Facts, FkAction, ForeignKey, Index, ObjectId,
    PrimaryKey, Schema, State, Table, TableRef, UniqueConstraint,
};
use tidemark_sql::{dialect, plan};

/// Names that would end an identifier or a statement early if they were
/// pasted into SQL unquoted, or quoted the wrong way.
const HOSTILE: &[&str] = &[
    "a\"; DROP TABLE canary; --",
    "a`; DROP TABLE canary; --",
    "a]; DROP TABLE canary; --",
    "a'; DROP TABLE canary; --",
    "sp ace",
    "ü",
    "select",
    "a`b",
    "a]b",
    "naïve \"q\" 'q'",
];

/// Text for comments and defaults.
const HOSTILE_TEXT: &str = "it's; DROP TABLE canary; -- \\ \" ` ]";

fn id(s: String) -> ObjectId {
    ObjectId::new(s)
}

fn canary() -> Table {
    Table {
        id: id("canary".into()),
        name: "canary".into(),
        columns: vec![Column {
            id: id("canary.v".into()),
            name: "v".into(),
            data_type: DataType::Integer,
            nullable: false,
            default: None,
            comment: None,
            identity: false,
        }],
        primary_key: None,
        uniques: Vec::new(),
        indexes: Vec::new(),
        foreign_keys: Vec::new(),
        checks: Vec::new(),
        comment: None,
        properties: BTreeMap::new(),
    }
}

/// One table per hostile name, each with a column per hostile name, a
/// primary key, a unique, an index, a check and a foreign key to the table
/// before it, all named after it.
fn hostile_tables(kind: DialectKind, schema: &str) -> Vec<Table> {
    let q = |name: &str| dialect(kind).quote_ident(name);
    HOSTILE
        .iter()
        .enumerate()
        .map(|(i, &name)| {
            let mut columns = vec![Column {
                id: id(format!("{i}.id")),
                name: "id".into(),
                data_type: DataType::Integer,
                nullable: false,
                default: None,
                comment: Some(HOSTILE_TEXT.into()),
                identity: false,
            }];
            columns.extend(HOSTILE.iter().enumerate().map(|(j, &col)| Column {
                id: id(format!("{i}.{j}")),
                name: col.into(),
                data_type: DataType::Varchar { length: Some(100) },
                nullable: true,
                default: Some(dialect(kind).quote_literal(HOSTILE_TEXT)),
                comment: Some(format!("{col} {HOSTILE_TEXT}")),
                identity: false,
            }));
            let foreign_keys = if i == 0 {
                Vec::new()
            } else {
                vec![ForeignKey {
                    id: id(format!("{i}.fk")),
                    name: format!("{name} fk{i}"),
                    columns: vec!["id".into()],
                    references: TableRef {
                        schema: schema.into(),
                        table: HOSTILE[i - 1].into(),
                    },
                    ref_columns: vec!["id".into()],
                    on_delete: FkAction::Cascade,
                    on_update: FkAction::NoAction,
                }]
            };
            Table {
                id: id(format!("{i}")),
                name: name.into(),
                columns,
                primary_key: Some(PrimaryKey {
                    id: id(format!("{i}.pk")),
                    name: format!("{name} pk{i}"),
                    columns: vec!["id".into()],
                }),
                uniques: vec![UniqueConstraint {
                    id: id(format!("{i}.uq")),
                    name: format!("{name} uq{i}"),
                    columns: vec![HOSTILE[(i + 1) % HOSTILE.len()].into()],
                }],
                indexes: vec![Index {
                    id: id(format!("{i}.ix")),
                    name: format!("{name} ix{i}"),
                    columns: vec![HOSTILE[i].into(), "id".into()],
                    unique: false,
                }],
                foreign_keys,
                checks: vec![CheckConstraint {
                    id: id(format!("{i}.ck")),
                    name: format!("{name} ck{i}"),
                    expression: format!("{} <> 'x'", q(HOSTILE[i])),
                }],
                comment: Some(format!("{name} {HOSTILE_TEXT}")),
                properties: BTreeMap::new(),
            }
        })
        .collect()
}

fn state(catalog: &str, schema: &str, tables: Vec<Table>) -> State {
    State {
        catalogs: vec![Catalog {
            id: id("cat".into()),
            name: catalog.into(),
            comment: None,
            schemas: vec![Schema {
                id: id("sch".into()),
                name: schema.into(),
                comment: None,
                tables,
            }],
        }],
    }
}

/// The second state: every table renamed (the name doubled), one column of
/// each renamed, another dropped, each index dropped, comments changed.
fn renamed(kind: DialectKind, first: &State) -> State {
    let mut second = first.clone();
    let schema = second.catalogs[0].schemas[0].name.clone();
    for t in second.catalogs[0].schemas[0].tables.iter_mut() {
        if t.name == "canary" {
            continue;
        }
        t.name = format!("{} {}", t.name, t.name);
        t.indexes.clear();
        t.comment = Some(format!("{HOSTILE_TEXT} again"));
        let keep_unique = t.uniques[0].columns[0].clone();
        let checked = t.checks[0].expression.clone();
        // Rename a column no key, index or check names; drop another.
        let free: Vec<usize> = (1..t.columns.len())
            .filter(|&c| {
                let n = &t.columns[c].name;
                *n != keep_unique && !checked.contains(&dialect(kind).quote_ident(n))
            })
            .collect();
        let renamed = free[0];
        t.columns[renamed].name = format!("{} renamed", t.columns[renamed].name);
        t.columns.remove(free[1]);
    }
    for t in second.catalogs[0].schemas[0].tables.iter_mut() {
        for fk in t.foreign_keys.iter_mut() {
            fk.references = TableRef {
                schema: schema.clone(),
                table: format!("{} {}", fk.references.table, fk.references.table),
            };
        }
    }
    second
}

/// Table names and their column names, sorted: a column added back to a
/// PostgreSQL table goes last, which the plan notes.
fn names(state: &State) -> Vec<(String, Vec<String>)> {
    let mut tables: Vec<(String, Vec<String>)> = state.catalogs[0].schemas[0]
        .tables
        .iter()
        .map(|t| {
            let mut columns: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            columns.sort();
            (t.name.clone(), columns)
        })
        .collect();
    tables.sort();
    tables
}

/// Applies both plans and checks names, differences and the canary.
async fn check(db: &mut dyn Database, kind: DialectKind, catalog: &str, schema: &str) {
    let facts = Facts::default();
    let base = state(catalog, schema, Vec::new());
    let with_canary = state(catalog, schema, vec![canary()]);
    apply(db, &plan(kind, &base, &with_canary, &facts).unwrap())
        .await
        .unwrap();
    let canary_name = dialect(kind).qualified_name(&tidemark_model::QualifiedName {
        catalog: catalog.into(),
        schema: schema.into(),
        name: "canary".into(),
    });
    db.execute(&[format!("INSERT INTO {canary_name} VALUES (42)")], true)
        .await
        .unwrap();

    let mut tables = vec![canary()];
    tables.extend(hostile_tables(kind, schema));
    let first = state(catalog, schema, tables);
    let second = renamed(kind, &first);
    for (from, to) in [(&with_canary, &first), (&first, &second), (&second, &first)] {
        let migration = plan(kind, from, to, &facts).unwrap();
        apply(db, &migration)
            .await
            .unwrap_or_else(|e| panic!("{e}\n{}", migration.to_sql_script()));
        let live = db.introspect(&[schema.to_string()]).await.unwrap();
        assert_eq!(names(&live), names(to), "names read back exactly");
        // PostgreSQL adds a column last, so restoring a dropped one moves it
        // (without a plan note); order is not what this test is about.
        let found = match kind {
            DialectKind::Postgres => differences_but_order(kind, to, &live),
            _ => differences_after(kind, &migration, to, &live),
        };
        assert!(found.is_empty(), "{}", found.join("\n"));
        let counts = db
            .row_counts(&[TableRef {
                schema: schema.into(),
                table: "canary".into(),
            }])
            .await
            .unwrap();
        assert_eq!(counts[0].rows, 1, "the canary keeps its row");
    }
}

#[tokio::test]
async fn hostile_names_stay_names_on_postgres() {
    let pg = PgDb::create().await;
    let mut db = pg.connect().await;
    // PostgreSQL plans create schemas too: this one is hostile as well.
    let schema = "s\"; DROP SCHEMA public CASCADE; --";
    let empty = State {
        catalogs: vec![Catalog {
            id: id("cat".into()),
            name: pg.name.clone(),
            comment: None,
            schemas: Vec::new(),
        }],
    };
    let with_schema = state(&pg.name, schema, Vec::new());
    let create = plan(
        DialectKind::Postgres,
        &empty,
        &with_schema,
        &Facts::default(),
    )
    .unwrap();
    apply(db.as_mut(), &create).await.unwrap();
    check(db.as_mut(), DialectKind::Postgres, &pg.name, schema).await;
    let public = db.introspect(&["public".to_string()]).await.unwrap();
    assert_eq!(public.catalogs[0].schemas.len(), 1, "public is still there");
    db.close().await.unwrap();
}

#[tokio::test]
async fn hostile_names_stay_names_on_mariadb() {
    let my = MyDb::create().await;
    let mut db = my.connect().await;
    check(db.as_mut(), DialectKind::Mysql, &my.name, &my.name).await;
    db.close().await.unwrap();
}

#[tokio::test]
async fn hostile_names_stay_names_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite:{}?mode=rwc",
        dir.path().join("hostile.db").display()
    );
    let mut db = connect(&ConnectionSpec::parse(&url).unwrap(), None)
        .await
        .unwrap();
    check(db.as_mut(), DialectKind::Sqlite, "main", "main").await;
    db.close().await.unwrap();
}
