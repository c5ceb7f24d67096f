//! PostgreSQL: introspection of a hand-written fixture, transactional
//! execution, row counts and connection errors, against the local server.

mod common;

use common::*;
use tidemark_db::{connect, ConnectionSpec, DbError, DialectKind, ExecError};
use tidemark_model::{DataType, FkAction};

const FIXTURE: &str = r#"
CREATE SCHEMA sales;
COMMENT ON SCHEMA sales IS 'Orders and customers';
CREATE TABLE sales.customer (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email varchar(200) NOT NULL,
    "naïve" boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_email_key UNIQUE (email)
);
COMMENT ON TABLE sales.customer IS 'People who buy';
COMMENT ON COLUMN sales.customer.email IS 'Login e-mail, unique';
CREATE TABLE sales."order" (
    id serial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES sales.customer (id) ON DELETE CASCADE,
    "group" text DEFAULT 'new',
    total numeric(12,2) NOT NULL DEFAULT 0 CHECK (total >= 0),
    status char(1) NOT NULL DEFAULT 'n',
    placed_on date,
    note text,
    CONSTRAINT order_status_check CHECK (status IN ('n', 'p', 's'))
);
CREATE INDEX order_customer_idx ON sales."order" (customer_id, "group");
CREATE UNIQUE INDEX order_note_lower_idx ON sales."order" (lower(note));
CREATE TABLE sales.order_line (
    order_id integer NOT NULL,
    line_no smallint NOT NULL,
    sku varchar(40) NOT NULL,
    qty integer NOT NULL DEFAULT 1,
    unit_price numeric NOT NULL,
    CONSTRAINT order_line_pkey PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_line_order_fk FOREIGN KEY (order_id)
        REFERENCES sales."order" (id) ON DELETE CASCADE ON UPDATE RESTRICT,
    CONSTRAINT qty_positive CHECK (qty > 0)
);
CREATE SEQUENCE sales.loose_seq;
CREATE TABLE sales.uses_seq (
    n bigint NOT NULL DEFAULT nextval('sales.loose_seq'),
    u uuid,
    doc json,
    at timestamp,
    "when" time
);
CREATE VIEW sales.order_view AS SELECT id, total FROM sales."order";
CREATE TABLE public."naïve" (
    a integer NOT NULL,
    b integer NOT NULL,
    payload jsonb,
    tags text[],
    ref_order integer,
    ref_line smallint,
    ratio double precision DEFAULT 0.5,
    score real,
    code char(3),
    PRIMARY KEY (b, a),
    CONSTRAINT naive_line_fk FOREIGN KEY (ref_order, ref_line)
        REFERENCES sales.order_line (order_id, line_no) ON DELETE SET NULL
);
COMMENT ON COLUMN public."naïve".payload IS 'Free-form — ünïcödé';
CREATE SCHEMA empty_one;
"#;

