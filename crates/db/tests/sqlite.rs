//! SQLite: introspection of a hand-written fixture, transactional execution,
//! row counts and opening errors, on files in a temporary directory.

mod common;

use common::*;
use tidemark_db::{connect, ConnectionSpec, Database, DbError, DialectKind, ExecError};
use tidemark_model::{DataType, FkAction};

const FIXTURE: &str = r#"
CREATE TABLE customer (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email VARCHAR(200) NOT NULL UNIQUE,
    "naïve" BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE "order" (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customer (id) ON DELETE CASCADE,
    "group" TEXT DEFAULT 'new',
    total NUMERIC(12, 2) NOT NULL DEFAULT 0 CHECK (total >= 0),
    note TEXT,
    CONSTRAINT order_note_len CHECK (length(note) <= 500)
);
CREATE INDEX order_group_idx ON "order" ("group", total DESC);
CREATE UNIQUE INDEX order_note_lower ON "order" (lower(note));
CREATE TABLE order_line (
    order_id INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    qty INTEGER NOT NULL DEFAULT 1,
    price REAL,
    CONSTRAINT order_line_pk PRIMARY KEY (order_id, line_no),
    CONSTRAINT line_order_fk FOREIGN KEY (order_id) REFERENCES "order"
        ON DELETE CASCADE ON UPDATE RESTRICT,
    CHECK (qty > 0),
    CHECK (qty < 1000)
);
CREATE TABLE "group" (
    a INTEGER NOT NULL,
    b TEXT NOT NULL,
    ref_order INTEGER,
    ref_line INTEGER,
    data BLOB,
    PRIMARY KEY (a, b),
    CONSTRAINT group_b_uq UNIQUE (b, a),
    FOREIGN KEY (ref_order, ref_line) REFERENCES order_line (order_id, line_no) ON DELETE SET NULL
) WITHOUT ROWID;
CREATE VIEW order_view AS SELECT id, total FROM "order"
"#;

fn expected() -> Vec<TableBuilder> {
    vec![
        table("main", "customer")
            // AUTOINCREMENT is what makes an integer key an identity.
            .col("id", DataType::Integer, false)
            .identity()
            .col("email", varchar(200), false)
            .col("naïve", DataType::Boolean, false)
            .default("0")
            .col("created_at", DataType::Timestamp, false)
            .default("CURRENT_TIMESTAMP")
            .pk("customer_pkey", &["id"])
            .unique("customer_email_key", &["email"]),
        table("main", "group")
            .col("a", DataType::Integer, false)
            .col("b", DataType::Text, false)
            .col("ref_order", DataType::Integer, true)
            .col("ref_line", DataType::Integer, true)
            .col("data", DataType::Binary, true)
            .pk("group_pkey", &["a", "b"])
            .unique("group_b_uq", &["b", "a"])
            .fk(
                "group_ref_order_ref_line_fkey",
                &["ref_order", "ref_line"],
                "main",
                "order_line",
                &["order_id", "line_no"],
                FkAction::SetNull,
                FkAction::NoAction,
            ),
        table("main", "order")
            // A rowid alias without AUTOINCREMENT: not null, not identity.
            .col("id", DataType::Integer, false)
            .col("customer_id", DataType::Integer, false)
            .col("group", DataType::Text, true)
            .default("'new'")
            .col("total", decimal(12, 2), false)
            .default("0")
            .col("note", DataType::Text, true)
            .pk("order_pkey", &["id"])
            .index("order_group_idx", &["group", "total"], false)
            .index("order_note_lower", &["lower(note)"], true)
            .fk(
                "order_customer_id_fkey",
                &["customer_id"],
                "main",
                "customer",
                &["id"],
                FkAction::Cascade,
                FkAction::NoAction,
            )
            .check("order_note_len", "length(note) <= 500")
            .check("order_total_check", "total >= 0"),
        table("main", "order_line")
            .col("order_id", DataType::Integer, false)
            .col("line_no", DataType::Integer, false)
            .col("qty", DataType::Integer, false)
            .default("1")
            .col("price", DataType::Real, true)
            .pk("order_line_pk", &["order_id", "line_no"])
            // REFERENCES "order" with no columns means its primary key.
            .fk(
                "line_order_fk",
                &["order_id"],
                "main",
                "order",
                &["id"],
                FkAction::Cascade,
                FkAction::Restrict,
            )
            .check("order_line_check", "qty > 0")
            .check("order_line_check1", "qty < 1000"),
    ]
}

async fn open(dir: &tempfile::TempDir, file: &str) -> Box<dyn Database> {
    let url = format!("sqlite:{}?mode=rwc", dir.path().join(file).display());
    connect(&ConnectionSpec::parse(&url).unwrap(), None)
        .await
        .unwrap()
}

#[tokio::test]
async fn introspects_the_fixture_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(&dir, "fixture.db").await;
    assert_eq!(db.kind(), DialectKind::Sqlite);
    db.execute(&statements(FIXTURE), true).await.unwrap();

    let actual = db.introspect(&[]).await.unwrap();
    assert_state_eq(
        &actual,
        &state("main", vec![schema("main", None, expected())]),
    );
    assert_eq!(db.introspect(&strings(&["main"])).await.unwrap(), actual);
    let other = db.introspect(&strings(&["sales"])).await.unwrap();
    assert!(other.catalogs[0].schemas.is_empty());
}

