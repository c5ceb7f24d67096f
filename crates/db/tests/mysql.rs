//! MySQL/MariaDB: introspection of a hand-written fixture, statement-by-
//! statement execution, row counts and connection errors, against the local
//! MariaDB server.

mod common;

use common::*;
use tidemark_db::{connect, ConnectionSpec, DbError, DialectKind, ExecError};
use tidemark_model::{DataType, FkAction};

const FIXTURE: &str = r#"
CREATE TABLE customer (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(200) NOT NULL COMMENT 'Login e-mail, unique',
    `naïve` TINYINT(1) NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    profile JSON,
    UNIQUE KEY customer_email_key (email)
) ENGINE=InnoDB COMMENT='People who buy';
CREATE TABLE `order` (
    id INT NOT NULL AUTO_INCREMENT,
    customer_id BIGINT NOT NULL,
    `group` VARCHAR(20) DEFAULT 'new',
    total DECIMAL(12,2) NOT NULL DEFAULT 0.00,
    placed_on DATE,
    at DATETIME,
    note TEXT,
    PRIMARY KEY (id),
    KEY order_group_idx (`group`, total),
    CONSTRAINT order_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (id) ON DELETE CASCADE,
    CONSTRAINT total_positive CHECK (total >= 0)
);
CREATE TABLE order_line (
    order_id INT NOT NULL,
    line_no SMALLINT NOT NULL,
    qty INT NOT NULL DEFAULT 1 CHECK (qty > 0),
    price DOUBLE,
    weight FLOAT,
    status ENUM('open','closed') NOT NULL DEFAULT 'open',
    flags INT UNSIGNED,
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT line_order_fk FOREIGN KEY (order_id) REFERENCES `order` (id)
        ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE TABLE `group` (
    a INT NOT NULL,
    b INT NOT NULL,
    line_order INT,
    line_no SMALLINT,
    code CHAR(3) DEFAULT 'x''y',
    PRIMARY KEY (b, a),
    UNIQUE KEY group_code_uq (code, a),
    KEY group_line_idx (line_order, line_no),
    CONSTRAINT group_line_fk FOREIGN KEY (line_order, line_no)
        REFERENCES order_line (order_id, line_no) ON DELETE SET NULL ON UPDATE NO ACTION
) COMMENT='Reserved word — ünïcödé';
CREATE VIEW order_view AS SELECT id, total FROM `order`
"#;

fn expected(db: &str) -> Vec<TableBuilder> {
    vec![
        table(db, "customer")
            .comment("People who buy")
            .col("id", DataType::BigInt, false)
            .identity()
            .col("email", varchar(200), false)
            .col_comment("Login e-mail, unique")
            .col("naïve", DataType::Boolean, false)
            .default("0")
            .col("created_at", DataType::TimestampTz, false)
            .default("current_timestamp()")
            // MariaDB's longtext + json_valid() check reads back as JSON.
            .col("profile", DataType::Json, true)
            .pk("PRIMARY", &["id"])
            .unique("customer_email_key", &["email"]),
        // Referencing columns are listed before the table they point to in
        // name order: `group` < `order` < `order_line`.
        table(db, "group")
            .comment("Reserved word — ünïcödé")
            .col("a", DataType::Integer, false)
            .col("b", DataType::Integer, false)
            .col("line_order", DataType::Integer, true)
            .col("line_no", DataType::SmallInt, true)
            .col("code", DataType::Char { length: 3 }, true)
            .default("'x''y'")
            .pk("PRIMARY", &["b", "a"])
            .unique("group_code_uq", &["code", "a"])
            .index("group_line_idx", &["line_order", "line_no"], false)
            .fk(
                "group_line_fk",
                &["line_order", "line_no"],
                db,
                "order_line",
                &["order_id", "line_no"],
                FkAction::SetNull,
                FkAction::NoAction,
            ),
        table(db, "order")
            .col("id", DataType::Integer, false)
            .identity()
            .col("customer_id", DataType::BigInt, false)
            .col("group", varchar(20), true)
            .default("'new'")
            .col("total", decimal(12, 2), false)
            .default("0.00")
            .col("placed_on", DataType::Date, true)
            .col("at", DataType::Timestamp, true)
            // TEXT is limited to 64 KiB; the logical text type is longtext.
            .col("note", raw("text"), true)
            .pk("PRIMARY", &["id"])
            // order_customer_fk's index is created by the server for the key
            // and is not listed.
            .index("order_group_idx", &["group", "total"], false)
            .fk(
                "order_customer_fk",
                &["customer_id"],
                db,
                "customer",
                &["id"],
                FkAction::Cascade,
                FkAction::Restrict,
            )
            .check("total_positive", "`total` >= 0"),
        table(db, "order_line")
            .col("order_id", DataType::Integer, false)
            .col("line_no", DataType::SmallInt, false)
            .col("qty", DataType::Integer, false)
            .default("1")
            .col("price", DataType::Double, true)
            .col("weight", DataType::Real, true)
            .col("status", raw("enum('open','closed')"), false)
            .default("'open'")
            .col("flags", raw("int(10) unsigned"), true)
            .pk("PRIMARY", &["order_id", "line_no"])
            .fk(
                "line_order_fk",
                &["order_id"],
                db,
                "order",
                &["id"],
                FkAction::Cascade,
                FkAction::Cascade,
            )
            // A column CHECK is named after its column on MariaDB.
            .check("qty", "`qty` > 0"),
    ]
}

#[tokio::test]
async fn introspects_the_fixture_exactly() {
    let my = MyDb::create().await;
    let mut db = my.connect().await;
    assert_eq!(db.kind(), DialectKind::Mysql);
    db.execute(&statements(FIXTURE), true).await.unwrap();

    let actual = db.introspect(&[]).await.unwrap();
    let expected = state(&my.name, vec![schema(&my.name, None, expected(&my.name))]);
    assert_state_eq(&actual, &expected);
    assert_eq!(
        db.introspect(std::slice::from_ref(&my.name)).await.unwrap(),
        actual
    );

    // A database that does not exist reads as no schema at all.
    let none = db.introspect(&strings(&["tm_no_such_db"])).await.unwrap();
    assert!(none.catalogs[0].schemas.is_empty());
    db.close().await.unwrap();
}

#[tokio::test]
async fn stops_at_the_failing_statement_and_names_it() {
    let my = MyDb::create().await;
    let mut db = my.connect().await;
    db.execute(
        &strings(&[
            "CREATE TABLE item (id INT PRIMARY KEY, name TEXT NOT NULL)",
            "INSERT INTO item VALUES (1, 'a'), (2, 'b')",
        ]),
        true,
    )
    .await
    .unwrap();

    let plan = strings(&[
        "CREATE TABLE first_one (id INT)",
        "ALTER TABLE missing_table ADD COLUMN x INT",
        "CREATE TABLE never (id INT)",
    ]);
    // MySQL commits DDL implicitly: `transactional` cannot undo statement 0.
    let err = db.execute(&plan, true).await.unwrap_err();
    match &err {
        ExecError::Statement {
            index,
            sql,
            message,
            rolled_back,
            ..
        } => {
            assert_eq!(*index, 1);
            assert_eq!(sql, "ALTER TABLE missing_table ADD COLUMN x INT");
            assert!(message.contains("missing_table"), "{message}");
            assert!(!rolled_back);
        }
        other => panic!("expected a statement error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("statement 2 of 3 (index 1)"), "{text}");
    assert!(
        text.contains("ALTER TABLE missing_table ADD COLUMN x INT"),
        "{text}"
    );
    assert!(
        text.contains(&format!("mysql://root@127.0.0.1:3306/{}", my.name)),
        "{text}"
    );

    let state = db.introspect(&[]).await.unwrap();
    let names: Vec<&str> = state.catalogs[0].schemas[0]
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(names, vec!["first_one", "item"]);

    let counts = db
        .row_counts(&[tref(&my.name, "item"), tref(&my.name, "first_one")])
        .await
        .unwrap();
    assert_eq!(
        counts.iter().map(|c| c.rows).collect::<Vec<_>>(),
        vec![2, 0]
    );
    match db.row_counts(&[tref(&my.name, "nope")]).await.unwrap_err() {
        DbError::NoSuchTable { table, .. } => assert_eq!(table, "nope"),
        other => panic!("expected NoSuchTable, got {other:?}"),
    }
    db.ping().await.unwrap();
}

#[tokio::test]
async fn bad_password_error_is_clear_and_does_not_leak_it() {
    let password = "Wr0ng-Pa55word-xyz";
    let spec = ConnectionSpec::parse("mysql://root@127.0.0.1:3306/mysql").unwrap();
    let err = connect(&spec, Some(password))
        .await
        .err()
        .expect("must fail");
    let text = err.to_string();
    assert!(matches!(err, DbError::Connect { .. }), "{err:?}");
    assert!(
        text.contains("cannot connect to mysql://root@127.0.0.1:3306/mysql"),
        "{text}"
    );
    assert!(text.contains("Access denied"), "{text}");
    assert!(!text.contains(password), "{text}");
    assert!(!format!("{err:?}").contains(password));
}