fn expected_sales() -> Vec<TableBuilder> {
    vec![
        table("sales", "customer")
            .comment("People who buy")
            .col("id", DataType::BigInt, false)
            .identity()
            .col("email", varchar(200), false)
            .col_comment("Login e-mail, unique")
            .col("naïve", DataType::Boolean, false)
            .default("false")
            .col("created_at", DataType::TimestampTz, false)
            .default("now()")
            .pk("customer_pkey", &["id"])
            .unique("customer_email_key", &["email"]),
        table("sales", "order")
            .col("id", DataType::Integer, false)
            .identity()
            .col("customer_id", DataType::BigInt, false)
            .col("group", DataType::Text, true)
            .default("'new'::text")
            .col("total", decimal(12, 2), false)
            .default("0")
            .col("status", DataType::Char { length: 1 }, false)
            .default("'n'::bpchar")
            .col("placed_on", DataType::Date, true)
            .col("note", DataType::Text, true)
            .pk("order_pkey", &["id"])
            .index("order_customer_idx", &["customer_id", "group"], false)
            .index("order_note_lower_idx", &["lower(note)"], true)
            .fk(
                "order_customer_id_fkey",
                &["customer_id"],
                "sales",
                "customer",
                &["id"],
                FkAction::Cascade,
                FkAction::NoAction,
            )
            .check(
                "order_status_check",
                "status = ANY (ARRAY['n'::bpchar, 'p'::bpchar, 's'::bpchar])",
            )
            .check("order_total_check", "total >= 0::numeric"),
        table("sales", "order_line")
            .col("order_id", DataType::Integer, false)
            .col("line_no", DataType::SmallInt, false)
            .col("sku", varchar(40), false)
            .col("qty", DataType::Integer, false)
            .default("1")
            .col(
                "unit_price",
                DataType::Decimal {
                    precision: None,
                    scale: None,
                },
                false,
            )
            .pk("order_line_pkey", &["order_id", "line_no"])
            .fk(
                "order_line_order_fk",
                &["order_id"],
                "sales",
                "order",
                &["id"],
                FkAction::Cascade,
                FkAction::Restrict,
            )
            .check("qty_positive", "qty > 0"),
        // A default that calls nextval() on a sequence the column does not
        // own is an ordinary default, not an identity.
        table("sales", "uses_seq")
            .col("n", DataType::BigInt, false)
            .default("nextval('sales.loose_seq'::regclass)")
            .col("u", DataType::Uuid, true)
            // The logical JSON type is jsonb here; json stays as it is.
            .col("doc", raw("json"), true)
            .col("at", DataType::Timestamp, true)
            .col("when", DataType::Time, true),
    ]
}

fn expected_public() -> Vec<TableBuilder> {
    vec![table("public", "naïve")
        .col("a", DataType::Integer, false)
        .col("b", DataType::Integer, false)
        .col("payload", DataType::Json, true)
        .col_comment("Free-form — ünïcödé")
        .col("tags", raw("text[]"), true)
        .col("ref_order", DataType::Integer, true)
        .col("ref_line", DataType::SmallInt, true)
        .col("ratio", DataType::Double, true)
        .default("0.5")
        .col("score", DataType::Real, true)
        .col("code", DataType::Char { length: 3 }, true)
        .pk("naïve_pkey", &["b", "a"])
        .fk(
            "naive_line_fk",
            &["ref_order", "ref_line"],
            "sales",
            "order_line",
            &["order_id", "line_no"],
            FkAction::SetNull,
            FkAction::NoAction,
        )]
}

#[tokio::test]
async fn introspects_the_fixture_exactly_and_filters_schemas() {
    let pg = PgDb::create().await;
    let mut db = pg.connect().await;
    assert_eq!(db.kind(), DialectKind::Postgres);
    db.execute(&statements(FIXTURE), true).await.unwrap();

    let actual = db.introspect(&[]).await.unwrap();
    let expected = state(
        &pg.name,
        vec![
            schema("empty_one", None, vec![]),
            schema("public", Some("standard public schema"), expected_public()),
            schema("sales", Some("Orders and customers"), expected_sales()),
        ],
    );
    assert_state_eq(&actual, &expected);

    // Reading twice gives the same state: ids and order do not depend on
    // catalog row order.
    assert_eq!(db.introspect(&[]).await.unwrap(), actual);

    // Only the schemas asked for; unknown names are simply absent.
    let only_sales = db
        .introspect(&strings(&["sales", "no_such_schema"]))
        .await
        .unwrap();
    assert_state_eq(
        &only_sales,
        &state(
            &pg.name,
            vec![schema(
                "sales",
                Some("Orders and customers"),
                expected_sales(),
            )],
        ),
    );
    db.close().await.unwrap();
}

const SMALL: &str = r#"
CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL);
INSERT INTO item VALUES (1, 'a'), (2, 'b'), (3, 'c');
CREATE TABLE "Empty ""quoted"" table" (x int)
"#;