#[tokio::test]
async fn failing_statement_rolls_back_everything() {
    let dir = tempfile::tempdir().unwrap();
    let mut db = open(&dir, "exec.db").await;
    db.execute(
        &strings(&[
            "CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
            "INSERT INTO item (name) VALUES ('a'), ('b'), ('c')",
        ]),
        true,
    )
    .await
    .unwrap();
    let before = db.introspect(&[]).await.unwrap();

    let plan = strings(&[
        "CREATE TABLE added (id INTEGER)",
        "ALTER TABLE item ADD COLUMN price REAL DEFAULT 0",
        "DELETE FROM item WHERE name = 'a'",
        "INSERT INTO item (name) VALUES (NULL)",
        "CREATE TABLE never (id INTEGER)",
    ]);
    let err = db.execute(&plan, true).await.unwrap_err();
    match &err {
        ExecError::Statement {
            index,
            sql,
            message,
            rolled_back,
            ..
        } => {
            assert_eq!(*index, 3);
            assert_eq!(sql, "INSERT INTO item (name) VALUES (NULL)");
            assert!(
                message.contains("NOT NULL constraint failed: item.name"),
                "{message}"
            );
            assert!(rolled_back);
        }
        other => panic!("expected a statement error, got {other:?}"),
    }
    assert!(
        err.to_string().contains("statement 4 of 5 (index 3)"),
        "{err}"
    );
    assert_eq!(db.introspect(&[]).await.unwrap(), before);
    let counts = db.row_counts(&[tref("main", "item")]).await.unwrap();
    assert_eq!(counts[0].rows, 3);

    match db.row_counts(&[tref("main", "nope")]).await.unwrap_err() {
        DbError::NoSuchTable { table, .. } => assert_eq!(table, "nope"),
        other => panic!("expected NoSuchTable, got {other:?}"),
    }
    db.ping().await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_missing_file_is_not_created_without_mode_rwc() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.db");
    let spec = ConnectionSpec::parse(&format!("sqlite:{}", path.display())).unwrap();
    let err = connect(&spec, None).await.err().expect("must fail");
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(err.to_string().contains("typo.db"), "{err}");
    assert!(!path.exists());

    // A file that is not a database fails at open, not at first use.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"this is not a database file at all, just text").unwrap();
    let spec = ConnectionSpec::parse(&format!("sqlite:{}", junk.display())).unwrap();
    let err = connect(&spec, None).await.err().expect("must fail");
    assert!(matches!(err, DbError::Connect { .. }), "{err:?}");
}