#[tokio::test]
async fn failing_statement_rolls_back_everything_and_is_named() {
    let pg = PgDb::create().await;
    let mut db = pg.connect().await;
    db.execute(&statements(SMALL), true).await.unwrap();
    let before = db.introspect(&[]).await.unwrap();

    let plan = strings(&[
        "CREATE TABLE added (id int)",
        "ALTER TABLE item ADD COLUMN price numeric DEFAULT 0",
        "INSERT INTO item VALUES (4, 'd')",
        "ALTER TABLE missing_table ADD COLUMN x int",
        "CREATE TABLE never (id int)",
    ]);
    let err = db.execute(&plan, true).await.unwrap_err();
    match &err {
        ExecError::Statement {
            index,
            total,
            sql,
            message,
            rolled_back,
            ..
        } => {
            assert_eq!(*index, 3);
            assert_eq!(*total, 5);
            assert_eq!(sql, "ALTER TABLE missing_table ADD COLUMN x int");
            assert!(message.contains("missing_table"), "{message}");
            assert!(message.contains("42P01"), "{message}");
            assert!(rolled_back);
        }
        other => panic!("expected a statement error, got {other:?}"),
    }
    let text = err.to_string();
    assert!(text.contains("statement 4 of 5 (index 3)"), "{text}");
    assert!(
        text.contains("ALTER TABLE missing_table ADD COLUMN x int"),
        "{text}"
    );

    // Nothing changed: schema and data are as before.
    assert_eq!(db.introspect(&[]).await.unwrap(), before);
    let counts = db.row_counts(&[tref("public", "item")]).await.unwrap();
    assert_eq!(counts[0].rows, 3);

    // The same plan without the bad statement applies in full.
    let mut good = plan.clone();
    good.remove(3);
    db.execute(&good, true).await.unwrap();
    let after = db.introspect(&[]).await.unwrap();
    let tables: Vec<&str> = after.catalogs[0].schemas[0]
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        tables,
        vec!["Empty \"quoted\" table", "added", "item", "never"]
    );

    // Without a transaction, statements before the failure stay applied.
    let err = db
        .execute(
            &strings(&[
                "CREATE TABLE kept (id int)",
                "SELECT * FROM nope",
                "CREATE TABLE lost (id int)",
            ]),
            false,
        )
        .await
        .unwrap_err();
    assert_eq!(err.statement_index(), Some(1));
    assert!(err.to_string().contains("stay applied"), "{err}");
    let names: Vec<String> = db.introspect(&[]).await.unwrap().catalogs[0].schemas[0]
        .tables
        .iter()
        .map(|t| t.name.clone())
        .collect();
    assert!(names.contains(&"kept".to_string()));
    assert!(!names.contains(&"lost".to_string()));

    let counts = db
        .row_counts(&[
            tref("public", "item"),
            tref("public", "Empty \"quoted\" table"),
        ])
        .await
        .unwrap();
    assert_eq!(
        counts.iter().map(|c| c.rows).collect::<Vec<_>>(),
        vec![4, 0]
    );
    assert_eq!(counts[1].table, tref("public", "Empty \"quoted\" table"));
    match db.row_counts(&[tref("public", "nope")]).await.unwrap_err() {
        DbError::NoSuchTable { schema, table, .. } => {
            assert_eq!((schema.as_str(), table.as_str()), ("public", "nope"));
        }
        other => panic!("expected NoSuchTable, got {other:?}"),
    }
    db.ping().await.unwrap();
}

#[tokio::test]
async fn connection_errors_are_clear_and_hold_no_password() {
    let password = "Sup3r-Secret-Pw";
    let unreachable = ConnectionSpec::parse("postgres://postgres@127.0.0.1:1/shop").unwrap();
    let err = connect(&unreachable, Some(password))
        .await
        .err()
        .expect("must fail");
    let text = err.to_string();
    assert!(matches!(err, DbError::Connect { .. }), "{err:?}");
    assert!(
        text.contains("postgres://postgres@127.0.0.1:1/shop"),
        "{text}"
    );
    assert!(!text.contains(password), "{text}");
    assert!(!format!("{err:?}").contains(password));

    let missing_db =
        ConnectionSpec::parse("postgres://postgres@127.0.0.1:5432/tm_test_does_not_exist").unwrap();
    let err = connect(&missing_db, Some(password))
        .await
        .err()
        .expect("must fail");
    let text = err.to_string();
    assert!(text.contains("tm_test_does_not_exist"), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    assert!(!text.contains(password), "{text}");
}
